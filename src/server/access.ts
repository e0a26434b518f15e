/**
 * Who is calling: bearer tokens checked against the SHA-256 hashes in
 * `access:`, and a token bucket per token.
 */
import { createHash } from 'node:crypto';
import type { AccessToken, Config, Role } from '../core/config.js';
import { HttpError } from './errors.js';

export interface Principal {
  role: Role;
  /** The team a `team` token is scoped to; null for the other roles. */
  team: string | null;
  /** The token's hash: the rate-limit key, never the token. */
  key: string;
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export class Authenticator {
  private readonly byHash = new Map<string, AccessToken>();

  constructor(config: Config) {
    for (const a of config.access) this.byHash.set(a.tokenSha256.toLowerCase(), a);
  }

  authenticate(header: string | null | undefined): Principal {
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m)
      throw new HttpError('unauthorized', 'a bearer token is required', { 'WWW-Authenticate': 'Bearer' });
    const key = sha256Hex(m[1] as string);
    const entry = this.byHash.get(key);
    if (!entry) throw new HttpError('unauthorized', 'unknown token', { 'WWW-Authenticate': 'Bearer' });
    return { role: entry.role, team: entry.role === 'team' ? entry.team : null, key };
  }
}

export interface RateLimit {
  /** Requests per second refilled; 0 disables the limit. */
  perSecond: number;
  burst: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number,
  ) {}

  take(key: string): void {
    if (this.limit.perSecond <= 0) return;
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.limit.burst, at: t };
    b.tokens = Math.min(this.limit.burst, b.tokens + ((t - b.at) / 1000) * this.limit.perSecond);
    b.at = t;
    this.buckets.set(key, b);
    if (b.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - b.tokens) / this.limit.perSecond));
      throw new HttpError('rate_limited', 'too many requests for this token', {
        'Retry-After': String(wait),
      });
    }
    b.tokens -= 1;
  }
}

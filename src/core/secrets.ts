/**
 * Raw secrets never reach the store (SPEC §3). A value that looks like a raw
 * key is replaced by its fingerprint: the first 16 hex digits of the SHA-256
 * of the secret (for `Bearer x`, of `x`). The registry refers to keys by that
 * fingerprint. The store's bulk path applies the same patterns in SQL
 * (`SECRET_PATTERNS_SQL`); both must agree.
 */
import { createHash } from 'node:crypto';

/** Each pattern's first capture group is the secret that is hashed. */
export const SECRET_PATTERNS: readonly RegExp[] = [
  /^(sk-[A-Za-z0-9_-]{16,})$/,
  /^((?:AKIA|ASIA)[A-Z0-9]{16})$/,
  /^[Bb]earer\s+(\S+)$/,
];

/** The same patterns for SQL `regexp_extract(value, pattern, 1)` (RE2 syntax). */
export const SECRET_PATTERNS_SQL: readonly string[] = [
  '^(sk-[A-Za-z0-9_-]{16,})$',
  '^((?:AKIA|ASIA)[A-Z0-9]{16})$',
  '^[Bb]earer\\s+(\\S+)$',
];

/**
 * Every pattern above starts with `sk-`, `AKIA`/`ASIA` or `[Bb]earer` (a test
 * keeps this list true); checking the first letter keeps the regular
 * expressions off the hot path for all other values, in JS and in SQL.
 */
export const SECRET_FIRST_LETTERS = ['s', 'A', 'B', 'b'] as const;

export const FINGERPRINT_HEX_DIGITS = 16;

export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, FINGERPRINT_HEX_DIGITS);
}

/** Returns the value, or its fingerprint when it looks like a raw secret. */
export function redactSecret(value: string): string {
  for (const pattern of SECRET_PATTERNS) {
    const m = pattern.exec(value);
    if (m?.[1]) return fingerprint(m[1]);
  }
  return value;
}

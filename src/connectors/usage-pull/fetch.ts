/**
 * GET a JSON page from a provider, retrying what is worth retrying: 429 and
 * 5xx answers (after `Retry-After` when the provider sends it, else with
 * exponential backoff) and failed connections. The admin key is only ever in
 * a request header: every message is scrubbed of it before it is shown.
 */
import { UsageError } from '../../core/errors.js';
import { redactSecrets } from '../../core/secrets.js';

export interface FetchOptions {
  /** Attempts after the first; default 6. */
  retries?: number;
  /** Waits; tests pass one that records the delays instead. */
  sleep?: (ms: number) => Promise<void>;
  /** One line per retry, for the operator. */
  log?: (line: string) => void;
  now?: () => number;
}

const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 60_000;
/** A `Retry-After` longer than this is cut to it. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;
const TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `Retry-After` in ms: delay-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | null {
  if (value === null || value.trim() === '') return null;
  const v = value.trim();
  const ms = /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v) - now;
  if (Number.isNaN(ms)) return null;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/** Exponential backoff with jitter: about 1 s, 2 s, 4 s … up to a minute. */
export function backoffMs(attempt: number): number {
  const base = Math.min(BASE_DELAY_MS * 2 ** attempt, MAX_DELAY_MS);
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

const retryable = (status: number) => status === 429 || status >= 500;

/** Removes the key, and anything that looks like a raw key, from a text shown to people. */
export function scrub(text: string, secret: string): string {
  const cut = secret.length >= 8 ? text.split(secret).join('[admin key]') : text;
  return redactSecrets(cut);
}

function where(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

export async function getJson(
  url: URL,
  headers: Record<string, string>,
  secret: string,
  opts: FetchOptions = {},
): Promise<unknown> {
  const retries = opts.retries ?? 6;
  const wait = opts.sleep ?? sleep;
  const now = opts.now ?? Date.now;
  for (let attempt = 0; ; attempt++) {
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
      text = await res.text();
    } catch (e) {
      const reason = scrub(e instanceof Error ? `${e.message}${causeOf(e)}` : String(e), secret);
      if (attempt >= retries) throw new UsageError(`cannot reach ${where(url)}: ${reason}`);
      const delay = backoffMs(attempt);
      opts.log?.(`${where(url)}: ${reason}; retrying in ${seconds(delay)} (${attempt + 1}/${retries})`);
      await wait(delay);
      continue;
    }
    if (res.ok) return parse(text, url);
    const body = scrub(text.slice(0, 300), secret);
    if (!retryable(res.status) || attempt >= retries)
      throw new UsageError(`${where(url)} answered ${res.status}${hint(res.status)}: ${body}`);
    const delay = retryAfterMs(res.headers.get('retry-after'), now()) ?? backoffMs(attempt);
    opts.log?.(
      `${where(url)} answered ${res.status}; retrying in ${seconds(delay)} (${attempt + 1}/${retries})`,
    );
    await wait(delay);
  }
}

function parse(text: string, url: URL): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${where(url)} answered 200 with a body that is not JSON`);
  }
}

function causeOf(e: Error): string {
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error ? ` (${cause.message})` : '';
}

function hint(status: number): string {
  if (status === 401) return ' (is the admin key right?)';
  if (status === 403) return ' (the key is not an admin key, or lacks usage access)';
  return '';
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/**
 * `tally pull`: pages through a provider's organisation usage report and
 * ingests every page as it arrives, through the same parsers as a saved
 * report (`tally ingest`), so a bucket fetched again supersedes the earlier,
 * partial version, and an unchanged one is a duplicate.
 *
 * The cursor: each page's batch is labelled with the end of the last
 * complete bucket so far (`<format>:pull <report> <width> complete-until
 * <time>`), in the store's batch log, committed with the page's events. The
 * next pull starts there instead of at `--since`, so it re-reads only what
 * could still change. A bucket is complete once it ended more than
 * SETTLE_MS before the pull began (providers add late usage for a while).
 */

import { type FetchOptions, getJson } from '../connectors/usage-pull/fetch.js';
import type { BucketWidth, Provider } from '../connectors/usage-pull/providers.js';
import { pushAll } from '../core/arrays.js';
import { InputError } from '../core/errors.js';
import type { UsageEvent } from '../core/event.js';
import { parseStream } from '../ingest/index.js';
import type { IngestResult, Store } from '../store/store.js';

/** How long after its end a bucket is taken as final. */
export const SETTLE_MS = 3_600_000;

/** Pages per report at most: a guard against a provider that never stops saying `has_more`. */
const MAX_PAGES = 10_000;

export interface PullOptions {
  provider: Provider;
  key: string;
  baseUrl: string;
  since: number;
  until: number | null;
  width: BucketWidth;
  /** Start at --since even when the store has a cursor further on. */
  refetch: boolean;
  now: number;
  fetch?: FetchOptions;
  /** Called after each stored page, with the report's running totals. */
  onPage?: (r: ReportPull) => void;
}

export interface ReportPull {
  report: string;
  /** Where this pull started: --since or the stored cursor. */
  from: number;
  pages: number;
  stored: number;
  duplicates: number;
  superseded: number;
  /** The end of the last complete bucket read (the next pull starts there), or null. */
  completeUntil: number | null;
}

/** One report of one provider at one bucket width: what a cursor belongs to. */
export interface PullReportKey {
  provider: Provider;
  report: string;
  width: BucketWidth;
}

/**
 * Where pulled pages go: the store itself, or a running server's ingest API
 * (`tally pull --server`, src/cli/remote-pull.ts), which keeps the same
 * cursor in its store's batch log.
 */
export interface PullTarget {
  /** The furthest `complete-until` any pull of this report recorded, or null. */
  cursor(key: PullReportKey): Promise<number | null>;
  /** Stores one page's events in one transaction, labelled with the cursor it reached. */
  storePage(key: PullReportKey, completeUntil: number | null, events: UsageEvent[]): Promise<IngestResult>;
}

/** The store as a pull target (the cursor and the page's label as docs/pull.md describes them). */
export function storePullTarget(store: Pick<Store, 'batches' | 'ingest'>): PullTarget {
  return {
    cursor: (key) => storedCursor(store, key),
    storePage: (key, completeUntil, events) =>
      store.ingest(pullLabel(key, completeUntil), events.length === 0 ? [] : [events]),
  };
}

export async function pull(target: PullTarget, opts: PullOptions): Promise<ReportPull[]> {
  const out: ReportPull[] = [];
  for (const report of opts.provider.reports) out.push(await pullReport(target, report, opts));
  return out;
}

/** A page's batch label: `<format>:pull <report> <width>[ complete-until <time>]`. */
export function pullLabel(key: PullReportKey, completeUntil: number | null): string {
  const prefix = `${key.provider.format}:pull ${key.report} ${key.width}`;
  return completeUntil === null
    ? prefix
    : `${prefix} complete-until ${new Date(completeUntil).toISOString()}`;
}

/** The furthest `complete-until` any pull of this report and width recorded in the batch log. */
export async function storedCursor(
  store: Pick<Store, 'batches'>,
  key: PullReportKey,
): Promise<number | null> {
  let best: number | null = null;
  const marker = `${pullLabel(key, null)} complete-until `;
  for (const b of await store.batches()) {
    if (!b.label.startsWith(marker)) continue;
    const t = Date.parse(b.label.slice(marker.length));
    if (!Number.isNaN(t) && (best === null || t > best)) best = t;
  }
  return best;
}

async function pullReport(target: PullTarget, report: string, opts: PullOptions): Promise<ReportPull> {
  const key: PullReportKey = { provider: opts.provider, report, width: opts.width };
  const cursor = opts.refetch ? null : await target.cursor(key);
  const from = cursor !== null && cursor > opts.since ? cursor : opts.since;
  const r: ReportPull = {
    report,
    from,
    pages: 0,
    stored: 0,
    duplicates: 0,
    superseded: 0,
    completeUntil: null,
  };
  if (opts.until !== null && from >= opts.until) return r;
  let page: string | null = null;
  let contiguous = true;
  do {
    const url = opts.provider.url(opts.baseUrl, report, {
      start: from,
      end: opts.until,
      width: opts.width,
      page,
    });
    const body = await getJson(url, opts.provider.headers(opts.key), opts.key, opts.fetch);
    const name = `${opts.provider.name} ${report} page ${r.pages + 1}`;
    const { data, hasMore, next } = pageParts(body, name);
    for (const bucket of data) {
      const end = opts.provider.bucketEnd(bucket);
      if (contiguous && end !== null && end <= opts.now - SETTLE_MS) r.completeUntil = end;
      else contiguous = false;
    }
    const events = await pageEvents(body, opts.provider, name, opts.now);
    const result = await target.storePage(key, r.completeUntil, events);
    r.pages++;
    r.stored += result.stored;
    r.duplicates += result.duplicates;
    r.superseded += result.superseded;
    opts.onPage?.(r);
    page = hasMore ? next : null;
    if (hasMore && next === null)
      throw new InputError([
        { file: name, field: 'next_page', reason: 'has_more is true but next_page is missing' },
      ]);
    if (r.pages >= MAX_PAGES)
      throw new InputError([{ file: name, reason: `more than ${MAX_PAGES} pages; pull a shorter window` }]);
  } while (page !== null);
  return r;
}

function pageParts(body: unknown, name: string): { data: unknown[]; hasMore: boolean; next: string | null } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new InputError([{ file: name, reason: 'the answer is not a usage report page (a JSON object)' }]);
  const p = body as Record<string, unknown>;
  if (!Array.isArray(p.data))
    throw new InputError([{ file: name, field: 'data', reason: 'must be an array' }]);
  const next = typeof p.next_page === 'string' && p.next_page !== '' ? p.next_page : null;
  return { data: p.data, hasMore: p.has_more === true, next };
}

/** The page's events through the format's parser; any invalid record refuses the page (nothing of it stored). */
async function pageEvents(
  body: unknown,
  provider: Provider,
  name: string,
  now: number,
): Promise<UsageEvent[]> {
  const events: UsageEvent[] = [];
  for await (const chunk of parseStream([JSON.stringify(body)], provider.format, {
    file: name,
    now,
    skipInvalid: false,
  }))
    pushAll(events, chunk.events);
  return events;
}

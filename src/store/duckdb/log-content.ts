/**
 * The count and content hash of every batch of the event log, as `verify`
 * recomputes them: DuckDB writes each row's text (`rowTextsSql`, the one
 * definition) and Node hashes it (`RowTextHasher`, OpenSSL's SHA-256, several
 * times faster than DuckDB's) as DuckDB hands it over (`RowTextSink`), several
 * readers at once, each on its own connection and its own range of row ids, so
 * that DuckDB writes the texts on every thread while Node hashes.
 *
 * Memory: the log is read a window of whole batches at a time (up to
 * `WINDOW_EVENTS` events, or one batch larger than that), and the hasher keeps
 * 32 bytes a row of the window.
 */
import { type BatchContent, batchWindows, RowTextHasher, rowTextsSql } from '../audit.js';
import { DUCKDB_AUDIT } from './audit.js';
import { AsideHasher, MIN_ASIDE_ROWS } from './row-hash-aside.js';
import type { RowTextSink } from './row-text-sink.js';
import type { ChunkDb } from './usage-read.js';

/** The events read before their batches are hashed and their row hashes let go. */
const WINDOW_EVENTS = 4_000_000;

interface Window {
  /** The first and last batch number. */
  from: number;
  to: number;
  /** The first and last row id of their rows. */
  lo: number;
  hi: number;
  /** How many rows. */
  rows: number;
}

/**
 * Which windows are hashed in a worker thread (`AsideHasher`): those of `minRows` rows or more
 * (`MIN_ASIDE_ROWS`), running `script` (the built worker's by default).
 */
export interface AsidePolicy {
  minRows?: number;
  script?: URL;
}

/** Every batch's count and content hash; `readers` are connections to the same database, used at once. */
export async function logContent(
  readers: readonly ChunkDb[],
  sink: RowTextSink,
  windowEvents = WINDOW_EVENTS,
  policy: AsidePolicy = {},
): Promise<Map<number, BatchContent>> {
  const [first] = readers;
  if (!first) throw new Error('logContent: no connection to read with');
  const out = new Map<number, BatchContent>();
  for (const w of windows(await batchSpans(first), windowEvents)) {
    const queries = rowIdRanges(w, readers.length).map(([lo, hi], i) => ({
      db: readers[i] as ChunkDb,
      textsSql: eventTextsSql(
        `WHERE batch_seq BETWEEN ${w.from} AND ${w.to} AND rowid BETWEEN ${lo} AND ${hi}`,
      ),
    }));
    const aside = w.rows >= (policy.minRows ?? MIN_ASIDE_ROWS) ? AsideHasher.start(policy.script) : null;
    for (const [seq, c] of aside
      ? await asideContent(sink, aside, queries)
      : await hereContent(sink, queries))
      out.set(seq, c);
  }
  return out;
}

type TextQueries = Parameters<RowTextSink['hash']>[1];

/** The contents of the batches `queries` read, hashed on this thread. */
async function hereContent(sink: RowTextSink, queries: TextQueries): Promise<Map<number, BatchContent>> {
  const hasher = new RowTextHasher();
  await sink.hash(hasher, queries);
  return hasher.finish();
}

/** The same, hashed by `aside`'s worker; the worker is ended when the reading fails. */
async function asideContent(
  sink: RowTextSink,
  aside: AsideHasher,
  queries: TextQueries,
): Promise<Map<number, BatchContent>> {
  try {
    await sink.hash(aside, queries);
  } catch (e) {
    await aside.stop();
    throw e;
  }
  return aside.finish();
}

interface Span {
  seq: number;
  n: number;
  lo: number;
  hi: number;
}

/** Each batch number in the log (known to the batch table or not) with its rows' count and row ids. */
async function batchSpans(db: ChunkDb): Promise<Span[]> {
  const rows = await db.rows(`SELECT batch_seq, count(*) AS n, min(rowid) AS lo, max(rowid) AS hi
    FROM event_log GROUP BY batch_seq ORDER BY batch_seq`);
  return rows.map((r) => ({ seq: Number(r.batch_seq), n: Number(r.n), lo: Number(r.lo), hi: Number(r.hi) }));
}

/** Consecutive batches grouped into windows of up to `max` events (a larger batch is a window alone). */
export function windows(spans: readonly Span[], max: number): Window[] {
  // Folded one span at a time: a window can hold millions of one-event batches, too many to spread as arguments.
  return batchWindows(spans, max).map((w) =>
    w.reduce<Window>(
      (win, s) => ({
        from: win.from,
        to: s.seq,
        lo: Math.min(win.lo, s.lo),
        hi: Math.max(win.hi, s.hi),
        rows: win.rows + s.n,
      }),
      { from: (w[0] as Span).seq, to: (w[0] as Span).seq, lo: Infinity, hi: -Infinity, rows: 0 },
    ),
  );
}

/** The window's row ids split into `k` ranges of about equal size (inclusive bounds). */
export function rowIdRanges(w: Pick<Window, 'lo' | 'hi'>, k: number): [number, number][] {
  const size = Math.ceil((w.hi - w.lo + 1) / k);
  const out: [number, number][] = [];
  for (let lo = w.lo; lo <= w.hi; lo += size) out.push([lo, Math.min(w.hi, lo + size - 1)]);
  return out;
}

/** The count and content hash of the batches `where` selects, read on one connection (a batch being stored). */
export async function textContent(
  db: ChunkDb,
  sink: RowTextSink,
  where: string,
): Promise<Map<number, BatchContent>> {
  const hasher = new RowTextHasher();
  await sink.hash(hasher, [{ db, textsSql: eventTextsSql(where) }]);
  return hasher.finish();
}

/** The row texts of the log's rows that `where` selects. */
function eventTextsSql(where: string): string {
  return rowTextsSql(DUCKDB_AUDIT, 'event_log', where);
}

/**
 * `verify`'s recount of every batch on PostgreSQL: the database computes each
 * row's hash (`rowHashSql`, the audit's one definition) and sends them with
 * COPY as text lines (`batch_seq`, a tab, 64 hex digits); Node folds them
 * into each batch's content hash (`RowTextHasher.addDigest`), a window of
 * whole batches at a time. The database's own fold (`bucketHashesSql`, which
 * sorts each bucket's hashes inside `string_agg`) took ~11 s of the 1M-event
 * store's verify; hashing the rows alone ~1.5 s.
 *
 * Memory: 32 bytes a row of the window, which holds up to `WINDOW_EVENTS`
 * events (or one larger batch).
 */
import { type BatchContent, batchWindows, RowTextHasher, rowHashSql } from '../audit.js';

/** The events whose row hashes are held before their batches are folded and let go. */
const WINDOW_EVENTS = 4_000_000;

export interface CopyDb {
  rows(sql: string): Promise<Record<string, unknown>[]>;
  /** The output of `COPY (…) TO STDOUT`, chunk by chunk. */
  copyOut(sql: string): AsyncIterable<Buffer>;
}

/** Every batch's count and content hash, from the rows of the event log. */
export async function logContent(
  db: CopyDb,
  dialect: Parameters<typeof rowHashSql>[0],
  windowEvents = WINDOW_EVENTS,
): Promise<Map<number, BatchContent>> {
  const counts = await db.rows(
    `SELECT batch_seq, count(*) AS n FROM event_log GROUP BY batch_seq ORDER BY batch_seq`,
  );
  const out = new Map<number, BatchContent>();
  for (const [from, to] of batchRanges(
    counts.map((r) => ({ seq: Number(r.batch_seq), n: Number(r.n) })),
    windowEvents,
  )) {
    const hasher = new RowTextHasher();
    const sql = `COPY (SELECT batch_seq, ${rowHashSql(dialect)} FROM event_log
      WHERE batch_seq BETWEEN ${from} AND ${to}) TO STDOUT`;
    await foldLines(db.copyOut(sql), hasher);
    for (const [seq, c] of hasher.finish()) out.set(seq, c);
  }
  return out;
}

/** Consecutive batches in ranges of up to `max` events (a larger batch is a range alone): first and last. */
export function batchRanges(batches: readonly { seq: number; n: number }[], max: number): [number, number][] {
  return batchWindows(batches, max).map((w) => [
    (w[0] as { seq: number }).seq,
    (w.at(-1) as { seq: number }).seq,
  ]);
}

/** Each byte's value as a hex digit, -1 for any other byte. */
const HEX = new Int8Array(256).fill(-1);
for (let d = 0; d < 16; d++) {
  HEX[d.toString(16).charCodeAt(0)] = d;
  HEX[d.toString(16).toUpperCase().charCodeAt(0)] = d;
}

const TAB = 0x09;
const NEWLINE = 0x0a;

/** Folds COPY's lines of `batch_seq`, a tab and a hex row hash into `hasher`, across chunk boundaries. */
export async function foldLines(chunks: AsyncIterable<Buffer>, hasher: RowTextHasher): Promise<void> {
  const digest = new Uint8Array(32);
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    const b = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    let at = 0;
    for (let nl = b.indexOf(NEWLINE, at); nl >= 0; nl = b.indexOf(NEWLINE, at)) {
      const tab = b.indexOf(TAB, at);
      if (tab < 0 || tab > nl || nl - tab !== 65)
        throw new Error(`verify: a row hash line of another shape: ${b.toString('latin1', at, nl)}`);
      const seq = Number(b.toString('latin1', at, tab));
      for (let i = 0; i < 32; i++) {
        const hi = HEX[b[tab + 1 + 2 * i] as number] as number;
        const lo = HEX[b[tab + 2 + 2 * i] as number] as number;
        if (hi < 0 || lo < 0)
          throw new Error(`verify: a row hash that is not hex: ${b.toString('latin1', tab + 1, nl)}`);
        digest[i] = (hi << 4) | lo;
      }
      hasher.addDigest(seq, digest);
      at = nl + 1;
    }
    rest = b.subarray(at);
  }
  if (rest.length > 0) throw new Error('verify: the row hashes ended within a line');
}

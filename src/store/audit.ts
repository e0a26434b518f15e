/**
 * The batch hash, the chain and the verdict of `verify` (SPEC §7), one
 * definition for every adapter. An adapter only supplies how its SQL writes
 * a few expressions (`AuditDialect`); the row text, the buckets, the folding
 * and the checks are defined here once.
 *
 * Definition:
 *   field text   strings as stored; counts in decimal; `time` as epoch
 *                milliseconds in decimal; NULL as the single character U+001E
 *   row text     the 27 field texts in EVENT_FIELDS order, joined by U+001F;
 *                when any richer-usage field is set (a count other than 0,
 *                units not NULL), followed by U+001F and the texts of the
 *                RICH_FIELDS in order, joined by U+001F (so an event without
 *                them hashes as it did before they existed); then, when
 *                the event is sampled (adjusted_count not NULL), U+001F,
 *                `adjusted_count=` and its text (SPEC §11; an unsampled
 *                event hashes as before)
 *   row hash     lower-hex SHA-256 of the UTF-8 row text
 *   bucket       the first two hex digits of the row hash
 *   bucket hash  lower-hex SHA-256 of the bucket's row hashes, sorted
 *                ascending and concatenated
 *   content      lower-hex SHA-256 of the bucket hashes, concatenated in
 *                ascending bucket order (empty buckets left out)
 *   links        a batch that stored trace links (spans that are not AI
 *                work, the `spans` table): their row texts are the 8 link
 *                fields in LINK_FIELDS order, joined by U+001F (NULL as
 *                U+001E), folded into bucket and content hashes as above
 *                (the links content); the batch's content is then the
 *                lower-hex SHA-256 of events content (empty when the batch
 *                stored no event) || '|links|' || links content. A batch
 *                without links keeps the events content as it is.
 *   chain        lower-hex SHA-256 of prev || '|' || seq || '|' || count ||
 *                '|' || content, where prev is the previous batch's chain
 *                hash and, for the first batch, 64 zeros
 *
 * Rows are ordered by their own hash rather than by (source, id): hex digits
 * sort the same under every collation, and buckets keep the strings that SQL
 * concatenates small (one 10-million-event batch would otherwise be a 640 MB
 * string).
 */
import * as crypto from 'node:crypto';
import { EVENT_FIELDS, RICH_COUNT_FIELDS, RICH_FIELDS, SAMPLING_FIELDS } from '../core/event.js';
import { num } from './rows.js';
import type { VerifyResult } from './store.js';

export const GENESIS = '0'.repeat(64);

/**
 * SHA-256 of a text (its UTF-8 bytes) or of bytes, in the given encoding: one-shot where Node has
 * it (20.12 and later), about half the cost of a Hash object per row hash.
 */
const sha256: (data: string | Uint8Array, encoding: 'hex' | 'binary') => string =
  typeof crypto.hash === 'function'
    ? (data, encoding) => crypto.hash('sha256', data, encoding)
    : (data, encoding) => crypto.createHash('sha256').update(data).digest(encoding);

/** How one SQL engine writes the expressions the hash needs. */
export interface AuditDialect {
  /** Lower-hex SHA-256 of a text expression's UTF-8 bytes. */
  sha256(text: string): string;
  /** A column as text: decimal for counts, the value for strings. */
  text(column: string): string;
  /** The `time` column as epoch milliseconds, in decimal text. */
  epochMsText(column: string): string;
  /** An expression sorted bytewise (hex digits sort alike everywhere; this makes it certain). */
  bytewise(text: string): string;
}

/** The row text of the event-log row in scope, as an SQL expression over its columns (the definition). */
export function rowTextSql(d: AuditDialect): string {
  const texts = (fields: readonly string[]) =>
    fields.map((f) => `coalesce(${f === 'time' ? d.epochMsText(f) : d.text(f)}, chr(30))`).join(', ');
  const richSet = `(${RICH_COUNT_FIELDS.map((f) => `coalesce(${f}, 0) <> 0`).join(' OR ')} OR units IS NOT NULL)`;
  const sampled = `${SAMPLING_FIELDS[0]} IS NOT NULL`;
  // One concat_ws: it leaves out a NULL argument with its separator (both engines), so the richer
  // fields and the adjusted count join only when set, without copying the row's text again for each.
  return `concat_ws(chr(31), ${texts(EVENT_FIELDS)}, CASE WHEN ${richSet} THEN concat_ws(chr(31), ${texts(RICH_FIELDS)}) END, CASE WHEN ${sampled} THEN 'adjusted_count=' || ${d.text(SAMPLING_FIELDS[0])} END)`;
}

/**
 * A row's text (as `rowTextSql` writes it) from the texts of its stored values, null for NULL:
 * the EVENT_FIELDS, the RICH_FIELDS (counts in decimal) and the adjusted count. For a batch
 * hashed from what it appended, without reading its rows back.
 */
export function rowText(
  base: readonly (string | null)[],
  rich: readonly (string | null)[],
  adjusted: string | null,
): string {
  const counts = RICH_COUNT_FIELDS.length;
  const richSet = rich.some((v, i) => (i < counts ? v !== null && v !== '0' : v !== null));
  let text = fieldTexts(base);
  if (richSet) text += `\u001f${fieldTexts(rich)}`;
  return adjusted === null ? text : `${text}\u001fadjusted_count=${adjusted}`;
}

/**
 * Whether a row text written from the values given is surely the text of the values stored: no
 * NUL, no UTF-16 surrogate (a lone one is stored as U+FFFD). Else the row is hashed as read back.
 */
export function readsBack(text: string): boolean {
  return !text.includes('\0') && !SURROGATE.test(text);
}

const SURROGATE = /[\ud800-\udfff]/;

function fieldTexts(values: readonly (string | null)[]): string {
  // One join: a flat string (adding the values one by one built a tree of ropes that hashing then flattened).
  return values.map((v) => v ?? '\u001e').join('\u001f');
}

/** Every row's hash with its batch, ordered as the content hash reads them (for streaming very large batches). */
export function rowHashesSql(d: AuditDialect, table: string, where = ''): string {
  return `SELECT batch_seq, h FROM (SELECT batch_seq, ${d.sha256(rowTextSql(d))} AS h FROM ${table} ${where}) r
ORDER BY batch_seq, ${d.bytewise('h')}`;
}

/** Every row's text with its batch: a small batch is hashed in Node from them (`contentFromRowTexts`). */
export function rowTextsSql(d: AuditDialect, table: string, where = ''): string {
  return `SELECT batch_seq, ${rowTextSql(d)} AS t FROM ${table} ${where}`;
}

/** The row hash of the event-log row in scope, as an SQL expression over its columns. */
export function rowHashSql(d: AuditDialect): string {
  return d.sha256(rowTextSql(d));
}

/**
 * The bucket hashes of every batch of `table` (rows with a `batch_seq`),
 * computed by the database in one grouped pass: what `verify` reads (256
 * rows a batch instead of one an event).
 */
export function bucketHashesSql(d: AuditDialect, table: string, where = ''): string {
  return bucketHashesOfSql(d, `SELECT batch_seq, ${rowHashSql(d)} AS h FROM ${table} ${where}`);
}

/** `bucketHashesSql` over row hashes computed already: `hashes` is a query of (batch_seq, h). */
export function bucketHashesOfSql(d: AuditDialect, hashes: string): string {
  return `SELECT batch_seq, bucket, ${d.sha256(`string_agg(h, '' ORDER BY ${d.bytewise('h')})`)} AS bucket_hash, count(*) AS n
FROM (SELECT batch_seq, substr(h, 1, 2) AS bucket, h FROM (${hashes}) r) b
GROUP BY batch_seq, bucket
ORDER BY batch_seq, ${d.bytewise('bucket')}`;
}

/** The columns of a trace link (the `spans` table), in the order of its row text. */
export const LINK_FIELDS = [
  'trace_id',
  'span_id',
  'parent_span_id',
  'tenant',
  'api_key',
  'service',
  'agent',
  'project',
] as const;

function linkRowTextSql(d: AuditDialect): string {
  return `concat_ws(chr(31), ${LINK_FIELDS.map((f) => `coalesce(${d.text(f)}, chr(30))`).join(', ')})`;
}

/** Every trace link's row text with its batch, as `rowTextsSql` for events. */
export function linkRowTextsSql(d: AuditDialect, where = ''): string {
  return `SELECT batch_seq, ${linkRowTextSql(d)} AS t FROM spans ${where}`;
}

/** The bucket hashes of the trace links of every batch (the `spans` table), as `bucketHashesSql` for events. */
export function linkBucketHashesSql(d: AuditDialect, where = ''): string {
  const row = linkRowTextSql(d);
  return `SELECT batch_seq, bucket, ${d.sha256(`string_agg(h, '' ORDER BY ${d.bytewise('h')})`)} AS bucket_hash, count(*) AS n
FROM (SELECT batch_seq, substr(h, 1, 2) AS bucket, h
      FROM (SELECT batch_seq, ${d.sha256(row)} AS h FROM spans ${where}) r) b
GROUP BY batch_seq, bucket
ORDER BY batch_seq, ${d.bytewise('bucket')}`;
}

/** A batch's content hash from its events content and its links content (null: none of that kind). */
export function batchContent(events: string | null, links: string | null): string | null {
  if (links === null) return events;
  return crypto
    .createHash('sha256')
    .update(`${events ?? ''}|links|${links}`)
    .digest('hex');
}

export interface BatchContent {
  count: number;
  content: string;
}

/** Folds the rows of `bucketHashesSql` into each batch's count and content hash. */
export function contentFromBuckets(
  rows: Iterable<{ seq: number; bucketHash: string; count: number }>,
): Map<number, BatchContent> {
  const out = new Map<number, BatchContent>();
  let seq: number | null = null;
  let count = 0;
  let content: crypto.Hash | null = null;
  const end = () => {
    if (seq !== null && content) out.set(seq, { count, content: content.digest('hex') });
  };
  for (const r of rows) {
    if (r.seq !== seq) {
      end();
      seq = r.seq;
      count = 0;
      content = crypto.createHash('sha256');
    }
    content?.update(r.bucketHash);
    count += r.count;
  }
  end();
  return out;
}

/**
 * Folds the rows of `rowHashesSql` into each batch's count and content hash.
 * It streams: one bucket hash and one content hash are open at a time, so a
 * batch of any size is hashed in constant memory.
 */
export class ContentHasher {
  readonly batches = new Map<number, BatchContent>();
  private seq: number | null = null;
  private count = 0;
  private bucket: string | null = null;
  private bucketHash: crypto.Hash | null = null;
  private content: crypto.Hash | null = null;

  add(seq: number, rowHash: string): void {
    if (seq !== this.seq) {
      this.endBatch();
      this.seq = seq;
      this.count = 0;
      this.content = crypto.createHash('sha256');
    }
    const bucket = rowHash.slice(0, 2);
    if (bucket !== this.bucket) {
      this.endBucket();
      this.bucket = bucket;
      this.bucketHash = crypto.createHash('sha256');
    }
    this.bucketHash?.update(rowHash);
    this.count++;
  }

  finish(): Map<number, BatchContent> {
    this.endBatch();
    return this.batches;
  }

  private endBucket(): void {
    if (this.bucketHash) this.content?.update(this.bucketHash.digest('hex'));
    this.bucketHash = null;
    this.bucket = null;
  }

  private endBatch(): void {
    this.endBucket();
    if (this.seq !== null && this.content)
      this.batches.set(this.seq, { count: this.count, content: this.content.digest('hex') });
    this.seq = null;
    this.content = null;
  }
}

/** A digest given as a one-byte (`binary`, Latin-1) string, written as its 32 bytes at `at` of `into`. */
function copyDigest(digest: string, into: Uint8Array, at: number): void {
  for (let i = 0; i < 32; i++) into[at + i] = digest.charCodeAt(i);
}

/** The largest block of digests: a long list grows by blocks of this size. */
const BLOCK_BYTES = 32 * 2048;

/** 32-byte digests in blocks that double from 128 bytes to 64 KiB (memory: about 32 bytes a digest). */
class Digests {
  n = 0;
  private readonly blocks: Uint8Array[] = [];
  /** The bytes used of the last block. */
  private used = 0;

  /** Adds a digest given as a one-byte (`binary`, Latin-1) string, or as the 32 bytes at `at` of an array. */
  push(digest: string | Uint8Array, at = 0): void {
    let block = this.blocks.at(-1);
    if (block === undefined || this.used === block.length) {
      block = new Uint8Array(Math.min(BLOCK_BYTES, block === undefined ? 128 : block.length * 2));
      this.blocks.push(block);
      this.used = 0;
    }
    if (typeof digest === 'string') copyDigest(digest, block, this.used);
    // Byte by byte: a view of the 32 bytes to copy costs more than the copy.
    else for (let i = 0; i < 32; i++) block[this.used + i] = digest[at + i] as number;
    this.used += 32;
    this.n++;
  }

  /** The blocks the digests fill, in the order added (the last cut to its digests): no copy. */
  parts(): Uint8Array[] {
    return this.blocks.map((b, i) => (i === this.blocks.length - 1 ? b.subarray(0, this.used) : b));
  }

  /** Every digest, in the order added, in one array. */
  all(): Uint8Array {
    return inOneArray(this.parts());
  }
}

/** Arrays end to end in one: the only one itself, not copied. */
function inOneArray(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
}

/** A batch's rows are kept in one list up to this many, then by bucket (the first byte). */
const SPLIT_AT = 4096;

/** A batch's row hashes as 32-byte digests, until its content is taken. */
class BatchBuckets {
  count = 0;
  private rows: Digests | null = new Digests();
  private buckets: Digests[] | null = null;

  /** Adds a row hash given as its 32 bytes in a one-byte (`binary`, Latin-1) string, or as the 32 bytes at `at` of an array. */
  add(digest: string | Uint8Array, at = 0): void {
    this.count++;
    const first = typeof digest === 'string' ? digest.charCodeAt(0) : (digest[at] as number);
    if (this.buckets !== null) (this.buckets[first] as Digests).push(digest, at);
    else {
      this.rows?.push(digest, at);
      if (this.count === SPLIT_AT) this.split();
    }
  }

  /**
   * Each bucket's hash (`bucketHash`, '' for an empty bucket or one taken out by `takeBuckets`):
   * what the content hash folds (`contentOfBuckets`). The digests are let go as they are hashed,
   * unless `keep` is given: then each bucket's sorted digests are put in it.
   */
  bucketHashes(keep?: Uint8Array[]): string[] {
    const sorted = this.rows === null ? null : sortedDigests(this.rows.all(), this.rows.n, 0);
    this.rows = null;
    const hashes: string[] = [];
    for (let b = 0; b < 256; b++) {
      const digests = sorted === null ? this.bucketSorted(b) : bucketOf(sorted, b);
      keep?.push(digests);
      hashes.push(digests.length > 0 ? hexSha256(digests) : '');
    }
    this.buckets = null;
    return hashes;
  }

  /**
   * A large batch's digests of buckets `from` to 255, each bucket's unsorted in the blocks that
   * hold them (not copied), taken out to be hashed elsewhere (`bucketHash`); null for a batch of
   * one list (sorted whole, and small).
   */
  takeBuckets(from: number): Uint8Array[][] | null {
    if (this.buckets === null) return null;
    const taken: Uint8Array[][] = [];
    for (let b = from; b < 256; b++) {
      taken.push((this.buckets[b] as Digests).parts());
      this.buckets[b] = new Digests();
    }
    return taken;
  }

  /** A large batch: its rows so far moved to their buckets. */
  private split(): void {
    this.buckets = Array.from({ length: 256 }, () => new Digests());
    const rows = this.rows?.all() ?? new Uint8Array(0);
    for (let at = 0; at < rows.length; at += 32) (this.buckets[rows[at] as number] as Digests).push(rows, at);
    this.rows = null;
  }

  /** A bucket of a large batch, sorted; then let go. */
  private bucketSorted(b: number): Uint8Array {
    const digests = this.buckets?.[b];
    if (!digests || digests.n === 0) return new Uint8Array(0);
    const sorted = sortedDigests(digests.all(), digests.n, 1);
    (this.buckets as Digests[])[b] = new Digests();
    return sorted;
  }
}

/** Each two bytes' four lower-hex digits as the one 32-bit word that lays them out in order in memory. */
const HEX_QUADS = (() => {
  const quads = new Uint32Array(65536);
  const bytes = new Uint8Array(quads.buffer);
  const digits = '0123456789abcdef';
  for (let pair = 0; pair < 65536; pair++)
    for (let k = 0; k < 4; k++) bytes[pair * 4 + k] = digits.charCodeAt((pair >> (12 - 4 * k)) & 15);
  return quads;
})();

/** Where `hexSha256` writes the hex of 8,192 bytes at a time (reused: a month's bucket is megabytes). */
const HEX_OUT = new Uint32Array(8192);

/** The lower-hex SHA-256 of the lower-hex text of `bytes` (an even number of them), written and hashed a piece at a time. */
function hexSha256(bytes: Uint8Array): string {
  const hash = crypto.createHash('sha256');
  const out = new Uint8Array(HEX_OUT.buffer);
  for (let from = 0; from < bytes.length; from += 2 * HEX_OUT.length) {
    const pairs = Math.min(HEX_OUT.length, (bytes.length - from) / 2);
    for (let i = 0; i < pairs; i++)
      HEX_OUT[i] = HEX_QUADS[
        ((bytes[from + 2 * i] as number) << 8) | (bytes[from + 2 * i + 1] as number)
      ] as number;
    hash.update(out.subarray(0, pairs * 4));
  }
  return hash.digest('hex');
}

/**
 * The hash of one bucket of a large batch from the blocks that hold its digests (alike in their
 * first byte): sorted, in lower hex, hashed; '' when empty.
 */
export function bucketHash(parts: readonly Uint8Array[]): string {
  const digests = inOneArray(parts);
  return digests.length === 0 ? '' : hexSha256(sortedDigests(digests, digests.length / 32, 1));
}

/** A batch's content hash from its buckets' hashes in order (`bucketHashes`): the non-empty ones concatenated and hashed. */
export function contentOfBuckets(hashes: readonly string[]): string {
  const content = crypto.createHash('sha256');
  for (const h of hashes) if (h !== '') content.update(h);
  return content.digest('hex');
}

/** The digests of bucket `b` (their first byte) among sorted digests. */
function bucketOf(sorted: Uint8Array, b: number): Uint8Array {
  return sorted.subarray(firstAtLeast(sorted, b) * 32, firstAtLeast(sorted, b + 1) * 32);
}

/** The index of the first of the sorted digests whose first byte is at least `byte`. */
function firstAtLeast(sorted: Uint8Array, byte: number): number {
  let lo = 0;
  let hi = sorted.length / 32;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid * 32] as number) < byte) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A run of digests alike in their counted bytes up to this long is put in order by insertion. */
const SHORT_RUN = 32;

/**
 * Digests counted by two bytes from this many on: a bucket of a month's single batch (10M rows,
 * ~39,000 a bucket) counted by one byte fell into runs of ~150, each sorted by a comparator
 * (3 s of the month's `verify`); by two bytes its runs hold one or two.
 */
export const WIDE_AT = 8192;

/**
 * The first `n` 32-byte digests of `buf`, sorted bytewise (as their lower hex sorts), given that
 * they are alike before byte `from` (a bucket's share byte 0). A counting sort by byte `from`, or
 * by bytes `from` and `from + 1` for `wideAt` digests or more (row hashes are spread evenly, so
 * the runs are short: about ten in a bucket of a few thousand rows), then each run by the four
 * bytes after the counted ones, then by all their bytes where those are alike. `from` is 0 or 1.
 */
export function sortedDigests(buf: Uint8Array, n: number, from: number, wideAt = WIDE_AT): Uint8Array {
  const wide = n >= wideAt;
  const bins = wide ? 65536 : 256;
  const bin = (i: number) =>
    wide
      ? ((buf[i * 32 + from] as number) << 8) | (buf[i * 32 + from + 1] as number)
      : (buf[i * 32 + from] as number);
  const starts = new Uint32Array(bins + 1);
  for (let i = 0; i < n; i++) (starts[bin(i) + 1] as number)++;
  for (let b = 0; b < bins; b++) starts[b + 1] = (starts[b + 1] as number) + (starts[b] as number);
  const order = new Uint32Array(n);
  const next = starts.slice(0, bins);
  for (let i = 0; i < n; i++) {
    const b = bin(i);
    order[next[b] as number] = i;
    next[b] = (next[b] as number) + 1;
  }
  const after = from + (wide ? 2 : 1);
  const keys = new Uint32Array(n);
  for (let i = 0; i < n; i++) keys[i] = wordAt(buf, i * 32 + after);
  const before = (a: number, b: number) =>
    (keys[a] as number) - (keys[b] as number) || compareDigests(buf, a, b, after + 4);
  for (let b = 0; b < bins; b++)
    if ((starts[b + 1] as number) - (starts[b] as number) > 1)
      sortRun(order, starts[b] as number, starts[b + 1] as number, before);
  return copiedInOrder(buf, order);
}

/** The four bytes from `at` as one unsigned big-endian number. */
function wordAt(buf: Uint8Array, at: number): number {
  return (
    (((buf[at] as number) << 24) |
      ((buf[at + 1] as number) << 16) |
      ((buf[at + 2] as number) << 8) |
      (buf[at + 3] as number)) >>>
    0
  );
}

/** Sorts `order[from, to)` (row numbers) by `before`. */
function sortRun(
  order: Uint32Array,
  from: number,
  to: number,
  before: (a: number, b: number) => number,
): void {
  if (to - from <= 1) return;
  if (to - from > SHORT_RUN) {
    order.set(Array.from(order.subarray(from, to)).sort(before), from);
    return;
  }
  for (let i = from + 1; i < to; i++) {
    const row = order[i] as number;
    let j = i - 1;
    while (j >= from && before(order[j] as number, row) > 0) {
      order[j + 1] = order[j] as number;
      j--;
    }
    order[j + 1] = row;
  }
}

/** Digests `a` and `b` compared bytewise from byte `from`. */
function compareDigests(buf: Uint8Array, a: number, b: number, from: number): number {
  for (let k = from; k < 32; k++) {
    const d = (buf[a * 32 + k] as number) - (buf[b * 32 + k] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** The digests of `buf` in `order`, copied as eight 32-bit words a digest where aligned (the bytes stay in order). */
function copiedInOrder(buf: Uint8Array, order: Uint32Array): Uint8Array {
  const n = order.length;
  if (buf.byteOffset % 4 !== 0) {
    const out = new Uint8Array(n * 32);
    for (let j = 0; j < n; j++)
      out.set(buf.subarray((order[j] as number) * 32, (order[j] as number) * 32 + 32), j * 32);
    return out;
  }
  const words = new Uint32Array(buf.buffer, buf.byteOffset, n * 8);
  const out = new Uint32Array(n * 8);
  for (let j = 0; j < n; j++) {
    const at = (order[j] as number) * 8;
    for (let w = 0; w < 8; w++) out[j * 8 + w] = words[at + w] as number;
  }
  return new Uint8Array(out.buffer);
}

/**
 * Consecutive batches grouped into windows of up to `max` events (a larger
 * batch is a window alone): what `verify` reads at once, folds and lets go.
 */
export function batchWindows<T extends { n: number }>(batches: readonly T[], max: number): T[][] {
  const out: T[][] = [];
  let open: T[] = [];
  let n = 0;
  for (const b of batches) {
    if (open.length > 0 && n + b.n > max) {
      out.push(open);
      open = [];
      n = 0;
    }
    open.push(b);
    n += b.n;
  }
  if (open.length > 0) out.push(open);
  return out;
}

/** A row's hash from its text (a string, or its UTF-8 bytes): 32 bytes in a one-byte (Latin-1) string. */
export function rowDigest(text: string | Uint8Array): string {
  return sha256(text, 'binary');
}

/**
 * The hashes (`rowDigest`) of row texts that lie end to end in `bytes` (row i ends at `ends[i]`),
 * row i's 32 bytes at 32 i of the array returned: for `RowTextHasher.addDigests` on another thread.
 */
export function packedDigests(bytes: Uint8Array, ends: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(ends.length * 32);
  for (let row = 0, at = 0; row < ends.length; row++) {
    const end = ends[row] as number;
    copyDigest(rowDigest(new Uint8Array(bytes.buffer, bytes.byteOffset + at, end - at)), out, row * 32);
    at = end;
  }
  return out;
}

/**
 * The count and content hash of each batch from its rows' texts, with the
 * SHA-256s computed in Node (OpenSSL) rather than by the database: the same
 * definition. Rows may come in any order and from several readers at once;
 * each row's hash is kept as 32 bytes until `finish` sorts the buckets, so
 * memory is 32 bytes a row of the batches being hashed.
 */
export class RowTextHasher {
  private readonly batches = new Map<number, BatchBuckets>();
  private rows = 0;
  private gaveUp = false;

  /** `limit`: past this many rows the hasher lets every digest go and takes no more (`complete` is then false). */
  constructor(private readonly limit = Number.POSITIVE_INFINITY) {}

  /** Whether every row added is counted: false once more than `limit` came. */
  get complete(): boolean {
    return !this.gaveUp;
  }

  /** A row's text, as a string or as its UTF-8 bytes. */
  add(seq: number, text: string | Uint8Array): void {
    this.batch(seq)?.add(rowDigest(text));
  }

  /**
   * Rows whose texts lie end to end in `bytes` (row i ends at `ends[i]`), of the batches in `seqs`:
   * `add` for each, the batch looked up once a run of rows of the same batch.
   */
  addPacked(seqs: ArrayLike<number>, bytes: Uint8Array, ends: ArrayLike<number>): void {
    let at = 0;
    this.addRows(seqs, (batch, row) => {
      const end = ends[row] as number;
      batch.add(rowDigest(new Uint8Array(bytes.buffer, bytes.byteOffset + at, end - at)));
      at = end;
    });
  }

  /** A row whose text is not known: the hasher lets every digest go and takes no more (`complete` is false). */
  giveUp(): void {
    this.gaveUp = true;
    this.batches.clear();
  }

  /** A row's hash computed elsewhere (`rowDigest`, or the database's as the first 32 bytes of an array). */
  addDigest(seq: number, digest: string | Uint8Array): void {
    this.batch(seq)?.add(digest);
  }

  /** Row hashes computed elsewhere (`packedDigests`): row i's 32 bytes at `digests[32 i]`, of the batch `seqs[i]`. */
  addDigests(seqs: ArrayLike<number>, digests: Uint8Array): void {
    this.addRows(seqs, (batch, row) => batch.add(digests, row * 32));
  }

  /**
   * Counts rows of the batches in `seqs` and has `add` add each to its batch, looked up once a run
   * of rows of the same batch; past the limit, gives up instead.
   */
  private addRows(seqs: ArrayLike<number>, add: (batch: BatchBuckets, row: number) => void): void {
    if (this.gaveUp) return;
    this.rows += seqs.length;
    if (this.rows > this.limit) {
      this.giveUp();
      return;
    }
    let seq = Number.NaN;
    let batch = undefined as unknown as BatchBuckets;
    for (let row = 0; row < seqs.length; row++) {
      if (seqs[row] !== seq) {
        seq = seqs[row] as number;
        batch = this.batchOf(seq);
      }
      add(batch, row);
    }
  }

  /** The batch a row is added to; none once the hasher gave up. */
  private batch(seq: number): BatchBuckets | undefined {
    if (this.gaveUp) return undefined;
    if (++this.rows > this.limit) {
      this.giveUp();
      return undefined;
    }
    return this.batchOf(seq);
  }

  private batchOf(seq: number): BatchBuckets {
    let batch = this.batches.get(seq);
    if (batch === undefined) {
      batch = new BatchBuckets();
      this.batches.set(seq, batch);
    }
    return batch;
  }

  finish(): Map<number, BatchContent> {
    const out = new Map<number, BatchContent>();
    for (const [seq, b] of this.finishBuckets())
      out.set(seq, { count: b.count, content: contentOfBuckets(b.hashes) });
    return out;
  }

  /**
   * As `finish`, each batch's content with its sorted digests kept (32 bytes a row), so that rows
   * deleted after they were hashed can be taken out of it (`KeptContent.without`).
   */
  finishKeeping(): Map<number, KeptContent> {
    const out = new Map<number, KeptContent>();
    for (const [seq, b] of this.finishBuckets(true))
      out.set(seq, new KeptContent(b.count, b.hashes, b.sorted as Uint8Array[]));
    return out;
  }

  /**
   * For each large batch, the digests of its buckets `from` to 255, taken out to be hashed
   * elsewhere (`bucketHash`, another thread) while `finishBuckets` hashes the rest.
   */
  takeBuckets(from: number): Map<number, Uint8Array[][]> {
    const out = new Map<number, Uint8Array[][]>();
    for (const [seq, batch] of this.batches) {
      const taken = batch.takeBuckets(from);
      if (taken !== null) out.set(seq, taken);
    }
    return out;
  }

  /** Each batch's count and its buckets' hashes ('' for those empty or taken out), in batch order. */
  finishBuckets(keep = false): Map<number, { count: number; hashes: string[]; sorted?: Uint8Array[] }> {
    if (this.gaveUp) throw new Error(`RowTextHasher: more than ${this.limit} rows, their digests let go`);
    const out = new Map<number, { count: number; hashes: string[]; sorted?: Uint8Array[] }>();
    for (const seq of [...this.batches.keys()].sort((a, b) => a - b)) {
      const batch = this.batches.get(seq) as BatchBuckets;
      const sorted: Uint8Array[] | undefined = keep ? [] : undefined;
      out.set(seq, { count: batch.count, hashes: batch.bucketHashes(sorted), ...(sorted ? { sorted } : {}) });
      this.batches.delete(seq);
    }
    return out;
  }
}

/**
 * A batch's count and content hash with the sorted digests of its buckets, from which rows can be
 * taken out: a batch that lost a few rows after they were hashed (repeats, duplicates of earlier
 * batches) gets the content of the rows it keeps without hashing them again.
 */
export class KeptContent implements BatchContent {
  readonly content: string;

  constructor(
    readonly count: number,
    private readonly hashes: readonly string[],
    private readonly sorted: readonly Uint8Array[],
  ) {
    this.content = contentOfBuckets(hashes);
  }

  /**
   * The content without one row of each of `digests` (`rowDigest`); throws if one is not among the
   * rows. Each bucket that loses rows is copied once without them and hashed again.
   */
  without(digests: readonly string[]): BatchContent {
    if (digests.length === 0) return { count: this.count, content: this.content };
    const byBucket = new Map<number, Map<string, number>>();
    for (const d of digests) {
      const b = d.charCodeAt(0);
      const gone = byBucket.get(b) ?? new Map<string, number>();
      gone.set(d, (gone.get(d) ?? 0) + 1);
      byBucket.set(b, gone);
    }
    const hashes = [...this.hashes];
    for (const [b, gone] of byBucket) {
      const rest = withoutDigests(this.sorted[b] as Uint8Array, gone);
      hashes[b] = rest.length > 0 ? hexSha256(rest) : '';
    }
    return { count: this.count - digests.length, content: contentOfBuckets(hashes) };
  }
}

/**
 * The 32-byte digests of `bucket` without as many of each as `gone` counts (keyed by the digest
 * as a one-byte string), in their order; throws if `gone` names one the bucket lacks.
 */
function withoutDigests(bucket: Uint8Array, gone: Map<string, number>): Uint8Array {
  const rest = new Uint8Array(bucket.length);
  let left = 0;
  for (const n of gone.values()) left += n;
  let kept = 0;
  for (let at = 0; at < bucket.length; at += 32) {
    const digest = bucket.subarray(at, at + 32);
    if (left > 0) {
      const key = Buffer.from(digest.buffer, digest.byteOffset, 32).toString('latin1');
      const n = gone.get(key) ?? 0;
      if (n > 0) {
        gone.set(key, n - 1);
        left--;
        continue;
      }
    }
    rest.set(digest, kept);
    kept += 32;
  }
  if (left > 0) throw new Error('KeptContent: a row taken out was not among the rows hashed');
  return rest.subarray(0, kept);
}

/**
 * The count and content hash of each batch from its rows' texts (the rows of
 * `rowTextsSql`), hashed in Node (`RowTextHasher`). For small batches, where
 * the database's grouped, ordered aggregate costs more than the hashing
 * itself.
 */
export function contentFromRowTexts(
  rows: Iterable<{ seq: number; text: string }>,
): Map<number, BatchContent> {
  const hasher = new RowTextHasher();
  for (const r of rows) hasher.add(r.seq, r.text);
  return hasher.finish();
}

/** The chain hash of a batch. */
export function chainHash(prev: string, seq: number, count: number, content: string): string {
  return crypto.createHash('sha256').update(`${prev}|${seq}|${count}|${content}`, 'utf8').digest('hex');
}

/** A batch as recorded in the store's batch table. */
export interface RecordedBatch {
  seq: number;
  count: number;
  content: string;
  chain: string;
}

/** The recorded batches in seq order, as `verdict` reads them (`recordedBatches` turns its rows into them). */
export const RECORDED_BATCHES_SQL =
  'SELECT seq, count, content_sha256, chain_sha256 FROM batches ORDER BY seq';

export function recordedBatches(rows: readonly Record<string, unknown>[]): RecordedBatch[] {
  return rows.map((r) => ({
    seq: num(r.seq),
    count: num(r.count),
    content: String(r.content_sha256),
    chain: String(r.chain_sha256),
  }));
}

/**
 * The verdict of `verify`: the recorded batches (in seq order) against the
 * counts and content hashes recomputed from the stored events. The first
 * batch that does not match is named; `extra` is the adapter's check of what
 * the hashes do not cover (the markers of superseded versions), run only
 * when every batch matches. `links` is the links content of the batches
 * that stored trace links (recomputed from the `spans` table).
 */
export async function verdict(
  recorded: readonly RecordedBatch[],
  actual: ReadonlyMap<number, BatchContent>,
  extra: () => Promise<VerifyResult['firstBad']>,
  links: ReadonlyMap<number, BatchContent> = new Map(),
): Promise<VerifyResult> {
  const seqs = [...new Set([...recorded.map((r) => r.seq), ...actual.keys(), ...links.keys()])].sort(
    (a, b) => a - b,
  );
  const bySeq = new Map(recorded.map((r, i) => [r.seq, { r, prev: recorded[i - 1]?.chain ?? GENESIS }]));
  let events = 0;
  let firstBad: VerifyResult['firstBad'] = null;
  for (const seq of seqs) {
    const e = actual.get(seq);
    const a = {
      count: e?.count ?? 0,
      content: batchContent(e?.content ?? null, links.get(seq)?.content ?? null),
    };
    events += a.count;
    if (firstBad) continue;
    const b = bySeq.get(seq);
    if (!b) {
      firstBad = { seq, reason: `events or trace links reference unknown batch ${seq}` };
    } else if (b.r.count !== a.count) {
      firstBad = {
        seq,
        reason: `count mismatch: batch ${seq} recorded ${b.r.count} events, the store holds ${a.count} (an event was deleted or inserted)`,
      };
    } else if (b.r.content !== a.content) {
      firstBad = {
        seq,
        reason: 'content hash mismatch: an event or trace link was edited, deleted or inserted',
      };
    } else if (b.r.chain !== chainHash(b.prev, seq, b.r.count, b.r.content)) {
      firstBad = {
        seq,
        reason: `chain broken at batch ${seq}: its chain hash does not follow from the previous batch (batches reordered, removed or rewritten)`,
      };
    }
  }
  if (firstBad === null) firstBad = await extra();
  const last = recorded.at(-1);
  return {
    ok: firstBad === null,
    batches: recorded.length,
    events,
    firstBad,
    head: last ? last.chain : null,
  };
}

/**
 * The markers of superseded versions are not hashed (they follow from the log), so verify checks
 * that they do: each names a logged version that a later batch replaced, and no event has two live
 * versions (checked among the usage-report sources and the sources with markers, not the whole
 * log, to keep verify within the memory of a large store). `rows` runs a query on the store.
 */
export async function supersededCheck(
  rows: (sql: string) => Promise<Record<string, unknown>[]>,
): Promise<VerifyResult['firstBad']> {
  const [m] = await rows('SELECT EXISTS (SELECT 1 FROM superseded) AS markers');
  const [r] = await rows(supersededCheckSql(RESTATABLE_SOURCES, m?.markers === true));
  const opt = (v: unknown) => (v === null || v === undefined ? null : num(v));
  return supersededVerdict(opt(r?.bad_marker), opt(r?.twice));
}

/**
 * The SQL of `supersededCheck`, which both engines share. `markers`: whether the store holds any;
 * without them only the usage reports can hold two live versions, and the markers' check (a join
 * of the log, ~50 ms of verify's CPU on a million events) is left out.
 */
function supersededCheckSql(restatableSources: readonly string[], markers: boolean): string {
  const list = restatableSources.map((s) => `'${s.replaceAll("'", "''")}'`).join(', ');
  const twice = `(SELECT max(batch_seq) FROM (SELECT max(batch_seq) AS batch_seq FROM events
          WHERE ${markers ? `source IN (SELECT source FROM superseded) OR ` : ''}source IN (${list})
          GROUP BY source, id HAVING count(*) > 1) t) AS twice`;
  if (!markers) return `SELECT NULL AS bad_marker, ${twice}`;
  return `
SELECT (SELECT min(s.by_seq) FROM superseded s WHERE s.by_seq <= s.batch_seq
          OR NOT EXISTS (SELECT 1 FROM event_log l WHERE l.batch_seq = s.batch_seq AND l.source = s.source AND l.id = s.id)
          OR NOT EXISTS (SELECT 1 FROM event_log l WHERE l.batch_seq = s.by_seq AND l.source = s.source AND l.id = s.id)) AS bad_marker,
       ${twice}`;
}

function supersededVerdict(badMarker: number | null, twice: number | null): VerifyResult['firstBad'] {
  if (badMarker !== null)
    return { seq: badMarker, reason: 'a superseded marker names no version the log replaced' };
  if (twice !== null)
    return { seq: twice, reason: 'an event has two live versions (a superseded marker was removed)' };
  return null;
}

/** The formats whose buckets are restated by design (SPEC §3.3). */
export const RESTATABLE_SOURCES: readonly string[] = ['openai-usage', 'anthropic-usage'];

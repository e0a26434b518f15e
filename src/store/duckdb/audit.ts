/**
 * The batch hash and the chain (SPEC §7). DuckDB computes the row hashes
 * and sorts them; the bucket and content hashes are folded while streaming
 * the sorted hashes, so `verify` reads the stored rows once.
 *
 * Definition (any SQL engine with SHA-256 can reimplement it; PostgreSQL:
 * encode(sha256(convert_to(x, 'UTF8')), 'hex')):
 *   field text   strings as stored; counts in decimal; `time` as epoch
 *                milliseconds in decimal; NULL as the single character U+001E
 *   row text     the 27 field texts in EVENT_FIELDS order, joined by U+001F;
 *                when any richer-usage field is set (a count other than 0,
 *                units not NULL), followed by U+001F and the texts of the
 *                RICH_FIELDS in order, joined by U+001F (so an event without
 *                them hashes as it did before they existed)
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
 * sort the same under every collation, and buckets keep the strings that an
 * SQL reimplementation concatenates small (one 10-million-event batch would
 * otherwise be a 640 MB string).
 */
import { createHash, type Hash } from 'node:crypto';
import { EVENT_FIELDS, RICH_COUNT_FIELDS, RICH_FIELDS } from '../../core/event.js';
import { LINK_FIELDS } from './schema.js';

export const GENESIS = '0'.repeat(64);

function fieldText(f: string): string {
  if (f === 'time') return 'CAST(epoch_ms(time) AS VARCHAR)';
  return `CAST(${f} AS VARCHAR)`;
}

const texts = (fields: readonly string[]) =>
  fields.map((f) => `coalesce(${fieldText(f)}, chr(30))`).join(', ');
const RICH_SET = `(${RICH_COUNT_FIELDS.map((f) => `coalesce(${f}, 0) <> 0`).join(' OR ')} OR units IS NOT NULL)`;
const ROW_TEXT = `concat_ws(chr(31), ${texts(EVENT_FIELDS)}) || CASE WHEN ${RICH_SET} THEN chr(31) || concat_ws(chr(31), ${texts(RICH_FIELDS)}) ELSE '' END`;

/** Every event's row hash, ordered as the batch hash reads them; DuckDB sorts out of core, so memory stays flat. */
export function rowHashesSql(where = ''): string {
  return `SELECT batch_seq, sha256(${ROW_TEXT}) AS h FROM event_log ${where} ORDER BY batch_seq, h`;
}

/**
 * The bucket hashes of every batch, computed by DuckDB in one grouped pass:
 * what `verify` reads (256 rows a batch instead of one an event). It holds a
 * batch's row hashes in memory while it aggregates (64 bytes an event), so
 * ingest of a very large batch, which runs under a small memory cap, folds
 * them in a stream instead (`ContentHasher`).
 */
export function bucketHashesSql(where = ''): string {
  return `SELECT batch_seq, substr(h, 1, 2) AS bucket, sha256(string_agg(h, '' ORDER BY h)) AS bucket_hash, count(*) AS n
FROM (SELECT batch_seq, sha256(${ROW_TEXT}) AS h FROM event_log ${where})
GROUP BY batch_seq, bucket
ORDER BY batch_seq, bucket`;
}

const LINK_ROW_TEXT = `concat_ws(chr(31), ${texts(LINK_FIELDS)})`;

/** The bucket hashes of the trace links of every batch (or of the batches `where` selects). */
export function linkBucketHashesSql(where = ''): string {
  return `SELECT batch_seq, substr(h, 1, 2) AS bucket, sha256(string_agg(h, '' ORDER BY h)) AS bucket_hash, count(*) AS n
FROM (SELECT batch_seq, sha256(${LINK_ROW_TEXT}) AS h FROM spans ${where})
GROUP BY batch_seq, bucket
ORDER BY batch_seq, bucket`;
}

/** A batch's content hash from its events content and its links content (null: none of that kind). */
export function batchContent(events: string | null, links: string | null): string | null {
  if (links === null) return events;
  return createHash('sha256')
    .update(`${events ?? ''}|links|${links}`)
    .digest('hex');
}

/** Folds the rows of `bucketHashesSql` into each batch's count and content hash. */
export function contentFromBuckets(
  rows: Iterable<{ seq: number; bucketHash: string; count: number }>,
): Map<number, BatchContent> {
  const out = new Map<number, BatchContent>();
  let seq: number | null = null;
  let count = 0;
  let content: Hash | null = null;
  const end = () => {
    if (seq !== null && content) out.set(seq, { count, content: content.digest('hex') });
  };
  for (const r of rows) {
    if (r.seq !== seq) {
      end();
      seq = r.seq;
      count = 0;
      content = createHash('sha256');
    }
    content?.update(r.bucketHash);
    count += r.count;
  }
  end();
  return out;
}

export interface BatchContent {
  count: number;
  content: string;
}

/**
 * Folds the rows of `rowHashesSql` into each batch's count and content hash.
 * It streams: one bucket hash and one content hash are open at a time, so a
 * batch of any size is hashed in constant memory (DuckDB's list aggregates
 * cannot spill, and 10 million row hashes do not fit a small memory limit).
 */
export class ContentHasher {
  readonly batches = new Map<number, BatchContent>();
  private seq: number | null = null;
  private count = 0;
  private bucket: string | null = null;
  private bucketHash: Hash | null = null;
  private content: Hash | null = null;

  add(seq: number, rowHash: string): void {
    if (seq !== this.seq) {
      this.endBatch();
      this.seq = seq;
      this.count = 0;
      this.content = createHash('sha256');
    }
    const bucket = rowHash.slice(0, 2);
    if (bucket !== this.bucket) {
      this.endBucket();
      this.bucket = bucket;
      this.bucketHash = createHash('sha256');
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

/** SQL expression of the chain hash; the arguments are SQL expressions. */
export function chainSql(prev: string, seq: string, count: string, content: string): string {
  return `sha256(${prev} || '|' || CAST(${seq} AS VARCHAR) || '|' || CAST(${count} AS VARCHAR) || '|' || ${content})`;
}

/** Every batch with whether its chain hash follows from the previous batch's, in seq order. */
export const CHAIN_SQL = `
SELECT seq, count, content_sha256, chain_sha256,
       chain_sha256 = ${chainSql(`coalesce(lag(chain_sha256) OVER (ORDER BY seq), '${GENESIS}')`, 'seq', 'count', 'content_sha256')} AS chain_ok
FROM batches
ORDER BY seq`;

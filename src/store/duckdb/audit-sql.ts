/**
 * The batch hash and the chain (SPEC §7), in SQL so that `verify` recomputes
 * them from the stored rows in a few grouped queries.
 *
 * Definition (any SQL engine with SHA-256 can reimplement it; PostgreSQL:
 * encode(sha256(convert_to(x, 'UTF8')), 'hex')):
 *   field text   strings as stored; counts in decimal; `time` as epoch
 *                milliseconds in decimal; NULL as the single character U+001E
 *   row text     the 27 field texts in EVENT_FIELDS order, joined by U+001F
 *   row hash     lower-hex SHA-256 of the UTF-8 row text
 *   bucket       the first two hex digits of the row hash
 *   bucket hash  lower-hex SHA-256 of the bucket's row hashes, sorted
 *                ascending and concatenated
 *   content      lower-hex SHA-256 of the bucket hashes, concatenated in
 *                ascending bucket order (empty buckets left out)
 *   chain        lower-hex SHA-256 of prev || '|' || seq || '|' || count ||
 *                '|' || content, where prev is the previous batch's chain
 *                hash and, for the first batch, 64 zeros
 *
 * Rows are ordered by their own hash rather than by (source, id): hex digits
 * sort the same under every collation, and buckets keep each concatenated
 * string small (a 10-million-event batch would otherwise be hashed as one
 * 640 MB string). In DuckDB, list_sort(list(h)) sorts a bucket about twice
 * as fast as string_agg(h, '' ORDER BY h); both give the same text.
 */
import { EVENT_FIELDS } from '../../core/event.js';

export const GENESIS = '0'.repeat(64);

function fieldText(f: string): string {
  if (f === 'time') return 'CAST(epoch_ms(time) AS VARCHAR)';
  return `CAST(${f} AS VARCHAR)`;
}

const ROW_TEXT = `concat_ws(chr(31), ${EVENT_FIELDS.map((f) => `coalesce(${fieldText(f)}, chr(30))`).join(', ')})`;

/** One row per batch_seq of `events` (optionally filtered): `batch_seq, n, content`. */
export function contentHashSql(where = ''): string {
  return `
WITH r AS (SELECT batch_seq, sha256(${ROW_TEXT}) AS h FROM events ${where}),
b AS (SELECT batch_seq, left(h, 2) AS bucket, count(*) AS n, sha256(array_to_string(list_sort(list(h)), '')) AS bh
      FROM r GROUP BY batch_seq, bucket)
SELECT batch_seq, sum(n)::BIGINT AS n, sha256(string_agg(bh, '' ORDER BY bucket)) AS content
FROM b GROUP BY batch_seq`;
}

/** SQL expression of the chain hash; the arguments are SQL expressions. */
export function chainSql(prev: string, seq: string, count: string, content: string): string {
  return `sha256(${prev} || '|' || CAST(${seq} AS VARCHAR) || '|' || CAST(${count} AS VARCHAR) || '|' || ${content})`;
}

/**
 * Every batch beside what its stored events say, in seq order; rows whose
 * `seq` has no batch are events of an unknown batch.
 */
export const VERIFY_SQL = `
WITH c AS (${contentHashSql()}),
k AS (
  SELECT seq, count, content_sha256, chain_sha256,
         ${chainSql(`coalesce(lag(chain_sha256) OVER (ORDER BY seq), '${GENESIS}')`, 'seq', 'count', 'content_sha256')} AS expected_chain
  FROM batches
)
SELECT coalesce(k.seq, c.batch_seq) AS seq, k.seq IS NULL AS unknown,
       k.count AS stored_count, coalesce(c.n, 0) AS actual_count,
       k.content_sha256 = c.content AS content_ok, k.chain_sha256 = k.expected_chain AS chain_ok,
       k.chain_sha256 AS chain
FROM k FULL OUTER JOIN c ON c.batch_seq = k.seq
ORDER BY seq`;

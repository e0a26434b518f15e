/**
 * The bulk path for canonical files (SPEC §3 `jsonl`, `csv`): DuckDB parses
 * the file and the checks of src/ingest/canonical.ts run in SQL (for a JSON
 * lines file, each value's JSON type is checked by json-key-scan.ts). It is
 * deliberately no looser than the JS parser: whatever it cannot decide
 * exactly as the parser would (a JSON float for a count, a time without
 * seconds, padded numbers…) counts as invalid, and the caller then runs the
 * parser, which either reports the exact problems or ingests the file itself.
 * It never guesses: a file it accepts gives the events the parser gives.
 */
import {
  ALL_EVENT_FIELDS,
  MAX_FUTURE_MS,
  RICH_COUNT_FIELDS,
  TOKEN_FIELDS,
  type UsageEvent,
} from '../../core/event.js';
import { ANY_SECRET_SQL, KEY_SHAPES_SQL, SECRET_CLUES, WHOLE_BEARER_SQL } from '../../core/secrets.js';
import type { ValueKind } from './json-key-scan.js';

export type CanonicalFormat = 'jsonl' | 'csv';

/**
 * DuckDB's own default, stated: a longer row fails the bulk read (the parser
 * then names it). The caller sends files with longer lines to the parser
 * first, as DuckDB silently skips an over-long *last* row.
 */
const MAX_LINE_BYTES = 2 * 1024 * 1024;

const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** Integers above this are not exact in a JS number; the parser refuses them. */
const MAX_SAFE = '9007199254740991';

/** Counts: the token fields and the richer-usage parts. */
const COUNT_FIELDS: readonly string[] = [...TOKEN_FIELDS, ...RICH_COUNT_FIELDS];

/** Fields whose values may be raw secrets and are fingerprinted (src/ingest/fields.ts STRING_FIELDS). */
const PLAIN_FIELDS = new Set(['time', 'status', 'reported_cost', 'units', 'adjusted_count', ...COUNT_FIELDS]);

/**
 * How a JSON lines file's fields are read: typed, the way the parser takes
 * them, with the key scan (json-key-scan.ts) refusing a record whose value
 * has a JSON type the typed read would convert silently (a number for a
 * text, a string or a fraction for a count). `units`, an object, is read as
 * JSON and left to the parser.
 */
export const JSON_KINDS: Readonly<Record<string, ValueKind>> = Object.fromEntries(
  ALL_EVENT_FIELDS.filter((f) => f !== 'units').map((f) => [f, jsonKind(f)]),
);

function jsonKind(f: string): ValueKind {
  if (COUNT_FIELDS.includes(f)) return 'count';
  return f === 'reported_cost' || f === 'adjusted_count' ? 'decimal' : 'text';
}

function jsonReadType(f: string): string {
  if (f === 'units') return 'JSON';
  return JSON_KINDS[f] === 'count' ? 'BIGINT' : 'VARCHAR';
}

/** A richer-usage part may not exceed its total (src/ingest/canonical.ts). */
const PARTS: ReadonlyArray<[string, string]> = [
  ['cache_write_1h_tokens', 'cache_write_tokens'],
  ['input_audio_tokens', 'input_tokens'],
  ['output_audio_tokens', 'output_tokens'],
];
const REQUIRED: ReadonlySet<string> = new Set(['id', 'source', 'operation']);

/**
 * The secret rule of core/secrets.ts, for the values it can decide in SQL:
 * a value that is wholly one provider or cloud key (blanks around it aside)
 * becomes the key's fingerprint. A row with any other secret in a value is
 * not taken here (`secretsOk`), and the parser redacts it. `secretRow`
 * says whether the row's text may hold one at all, so that the regular
 * expressions below run on those rows only.
 */
function fingerprintSql(v: string): string {
  return `CASE WHEN NOT secret_row THEN ${v}
    WHEN regexp_full_match(${v}, ${lit(WHOLE_KEY)}) THEN sha256(regexp_extract(${v}, ${lit(WHOLE_KEY)}, 1))
    WHEN ${bearerSql(v)} THEN sha256(regexp_extract(${v}, ${lit(WHOLE_BEARER_SQL)}, 1))
    ELSE ${v} END`;
}

const WHOLE_KEY = `[ \\t\\r\\n]*(${KEY_SHAPES_SQL.join('|')})[ \\t\\r\\n]*`;

/** Wholly `Bearer <token>`, unless the token is a fingerprint already (core/secrets.ts). */
function bearerSql(v: string): string {
  return `(regexp_full_match(${v}, ${lit(WHOLE_BEARER_SQL)}) AND NOT regexp_full_match(regexp_extract(${v}, ${lit(WHOLE_BEARER_SQL)}, 1), '[0-9a-f]{64}'))`;
}

/** A value the SQL can redact exactly: no secret in it, or wholly one key or bearer token. */
function secretOkSql(v: string): string {
  return `(${v} IS NULL OR NOT regexp_matches(${v}, ${lit(ANY_SECRET_SQL)}) OR regexp_full_match(${v}, ${lit(WHOLE_KEY)}) OR ${bearerSql(v)})`;
}

/**
 * Whether any of the row's text fields may hold a secret, on the fields
 * joined: first whether they hold a clue of one (`SECRET_CLUES`, a cheap
 * scan each), then the regular expression on the rows that do (a CASE: an
 * AND in a select list evaluates both sides on every row).
 */
function secretRowSql(fields: readonly string[]): string {
  const joined = `concat_ws(chr(10), ${fields.map((f) => `v_${f}`).join(', ')})`;
  const clue = SECRET_CLUES.map((c) => `contains(${joined}, ${lit(c)})`).join(' OR ');
  return `CASE WHEN ${clue} THEN regexp_matches(${joined}, ${lit(ANY_SECRET_SQL)}) ELSE false END`;
}

/** A 64-hex key hash is kept lowercased (SPEC §3.1, core/selectors.ts normalizeKeyHash). */
function keyHashSql(v: string): string {
  return `CASE WHEN length(${v}) = 64 AND regexp_full_match(${v}, '[0-9a-fA-F]{64}') THEN lower(${v}) ELSE ${v} END`;
}

/**
 * Per field: the cleaned value (`v_<field>`, as the parser would produce it
 * before fingerprinting) and whether the raw value is acceptable
 * (`ok_<field>`). JSON values arrive typed (`jsonReadType`, their JSON
 * types checked by the key scan); CSV cells arrive as text, an empty cell as
 * NULL.
 */
function fieldSql(
  f: keyof UsageEvent,
  format: CanonicalFormat,
  present: boolean,
  now: number,
): [string, string] {
  if (!present) {
    if (REQUIRED.has(f) || f === 'time') return ['NULL', 'false'];
    if (f === 'requests') return ['1::BIGINT', 'true'];
    if (COUNT_FIELDS.includes(f)) return ['0::BIGINT', 'true'];
    if (f === 'status') return [`'ok'`, 'true'];
    return ['NULL::VARCHAR', 'true'];
  }
  const json = format === 'jsonl';
  const text = `nullif(${f}, '')`;
  // Units (a JSON object) are left to the parser: a file that has any is not taken here.
  if (f === 'units')
    return ['NULL::VARCHAR', json ? `(${f} IS NULL OR ${f}::VARCHAR = 'null')` : `${text} IS NULL`];
  if (COUNT_FIELDS.includes(f)) return countSql(f, json);
  if (f === 'time') {
    const tz = `TRY_CAST(${text} AS TIMESTAMPTZ)`;
    // Years from 1970 and offsets within ±23:59, as the parser (src/ingest/fields.ts parseTime) accepts.
    const shape = `regexp_full_match(${text}, '(19[7-9][0-9]|[2-9][0-9]{3})-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,3})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])')`;
    const ok = `(coalesce(${shape}, false) AND epoch_ms(${tz}) <= ${Math.trunc(now) + MAX_FUTURE_MS})`;
    return [`epoch_ms(epoch_ms(${tz}))`, ok];
  }
  if (f === 'status') return [`coalesce(${text}, 'ok')`, `coalesce(${text}, 'ok') IN ('ok', 'error')`];
  if (f === 'adjusted_count') return adjustedCountSql(text);
  if (f === 'reported_cost') {
    const d = decimalSql(text);
    return [d.value, d.ok];
  }
  return [text, REQUIRED.has(f) ? `${text} IS NOT NULL` : 'true'];
}

/** A count: a JSON number the key scan found to be bare digits, or CSV digits; at most MAX_SAFE. */
function countSql(f: string, json: boolean): [string, string] {
  const absent = f === 'requests' ? '1' : '0';
  if (json) return [`coalesce(${f}, ${absent})`, `(${f} IS NULL OR ${f} <= ${MAX_SAFE})`];
  const text = `nullif(${f}, '')`;
  return [
    `coalesce(TRY_CAST(${text} AS BIGINT), ${absent})`,
    `(${text} IS NULL OR (regexp_full_match(${text}, '[0-9]{1,16}') AND TRY_CAST(${text} AS BIGINT) <= ${MAX_SAFE}))`,
  ];
}

/**
 * A decimal text field (`reported_cost`, `adjusted_count`) as the parser
 * normalises it: no leading zeros in the whole part, no trailing zeros in
 * the fraction. At most 15 whole digits (src/ingest/limits.ts
 * MAX_AMOUNT_DIGITS); longer text is left to the parser. `t` is the value as
 * text: a JSON string, or a JSON number that the key scan found to be bare
 * digits (the parser's text for a fraction is JavaScript's shortest form,
 * so a fraction given as a number is left to the parser).
 */
function decimalSql(t: string): { whole: string; value: string; ok: string } {
  const whole = `coalesce(nullif(ltrim(split_part(${t}, '.', 1), '0'), ''), '0')`;
  const ok = `(${t} IS NULL OR regexp_full_match(${t}, '[0-9]{1,15}(\\.[0-9]{1,40})?'))`;
  // Zeros off both ends (of the fraction only when there is one), then a lone or leading point goes.
  const trimmed = `CASE WHEN contains(${t}, '.') THEN rtrim(rtrim(ltrim(${t}, '0'), '0'), '.') ELSE ltrim(${t}, '0') END`;
  const value = `CASE WHEN ${trimmed} = '' OR starts_with(${trimmed}, '.') THEN '0' || ${trimmed} ELSE ${trimmed} END`;
  return { whole, value, ok };
}

/**
 * `adjusted_count` (SPEC §11) as core/sampling.ts adjustedCountOf stores it:
 * a decimal ≥ 1 without leading or trailing zeros, NULL for exactly 1.
 */
function adjustedCountSql(t: string): [string, string] {
  const { whole, value, ok } = decimalSql(t);
  // An empty value means absent, as in the parser.
  return [
    `CASE WHEN ${t} IS NULL OR ${t} = 'null' OR ${value} = '1' THEN NULL ELSE ${value} END`,
    `(${t} IS NULL OR ${t} = 'null' OR (${ok} AND ${whole} <> '0'))`,
  ];
}

/**
 * The SELECT that yields the file's events in file order, fingerprinted, with
 * the store's column types; it raises an error at the first invalid record.
 * `columns` are the fields the file has (CSV: its header; JSON: all).
 */
export function canonicalSelectSql(
  path: string,
  format: CanonicalFormat,
  columns: readonly string[],
  now: number,
): string {
  const present = new Set(columns);
  const parts = ALL_EVENT_FIELDS.map((f) => fieldSql(f, format, present.has(f), now));
  const inner = ALL_EVENT_FIELDS.map((f, i) => `${parts[i]?.[0]} AS v_${f}`).join(',\n    ');
  const ok = parts.map((p) => p[1]).join(' AND ');
  const partsOk = PARTS.map(([p, of]) => `v_${p} <= v_${of}`).join(' AND ');
  const text = ALL_EVENT_FIELDS.filter((f) => !PLAIN_FIELDS.has(f));
  const outer = ALL_EVENT_FIELDS.map((f) => {
    if (PLAIN_FIELDS.has(f)) return `v_${f} AS ${f}`;
    const redacted = fingerprintSql(`v_${f}`);
    return `${f === 'api_key' ? keyHashSql(redacted) : redacted} AS ${f}`;
  }).join(',\n  ');
  const secretsOk = text.map((f) => secretOkSql(`v_${f}`)).join(' AND ');
  const reader =
    format === 'jsonl'
      ? `read_json(${lit(path)}, format = 'newline_delimited', columns = {${ALL_EVENT_FIELDS.map((f) => `${f}: '${jsonReadType(f)}'`).join(', ')}})`
      : `read_csv(${lit(path)}, header = true, max_line_size = ${MAX_LINE_BYTES}, auto_detect = false, delim = ',', quote = '"', escape = '"', strict_mode = true, null_padding = false, columns = {${columns.map((c) => `${lit(c)}: 'VARCHAR'`).join(', ')}})`;
  return `
SELECT
  ${outer}
FROM (
  SELECT *, ok AND ${partsOk} AND CASE WHEN secret_row THEN ${secretsOk} ELSE true END AS ok_all FROM (
  SELECT *, ${secretRowSql(text)} AS secret_row FROM (
    SELECT
      ${inner},
      ${ok} AS ok
    FROM ${reader}
  )
  )
)
WHERE CASE WHEN ok_all THEN true ELSE error('invalid canonical event') END`;
}

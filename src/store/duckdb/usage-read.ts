/**
 * Reading the usage groups (usage-sql.ts) into JavaScript without one object
 * per value: a month can have millions of groups, and converting each row's
 * thirty columns to a JavaScript object cost more than the query itself
 * (about 1 µs per value). The groups are kept in a temporary table; their
 * text columns are read once per distinct value combination (dictionaries),
 * and the rows as dictionary numbers and counts from the chunks' typed arrays.
 */
import type { DuckDBDataChunk } from '@duckdb/node-api';
import { LimitError, StoreError } from '../../core/errors.js';
import { addUnits, RICH_COUNT_FIELDS, type Units } from '../../core/event.js';
import {
  type DecisionKey,
  type Rollup,
  type SelectorTuple,
  tupleKey,
  type UsageGroup,
  type UsageQuery,
} from '../../core/usage.js';
import { type SampleFields, sampleOf } from '../rows.js';
import { CONTEXT_FIELDS } from './context-census.js';
import { hashKeyMatchSql } from './hash-key.js';
import { doubleColumn, integerColumn, textColumn } from './text-bytes.js';
import { TUPLE_FIELDS, type TupleCensus } from './tuple-census.js';
import { decisionKeysSql } from './usage-sql.js';

type Row = Record<string, unknown>;

/** A connection to read from: rows as objects (small results) or chunk by chunk. */
export interface ChunkDb {
  rows(sql: string): Promise<Row[]>;
  run(sql: string): Promise<number>;
  chunks(sql: string, each: (chunk: DuckDBDataChunk) => void): Promise<void>;
}

const REST = ['tenant', ...CONTEXT_FIELDS, 'adjusted_count', 'from_report', 'wrapper'] as const;
const COUNTS = [
  'time',
  'day',
  'events',
  'requests',
  'tier_units',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'errors',
  ...RICH_COUNT_FIELDS,
] as const;
type Count = (typeof COUNTS)[number];
const AT = Object.fromEntries(COUNTS.map((c, i) => [c, i])) as Record<Count, number>;

/** Counts beyond 2^53 − 1 would not be exact as JavaScript numbers. */
const MAX_EXACT = '9007199254740991';

/** A table numbering the distinct values of `columns` among the groups, in the order of those values. */
const dictSql = (name: string, columns: readonly string[]) =>
  `CREATE OR REPLACE TEMP TABLE ${name} AS
   SELECT (row_number() OVER (ORDER BY ${columns.join(', ')}) - 1)::INTEGER AS id, *
   FROM (SELECT DISTINCT ${columns.join(', ')} FROM tally_groups)`;
const joinOn = (alias: string, columns: readonly string[]) =>
  columns.map((c) => `${alias}.${c} IS NOT DISTINCT FROM g.${c}`).join(' AND ');

/**
 * A table numbering the selector tuples of the groups' key `name`
 * (usage-sql.ts `tupleKeySql`), each with its values from the census
 * (`found` NULL where the census has none), in the order of `by`'s columns
 * then of the values: the order of the texts the groups were once keyed by.
 */
function tupleDictSql(table: string, name: 'own' | 'payer', by: readonly string[], prefix: string): string {
  const key = [...by, `${name}_h`, `${name}_x`];
  const values = TUPLE_FIELDS.map((f) => `c.${f} AS ${prefix}${f}`).join(', ');
  return `CREATE OR REPLACE TEMP TABLE ${table} AS
   SELECT (row_number() OVER (ORDER BY ${[...by.map((c) => `g.${c}`), ...TUPLE_FIELDS.map((f) => `c.${f}`)].join(', ')}) - 1)::INTEGER AS id,
          ${key.map((c) => `g.${c}`).join(', ')}, ${values}, c.h AS found
   FROM (SELECT DISTINCT ${key.join(', ')} FROM tally_groups) g
   LEFT JOIN tally_census c ON ${hashKeyMatchSql(TUPLE_FIELDS, 'c', 'g', name)}`;
}

/**
 * Whether each tuple key of the groups found exactly one tuple of the census (a paying one
 * only where a payer was found): a census taken in another transaction than the groups could
 * miss a tuple or a shared hash, and a group would then be lost or counted twice.
 */
const censusMissSql = `SELECT
  (SELECT count(*) FROM tally_d_own WHERE found IS NULL)
  + (SELECT count(*) FROM tally_d_payer WHERE found IS NULL AND rollup = 'invoker')
  + (SELECT count(*) - count(DISTINCT (own_h, own_x)) FROM tally_d_own)
  + (SELECT count(*) - count(DISTINCT (rollup, payer_h, payer_x)) FROM tally_d_payer) AS n`;

/**
 * Reads the groups of `groupsSql` (a SELECT with UsageGroup's columns), handing each to `each`;
 * `units`: whether they carry a sampling unit (`groupsCarryUnits`), read as a column of its own,
 * not through the rest's dictionary: a unit is most often one event, and a dictionary row a unit
 * would hold millions of rows in JavaScript.
 */
export async function readGroups(
  db: ChunkDb,
  groupsSql: string,
  each: (g: UsageGroup) => void,
  opts: { byDay?: boolean; units?: boolean } = {},
): Promise<void> {
  const { byDay = false, units = false } = opts;
  await db.run(`CREATE OR REPLACE TEMP TABLE tally_groups AS ${groupsSql}`);
  const [big] = await db.rows(
    `SELECT count(*) AS n FROM tally_groups WHERE ${COUNTS.map((c) => `${c} > ${MAX_EXACT}`).join(' OR ')}`,
  );
  if (Number(big?.n ?? 0) > 0)
    throw new LimitError(
      'a count summed by the store exceeds 2^53 − 1 and cannot be exact; ask for a shorter window',
    );
  await db.run(tupleDictSql('tally_d_own', 'own', [], ''));
  await db.run(tupleDictSql('tally_d_payer', 'payer', ['rollup'], 'p_'));
  await db.run(dictSql('tally_d_rest', REST));
  const [miss] = await db.rows(censusMissSql);
  if (Number(miss?.n ?? 0) > 0)
    throw new StoreError(
      'the selector census does not match the usage groups; read them again in one snapshot',
    );
  const owns = byId(await db.rows('SELECT * FROM tally_d_own'), ownOf);
  const payers = byId(await db.rows('SELECT * FROM tally_d_payer'), payerOf);
  const rests = byId(await db.rows('SELECT * FROM tally_d_rest'), restOf);
  // In the order of their selectors, then of the rest of the key: the groups of one decision come
  // together, so attributing them finds its decisions and lines in the CPU's caches (a month's
  // groups in the hash order took 1.5–2 s more to attribute than the sort costs). Groups by day
  // come day by day (UsageQuery.byDay), so that a day's FOCUS rows can be written once it is summed.
  await db.chunks(
    `SELECT o.id AS own, p.id AS payer, r.id AS rest, ${COUNTS.map(countSql).join(', ')}${units ? `, ${UNIT_TEXT}` : ''}
     FROM tally_groups g
     JOIN tally_d_own o ON o.own_h = g.own_h AND ${joinOn('o', ['own_x'])}
     JOIN tally_d_payer p ON p.rollup = g.rollup AND p.payer_h = g.payer_h AND ${joinOn('p', ['payer_x'])}
     JOIN tally_d_rest r ON ${joinOn('r', REST)}
     ORDER BY ${byDay ? 'g.day, ' : ''}o.id, r.id`,
    (chunk) => {
      const [own, payer, rest] = [0, 1, 2].map((i) => integerColumn(chunk, i)) as [
        Int32Array,
        Int32Array,
        Int32Array,
      ];
      const counts = COUNTS.map((_, i) => doubleColumn(chunk, 3 + i));
      const unitOf = units ? unitColumn(chunk, 3 + COUNTS.length) : null;
      const rows = chunk.rowCount;
      for (let row = 0; row < rows; row++) {
        const g = groupOf(
          owns[own[row] as number] as SelectorTuple,
          payers[payer[row] as number] as Payer,
          rests[rest[row] as number] as Rest,
          counts,
          row,
        );
        const unit = unitOf?.[row];
        if (unit != null) g.sample_unit = unit;
        each(g);
      }
    },
  );
}

/**
 * The own selector tuples of the window's decision keys that `wanted`
 * accepts (core/usage.ts `UsageQuery.wanted`): the groups read in full are
 * those of these tuples' events.
 */
export async function wantedOwners(
  db: ChunkDb,
  q: UsageQuery,
  census: TupleCensus,
  wanted: (key: DecisionKey) => boolean,
): Promise<SelectorTuple[]> {
  const owners = new Map<string, SelectorTuple>();
  await readGroups(db, decisionKeysSql(q, census), (key) => {
    const k = tupleKey(key.own);
    if (!owners.has(k) && wanted(key)) owners.set(k, key.own);
  });
  return [...owners.values()];
}

/** A group's unit as a text without NULLs: '' for none, else the unit after a '+'. */
const UNIT_TEXT = `CASE WHEN g.sample_unit IS NULL THEN '' ELSE '+' || g.sample_unit END AS sample_unit`;

/** The sampling units of a chunk's rows (null for a group without one), from `UNIT_TEXT`. */
function unitColumn(chunk: DuckDBDataChunk, column: number): (string | null)[] {
  return textColumn(chunk, column).map((t) => (t === '' ? null : t.slice(1)));
}

/** A count as a DOUBLE without NULLs (the chunk's doubles are read as they lie): 0 for none, the day NaN. */
const countSql = (c: Count) => `coalesce(g.${c}::DOUBLE, ${c === 'day' ? "'NaN'::DOUBLE" : '0'}) AS ${c}`;

function byId<T>(rows: Row[], make: (r: Row) => T): T[] {
  const out: T[] = [];
  for (const r of rows) out[Number(r.id)] = make(r);
  return out;
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function ownOf(r: Row): SelectorTuple {
  return { api_key: str(r.api_key), service: str(r.service), agent: str(r.agent), project: str(r.project) };
}

interface Payer {
  rollup: Rollup;
  payer: SelectorTuple | null;
}

function payerOf(r: Row): Payer {
  const invoker = r.rollup === 'invoker';
  return {
    rollup: r.rollup as Rollup,
    payer: invoker
      ? {
          api_key: str(r.p_api_key),
          service: str(r.p_service),
          agent: str(r.p_agent),
          project: str(r.p_project),
        }
      : null,
  };
}

interface Rest {
  tenant: string | null;
  environment: string | null;
  provider: string | null;
  model: string | null;
  operation: string;
  tool: string | null;
  data_source: string | null;
  units: Units | null;
  sample: SampleFields;
  wrapper: boolean;
}

function restOf(r: Row): Rest {
  return {
    tenant: str(r.tenant),
    environment: str(r.environment),
    provider: str(r.provider),
    model: str(r.model),
    operation: String(r.operation),
    tool: str(r.tool),
    data_source: str(r.data_source),
    units: typeof r.units === 'string' ? (JSON.parse(r.units) as Units) : null,
    sample: sampleOf(r.adjusted_count, null, r.from_report),
    wrapper: r.wrapper === true,
  };
}

function groupOf(
  own: SelectorTuple,
  p: Payer,
  r: Rest,
  counts: readonly Float64Array[],
  row: number,
): UsageGroup {
  const n = (c: Count) => (counts[AT[c]] as Float64Array)[row] as number;
  const day = n('day');
  const g: UsageGroup = {
    own,
    payer: p.payer,
    rollup: p.rollup,
    tenant: r.tenant,
    environment: r.environment,
    provider: r.provider,
    model: r.model,
    operation: r.operation,
    tool: r.tool,
    data_source: r.data_source,
    project: own.project,
    time: n('time'),
    day: Number.isNaN(day) ? null : day,
    events: n('events'),
    requests: n('requests'),
    tier_units: n('tier_units'),
    input_tokens: n('input_tokens'),
    output_tokens: n('output_tokens'),
    cache_read_tokens: n('cache_read_tokens'),
    cache_write_tokens: n('cache_write_tokens'),
    reasoning_tokens: n('reasoning_tokens'),
    errors: n('errors'),
  };
  if (r.sample.adjusted_count !== undefined) g.adjusted_count = r.sample.adjusted_count;
  if (r.sample.from_report) g.from_report = true;
  if (r.wrapper) g.wrapper = true;
  for (const f of RICH_COUNT_FIELDS) {
    const v = n(f);
    if (v > 0) g[f] = v;
  }
  if (r.units) {
    const units: Record<string, number> = {};
    addUnits(units, r.units, g.events);
    g.units = units;
  }
  return g;
}

/**
 * The aggregates behind the signal rules (core/signals/facts.ts). A narrow
 * pass reads the history's (provider, model) pairs so that core can price
 * them; one scan sums the events per key (selector tuple, provider, model,
 * client address, claimed environment: a month has few), which names the
 * tuples for core to identify; another sums them per identity and hour.
 * The hourly series with its baselines is a window over the hourly sums,
 * the all-time profile of models, networks and claims a rollup of the keys.
 * No table per key and hour: a month has nearly one per event, and the
 * per-event work, not the groups, is what costs (docs/decisions.md).
 * A query scoped by selectors (replay's) copies the events they match once
 * and takes its passes over that copy.
 * Another narrow scan samples the evidence of the statement's findings.
 *
 * Hours are priced with whole pico-units per token (exact for any price with
 * up to six decimals per million tokens) and the price book's base rates:
 * close enough to judge a threshold, never used for a statement amount.
 */
import type {
  EvidenceFilter,
  EvidenceSample,
  RateRow,
  SignalFacts,
  SignalQuery,
} from '../../core/signals/facts.js';
import type { SelectorTuple } from '../../core/usage.js';
import { type Row, sqlString, str, tupleOf } from '../rows.js';
import { fieldsHashSql, sharedHashesSql } from './hash-key.js';
import { matchSql } from './replay-sql.js';
import { eventsWithWrappers, jsonRowsSql, ts, wrapperSetupSql } from './usage-sql.js';

export const HOURLY = 'tally_signal_hours';
export const DENSE = 'tally_signal_series';
export const PROFILE = 'tally_signal_profile';
export const KEYS = 'tally_signal_keys';
export const NAMES = 'tally_signal_names';
export const SCOPED = 'tally_signal_events';
/** A scoped query's first uses of each key before the history's start. */
export const OLDER = 'tally_signal_older';

const HOUR_MS = 3_600_000;
const int = (n: bigint | number) => `${BigInt(n)}::BIGINT`;
/** Money per million tokens → pico-units per token: exact for prices with up to six decimals per million. */
const perToken = (m: bigint) => `${m / 1_000_000n}::BIGINT`;

/** The identity of each selector tuple (one JSON text: usage-sql.ts `jsonRowsSql`). */
function identityMap(identities: ReturnType<SignalQuery['identify']>): string {
  if (identities.length === 0) {
    return `SELECT NULL::VARCHAR AS api_key, NULL::VARCHAR AS service, NULL::VARCHAR AS agent, NULL::VARCHAR AS project, NULL::VARCHAR AS ident WHERE false`;
  }
  const rows = identities.map(({ tuple: t, identity }) => [
    t.api_key,
    t.service,
    t.agent,
    t.project,
    identity,
  ]);
  return `SELECT r[1] AS api_key, r[2] AS service, r[3] AS agent, r[4] AS project, r[5] AS ident
  FROM (${jsonRowsSql(rows)})`;
}

function rateTable(rates: RateRow[]): string {
  if (rates.length === 0) {
    return `SELECT NULL::VARCHAR AS provider, NULL::VARCHAR AS model, 0::BIGINT AS rfrom, 0::BIGINT AS runtil, 0::BIGINT AS r_in, 0::BIGINT AS r_out, 0::BIGINT AS r_cr, 0::BIGINT AS r_cw, 0::BIGINT AS r_rs WHERE false`;
  }
  const clamp = (t: number) => Math.max(-1e15, Math.min(1e15, t));
  // In a fixed order: the same rates give the same text (the keys' memo is keyed by it).
  const rows = rates
    .map(
      (r) =>
        `(${sqlString(r.provider)}, ${sqlString(r.model)}, ${Math.trunc(clamp(r.from))}::BIGINT, ${Math.trunc(clamp(r.until))}::BIGINT, ${perToken(r.input)}, ${perToken(r.output)}, ${perToken(r.cacheRead)}, ${perToken(r.cacheWrite)}, ${perToken(r.reasoning)})`,
    )
    .sort();
  return `SELECT provider::VARCHAR AS provider, model::VARCHAR AS model, rfrom, runtil, r_in, r_out, r_cr, r_cw, r_rs FROM (VALUES ${rows.join(', ')}) v(provider, model, rfrom, runtil, r_in, r_out, r_cr, r_cw, r_rs)`;
}

/** Per-call unit price of an event, most specific first (as the price book picks it). */
function unitCase(q: SignalQuery): string {
  if (q.units.length === 0) return '0';
  const whens = q.units.map((u) => {
    const cond = [`operation = ${sqlString(u.operation)}`];
    if (u.tool !== null) cond.push(`tool = ${sqlString(u.tool)}`);
    if (u.dataSource !== null) cond.push(`data_source = ${sqlString(u.dataSource)}`);
    return `WHEN ${cond.join(' AND ')} THEN ${int(u.perCall)}`;
  });
  return `CASE ${whens.join(' ')} ELSE 0::BIGINT END`;
}

/** Equalities on coalesced columns, so that the join is a hash join (NULL selector fields match NULL). */
const eq = (a: string, b: string, col: string) =>
  `coalesce(${a}.${col}, chr(30)) = coalesce(${b}.${col}, chr(30))`;
/** `eq` on each of `columns`. */
const eqAll = (columns: readonly string[], a: string, b: string) =>
  columns.map((c) => eq(a, b, c)).join(' AND ');
const TUPLE_JOIN = eqAll(['api_key', 'service', 'agent', 'project'], 'm', 'r');
const RATE_JOIN = (time: string) =>
  `${eq('rt', 'r', 'provider')} AND ${eq('rt', 'r', 'model')} AND ${time} >= rt.rfrom AND ${time} < rt.runtil`;

const aggList = (q: SignalQuery) => q.aggregateOperations.map((o) => sqlString(o)).join(', ') || "''";
/** Whether an event's usage is an aggregate (core/ai-work.ts `isAggregate`): by its operation, or a wrapper. */
const aggregate = (q: SignalQuery) => `(operation IN (${aggList(q)}) OR wrapper)`;

const historyHour = (q: SignalQuery) => Math.floor(q.historyStart / HOUR_MS) * HOUR_MS;
const windowHour = (q: SignalQuery) => Math.floor(q.start / HOUR_MS) * HOUR_MS;
/**
 * The events the query reads: from the history's start to the window's end;
 * when it names selectors, those they match, copied once by `scopedSql`.
 * `wrappers`: flagged (usage-sql.ts). Older events count only by when each
 * key was first used (`olderFirsts`).
 */
const readEvents = (q: SignalQuery, wrappers = false) =>
  eventsWithWrappers(
    `time >= ${ts(historyHour(q))} AND time < ${ts(q.end)}`,
    wrappers,
    q.match ? SCOPED : 'events',
  );

/**
 * Each key's first use before the history's start, as one row at that time:
 * all that the keys read of older events (the all-time profile's first
 * times). A store that holds months of events before the window is then read
 * whole only for these columns.
 */
const olderFirsts = (q: SignalQuery) => (q.match ? `SELECT * FROM ${OLDER}` : firstsBefore(q, 'true'));

/** Each key's first time among the events before the history's start that `where` keeps. */
const firstsBefore = (q: SignalQuery, where: string) =>
  `SELECT ${KEY_COLUMNS.join(', ')}, min(time) AS time FROM events
WHERE time < ${ts(historyHour(q))} AND ${where} GROUP BY ALL`;

/** What the profile is keyed by (with the identity for the tuple). */
const KEY_COLUMNS = [
  'api_key',
  'service',
  'agent',
  'project',
  'provider',
  'model',
  'client_address',
  'environment',
] as const;
const keyHash = (alias: string) => `hash(${KEY_COLUMNS.map((c) => `${alias}.${c}`).join(', ')})`;
/** A selector tuple with a client address: what the names map to an identity and an address bit. */
const NAME_COLUMNS = ['api_key', 'service', 'agent', 'project', 'client_address'] as const;

/** The columns of the events that the keys, the sums and the wrappers read. */
const FACT_COLUMNS = [
  ...KEY_COLUMNS,
  'time',
  'id',
  'operation',
  'tool',
  'data_source',
  'status',
  'error_type',
  'requests',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'trace_id',
  'span_id',
] as const;

/**
 * The events a scoped query reads (those its selectors match, before the
 * window end), copied once: a selector test over a month reads a column of
 * every event, and the pairs, the wrappers and the sums would each pay it.
 */
export const scopedSql = (q: SignalQuery, match: NonNullable<SignalQuery['match']>) => `
CREATE OR REPLACE TEMP TABLE ${SCOPED} AS
SELECT ${FACT_COLUMNS.join(', ')} FROM events
WHERE time >= ${ts(historyHour(q))} AND time < ${ts(q.end)} AND ${matchSql(match)};
CREATE OR REPLACE TEMP TABLE ${OLDER} AS ${firstsBefore(q, matchSql(match))}`;

/** The (provider, model) pairs of the history: all that the rates are asked for. */
export const pairsSql = (q: SignalQuery) =>
  `SELECT DISTINCT provider, model FROM (${readEvents(q)}) WHERE time >= ${ts(historyHour(q))}`;

/** An event's cost at the base rates `rt` of its hour (its unit price alone without them). */
function eventCost(q: SignalQuery): string {
  const agg = aggregate(q);
  const t = (expr: string) => `coalesce(CASE WHEN ${agg} THEN 0 ELSE ${expr} END, 0)`;
  const tokens = [
    `${t('greatest(0, input_tokens - cache_read_tokens - cache_write_tokens)')} * rt.r_in`,
    `${t('cache_read_tokens')} * rt.r_cr`,
    `${t('cache_write_tokens')} * rt.r_cw`,
    `${t('greatest(0, output_tokens - reasoning_tokens)')} * rt.r_out`,
    `${t('reasoning_tokens')} * rt.r_rs`,
  ];
  return `coalesce((${unitCase(q)}) * requests, 0) + coalesce(${tokens.join(' + ')}, 0)`;
}

/** The events' summed cost (a price is linear in the counts, so it is the sum of the events' prices). */
const costSum = (q: SignalQuery, filter = '') =>
  `coalesce(sum((${eventCost(q)})::HUGEINT) ${filter}, 0)::HUGEINT`;

/** The events read with their hour (`events`: read as `readEvents` reads them), priced at the base rates `rt` of their hour. */
const pricedEvents = (
  q: SignalQuery,
  wrappers: boolean,
  where = 'true',
  events = readEvents(q, wrappers),
) => `
FROM (SELECT *, epoch_ms(date_trunc('hour', time)) AS h FROM (${events}) WHERE ${where}) r
LEFT JOIN rates rt ON ${RATE_JOIN('r.h')}`;

/**
 * The earliest events of a key in the window kept to find the first event
 * of each of its earliest three hours (the profile's evidence): enough
 * unless the key's first K events fall in fewer than three hours, which
 * `refirstsSql` then takes from the key's events by hour.
 */
const FIRSTS = 8;

/**
 * The all-time sums per key (selector tuple, provider, model, client
 * address, claimed environment), straight from the events: its first time
 * ever and what it did in the window. A month has few keys (50k of 10M
 * events), so this pass is cheap beside the hourly one, and it is where
 * the selector tuples and the client addresses are read from.
 */
export function keysSql(q: SignalQuery, wrappers: boolean, rates: RateRow[]): string {
  const w = `FILTER (WHERE time >= ${ts(windowHour(q))})`;
  // The older first uses are rows before the window: every sum but the first time filters them out.
  const events = `SELECT * FROM (${readEvents(q, wrappers)}) UNION ALL BY NAME ${olderFirsts(q)}`;
  return `
CREATE OR REPLACE TEMP TABLE ${KEYS} AS
WITH rates AS (${rateTable(rates)}),
k AS (
  SELECT ${KEY_COLUMNS.map((c) => `r.${c}`).join(', ')}, epoch_ms(min(time)) AS first_t,
         count(*) ${w} AS events, epoch_ms(min(time) ${w}) AS first_w, epoch_ms(max(time) ${w}) AS last_w,
         -- Two lists in time order (the same times, so paired by position): ~1 s of CPU less than one of structs.
         coalesce(min(time, ${FIRSTS}) ${w}, []) AS times, coalesce(min_by(id, time, ${FIRSTS}) ${w}, []) AS eids,
         ${costSum(q, w)} AS cost
  ${pricedEvents(q, wrappers, 'true', events)}
  GROUP BY ALL
),
f AS (
  SELECT * EXCLUDE (times, eids), list_transform(
           list_filter(range(1, len(times) + 1), i -> i = 1 OR date_trunc('hour', times[i]) <> date_trunc('hour', times[i - 1])),
           i -> {t: epoch_ms(times[i]), id: eids[i]}) AS hours
  FROM k
)
SELECT * EXCLUDE (hours), hours[1:3] AS ids,
       len(hours) >= 3 OR events <= ${FIRSTS} AS exact
FROM f`;
}

/**
 * The earliest three hour firsts of the keys whose first events fell in
 * fewer than three hours (a burst as a key starts), from their events by hour.
 */
export function refirstsSql(q: SignalQuery, wrappers: boolean): string {
  const cols = KEY_COLUMNS.map((c) => `r.${c}`).join(', ');
  return `
UPDATE ${KEYS} SET ids = x.ids FROM (
  SELECT ${KEY_COLUMNS.join(', ')}, min_by({t: t, id: id}, (t, id), 3) AS ids
  FROM (
    SELECT ${cols}, epoch_ms(min(r.time)) AS t, min_by(r.id, r.time) AS id
    FROM (${readEvents(q, wrappers)}) r
    -- By the keys' hash: a key sharing one is summed too, by its own columns, and its hour firsts are as exact.
    SEMI JOIN (SELECT ${keyHash('k')} AS hk FROM ${KEYS} k WHERE NOT k.exact) k ON k.hk = ${keyHash('r')}
    WHERE r.time >= ${ts(windowHour(q))}
    GROUP BY ${cols}, date_trunc('hour', r.time)
  ) GROUP BY ALL
) x WHERE ${eqAll(KEY_COLUMNS, KEYS, 'x')}`;
}

/**
 * Each identified selector tuple and client address with its identity and
 * a bit for the address within the identity: an hour's distinct addresses
 * are the bits set in it. An identity with more addresses than a word has
 * bits ("wide") keeps its hours' addresses as a list instead.
 */
export function namesSql(identities: ReturnType<SignalQuery['identify']>): string {
  return `
CREATE OR REPLACE TEMP TABLE ${NAMES} AS
WITH idmap AS (${identityMap(identities)}),
a AS (
  SELECT r.*, m.ident, CASE WHEN r.client_address IS NOT NULL
         THEN dense_rank() OVER (PARTITION BY m.ident ORDER BY r.client_address) - 1 END AS bit
  FROM (SELECT DISTINCT ${NAME_COLUMNS.join(', ')} FROM ${KEYS}) r JOIN idmap m ON ${TUPLE_JOIN}
)
SELECT *, max(bit) OVER (PARTITION BY ident) >= 64 AS wide, ${nameHash('a')} AS nh,
       dense_rank() OVER (ORDER BY ident)::INTEGER AS iid
FROM a`;
}

/** The hash of a name's columns (`NAME_COLUMNS`) in the row `alias`. */
const nameHash = (alias: string) => fieldsHashSql(NAME_COLUMNS, `${alias}.`);

/**
 * Whether two of the keys' names share a hash. The hourly sums join the
 * events to the names by their hash unless they do: every event the sums
 * read is one of the keys' (the keys read every event before the end, the
 * sums those after the history's start), so its hash then finds its own
 * name or none.
 */
export const sharedNameHashSql = `SELECT count(*) AS n FROM (${sharedHashesSql(
  `SELECT ${nameHash('k')} AS h FROM (SELECT DISTINCT ${NAME_COLUMNS.join(', ')} FROM ${KEYS}) k`,
)})`;

/**
 * Hourly sums per identity over [historyStart, end), straight from the
 * events (named first, so that the sums are grouped by identity and hour;
 * `byHash`: an event finds its name by the hash of its name columns, where
 * no two names share one, `sharedNameHashSql`, else by the five columns).
 * Distinct addresses: the bits of a word or, for a wide identity, a list
 * (a list of every event's address took ~40 % more CPU than the bits).
 */
export function hourlySql(q: SignalQuery, wrappers: boolean, rates: RateRow[], byHash: boolean): string {
  const agg = aggregate(q);
  const probe = `status = 'error' AND (error_type IS NULL OR regexp_matches(lower(error_type), ${sqlString(q.probeErrors)}))`;
  return `
CREATE OR REPLACE TEMP TABLE ${HOURLY} AS
WITH rates AS (${rateTable(rates)}),
sums AS (
SELECT n.iid, r.h, count(*) AS events, sum(requests)::BIGINT AS requests,
       -- Failed calls carry no tokens: token shape looks only at calls that used some.
       coalesce(sum(requests) FILTER (WHERE input_tokens > 0 AND NOT ${agg}), 0)::BIGINT AS treq,
       sum(CASE WHEN ${agg} THEN 0 ELSE input_tokens END)::DOUBLE AS tin,
       sum(CASE WHEN ${agg} THEN 0 ELSE output_tokens END)::DOUBLE AS tout,
       ${costSum(q)} AS cost,
       count(*) FILTER (WHERE ${probe}) AS probes,
       (coalesce(bit_count(bit_or(CASE WHEN NOT n.wide THEN 1::UBIGINT << n.bit END)), 0)
         + coalesce(len(list_distinct(list(r.client_address) FILTER (WHERE n.wide))), 0))::BIGINT AS addrs,
       epoch_ms(min(time)) AS first_t, epoch_ms(max(time)) AS last_t, min_by(id, time) AS first_id
${pricedEvents(q, wrappers, `time >= ${ts(historyHour(q))}`)}
JOIN ${NAMES} n ON ${byHash ? `n.nh = ${nameHash('r')}` : eqAll(NAME_COLUMNS, 'n', 'r')}
GROUP BY n.iid, r.h)
-- Grouped by the identity's number (a tenth less than by its text), then named.
SELECT i.ident, s.* EXCLUDE (iid) FROM sums s JOIN (SELECT DISTINCT iid, ident FROM ${NAMES}) i ON i.iid = s.iid`;
}

/**
 * The all-time profile per identity: each (service, provider, model, client
 * address, claimed environment) with its first time ever and what it did in
 * the window, a rollup of the keys (a profile's earliest three hour firsts
 * are the earliest three of its keys' own three).
 */
export function profileSql(): string {
  return `
CREATE OR REPLACE TEMP TABLE ${PROFILE} AS
SELECT n.ident, k.service, k.provider, k.model, k.client_address, k.environment,
       min(k.first_t) AS first_t, sum(k.events)::BIGINT AS events,
       min(k.first_w) AS first_w, max(k.last_w) AS last_w,
       list_sort(flatten(list(k.ids)))[1:3] AS ids, sum(k.cost)::HUGEINT AS cost
FROM ${KEYS} k JOIN ${NAMES} n ON ${eqAll(NAME_COLUMNS, 'n', 'k')}
GROUP BY n.ident, k.service, k.provider, k.model, k.client_address, k.environment`;
}

/**
 * The hourly series made dense (an hour without events is a zero, from the
 * identity's first event or the history start), with the rolling baselines
 * as window functions: one row per identity and hour, one row per day in a
 * partition by hour of day.
 */
export function denseSql(q: SignalQuery): string {
  const startH = Math.floor(q.historyStart / HOUR_MS) * HOUR_MS;
  const endH = Math.ceil(q.end / HOUR_MS) * HOUR_MS;
  const baseH = q.baselineDays * 24;
  const lags: string[] = [];
  for (let k = 1; k <= q.baselineWeeks; k++)
    for (const j of [-1, 0, 1]) lags.push(`lag(cost, ${k * 168 + j}) OVER w`);
  const minReq = Math.max(1, q.prefilter.shapeMinRequests);
  return `
CREATE OR REPLACE TEMP TABLE ${DENSE} AS
WITH firsts AS (SELECT ident, min(first_t) AS t FROM ${PROFILE} GROUP BY ident),
grid AS (
  SELECT f.ident, unnest(range(greatest(${startH}::BIGINT, f.t // ${HOUR_MS} * ${HOUR_MS}), ${endH}::BIGINT, ${HOUR_MS}::BIGINT)) AS h
  FROM firsts f WHERE f.ident IN (
    -- Only identities with an hour that some rule could flag: the rest cannot produce a finding.
    SELECT ident FROM ${HOURLY}
    WHERE h >= ${Math.floor(q.start / HOUR_MS) * HOUR_MS} AND (cost >= ${int(q.prefilter.spikeFloor)}
      OR events >= ${q.prefilter.offHoursMinEvents} OR probes >= ${q.prefilter.errorBurstMin}
      OR addrs >= ${q.prefilter.addressBurstMin} OR treq >= ${minReq}))
),
d AS (
  SELECT g.ident, g.h, coalesce(x.events, 0) AS events, coalesce(x.requests, 0) AS requests, coalesce(x.treq, 0) AS treq,
         coalesce(x.cost, 0)::HUGEINT AS cost, coalesce(x.probes, 0) AS probes, coalesce(x.addrs, 0) AS addrs,
         x.tin, x.tout, x.first_t, x.last_t, x.first_id, (g.h // ${HOUR_MS}) % 24 AS hod
  FROM grid g LEFT JOIN ${HOURLY} x ON x.ident = g.ident AND x.h = g.h
),
w1 AS (
  SELECT *,
         list_filter([${lags.join(', ')}], v -> v IS NOT NULL) AS lags,
         max(cost) OVER (w ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING) AS c5,
         max(events) OVER (w ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING) AS e5,
         sum(events) OVER (w ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS s3,
         max(events) OVER (w ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS m3,
         coalesce(sum(events) OVER (w ROWS BETWEEN ${baseH} PRECEDING AND 1 PRECEDING), 0) AS base_events,
         coalesce(max(probes) OVER (w ROWS BETWEEN ${baseH} PRECEDING AND 1 PRECEDING), 0) AS base_probes,
         coalesce(max(addrs) OVER (w ROWS BETWEEN ${baseH} PRECEDING AND 1 PRECEDING), 0) AS base_addrs,
         CASE WHEN treq >= ${minReq} AND tin > 0 AND tout > 0 THEN ln(tout / tin) END AS lr,
         CASE WHEN treq >= ${minReq} AND tin > 0 THEN ln(tin / treq) END AS ls
  FROM d
  WINDOW w AS (PARTITION BY ident ORDER BY h)
),
days AS (
  -- S14's baseline by day: each day's median and spread of its judged hours, then over the baseline days
  -- the median of those medians and the larger of the typical daily spread and the spread between days.
  SELECT ident, h // 86400000 AS d, median(lr) AS dm_lr, mad(lr) AS dd_lr, count(lr) AS n_lr,
         median(ls) AS dm_ls, mad(ls) AS dd_ls, count(ls) AS n_ls
  FROM w1 GROUP BY ident, d
),
dbase AS (
  SELECT ident, d,
         median(dm_lr) OVER wd AS lr_med, greatest(median(dd_lr) OVER wd, mad(dm_lr) OVER wd) AS lr_mad,
         coalesce(sum(n_lr) OVER wd, 0) AS lr_n,
         median(dm_ls) OVER wd AS ls_med, greatest(median(dd_ls) OVER wd, mad(dm_ls) OVER wd) AS ls_mad,
         coalesce(sum(n_ls) OVER wd, 0) AS ls_n
  FROM days
  WINDOW wd AS (PARTITION BY ident ORDER BY d RANGE BETWEEN ${q.baselineDays} PRECEDING AND 1 PRECEDING)
),
w2 AS (
  SELECT w1.*,
         coalesce(max(c5) OVER month_ago, 0)::HUGEINT AS month_cost,
         coalesce(max(e5) OVER month_ago, 0) AS month_events,
         coalesce(sum(s3) OVER recent_days, 0) AS hod_events,
         coalesce(max(m3) OVER recent_days, 0) AS hod_max,
         b.lr_med, b.lr_mad, b.lr_n, b.ls_med, b.ls_mad, b.ls_n
  FROM w1 LEFT JOIN dbase b ON b.ident = w1.ident AND b.d = w1.h // 86400000
  WINDOW month_ago AS (PARTITION BY w1.ident, hod ORDER BY h ROWS BETWEEN 34 PRECEDING AND 27 PRECEDING),
         recent_days AS (PARTITION BY w1.ident, hod ORDER BY h ROWS BETWEEN ${q.baselineDays} PRECEDING AND 1 PRECEDING)
)
SELECT * EXCLUDE (c5, e5, s3, m3) FROM w2 WHERE h >= ${Math.floor(q.start / HOUR_MS) * HOUR_MS} AND events > 0`;
}

const HOUR_COLUMNS = `ident, h, events, cost, first_t, last_t, first_id`;

export function candidatesSql(
  q: SignalQuery,
): Record<'spikes' | 'offHours' | 'errors' | 'addresses' | 'shapes', string> {
  const p = q.prefilter;
  return {
    spikes: `SELECT ${HOUR_COLUMNS}, lags, month_cost FROM ${DENSE}
      WHERE cost::DOUBLE - coalesce(list_aggregate(lags, 'median'), 0) >= ${Number(p.spikeFloor)} - 1`,
    offHours: `SELECT ${HOUR_COLUMNS}, hod_max, hod_events, base_events, month_events FROM ${DENSE}
      WHERE events >= ${p.offHoursMinEvents} AND events > hod_max`,
    errors: `SELECT ${HOUR_COLUMNS}, probes, base_probes FROM ${DENSE} WHERE probes >= ${p.errorBurstMin}`,
    addresses: `SELECT ${HOUR_COLUMNS}, addrs, base_addrs FROM ${DENSE} WHERE addrs >= ${p.addressBurstMin}`,
    shapes: `SELECT ${HOUR_COLUMNS}, treq AS requests, lr, lr_med, lr_mad, lr_n, ls, ls_med, ls_mad, ls_n FROM ${DENSE}
      WHERE abs(lr - lr_med) >= ${p.shapeMinLogDistance} OR abs(ls - ls_med) >= ${p.shapeMinLogDistance}`,
  };
}

/** The earliest five of the rows' first ids (each row keeps its earliest three, with their times). */
const FIRST_IDS = `list_transform(list_sort(flatten(list(ids)))[1:5], x -> x.id)`;

/** IPv4 /16, IPv6 /48, else the address as given. */
const NETWORK = `CASE
  WHEN regexp_matches(client_address, '^\\d+\\.\\d+\\.\\d+\\.\\d+$') THEN regexp_extract(client_address, '^(\\d+\\.\\d+)\\.', 1) || '.0.0/16'
  WHEN contains(client_address, ':') THEN array_to_string(string_split(lower(client_address), ':')[1:3], ':') || '::/48'
  ELSE client_address END`;

export function profileQueries(
  q: SignalQuery,
): Record<'firstSeen' | 'models' | 'networks' | 'claims', string> {
  return {
    firstSeen: `SELECT ident, min(first_t) AS first_t FROM ${PROFILE} GROUP BY ident`,
    models: `SELECT ident, provider, model, min(first_t) AS first_t, sum(events)::BIGINT AS events,
        min(first_w) AS first_w, max(last_w) AS last_w, ${FIRST_IDS} AS ids, sum(cost)::HUGEINT AS cost
      FROM ${PROFILE} GROUP BY ident, provider, model`,
    networks: `SELECT ident, ${NETWORK} AS network, min(first_t) AS first_t, sum(events)::BIGINT AS events,
        min(first_w) AS first_w, max(last_w) AS last_w, ${FIRST_IDS} AS ids, sum(cost)::HUGEINT AS cost,
        list(DISTINCT client_address ORDER BY client_address) FILTER (WHERE events > 0)[1:5] AS addresses
      FROM ${PROFILE} WHERE client_address IS NOT NULL
      GROUP BY ident, network HAVING min(first_t) >= ${q.start} AND sum(events) > 0`,
    claims: `SELECT ident, environment, service, min(first_t) AS first_t, sum(events)::BIGINT AS events,
        min(first_w) AS first_w, max(last_w) AS last_w, ${FIRST_IDS} AS ids, sum(cost)::HUGEINT AS cost
      FROM ${PROFILE} WHERE events > 0 GROUP BY ident, environment, service`,
  };
}

/** First and last time, count and the earliest ids of the events each filter selects. */
export function evidenceSql(filters: readonly EvidenceFilter[], limit: number): string {
  const rows: string[] = [];
  const tuple = (t: SelectorTuple) =>
    `${sqlString(t.api_key)}, ${sqlString(t.service)}, ${sqlString(t.agent)}, ${sqlString(t.project)}`;
  for (const f of filters) {
    const models = f.models && f.models.length > 0 ? f.models : [null];
    const tenants = f.tenants && f.tenants.length > 0 ? f.tenants : [null];
    for (const t of f.tuples)
      for (const m of models)
        for (const tn of tenants)
          rows.push(
            `(${sqlString(f.key)}, ${tuple(t)}, ${Math.trunc(f.from)}::BIGINT, ${Math.trunc(f.to)}::BIGINT, ${sqlString(m)}, ${sqlString(tn)})`,
          );
  }
  return `
WITH f AS (
  SELECT k::VARCHAR AS k, api_key::VARCHAR AS api_key, service::VARCHAR AS service, agent::VARCHAR AS agent,
         project::VARCHAR AS project, f_from, f_to, f_model::VARCHAR AS f_model, f_tenant::VARCHAR AS f_tenant
  FROM (VALUES ${rows.join(', ')}) v(k, api_key, service, agent, project, f_from, f_to, f_model, f_tenant)
)
SELECT f.k, epoch_ms(min(e.time)) AS first_t, epoch_ms(max(e.time)) AS last_t, count(*)::BIGINT AS events,
       min_by(e.id, e.time, ${Math.max(1, Math.trunc(limit))}) AS ids
FROM events e JOIN f ON ${['api_key', 'service', 'agent', 'project'].map((c) => eq('f', 'e', c)).join(' AND ')}
WHERE e.time >= epoch_ms(f.f_from) AND e.time < epoch_ms(f.f_to)
  AND (f.f_model IS NULL OR e.model = f.f_model) AND (f.f_tenant IS NULL OR e.tenant = f.f_tenant)
GROUP BY f.k`;
}

type Rows = (sql: string) => Promise<Row[]>;

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const opt = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const money = (v: unknown): bigint =>
  typeof v === 'bigint' ? v : v === null || v === undefined ? 0n : BigInt(String(v));
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => x !== null).map(String) : []);

function hourBase(r: Row) {
  return {
    identity: String(r.ident),
    hour: num(r.h),
    events: num(r.events),
    cost: money(r.cost),
    firstSeen: num(r.first_t),
    lastSeen: num(r.last_t),
    eventId: str(r.first_id),
  };
}

function useBase(r: Row) {
  return {
    identity: String(r.ident),
    firstEver: num(r.first_t),
    events: num(r.events),
    cost: money(r.cost),
    firstSeen: opt(r.first_w),
    lastSeen: opt(r.last_w),
    eventIds: strings(r.ids),
  };
}

const pairOf = (r: Row) => ({ provider: str(r.provider), model: str(r.model) });

/**
 * The keys' table kept between reads (walk-memo.ts): the month's keys are
 * seconds of work and a few thousand rows. Without it they are computed
 * every time.
 */
export interface KeysMemo {
  /** Fills `table` when it was kept for `statements`; else the key to keep it under once computed. */
  recall(statements: readonly string[], table: string): Promise<{ key: string | null }>;
  keep(key: string, table: string): Promise<void>;
}

/**
 * The keys' sums (and their tuples named), then the hourly sums and the
 * profile: the tuples and the rates are asked of core first, as the sums
 * need both.
 */
async function sumFacts(q: SignalQuery, rows: Rows, run: (sql: string) => Promise<number>, memo?: KeysMemo) {
  const [w] = await rows('SELECT count(*) AS n FROM tally_wrappers');
  const wrappers = num(w?.n) > 0;
  const rates = q.price((await rows(pairsSql(q))).map(pairOf));
  const keys = [keysSql(q, wrappers, rates), refirstsSql(q, wrappers)] as const;
  // A replay's scoped copy is not kept: its keys are few.
  const kept = memo && !q.match ? await memo.recall(keys, KEYS) : null;
  if (kept === null || kept.key !== null) {
    await run(keys[0]);
    const [inexact] = await rows(`SELECT count(*) AS n FROM ${KEYS} WHERE NOT exact`);
    if (num(inexact?.n) > 0) await run(keys[1]);
    if (kept?.key) await memo?.keep(kept.key, KEYS);
  }
  const tuples = (await rows(`SELECT DISTINCT api_key, service, agent, project FROM ${KEYS}`)).map((r) =>
    tupleOf(r),
  );
  await run(namesSql(q.identify(tuples)));
  const [shared] = await rows(sharedNameHashSql);
  await run(hourlySql(q, wrappers, rates, num(shared?.n) === 0));
  await run(profileSql());
  await run(
    `DROP TABLE ${KEYS}; DROP TABLE ${NAMES}; DROP TABLE IF EXISTS ${SCOPED}; DROP TABLE IF EXISTS ${OLDER}`,
  );
}

export async function readSignalFacts(
  q: SignalQuery,
  rows: Rows,
  run: (sql: string) => Promise<number>,
  memo?: KeysMemo,
): Promise<SignalFacts> {
  try {
    if (q.match) await run(scopedSql(q, q.match));
    for (const sql of wrapperSetupSql(`time < ${ts(q.end)}`, q.match && SCOPED)) await run(sql);
    await sumFacts(q, rows, run, memo);
    await run(denseSql(q));
    await run(`DROP TABLE ${HOURLY}`);
    const c = candidatesSql(q);
    const p = profileQueries(q);
    return {
      firstSeen: (await rows(p.firstSeen)).map((r) => ({ identity: String(r.ident), time: num(r.first_t) })),
      spikes: (await rows(c.spikes)).map((r) => ({
        ...hourBase(r),
        baseline: Array.isArray(r.lags) ? r.lags.map(money) : [],
        monthAgoMax: money(r.month_cost),
      })),
      offHours: (await rows(c.offHours)).map((r) => ({
        ...hourBase(r),
        recentMax: num(r.hod_max),
        hourOfDayEvents: num(r.hod_events),
        baselineEvents: num(r.base_events),
        monthAgoMax: num(r.month_events),
      })),
      errors: (await rows(c.errors)).map((r) => ({
        ...hourBase(r),
        errors: num(r.probes),
        baselineMax: num(r.base_probes),
      })),
      addresses: (await rows(c.addresses)).map((r) => ({
        ...hourBase(r),
        addresses: num(r.addrs),
        baselineMax: num(r.base_addrs),
      })),
      shapes: (await rows(c.shapes)).map((r) => ({
        ...hourBase(r),
        requests: num(r.requests),
        ratio: opt(r.lr),
        ratioMedian: opt(r.lr_med),
        ratioMad: opt(r.lr_mad),
        ratioHours: num(r.lr_n),
        size: opt(r.ls),
        sizeMedian: opt(r.ls_med),
        sizeMad: opt(r.ls_mad),
        sizeHours: num(r.ls_n),
      })),
      models: (await rows(p.models)).map((r) => ({
        ...useBase(r),
        provider: str(r.provider),
        model: str(r.model),
      })),
      networks: (await rows(p.networks)).map((r) => ({
        ...useBase(r),
        network: String(r.network),
        addresses: strings(r.addresses),
      })),
      claims: (await rows(p.claims)).map((r) => ({
        ...useBase(r),
        environment: str(r.environment),
        service: str(r.service),
      })),
    };
  } finally {
    await run(
      `DROP TABLE IF EXISTS ${SCOPED}; DROP TABLE IF EXISTS ${OLDER}; DROP TABLE IF EXISTS ${KEYS}; DROP TABLE IF EXISTS ${NAMES}; DROP TABLE IF EXISTS ${HOURLY}; DROP TABLE IF EXISTS ${PROFILE}; DROP TABLE IF EXISTS ${DENSE}`,
    );
  }
}

export async function readSignalEvidence(
  filters: readonly EvidenceFilter[],
  limit: number,
  rows: Rows,
): Promise<EvidenceSample[]> {
  if (filters.every((f) => f.tuples.length === 0)) return [];
  return (await rows(evidenceSql(filters, limit))).map((r) => ({
    key: String(r.k),
    firstSeen: num(r.first_t),
    lastSeen: num(r.last_t),
    events: num(r.events),
    eventIds: strings(r.ids),
  }));
}

/**
 * Statements (SPEC §5): charges and pool shares summed into lines, totals and
 * the versions of every input. The JSON form is byte-stable: lines are sorted
 * by their key and amounts are exact decimal strings.
 */

import type { PoolShare } from './allocation.js';
import {
  type Amounts,
  addAmounts,
  emptyAmounts,
  type GroupAmounts,
  type LineHead,
  type LineKey,
  lineHead,
} from './attribution.js';
import {
  addCents,
  centsOfLines,
  type LineCents,
  orgPath,
  recentLines,
  tenantPath,
  zeroCents,
} from './cents.js';
import { formatFixed, formatMoney, type Money } from './money.js';
import { interval95, mergeSamples, type SampleUnits } from './sampling.js';

export interface Line extends LineKey, Amounts {
  /** The line's money in whole cents, as every output that shows cents shows it (core/cents.ts). */
  cents: LineCents;
  /** Sampled events in the line (SPEC §11): its amounts and counts are estimates; absent when none. */
  sample?: SampleUnits;
}

export type Level = 'line' | 'team' | 'application' | 'tenant' | 'cost_center';
export const LEVELS: readonly Level[] = ['line', 'team', 'application', 'tenant', 'cost_center'];

export interface StatementInputs {
  config_sha256: string;
  catalog_version: string;
  events: number;
  audit_head: string | null;
}

/** Set when the period was issued and the statement no longer equals the latest issue (SPEC §5.3). */
export interface DiffersFromIssued {
  version: number;
  /** Effective cost now − effective cost as issued, exact. */
  effective_cost_delta: Money;
  /** The issued lines (JSON form), for views scoped to one team; not part of the JSON. */
  issuedLines?: readonly { team: string | null; effective_cost: string }[];
}

export interface Statement {
  period: { start: number; end: number };
  currency: string;
  level: Level;
  lines: Line[];
  totals: Totals;
  inputs: StatementInputs;
  differs_from_issued?: DiffersFromIssued | null;
}

/** The totals in whole cents: each the sum of the lines' cents, the effective total the rounded exact total. */
export interface TotalCents extends LineCents {
  attributed_cost: Money;
  unattributed_cost: Money;
  disputed_cost: Money;
}

export interface Totals {
  effective_cost: Money;
  billed_cost: Money;
  attributed_cost: Money;
  unattributed_cost: Money;
  disputed_cost: Money;
  shared_cost: Money;
  direct_cost: Money;
  cents: TotalCents;
  /** Attributed direct cost ÷ all direct cost, as an exact ratio (null when there is no direct cost). */
  coverage: { attributed: Money; direct: Money };
  events: number;
  unpriced_events: number;
  /** Sampled events in the statement (SPEC §11); absent when none. */
  sample?: SampleUnits;
}

/** The fields that make a line, in the spec's order. */
export const KEY_FIELDS = [
  'cost_center',
  'team',
  'application',
  'tenant',
  'environment',
  'category',
  'status',
  'reason',
  'pool',
] as const satisfies readonly (keyof LineKey)[];

/** Which key fields survive a roll-up to each level; status and reason always do. */
export const LEVEL_FIELDS: Record<Level, readonly (keyof LineKey)[]> = {
  line: KEY_FIELDS,
  cost_center: ['cost_center', 'status', 'reason'],
  team: ['cost_center', 'team', 'status', 'reason'],
  application: ['cost_center', 'team', 'application', 'status', 'reason'],
  tenant: ['tenant', 'status', 'reason'],
};

function keyOf(k: LineKey, fields: readonly (keyof LineKey)[]): string {
  return fields.map((f) => k[f] ?? '').join('\u0000');
}

/** A line key with nothing set, attributed. */
export function blankKey(): LineKey {
  return {
    cost_center: null,
    team: null,
    application: null,
    tenant: null,
    environment: null,
    category: null,
    status: 'attributed',
    reason: null,
    pool: null,
  };
}

/**
 * A blank line with every field, written out as one literal: a line built
 * by spreading objects is a slow dictionary-mode object in V8, which made
 * summing a month's charges into lines about ten times slower.
 */
function emptyLine(): Line {
  return {
    cost_center: null,
    team: null,
    application: null,
    tenant: null,
    environment: null,
    category: null,
    status: 'attributed',
    reason: null,
    pool: null,
    direct_cost: 0n,
    shared_cost: 0n,
    effective_cost: 0n,
    list_cost: 0n,
    billed_cost: 0n,
    events: 0,
    unpriced_events: 0,
    requests: 0,
    input_tokens: 0,
    output_tokens: 0,
    cents: zeroCents(),
  };
}

export function poolShareAsLine(s: PoolShare): Line {
  const { amount, consumer: _c, basisValue: _v, basisTotal: _t, ...key } = s;
  return {
    ...key,
    ...emptyAmounts(),
    cents: zeroCents(),
    shared_cost: amount,
    effective_cost: amount,
    list_cost: amount,
    billed_cost: s.status === 'attributed' ? amount : 0n,
  };
}

/**
 * Sums rows with equal keys (at a level) into lines, in a stable order; the
 * cents of rows that have them are summed too (a roll-up of lines).
 */
export function sumLines(
  rows: Iterable<LineKey & Amounts & { cents?: LineCents; sample?: SampleUnits }>,
  level: Level = 'line',
): Line[] {
  const fields = LEVEL_FIELDS[level];
  const byKey = new Map<string, Line>();
  for (const row of rows) {
    const k = keyOf(row, fields);
    let line = byKey.get(k);
    if (!line) {
      line = emptyLine();
      for (const f of fields) (line as unknown as Record<string, unknown>)[f] = row[f];
      byKey.set(k, line);
    }
    addAmounts(line, row);
    if (row.cents) addCents(line.cents, row.cents);
    if (row.sample) line.sample = mergeSamples(line.sample, row.sample);
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, l]) => l);
}

/**
 * Usage lines summed as they are attributed, so that a month's charges need
 * not be kept: the line of a head, tenant and category, made on first use
 * with that first row's fields (as `sumLines` keeps the first row's). Keys
 * compare as `sumLines` compares them, a null field as an empty one.
 */
export class LineSums {
  /** head text → category → tenant → slot: keys are strings the attributor and the store reuse, so no key is built per row. */
  readonly #byHead = new Map<string, Map<string, Map<string, number>>>();
  readonly #lines: Line[] = [];
  /**
   * Per slot, the cost, list cost and billed cost added by `addGroup` and not
   * yet in the line: whole pico-units in doubles while below 2^53, where
   * adding is exact. A month's millions of additions into bigint fields of
   * long-lived lines made each young-generation collection copy the new
   * bigints, a third of a statement's time.
   */
  #pending = new Float64Array(3 * 1024);

  /** The slot of the line a usage row with this head, tenant and category adds into. */
  slotAt(head: LineHead, tenant: string | null, category: LineKey['category']): number {
    let byCategory = this.#byHead.get(head.text);
    if (byCategory === undefined) {
      byCategory = new Map();
      this.#byHead.set(head.text, byCategory);
    }
    let byTenant = byCategory.get(category ?? '');
    if (byTenant === undefined) {
      byTenant = new Map();
      byCategory.set(category ?? '', byTenant);
    }
    let slot = byTenant.get(tenant ?? '');
    if (slot === undefined) {
      slot = this.#newLine(head, tenant, category);
      byTenant.set(tenant ?? '', slot);
    }
    return slot;
  }

  /** Adds a priced usage group's amounts into the line of `slot`. */
  addGroup(slot: number, a: GroupAmounts): void {
    const line = this.#lines[slot] as Line;
    this.#addMoney(line, slot * 3, a.cost);
    this.#addMoney(line, slot * 3 + 1, a.list);
    this.#addMoney(line, slot * 3 + 2, a.billed);
    line.events += a.events;
    line.unpriced_events += a.unpriced_events;
    line.requests += a.requests;
    line.input_tokens += a.input_tokens;
    line.output_tokens += a.output_tokens;
  }

  /** Adds a whole usage row (a charge), its sample merged; pool rows do not belong here. */
  add(row: LineKey & Amounts & { sample?: SampleUnits }): void {
    const line = this.#lines[this.slotAt(lineHead(row), row.tenant, row.category)] as Line;
    addAmounts(line, row);
    if (row.sample) line.sample = mergeSamples(line.sample, row.sample);
  }

  /** The lines, in no particular order, with every amount added. */
  lines(): Line[] {
    for (let slot = 0; slot < this.#lines.length; slot++)
      for (let k = 0; k < 3; k++) this.#flush(this.#lines[slot] as Line, slot * 3 + k);
    return [...this.#lines];
  }

  #newLine(head: LineHead, tenant: string | null, category: LineKey['category']): number {
    const line = emptyLine();
    line.cost_center = head.cost_center;
    line.team = head.team;
    line.application = head.application;
    line.environment = head.environment;
    line.status = head.status;
    line.reason = head.reason;
    line.tenant = tenant;
    line.category = category;
    this.#lines.push(line);
    if (this.#pending.length < 3 * this.#lines.length) {
      const grown = new Float64Array(this.#pending.length * 2);
      grown.set(this.#pending);
      this.#pending = grown;
    }
    return this.#lines.length - 1;
  }

  /** Adds `m` to a pending sum, exactly: into the line's bigints when the sum would leave the doubles' exact range. */
  #addMoney(line: Line, at: number, m: Money): void {
    if (m <= MAX_EXACT_DOUBLE) {
      const sum = (this.#pending[at] as number) + Number(m);
      if (sum <= Number.MAX_SAFE_INTEGER) {
        this.#pending[at] = sum;
        return;
      }
    }
    this.#flush(line, at);
    addPending(line, at % 3, m);
  }

  #flush(line: Line, at: number): void {
    const sum = this.#pending[at] as number;
    if (sum === 0) return;
    this.#pending[at] = 0;
    addPending(line, at % 3, BigInt(sum));
  }
}

const MAX_EXACT_DOUBLE = BigInt(Number.MAX_SAFE_INTEGER);

/** Adds to the line's columns of a pending sum: 0 the cost (direct and effective), 1 the list cost, 2 the billed cost. */
function addPending(line: Line, column: number, m: Money): void {
  if (column === 0) {
    line.direct_cost += m;
    line.effective_cost += m;
  } else if (column === 1) line.list_cost += m;
  else line.billed_cost += m;
}

export function totalsOf(lines: readonly Line[]): Totals {
  const t: Totals = {
    effective_cost: 0n,
    billed_cost: 0n,
    attributed_cost: 0n,
    unattributed_cost: 0n,
    disputed_cost: 0n,
    shared_cost: 0n,
    direct_cost: 0n,
    cents: { ...zeroCents(), attributed_cost: 0n, unattributed_cost: 0n, disputed_cost: 0n },
    coverage: { attributed: 0n, direct: 0n },
    events: 0,
    unpriced_events: 0,
  };
  for (const l of lines) {
    addCents(t.cents, l.cents);
    t.cents[`${l.status}_cost`] += l.cents.effective_cost;
    t.effective_cost += l.effective_cost;
    t.billed_cost += l.billed_cost;
    t.shared_cost += l.shared_cost;
    t.direct_cost += l.direct_cost;
    if (l.status === 'attributed') t.attributed_cost += l.effective_cost;
    else if (l.status === 'unattributed') t.unattributed_cost += l.effective_cost;
    else t.disputed_cost += l.effective_cost;
    if (l.status === 'attributed') t.coverage.attributed += l.direct_cost;
    t.events += l.events;
    t.unpriced_events += l.unpriced_events;
    if (l.sample) t.sample = mergeSamples(t.sample, l.sample);
  }
  t.coverage.direct = t.direct_cost;
  return t;
}

/** A statement from its charges (or any usage rows) and pool shares. */
export function buildStatement(
  charges: readonly (LineKey & Amounts & { sample?: SampleUnits })[],
  shares: readonly PoolShare[],
  meta: StatementMeta,
  level: Level = 'line',
): Statement {
  return statementOfLines(sumLines(charges), shares, meta, level);
}

export type StatementMeta = {
  period: { start: number; end: number };
  currency: string;
  inputs: StatementInputs;
};

/**
 * A statement from usage lines with distinct keys (summed already: `sumLines`,
 * `LineSums`) and pool shares. The statement takes the usage lines as its
 * own: it rounds their estimates and sets their cents.
 */
export function statementOfLines(
  usage: readonly Line[],
  shares: readonly PoolShare[],
  meta: StatementMeta,
  level: Level = 'line',
): Statement {
  const pools = sumLines(shares.map(poolShareAsLine));
  const sorted = sortLines([...usage, ...pools]);
  const lines = withCents(sorted.map(roundEstimates), orgPath);
  return rollUp({ ...meta, level: 'line', lines, totals: totalsOf(lines) }, level);
}

/** Lines in the order of their keys (a usage line and a pool line never share one: a pool line names its pool). */
function sortLines(lines: Line[]): Line[] {
  const keyed = lines.map((l) => ({ k: keyOf(l, KEY_FIELDS), l }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  return keyed.map((x) => x.l);
}

/** The counts of a line with sampled events are estimates: whole numbers (SPEC §11). */
function roundEstimates(l: Line): Line {
  if (!l.sample) return l;
  l.events = Math.round(l.events);
  l.unpriced_events = Math.round(l.unpriced_events);
  l.requests = Math.round(l.requests);
  l.input_tokens = Math.round(l.input_tokens);
  l.output_tokens = Math.round(l.output_tokens);
  return l;
}

/** `estimated` and the 95 % interval of an estimated amount (SPEC §11), for the JSON form; nothing when exact. */
export function estimateJson(
  effective: Money,
  sample: SampleUnits | undefined,
): { estimated?: true; effective_cost_ci95?: [string, string] } {
  if (!sample || sample.size === 0) return {};
  const [low, high] = interval95(effective, sample);
  return { estimated: true, effective_cost_ci95: [formatMoney(low), formatMoney(high)] };
}

/** The lines with their cents rounded in the tree that `path` gives (core/cents.ts), set on them. */
function withCents(lines: Line[], path: (l: LineKey) => string[]): Line[] {
  const cents = centsOfLines(lines, path);
  lines.forEach((l, i) => {
    l.cents = cents[i] ?? zeroCents();
  });
  return lines;
}

/**
 * The same statement with its lines rolled up to a level; totals do not
 * change. The cents of a rolled-up line are the sum of its lines' cents; the
 * tenant level, which cuts across teams, has its own rounding tree.
 */
export function rollUp(s: Statement, level: Level): Statement {
  if (level === s.level) return s;
  if (s.level !== 'line' && (level === 'line' || level === 'tenant'))
    throw new RangeError(`a statement at level ${s.level} cannot be rolled up to ${level}`);
  if (level === 'tenant') {
    const cents = recentLines(s.lines, tenantPath);
    return {
      ...s,
      level,
      lines: sumLines(
        s.lines.map((l, i) => ({ ...l, cents: cents[i] ?? zeroCents() })),
        level,
      ),
    };
  }
  return { ...s, level, lines: sumLines(s.lines, level) };
}

/** Whole cents as a decimal string with two places. */
export function centsText(m: Money): string {
  return formatFixed(m, 2);
}

function centsJson<T extends object>(c: T): Record<keyof T, string> {
  const out = {} as Record<keyof T, string>;
  for (const k in c) out[k] = centsText(c[k] as Money);
  return out;
}

/** Coverage as a number for display (4 decimals); the exact parts stay in the totals. */
export function coverageRatio(t: Totals): number | null {
  if (t.coverage.direct === 0n) return null;
  return Number((t.coverage.attributed * 1_000_000n) / t.coverage.direct) / 1_000_000;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** A line's JSON form; the estimate's fields only on a line with sampled events (no spread per line). */
function lineJson(l: Line): Record<string, unknown> {
  const c = l.cents;
  const json: Record<string, unknown> = {
    cost_center: l.cost_center,
    team: l.team,
    application: l.application,
    tenant: l.tenant,
    environment: l.environment,
    category: l.category,
    status: l.status,
    reason: l.reason,
    pool: l.pool,
    direct_cost: formatMoney(l.direct_cost),
    shared_cost: formatMoney(l.shared_cost),
    effective_cost: formatMoney(l.effective_cost),
    list_cost: formatMoney(l.list_cost),
    billed_cost: formatMoney(l.billed_cost),
    events: l.events,
    unpriced_events: l.unpriced_events,
    input_tokens: l.input_tokens,
    output_tokens: l.output_tokens,
    cents: {
      direct_cost: centsText(c.direct_cost),
      shared_cost: centsText(c.shared_cost),
      effective_cost: centsText(c.effective_cost),
      list_cost: centsText(c.list_cost),
      billed_cost: centsText(c.billed_cost),
    },
  };
  if (l.sample) Object.assign(json, estimateJson(l.effective_cost, l.sample));
  return json;
}

/** Lines per chunk of `statementJsonText`: a few megabytes of text each. */
const LINES_PER_CHUNK = 4096;

/**
 * Where the lines stand in each layout of `statementJsonText`: the empty
 * lines of the head (a line break, or a quote followed by a colon, can only
 * be the layout's, never inside a string, where it is escaped), what
 * `JSON.stringify({ lines })` puts around them, and what goes between chunks.
 */
const LAYOUTS = {
  2: {
    empty: '\n  "lines": [],',
    open: '{\n  "lines": [\n',
    close: '\n  ]\n}',
    first: '[\n',
    between: ',\n',
    end: '\n  ]',
    newline: '\n',
  },
  0: {
    empty: '"lines":[],',
    open: '{"lines":[',
    close: ']}',
    first: '[',
    between: ',',
    end: ']',
    newline: '',
  },
} as const;

/**
 * The JSON form as text in chunks: the same characters as
 * `JSON.stringify({ ...statementJson(s), ...extra }, null, space)`, followed
 * by a line break when pretty-printed (`space` 2, what the command writes;
 * 0 is the API's compact form). A month's statement is hundreds of megabytes:
 * built as one string it was held with its bytes at once, and could exceed
 * the longest string V8 makes (~512 MB). Each chunk of lines is laid out by
 * `JSON.stringify` as the value of a `lines` key, at the depth the lines
 * have in the statement, and cut out of it.
 */
export function* statementJsonText(
  s: Statement,
  opts: { space?: 0 | 2; extra?: Record<string, unknown> } = {},
): Generator<string> {
  const space = opts.space ?? 2;
  const layout = LAYOUTS[space];
  const head = `${JSON.stringify({ ...(statementJson({ ...s, lines: [] }) as object), ...opts.extra }, null, space)}${layout.newline}`;
  const at = head.indexOf(layout.empty);
  if (s.lines.length === 0 || at < 0) {
    yield head;
    return;
  }
  yield head.slice(0, at + layout.empty.length - 3);
  for (let from = 0; from < s.lines.length; from += LINES_PER_CHUNK) {
    const lines = JSON.stringify(
      { lines: s.lines.slice(from, from + LINES_PER_CHUNK).map(lineJson) },
      null,
      space,
    );
    const inner = lines.slice(layout.open.length, lines.length - layout.close.length);
    yield from === 0 ? `${layout.first}${inner}` : `${layout.between}${inner}`;
  }
  yield `${layout.end}${head.slice(at + layout.empty.length - 1)}`;
}

/** The JSON form of SPEC §5, amounts as decimal strings. */
export function statementJson(s: Statement): unknown {
  const money = (m: Money) => formatMoney(m);
  return {
    period: { start: iso(s.period.start), end: iso(s.period.end) },
    currency: s.currency,
    level: s.level,
    totals: {
      effective_cost: money(s.totals.effective_cost),
      billed_cost: money(s.totals.billed_cost),
      attributed_cost: money(s.totals.attributed_cost),
      unattributed_cost: money(s.totals.unattributed_cost),
      disputed_cost: money(s.totals.disputed_cost),
      shared_cost: money(s.totals.shared_cost),
      coverage: coverageRatio(s.totals),
      events: s.totals.events,
      unpriced_events: s.totals.unpriced_events,
      cents: centsJson(s.totals.cents),
      ...estimateJson(s.totals.effective_cost, s.totals.sample),
    },
    lines: s.lines.map(lineJson),
    inputs: s.inputs,
    differs_from_issued: s.differs_from_issued
      ? {
          version: s.differs_from_issued.version,
          effective_cost_delta: money(s.differs_from_issued.effective_cost_delta),
        }
      : null,
  };
}

/**
 * Validation of `tally.yaml` (SPEC §2): the raw YAML value becomes the typed
 * `Config`, or a `ConfigError` listing every problem found, each with its
 * path in the file (`teams[2].cost_center`) and, when the loader knows it, the
 * file and line. Nothing is returned from a configuration with any problem.
 */
import type {
  AccessToken,
  Application,
  Budget,
  Config,
  CostCenter,
  Discount,
  Identity,
  IdentityKind,
  LifecycleEventKind,
  ModelPrice,
  Policy,
  PoolBasis,
  PoolLevel,
  PoolMethod,
  Role,
  Selector,
  SharedPool,
  SignalThresholds,
  Team,
  Tenant,
  UnitPrice,
  UnitRate,
} from './config.js';
import { SELECTOR_FIELDS } from './config.js';
import { ConfigError, type Problem } from './errors.js';
import { UNIT_NAME } from './event.js';
import { type Money, ONE, parseMoney } from './money.js';
import { parseQueueUrl, QueueUrlError } from './queue-url.js';
import { holdsSecret } from './secrets.js';
import { KEY_HASH_DIGITS, MIN_KEY_PREFIX_DIGITS, normalizeApiKey } from './selectors.js';
import { SEVERITIES } from './signals/signal.js';

/** Where a path of the configuration was written; `text` is a scalar's source text. */
export interface SourceLocation {
  file?: string;
  line?: number;
  text?: string;
}

export interface ParseConfigOptions {
  sha256: string;
  /** Locates a path such as `teams[2].cost_center` in the source files. */
  sourceMap?: (path: string) => SourceLocation | undefined;
}

/**
 * Defaults of `policy.signals` (SPEC §6). `spike_z`: robust z-score of an
 * hour's cost against the identity's hour-of-week median for S06;
 * `spike_floor`: the least amount above that median for S06 to fire;
 * `baseline_days`: the days of history the median is taken over;
 * `history_days`: the history an identity needs before S07 and S08 apply.
 * Other keys are thresholds of further rules and must be numbers.
 */
export const SIGNAL_DEFAULTS = { spike_z: 6, spike_floor: '5', baseline_days: 14, history_days: 7 } as const;

const KINDS: readonly IdentityKind[] = ['api_key', 'service_account', 'agent', 'workload'];
const LIFECYCLE: readonly LifecycleEventKind[] = [
  'created',
  'rotated',
  'revoked',
  'expired',
  'leaked',
  'compromised',
];
const LEVELS: readonly PoolLevel[] = ['team', 'application', 'tenant', 'cost_center'];
const METHODS: readonly PoolMethod[] = ['proportional', 'even', 'weighted'];
const BASES: readonly PoolBasis[] = [
  'inference',
  'embedding',
  'retrieval',
  'tool',
  'orchestration',
  'cost',
  'tokens',
  'requests',
];
const ROLES: readonly Role[] = ['admin', 'finance', 'team', 'ingest'];
const BUDGET_SCOPES = ['team', 'application', 'tenant'] as const;

const TOP_KEYS = [
  'store',
  'queue',
  'currency',
  'include',
  'cost_centers',
  'teams',
  'applications',
  'tenants',
  'identities',
  'prices',
  'shared_pools',
  'policy',
  'access',
  'budgets',
  'alerts',
  'notify',
] as const;

type Obj = Record<string, unknown>;

export function parseConfig(raw: unknown, opts: ParseConfigOptions): Config {
  const c = new Checker(opts.sourceMap);
  const top = c.fields('', raw ?? {}, TOP_KEYS);
  if (top.has('include'))
    c.report('include', 'includes are followed only when the configuration is loaded from a file');

  const store = top.str('store') ?? './tally.duckdb';
  const queue = top.str('queue') ?? null;
  if (queue !== null) {
    try {
      parseQueueUrl(queue);
    } catch (e) {
      c.report('queue', e instanceof QueueUrlError ? e.message : String(e));
    }
  }
  const currency = top.str('currency') ?? 'USD';
  if (!/^[A-Z]{3}$/.test(currency))
    c.report('currency', `must be a three-letter ISO 4217 code such as USD, not ${show(currency)}`);

  // Each section's ids are known once it is read: every reference names an earlier section.
  const costCenters = section(top, 'cost_centers', (p, v) => parseNamed(c, p, v));
  c.known('cost_center', costCenters.items);
  const tenants = section(top, 'tenants', (p, v) => parseNamed(c, p, v));
  c.known('tenant', tenants.items);
  const teams = section(top, 'teams', (p, v) => parseTeam(c, p, v));
  c.known('team', teams.items);
  const applications = section(top, 'applications', (p, v) => parseApplication(c, p, v));
  c.known('application', applications.items);
  const identities = section(top, 'identities', (p, v) => parseIdentity(c, p, v));
  const prices = parsePrices(c, top.object('prices'));
  const sharedPools = section(top, 'shared_pools', (p, v) => parsePool(c, p, v));
  const policy = parsePolicy(top.object('policy'));
  const access = section(top, 'access', (p, v) => parseAccess(c, p, v));
  const budgets = section(top, 'budgets', (p, v) => parseBudget(c, p, v));
  const alerts = top.object('alerts');
  alerts?.allow(['webhook']);
  const alertWebhook = alerts ? (alerts.url('webhook') ?? null) : null;
  const notify = parseNotify(top.object('notify'));

  const sections: Array<Section<{ id: string }>> = [
    costCenters,
    tenants,
    teams,
    applications,
    identities,
    sharedPools,
  ];
  for (const items of sections) duplicates(c, items, (i) => i.id, 'the same id as');
  duplicates(c, access, (a) => a.tokenSha256, 'the same token as');
  duplicates(c, budgets, (b) => `${b.scope}\0${b.id}`, 'a budget for the same target as');
  c.checkReferences();

  if (c.problems.length > 0) throw new ConfigError(c.problems);
  return {
    store,
    queue,
    currency,
    costCenters: costCenters.items,
    teams: teams.items,
    applications: applications.items,
    tenants: tenants.items,
    identities: identities.items,
    prices,
    sharedPools: sharedPools.items,
    policy,
    access: access.items,
    budgets: budgets.items,
    alertWebhook,
    notify,
    sha256: opts.sha256,
  };
}

type At<T> = T & { path: string };

/**
 * A path in the configuration (`identities[12].match[0]`), or how to write
 * it: a registry has hundreds of thousands, and only a problem needs its own.
 */
type Path = string | (() => string);

const written = (path: Path): string => (typeof path === 'string' ? path : path());

/** A list of the configuration read entry by entry, with each entry's path (for problems between entries). */
interface Section<T> {
  items: T[];
  paths: Path[];
}

function section<T>(f: Fields, key: string, parse: (path: Path, v: unknown) => T): Section<T> {
  const items: T[] = [];
  const paths: Path[] = [];
  f.each(key, (v, path) => {
    items.push(parse(path, v));
    paths.push(path);
  });
  return { items, paths };
}

/** `notify: { webhook, min_severity, dashboard_url }`: new signals posted to a webhook (server). */
function parseNotify(f: Fields | null): Config['notify'] {
  if (f === null) return null;
  f.allow(['webhook', 'min_severity', 'dashboard_url']);
  const webhook = f.url('webhook');
  if (webhook === null) {
    if (f.get('webhook') === undefined) f.str('webhook', true);
    return null;
  }
  return {
    webhook,
    minSeverity: f.oneOf('min_severity', SEVERITIES) ?? 'high',
    dashboardUrl: f.url('dashboard_url'),
  };
}

function parseNamed(c: Checker, path: Path, v: unknown): CostCenter | Tenant {
  const f = c.fields(path, v, ['id', 'name']);
  const id = f.id();
  return { id, name: f.str('name') ?? id };
}

function parseTeam(c: Checker, path: Path, v: unknown): Team {
  const f = c.fields(path, v, ['id', 'name', 'cost_center', 'offboarded']);
  const id = f.id();
  const costCenter = parseDatedRefs(c, f, 'cost_center', 'cost_center').map(({ ref, from, until }) => ({
    costCenter: ref,
    from,
    until,
  }));
  return { id, name: f.str('name') ?? id, costCenter, offboarded: f.time('offboarded') };
}

function parseApplication(c: Checker, path: Path, v: unknown): Application {
  const f = c.fields(path, v, ['id', 'name', 'owner', 'retired']);
  const id = f.id();
  const owner = parseDatedRefs(c, f, 'owner', 'team').map(({ ref, from, until }) => ({
    team: ref,
    from,
    until,
  }));
  return { id, name: f.str('name') ?? id, owner, retired: f.time('retired') };
}

/**
 * `key: id`, or a list of `{ itemKey: id, from, until }` whose ranges must not
 * overlap, each id a reference to a `kind`.
 */
function parseDatedRefs(c: Checker, f: Fields, key: string, kind: RefKind) {
  const value = f.get(key);
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    const ref = f.str(
      key,
      false,
      `must be a ${kind.replace('_', ' ')} id or a list of {${kind}, from, until}`,
    );
    if (ref === null) return [];
    c.expect(kind, ref, () => f.at(key));
    return [{ ref, from: null, until: null }];
  }
  const entries: Array<{ ref: string; from: number | null; until: number | null; path: Path }> = [];
  f.each(key, (item, path) => {
    const e = c.fields(path, item, [kind, 'from', 'until']);
    entries.push({ ref: e.ref(kind, kind, true) ?? '', ...e.range(), path });
  });
  checkOverlaps(c, entries, (e) => `overlaps ${written(e.path)}`);
  return entries;
}

function parseIdentity(c: Checker, path: Path, v: unknown): Identity {
  const f = c.fields(path, v, [
    'id',
    'kind',
    'application',
    'environment',
    'shared',
    'tenants',
    'models',
    'match',
    'lifecycle',
  ]);
  const id = f.id();
  const match: Selector[] = [];
  f.each('match', (item, p) => match.push(parseSelector(c, p, item)), true);
  if (f.get('match') !== undefined && match.length === 0)
    c.report(f.at('match'), 'needs at least one selector');
  const lifecycle: Identity['lifecycle'] = [];
  f.each('lifecycle', (item, p) => {
    const e = c.fields(p, item, ['at', 'event']);
    lifecycle.push({ at: e.time('at', true) ?? 0, event: e.oneOf('event', LIFECYCLE, true) ?? 'created' });
  });
  return {
    id,
    kind: f.oneOf('kind', KINDS, true) ?? 'api_key',
    application: f.ref('application', 'application'),
    environment: f.str('environment') ?? 'production',
    shared: f.bool('shared') ?? false,
    tenants: f.has('tenants') ? f.refList('tenants', 'tenant', '*') : null,
    models: f.has('models') ? f.strList('models') : null,
    match,
    lifecycle: lifecycle.sort((a, b) => a.at - b.at),
  };
}

function parseSelector(c: Checker, path: Path, v: unknown): Selector {
  const f = c.fields(path, v, SELECTOR_FIELDS);
  const selector: Selector = {};
  for (const key of SELECTOR_FIELDS) {
    const value = f.str(key);
    if (value === null) continue;
    const problem = selectorProblem(key, value);
    if (problem) c.report(f.at(key), problem);
    else selector[key] = key === 'api_key' ? normalizeApiKey(value) : value;
  }
  if (f.ok && Object.keys(selector).length === 0) {
    c.report(written(path), `a selector needs at least one of ${SELECTOR_FIELDS.join(', ')}`);
  }
  return selector;
}

/** SPEC §2: no raw secret anywhere; an `api_key` hash or prefix of 16 to 64 hex digits, or a provider key id. */
function selectorProblem(key: (typeof SELECTOR_FIELDS)[number], value: string): string | null {
  if (holdsSecret(value))
    return "holds what looks like a raw key, which never belongs in tally.yaml: give the key's SHA-256 as 64 hex digits (as LiteLLM shows it) or a prefix of at least 16";
  if (key !== 'api_key' || !/^[0-9a-fA-F]+$/.test(value)) return null;
  if (value.length < MIN_KEY_PREFIX_DIGITS)
    return `is ${value.length} hex digits: a key hash prefix needs at least ${MIN_KEY_PREFIX_DIGITS} (the key's SHA-256 has ${KEY_HASH_DIGITS})`;
  if (value.length > KEY_HASH_DIGITS)
    return `is ${value.length} hex digits: a key's SHA-256 has ${KEY_HASH_DIGITS}`;
  return null;
}

type Entries = Array<[string, unknown]>;

function parseModelPrices(c: Checker, entries: Entries): At<ModelPrice>[] {
  const models = entries.map(([p, v]): At<ModelPrice> => {
    const e = c.fields(p, v, [
      'provider',
      'model',
      'from',
      'until',
      'input_per_mtok',
      'output_per_mtok',
      'cache_read_per_mtok',
      'cache_write_per_mtok',
      'reasoning_per_mtok',
      'cache_write_1h_per_mtok',
      'input_audio_per_mtok',
      'output_audio_per_mtok',
    ]);
    return {
      path: p,
      provider: e.str('provider', true) ?? '',
      model: e.str('model', true) ?? '',
      ...e.range(),
      inputPerMtok: e.money('input_per_mtok', true) ?? 0n,
      outputPerMtok: e.money('output_per_mtok', true) ?? 0n,
      cacheReadPerMtok: e.money('cache_read_per_mtok'),
      cacheWritePerMtok: e.money('cache_write_per_mtok'),
      reasoningPerMtok: e.money('reasoning_per_mtok'),
      cacheWrite1hPerMtok: e.money('cache_write_1h_per_mtok'),
      inputAudioPerMtok: e.money('input_audio_per_mtok'),
      outputAudioPerMtok: e.money('output_audio_per_mtok'),
    };
  });
  duplicates(
    c,
    withPaths(models),
    (m) => `${m.provider.toLowerCase()}\0${m.model.toLowerCase()}\0${m.from}`,
    'the same provider, model and from as',
  );
  return models;
}

function parseDiscounts(c: Checker, entries: Entries): At<Discount>[] {
  const discounts = entries.map(([p, v]): At<Discount> => {
    const e = c.fields(p, v, ['provider', 'percent', 'from', 'until']);
    const percent = e.money('percent', true) ?? 0n;
    if (percent > 100n * ONE) c.report(e.at('percent'), 'must be between 0 and 100');
    return { path: p, provider: e.str('provider', true) ?? '', percent, ...e.range() };
  });
  for (const group of groupBy(discounts, (d) => d.provider.toLowerCase()).values()) {
    checkOverlaps(c, group, (d) => `overlaps ${d.path}: one discount per provider at a time`);
  }
  return discounts;
}

/** `units` holds per-span prices ({operation, per_call}) and per-unit prices ({unit, per_unit}). */
const isRate = (v: unknown) => typeof v === 'object' && v !== null && 'unit' in v;

function parseUnitPrices(c: Checker, entries: Entries): At<UnitPrice>[] {
  const units = entries
    .filter(([, v]) => !isRate(v))
    .map(([p, v]): At<UnitPrice> => {
      const e = c.fields(p, v, ['operation', 'tool', 'data_source', 'per_call', 'per_query']);
      if (e.has('per_call') && e.has('per_query')) c.report(p, 'give per_call or per_query, not both');
      else if (e.ok && !e.has('per_call') && !e.has('per_query')) c.report(p, 'needs per_call or per_query');
      return {
        path: p,
        operation: e.str('operation', true) ?? '',
        tool: e.str('tool'),
        dataSource: e.str('data_source'),
        perCall: e.money('per_call') ?? e.money('per_query') ?? 0n,
      };
    });
  duplicates(
    c,
    withPaths(units),
    (u) => `${u.operation}\0${u.tool}\0${u.dataSource}`,
    'the same operation, tool and data source as',
  );
  return units;
}

function parseUnitRates(c: Checker, entries: Entries): At<UnitRate>[] {
  const unitRates = entries
    .filter(([, v]) => isRate(v))
    .map(([p, v]): At<UnitRate> => {
      const e = c.fields(p, v, ['unit', 'per_unit', 'provider']);
      const unit = e.str('unit', true) ?? '';
      if (unit !== '' && !UNIT_NAME.test(unit))
        c.report(e.at('unit'), 'must be a unit name (lower-case letters, digits, _ . -), e.g. web_search');
      return { path: p, unit, provider: e.str('provider'), perUnit: e.money('per_unit', true) ?? 0n };
    });
  duplicates(
    c,
    withPaths(unitRates),
    (u) => `${u.unit}\0${u.provider?.toLowerCase() ?? ''}`,
    'the same unit and provider as',
  );
  return unitRates;
}

function parsePrices(c: Checker, f: Fields | null): Config['prices'] {
  if (f === null) return { models: [], discounts: [], units: [] };
  f.allow(['models', 'discounts', 'units']);
  const models = parseModelPrices(c, f.list('models'));
  const discounts = parseDiscounts(c, f.list('discounts'));
  const unitEntries = f.list('units');
  const units = parseUnitPrices(c, unitEntries);
  const unitRates = parseUnitRates(c, unitEntries);
  return {
    models: models.map(({ path: _, ...m }) => m),
    discounts: discounts.map(({ path: _, ...d }) => d),
    units: units.map(({ path: _, ...u }) => u),
    unitRates: unitRates.map(({ path: _, ...u }) => u),
  };
}

function parsePool(c: Checker, path: Path, v: unknown): SharedPool {
  const f = c.fields(path, v, ['id', 'amount', 'level', 'method', 'basis', 'weights']);
  const method = f.oneOf('method', METHODS, true) ?? 'even';
  if (method !== 'proportional' && f.has('basis'))
    c.report(f.at('basis'), 'applies only to method proportional');
  if (method !== 'weighted' && f.has('weights')) c.report(f.at('weights'), 'applies only to method weighted');
  const level = f.oneOf('level', LEVELS, true) ?? 'team';
  const weights: Record<string, bigint> = {};
  const w = method === 'weighted' ? f.object('weights', true) : null;
  if (w !== null) {
    if (w.keys().length === 0) c.report(f.at('weights'), 'needs at least one consumer');
    for (const key of w.keys()) {
      // Relative weights, kept × 10^12 so that decimal weights stay exact.
      const weight = w.money(key, true, 'must be a positive number');
      if (weight === 0n) c.report(w.at(key), 'must be a positive number');
      if (weight) weights[key] = weight;
      c.expect(level, key, w.at(key));
    }
  }
  return {
    id: f.id(),
    amount: f.money('amount', true) ?? 0n,
    level,
    method,
    basis: f.oneOf('basis', BASES) ?? 'cost',
    weights,
  };
}

function parsePolicy(f: Fields | null): Policy {
  f?.allow(['workflow_rollup', 'experimentation', 'disputed', 'signals']);
  return {
    workflowRollup: f?.oneOf('workflow_rollup', ['invoker', 'executor'] as const) ?? 'invoker',
    experimentation: f?.oneOf('experimentation', ['showback', 'charge'] as const) ?? 'showback',
    disputed: f?.oneOf('disputed', ['hold', 'charge'] as const) ?? 'hold',
    signals: parseSignals(f?.object('signals') ?? null),
  };
}

/** The known thresholds, camel-cased; any other key (a number, or a map of numbers per rule) is kept as written. */
function parseSignals(f: Fields | null): SignalThresholds {
  const thresholds: SignalThresholds = {
    spikeZ: f?.number('spike_z') ?? SIGNAL_DEFAULTS.spike_z,
    spikeFloor: f?.money('spike_floor') ?? parseMoney(SIGNAL_DEFAULTS.spike_floor),
    baselineDays: f?.number('baseline_days') ?? SIGNAL_DEFAULTS.baseline_days,
    historyDays: f?.number('history_days') ?? SIGNAL_DEFAULTS.history_days,
  };
  for (const key of f?.keys() ?? []) {
    if (key in SIGNAL_DEFAULTS || f === null) continue;
    const rule = isObject(f.get(key)) ? f.object(key) : null;
    thresholds[key] =
      rule === null ? f.number(key) : Object.fromEntries(rule.keys().map((k) => [k, rule.number(k)]));
  }
  return thresholds;
}

function parseAccess(c: Checker, path: Path, v: unknown): AccessToken {
  const f = c.fields(path, v, ['token_sha256', 'role', 'team']);
  const token = f.str('token_sha256', true) ?? '';
  if (token !== '' && !/^[0-9a-fA-F]{64}$/.test(token)) {
    c.report(
      f.at('token_sha256'),
      'must be the SHA-256 of the token: 64 hexadecimal digits (never the token itself)',
    );
  }
  const role = f.oneOf('role', ROLES, true) ?? 'admin';
  const team = c.expect('team', f.str('team'), f.at('team'));
  if (role === 'team' && team === null && f.ok && !f.has('team'))
    c.report(f.at('team'), 'is required for role team');
  if (role !== 'team' && team !== null) c.report(f.at('team'), 'applies only to role team');
  return { tokenSha256: token.toLowerCase(), role, team };
}

function parseBudget(c: Checker, path: Path, v: unknown): Budget {
  const f = c.fields(path, v, [...BUDGET_SCOPES, 'monthly', 'alert_at']);
  const scopes = BUDGET_SCOPES.filter((s) => f.has(s));
  if (scopes.length !== 1 && f.ok)
    c.report(written(path), 'needs exactly one of team, application or tenant');
  const scope = scopes[0] ?? 'team';
  const monthly = f.money('monthly', true);
  if (monthly === 0n) c.report(f.at('monthly'), 'must be more than 0');
  const alertAt = f.has('alert_at') ? f.numberList('alert_at') : [50, 80, 100];
  alertAt.forEach((n, i) => {
    if (n <= 0) c.report(`${f.at('alert_at')}[${i}]`, 'must be a per cent above 0');
  });
  const id = c.expect(scope, f.str(scope), f.at(scope)) ?? '';
  return { scope, id, monthly: monthly ?? 0n, alertAt: [...new Set(alertAt)].sort((a, b) => a - b) };
}

function duplicates<T>(c: Checker, { items, paths }: Section<T>, key: (t: T) => string, what: string): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const k = key(item);
    const first = seen.get(k);
    if (first !== undefined)
      c.report(written(paths[i] as Path), `has ${what} ${written(paths[first] as Path)}`);
    else seen.set(k, i);
  });
}

/** Entries that carry their paths, as a section. */
const withPaths = <T extends { path: string }>(items: T[]): Section<T> => ({
  items,
  paths: items.map((i) => i.path),
});

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

/** Reports every entry that starts before an earlier-starting one has ended. */
function checkOverlaps<T extends { from: number | null; until: number | null; path: Path }>(
  c: Checker,
  entries: T[],
  reason: (earlier: T) => string,
): void {
  const valid = entries.filter((e) => e.from === null || e.until === null || e.until > e.from);
  const sorted = valid.sort((a, b) => (a.from ?? -Infinity) - (b.from ?? -Infinity) || 0);
  let open: T | null = null;
  for (const e of sorted) {
    if (open !== null && (e.from ?? -Infinity) < (open.until ?? Infinity))
      c.report(written(e.path), reason(open));
    if (open === null || (e.until ?? Infinity) > (open.until ?? Infinity)) open = e;
  }
}

/** A string with more than blanks. */
function isText(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** A date (midnight UTC) or an RFC 3339 time with its zone → epoch ms; null when invalid. */
export function parseTime(text: string): number | null {
  // A registry repeats its dates (every identity created the same day): each text is read once.
  const known = times.get(text);
  if (known !== undefined) return known;
  const t = readTime(text);
  if (times.size < 10_000) times.set(text, t);
  return t;
}

const times = new Map<string, number | null>();

function readTime(text: string): number | null {
  const d = DATE.exec(text) ?? DATE_TIME.exec(text);
  if (!d) return null;
  const [, y, mo, day, h = '00', mi = '00', s = '00'] = d;
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(day)));
  if (date.getUTCMonth() !== Number(mo) - 1 || date.getUTCDate() !== Number(day)) return null;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
  const ms = DATE.test(text) ? date.getTime() : Date.parse(text.toUpperCase().replace(' ', 'T'));
  return Number.isNaN(ms) ? null : ms;
}

type RefKind = 'cost_center' | 'team' | 'application' | 'tenant';

class Checker {
  readonly problems: Problem[] = [];
  /** References not found (yet), in the order made: reported once every section is read. */
  private readonly refs: Array<{ kind: RefKind; id: string; path: Path }> = [];
  private readonly ids = new Map<RefKind, ReadonlySet<string>>();
  constructor(private readonly locate?: (path: string) => SourceLocation | undefined) {}

  report(path: string, reason: string): void {
    const p: Problem = { reason };
    if (path !== '') p.field = path;
    const loc = this.where(path);
    if (loc?.file !== undefined) p.file = loc.file;
    if (loc?.line !== undefined) {
      p.record = loc.line;
      p.recordKind = 'line';
    }
    this.problems.push(p);
  }

  /** The location of a path, else of its nearest located ancestor (a missing key: the object that lacks it). */
  where(path: string): SourceLocation | undefined {
    for (let p: string | null = path; p !== null; p = parentPath(p)) {
      const loc = this.locate?.(p);
      if (loc) return loc;
    }
    return undefined;
  }

  /** The source text of a number, when known, so that `2.50` is read from what was written. */
  text(path: string): string | undefined {
    return this.locate?.(path)?.text;
  }

  /** The ids of a section, once read: references to them are checked as they are made. */
  known(kind: RefKind, items: ReadonlyArray<{ id: string }>): void {
    this.ids.set(kind, new Set(items.map((x) => x.id)));
  }

  /** Whether a section read already has the id. */
  knows(kind: RefKind, id: string): boolean {
    return this.ids.get(kind)?.has(id) === true;
  }

  /** Checks a reference, or records it to check once its section is read; returns the id. */
  expect<T extends string | null>(kind: RefKind, id: T, path: Path): T {
    if (id !== null && id !== '' && !this.knows(kind, id)) this.refs.push({ kind, id, path });
    return id;
  }

  /** Reports the references to ids no section has, in the order they were made. */
  checkReferences(): void {
    for (const r of this.refs) {
      if (!this.knows(r.kind, r.id))
        this.report(written(r.path), `unknown ${r.kind.replace('_', ' ')} ${show(r.id)}`);
    }
  }

  fields(path: Path, value: unknown, allowed: readonly string[]): Fields {
    if (!isObject(value)) {
      this.report(written(path), 'must be a mapping of keys to values');
      return new Fields(this, path, {}, false);
    }
    const f = new Fields(this, path, value, true);
    f.allow(allowed);
    return f;
  }
}

function parentPath(path: string): string | null {
  if (path === '') return null;
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut <= 0 ? '' : path.slice(0, cut);
}

/** Typed reads of one mapping's keys; each problem is reported with the key's path. */
class Fields {
  constructor(
    private readonly c: Checker,
    private where: Path,
    private readonly obj: Obj,
    /** False when the value was not a mapping at all (already reported). */
    readonly ok: boolean,
  ) {}

  private get path(): string {
    if (typeof this.where !== 'string') this.where = this.where();
    return this.where;
  }

  at(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  keys(): string[] {
    return Object.keys(this.obj);
  }

  /** A key given with a null value counts as absent. */
  get(key: string): unknown {
    const v = this.obj[key];
    return v === null ? undefined : v;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Unknown keys are problems: a misspelt `ownr:` must not be silently ignored. */
  allow(allowed: readonly string[]): void {
    for (const key of this.keys()) {
      if (allowed.includes(key)) continue;
      const near = allowed.find((a) => editDistance(a, key) <= 2);
      this.c.report(
        this.at(key),
        `unknown key${near ? ` (did you mean ${near}?)` : `; expected one of ${allowed.join(', ')}`}`,
      );
    }
  }

  private missing(key: string): void {
    if (this.ok) this.c.report(this.at(key), 'is required');
  }

  id(): string {
    return this.str('id', true) ?? '';
  }

  str(key: string, required = false, reason?: string): string | null {
    const v = this.get(key);
    if (v === undefined) {
      if (required) this.missing(key);
      return null;
    }
    return isText(v) ? v : this.text(this.at(key), v, reason);
  }

  /** The id of a `kind` under `key`, checked (its path is written out only for a problem). */
  ref(kind: RefKind, key: string, required = false): string | null {
    return this.c.expect(kind, this.str(key, required), () => this.at(key));
  }

  private text(path: string, v: unknown, reason?: string): string | null {
    if (typeof v !== 'string') {
      this.c.report(path, reason ?? `must be a string, not ${show(v)} (quote it)`);
      return null;
    }
    if (v.trim() === '') {
      this.c.report(path, 'must not be empty');
      return null;
    }
    return v;
  }

  /** A list of ids of `kind` (and `any`, which names every one). */
  refList(key: string, kind: RefKind, any: string): string[] {
    const out: string[] = [];
    this.each(key, (v, path) => {
      const id = v === any || isText(v) ? v : this.text(path(), v);
      if (id === any) out.push(id);
      else if (id !== null) out.push(this.c.expect(kind, id, path));
    });
    return out;
  }

  bool(key: string): boolean | null {
    const v = this.get(key);
    if (v === undefined) return null;
    if (typeof v !== 'boolean') {
      this.c.report(this.at(key), `must be true or false, not ${show(v)}`);
      return null;
    }
    return v;
  }

  oneOf<T extends string>(key: string, values: readonly T[], required = false): T | null {
    const v = this.get(key);
    if (v === undefined) {
      if (required) this.missing(key);
      return null;
    }
    if (typeof v !== 'string' || !values.includes(v as T)) {
      this.c.report(this.at(key), `must be one of ${values.join(', ')}, not ${show(v)}`);
      return null;
    }
    return v as T;
  }

  number(key: string): number | null {
    const v = this.get(key);
    if (v === undefined) return null;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      this.c.report(this.at(key), `must be a number of at least 0, not ${show(v)}`);
      return null;
    }
    return v;
  }

  numberList(key: string): number[] {
    return this.list(key).flatMap(([p, v]) => {
      if (typeof v === 'number' && Number.isFinite(v)) return [v];
      this.c.report(p, `must be a number, not ${show(v)}`);
      return [];
    });
  }

  /** An exact amount from a number (read from its source text when known) or a decimal string. */
  money(
    key: string,
    required = false,
    reason = 'must be an amount of at least 0 such as 2.50',
  ): Money | null {
    const v = this.get(key);
    if (v === undefined) {
      if (required) this.missing(key);
      return null;
    }
    const text = typeof v === 'number' ? this.c.text(this.at(key)) : undefined;
    const source = text !== undefined && /^\d+(\.\d+)?$/.test(text) ? text : v;
    if (typeof source === 'string' || typeof source === 'number') {
      try {
        const m = parseMoney(source);
        if (m >= 0n) return m;
      } catch {
        // reported below
      }
    }
    this.c.report(this.at(key), `${reason}, not ${show(v)}`);
    return null;
  }

  time(key: string, required = false): number | null {
    const v = this.get(key);
    if (v === undefined) {
      if (required) this.missing(key);
      return null;
    }
    if (v instanceof Date && !Number.isNaN(v.getTime())) return v.getTime();
    const t = typeof v === 'string' ? parseTime(v) : null;
    if (t === null)
      this.c.report(
        this.at(key),
        `must be a date (2026-10-15) or a time with its zone (2026-10-15T03:00:00Z), not ${show(v)}`,
      );
    return t;
  }

  /** `from` and `until` (exclusive); `until` must come after `from`. */
  range(): { from: number | null; until: number | null } {
    const from = this.time('from');
    const until = this.time('until');
    if (from !== null && until !== null && until <= from)
      this.c.report(this.at('until'), 'must be after from');
    return { from, until };
  }

  url(key: string): string | null {
    const v = this.str(key);
    if (v === null) return null;
    try {
      const u = new URL(v);
      if (u.protocol === 'http:' || u.protocol === 'https:') return v;
    } catch {
      // reported below
    }
    this.c.report(this.at(key), `must be an http(s) URL, not ${show(v)}`);
    return null;
  }

  /**
   * Each item of a list (absent: none), with its path written out only when
   * asked (a problem): a registry's lists have tens of thousands of items.
   */
  each(key: string, visit: (item: unknown, path: () => string) => void, required = false): void {
    const v = this.get(key);
    if (v === undefined) {
      if (required) this.missing(key);
      return;
    }
    if (!Array.isArray(v)) {
      this.c.report(this.at(key), 'must be a list');
      return;
    }
    for (let i = 0; i < v.length; i++) visit(v[i], () => `${this.at(key)}[${i}]`);
  }

  /** The items of a list with their paths; absent → empty. */
  list(key: string, required = false): Array<[string, unknown]> {
    const out: Array<[string, unknown]> = [];
    this.each(key, (item, path) => out.push([path(), item]), required);
    return out;
  }

  strList(key: string): string[] {
    const out: string[] = [];
    this.each(key, (v, path) => {
      const text = isText(v) ? v : this.text(path(), v);
      if (text !== null) out.push(text);
    });
    return out;
  }

  object(key: string, required = false): Fields | null {
    const v = this.get(key);
    if (v === undefined) {
      if (required) this.missing(key);
      return null;
    }
    if (!isObject(v)) {
      this.c.report(this.at(key), 'must be a mapping of keys to values');
      return null;
    }
    return new Fields(this.c, this.at(key), v, true);
  }
}

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

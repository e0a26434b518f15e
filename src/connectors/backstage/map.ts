/**
 * Backstage entities → a `tally.yaml` include: Groups become teams,
 * Components, Systems and Resources become applications owned by their
 * Group, and identity annotations become identities. A later import only
 * appends: an owner change closes the current entry and opens a new one
 * dated by `tally.dev/owner-since` or the import date; an entity gone from
 * the catalog is retired (teams offboarded), never deleted, so past periods
 * compute as they did.
 */
import { redactSecrets } from '../../core/secrets.js';
import { ANNOTATIONS, listAnnotation } from './annotations.js';
import { type CatalogProblem, type Entity, type EntityRef, entityKey, parseRef, refKey } from './entities.js';

/** The include as written: plain YAML-ready objects, sorted by id. */
export interface Include {
  cost_centers: { id: string; name: string }[];
  teams: TeamOut[];
  applications: AppOut[];
  identities: IdentityOut[];
}

export interface TeamOut {
  id: string;
  name: string;
  cost_center?: string | DatedOut<'cost_center'>[];
  offboarded?: string;
}

export type DatedOut<K extends string> = { [k in K]: string } & { from?: string; until?: string };

export interface AppOut {
  id: string;
  name: string;
  owner: DatedOut<'team'>[];
  retired?: string;
}

export interface IdentityOut {
  id: string;
  kind: string;
  application: string;
  environment: string;
  shared?: boolean;
  tenants?: string[];
  models?: string[];
  match: Record<string, string>[];
  lifecycle?: unknown[];
}

export interface ImportOptions {
  /** The import date, YYYY-MM-DD (UTC). */
  date: string;
  /** Group name → cost center, overriding annotations. */
  costCenters?: Record<string, string>;
  /** Cost centers the main configuration already defines (not written again). */
  knownCostCenters?: ReadonlySet<string>;
}

export interface ImportResult {
  include: Include;
  problems: CatalogProblem[];
  /** What changed against the previous include, one line each, for the reviewer. */
  changes: string[];
}

const APP_KINDS = new Set(['Component', 'System', 'Resource']);

/** Entity id in tally: the name, prefixed by its namespace outside `default`. */
function idOf(namespace: string, name: string): string {
  return namespace.toLowerCase() === 'default' ? name.toLowerCase() : `${namespace}.${name}`.toLowerCase();
}

export function importCatalog(
  entities: readonly Entity[],
  previous: Include | null,
  opts: ImportOptions,
): ImportResult {
  const ctx = new Context(entities, previous, opts);
  const teams = ctx.teams();
  const applications = ctx.applications();
  const identities = ctx.identities(new Set(applications.map((a) => a.id)));
  ctx.warnUnfunded(teams, applications);
  const include: Include = {
    cost_centers: ctx.costCenterList(teams),
    teams,
    applications,
    identities,
  };
  return { include, problems: ctx.problems, changes: ctx.changes };
}

class Context {
  readonly problems: CatalogProblem[] = [];
  readonly changes: string[] = [];
  private readonly byKey = new Map<string, Entity>();

  constructor(
    private readonly entities: readonly Entity[],
    private readonly previous: Include | null,
    private readonly opts: ImportOptions,
  ) {
    for (const e of entities) {
      const key = entityKey(e);
      if (this.byKey.has(key)) this.problem(e, 'metadata.name', `${key} is defined twice`);
      else this.byKey.set(key, e);
    }
  }

  problem(e: Entity, field: string, reason: string): void {
    this.problems.push({ ...e.where, field, reason });
  }

  teams(): TeamOut[] {
    const prev = new Map((this.previous?.teams ?? []).map((t) => [t.id, t]));
    const out = new Map<string, TeamOut>();
    for (const g of this.of('Group')) {
      const id = idOf(g.namespace, g.name);
      out.set(id, this.team(g, id, prev.get(id)));
    }
    for (const [id, old] of prev) if (!out.has(id)) out.set(id, this.gone(old, 'offboarded', `team ${id}`));
    return sortById([...out.values()]);
  }

  private team(g: Entity, id: string, old: TeamOut | undefined): TeamOut {
    const cc = this.costCenterOf(g);
    const name = g.title ?? g.name;
    if (!old) {
      this.changes.push(`+ team ${id}${cc ? ` (cost center ${cc})` : ''}`);
      return { id, name, ...(cc ? { cost_center: cc } : {}) };
    }
    const team: TeamOut = { ...old, name };
    delete team.offboarded;
    if (cc && currentRef(old.cost_center, 'cost_center') !== cc) {
      team.cost_center = appendDated(old.cost_center, 'cost_center', cc, this.opts.date);
      this.changes.push(
        `~ team ${id}: cost center ${currentRef(old.cost_center, 'cost_center') ?? '(none)'} → ${cc} from ${this.opts.date}`,
      );
    }
    return team;
  }

  /** The Group's own annotation, the mapping, or the nearest ancestor Group's annotation. */
  private costCenterOf(g: Entity): string | null {
    const seen = new Set<string>();
    for (let cur: Entity | undefined = g; cur && !seen.has(entityKey(cur)); ) {
      seen.add(entityKey(cur));
      const mapped = this.opts.costCenters?.[cur.name];
      const cc = mapped ?? cur.annotations[ANNOTATIONS.costCenter];
      if (cc) return cc;
      const parent: EntityRef | null = cur.parent ? parseRef(cur.parent, 'group', cur.namespace) : null;
      cur = parent ? this.byKey.get(refKey(parent)) : undefined;
    }
    return null;
  }

  applications(): AppOut[] {
    const prev = new Map((this.previous?.applications ?? []).map((a) => [a.id, a]));
    const out = new Map<string, AppOut>();
    for (const e of this.entities) {
      if (!APP_KINDS.has(e.kind)) continue;
      const id = idOf(e.namespace, e.name);
      if (out.has(id)) {
        this.problem(e, 'metadata.name', `application id ${id} is already taken by another entity`);
        continue;
      }
      const team = this.ownerTeam(e);
      if (team === null) continue;
      const app = this.application(e, id, team, prev.get(id));
      if (app) out.set(id, app);
    }
    for (const [id, old] of prev)
      if (!out.has(id)) out.set(id, this.gone(old, 'retired', `application ${id}`));
    return sortById([...out.values()]);
  }

  private application(e: Entity, id: string, team: string, old: AppOut | undefined): AppOut | null {
    const since = this.ownerSince(e);
    if (since === undefined) return null;
    const name = e.title ?? e.name;
    if (!old) {
      this.changes.push(`+ application ${id} (${e.kind}, owner ${team}${since ? ` from ${since}` : ''})`);
      return { id, name, owner: [{ team, ...(since ? { from: since } : {}) }] };
    }
    const app: AppOut = { ...old, name };
    delete app.retired;
    const current = old.owner.at(-1);
    if (current?.team === team && current.until === undefined) return app;
    const from = since ?? this.opts.date;
    if (current?.from !== undefined && from <= current.from) {
      this.problem(
        e,
        `metadata.annotations.${ANNOTATIONS.ownerSince}`,
        `${from} is not after the current owner's start ${current.from}: past periods are never rewritten`,
      );
      return old;
    }
    app.owner = appendDated(old.owner, 'team', team, from) as DatedOut<'team'>[];
    this.changes.push(`~ application ${id}: owner ${current?.team ?? '(none)'} → ${team} from ${from}`);
    return app;
  }

  /** The owning Group's team id; a User or a missing Group is a problem. Components fall back to their System's owner. */
  private ownerTeam(e: Entity): string | null {
    let ownerRef = e.owner;
    if (!ownerRef && e.system) {
      const sys = parseRef(e.system, 'system', e.namespace);
      ownerRef = sys ? (this.byKey.get(refKey(sys))?.owner ?? null) : null;
    }
    if (!ownerRef) {
      this.problem(e, 'spec.owner', 'is required (a Group)');
      return null;
    }
    const ref = parseRef(ownerRef, 'group', e.namespace);
    if (!ref) {
      this.problem(e, 'spec.owner', `${JSON.stringify(ownerRef)} is not an entity reference`);
      return null;
    }
    if (ref.kind !== 'group') {
      this.problem(
        e,
        'spec.owner',
        `${ownerRef} is a ${ref.kind}: tally charges teams, so the owner must be a Group`,
      );
      return null;
    }
    if (!this.byKey.has(refKey(ref))) {
      this.problem(e, 'spec.owner', `group ${ref.namespace}/${ref.name} is not in the catalog`);
      return null;
    }
    return idOf(ref.namespace, ref.name);
  }

  /** The owner-since date (YYYY-MM-DD), null when not given, undefined when invalid (a problem is recorded). */
  private ownerSince(e: Entity): string | null | undefined {
    const raw = e.annotations[ANNOTATIONS.ownerSince];
    if (raw === undefined) return null;
    const m = /^(\d{4}-\d{2}-\d{2})(?:T.*)?$/.exec(raw.trim());
    if (!m?.[1] || Number.isNaN(Date.parse(`${m[1]}T00:00:00Z`))) {
      this.problem(
        e,
        `metadata.annotations.${ANNOTATIONS.ownerSince}`,
        `must be a date YYYY-MM-DD, got ${JSON.stringify(raw)}`,
      );
      return undefined;
    }
    return m[1];
  }

  identities(apps: ReadonlySet<string>): IdentityOut[] {
    const prev = new Map((this.previous?.identities ?? []).map((i) => [i.id, i]));
    const out = new Map<string, IdentityOut>();
    for (const e of this.entities) {
      if (!APP_KINDS.has(e.kind)) continue;
      const application = idOf(e.namespace, e.name);
      if (!apps.has(application)) continue;
      const identity = this.identity(e, application, prev.get(`nhi-${application}`));
      if (identity) out.set(identity.id, identity);
    }
    for (const [id, old] of prev) if (!out.has(id)) out.set(id, old);
    return sortById([...out.values()]);
  }

  private identity(e: Entity, application: string, old: IdentityOut | undefined): IdentityOut | null {
    const match = this.selectors(e);
    if (match.length === 0 && !old) return null;
    const a = e.annotations;
    const id = `nhi-${application}`;
    const identity: IdentityOut = {
      id,
      kind:
        a[ANNOTATIONS.kind] ??
        (a[ANNOTATIONS.agents] ? 'agent' : a[ANNOTATIONS.apiKeys] ? 'api_key' : 'service_account'),
      application,
      environment: a[ANNOTATIONS.environment] ?? environmentOf(e.lifecycle),
      ...(a[ANNOTATIONS.shared] === 'true' ? { shared: true } : {}),
      ...(a[ANNOTATIONS.tenants] ? { tenants: listAnnotation(a[ANNOTATIONS.tenants]) } : {}),
      ...(a[ANNOTATIONS.models] ? { models: listAnnotation(a[ANNOTATIONS.models]) } : {}),
      match: mergeSelectors(old?.match ?? [], match),
      ...(old?.lifecycle ? { lifecycle: old.lifecycle } : {}),
    };
    if (!old) this.changes.push(`+ identity ${id} (${identity.match.map(selectorText).join(', ')})`);
    else {
      const added = identity.match.length - old.match.length;
      if (added > 0) this.changes.push(`~ identity ${id}: ${added} selector(s) added`);
      const kept = old.match.filter((s) => !match.some((m) => sameSelector(m, s)));
      if (kept.length > 0)
        this.changes.push(
          `! identity ${id}: ${kept.map(selectorText).join(', ')} no longer in the catalog, kept (selectors are not dated; remove by hand once invoiced)`,
        );
    }
    return identity;
  }

  private selectors(e: Entity): Record<string, string>[] {
    const a = e.annotations;
    const out: Record<string, string>[] = [];
    for (const key of listAnnotation(a[ANNOTATIONS.apiKeys])) {
      if (redactSecrets(key) !== key) {
        this.problem(
          e,
          `metadata.annotations.${ANNOTATIONS.apiKeys}`,
          'holds a raw key: give its SHA-256 (as LiteLLM shows it) instead; the value is not written',
        );
        continue;
      }
      out.push({ api_key: key.toLowerCase() });
    }
    for (const service of listAnnotation(a[ANNOTATIONS.services])) out.push({ service });
    for (const agent of listAnnotation(a[ANNOTATIONS.agents])) out.push({ agent });
    for (const project of listAnnotation(a[ANNOTATIONS.projects])) out.push({ project });
    return out;
  }

  private gone<T extends { id: string }>(old: T, field: 'offboarded' | 'retired', what: string): T {
    const entry = old as T & Record<string, unknown>;
    if (entry[field] !== undefined) return old;
    this.changes.push(`- ${what}: no longer in the catalog, ${field} ${this.opts.date}`);
    return { ...old, [field]: this.opts.date };
  }

  /** A team that owns applications but has no cost center gets `no_cost_center_at_time`: say so now. */
  warnUnfunded(teams: readonly TeamOut[], apps: readonly AppOut[]): void {
    const owners = new Set(apps.filter((a) => a.retired === undefined).map((a) => a.owner.at(-1)?.team));
    for (const t of teams)
      if (owners.has(t.id) && t.cost_center === undefined)
        this.changes.push(
          `! team ${t.id} owns applications but has no cost center (annotate ${ANNOTATIONS.costCenter} on it or an ancestor group, or map it with --cost-centers)`,
        );
  }

  costCenterList(teams: readonly TeamOut[]): { id: string; name: string }[] {
    const ids = new Set<string>();
    for (const t of teams) {
      const cc = t.cost_center;
      if (typeof cc === 'string') ids.add(cc);
      else for (const d of cc ?? []) ids.add(d.cost_center);
    }
    const known = this.opts.knownCostCenters ?? new Set();
    const prev = new Map((this.previous?.cost_centers ?? []).map((c) => [c.id, c]));
    return [...ids]
      .filter((id) => !known.has(id))
      .sort()
      .map((id) => prev.get(id) ?? { id, name: id });
  }

  private of(kind: Entity['kind']): Entity[] {
    return this.entities.filter((e) => e.kind === kind);
  }
}

function environmentOf(lifecycle: string | null): string {
  return lifecycle === 'experimental' ? 'experimentation' : 'production';
}

function currentRef<K extends string>(v: string | DatedOut<K>[] | undefined, key: K): string | null {
  if (v === undefined) return null;
  if (typeof v === 'string') return v;
  const last = v.at(-1);
  return last && last.until === undefined ? last[key] : null;
}

/** Closes the open entry at `from` and opens one for `ref`; earlier entries stay as they were. */
function appendDated<K extends string>(
  v: string | DatedOut<K>[] | undefined,
  key: K,
  ref: string,
  from: string,
): DatedOut<K>[] {
  const list: DatedOut<K>[] =
    v === undefined ? [] : typeof v === 'string' ? [{ [key]: v } as DatedOut<K>] : v.map((d) => ({ ...d }));
  const open = list.at(-1);
  if (open && open.until === undefined) open.until = from;
  list.push({ [key]: ref, from } as DatedOut<K>);
  return list;
}

function sameSelector(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).sort();
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function mergeSelectors(old: readonly Record<string, string>[], now: readonly Record<string, string>[]) {
  const out = [...old];
  for (const s of now) if (!out.some((o) => sameSelector(o, s))) out.push(s);
  return out;
}

function selectorText(s: Record<string, string>): string {
  return Object.entries(s)
    .map(([k, v]) => `${k} ${v}`)
    .join(' + ');
}

function sortById<T extends { id: string }>(list: T[]): T[] {
  return list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

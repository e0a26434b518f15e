/**
 * The read side of the API with the team scoping rule (SPEC §9): a team
 * token sees only lines, events and figures charged to its own team, and
 * totals recomputed from those alone — never the organisation's.
 */
import type { Config } from '../core/config.js';
import { formatMoney, type Money } from '../core/money.js';
import { iso, type Level, statementJson, sumLines, totalsOf } from '../core/statement.js';
import { computeStatement } from '../service/statement.js';
import type { Store } from '../store/store.js';
import type { Principal } from './access.js';
import { HttpError } from './errors.js';
import type { Window } from './params.js';

/**
 * The team a request is limited to: a team token's own team (asking for
 * another is a 403), or the `team` a finance/admin caller asked for.
 */
export function scopeTeam(p: Principal, requested: string | null): string | null {
  if (p.role === 'team') {
    if (requested !== null && requested !== p.team)
      throw new HttpError('forbidden', 'a team token can only read its own team');
    return p.team;
  }
  return requested;
}

export async function statementFor(
  store: Store,
  config: Config,
  window: Window,
  level: Level,
  team: string | null,
): Promise<unknown> {
  const { statement } = await computeStatement(store, config, window, {
    level: team === null ? level : 'line',
  });
  if (team === null) return { ...(statementJson(statement) as object), scope: null };
  const lines = sumLines(
    statement.lines.filter((l) => l.team === team),
    level,
  );
  const totals = totalsOf(lines);
  const scoped = {
    ...statement,
    level,
    lines,
    totals,
    inputs: { ...statement.inputs, events: totals.events },
  };
  return { ...(statementJson(scoped) as object), scope: { team } };
}

const DAY = 86_400_000;

/** Effective cost per UTC day and team; pool shares are per period, not per day, so they are left out. */
export async function dailySpend(
  store: Store,
  config: Config,
  window: Window,
  team: string | null,
): Promise<unknown> {
  const { charges } = await computeStatement(store, config, window, { byDay: true });
  const first = Math.floor(window.start / DAY) * DAY;
  const days: number[] = [];
  for (let d = first; d < window.end; d += DAY) days.push(d);
  const index = new Map(days.map((d, i) => [d, i]));
  const series = new Map<string | null, Money[]>();
  for (const c of charges) {
    if (team !== null && c.team !== team) continue;
    const i = index.get(c.day ?? Math.floor(c.time / DAY) * DAY);
    if (i === undefined) continue;
    let costs = series.get(c.team);
    if (!costs) {
      costs = days.map(() => 0n);
      series.set(c.team, costs);
    }
    costs[i] = (costs[i] as Money) + c.effective_cost;
  }
  if (team !== null && !series.has(team))
    series.set(
      team,
      days.map(() => 0n),
    );
  const order = [...series.keys()].sort((a, b) =>
    a === null ? 1 : b === null ? -1 : a < b ? -1 : a > b ? 1 : 0,
  );
  return {
    period: { start: iso(window.start), end: iso(window.end) },
    currency: config.currency,
    scope: team === null ? null : { team },
    days: days.map((d) => new Date(d).toISOString().slice(0, 10)),
    series: order.map((t) => ({ team: t, costs: (series.get(t) as Money[]).map((m) => formatMoney(m)) })),
  };
}

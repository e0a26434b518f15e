/**
 * The read side of the API with the team scoping rule (SPEC §9): a team
 * token sees only lines, events and figures charged to its own team, and
 * totals recomputed from those alone — never the organisation's.
 */

import type { Status } from '../core/attribution.js';
import type { Config } from '../core/config.js';
import { formatMoney, type Money, parseMoney } from '../core/money.js';
import {
  centsText,
  type DiffersFromIssued,
  iso,
  type Level,
  type Statement,
  statementJsonText,
  sumLines,
  totalsOf,
} from '../core/statement.js';
import { computeStatementEach, computeStatementOnly } from '../service/statement.js';
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
): Promise<Iterable<string>> {
  const { statement } = await computeStatementOnly(store, config, window, {
    level: team === null ? level : 'line',
  });
  const shown = team === null ? statement : statementOfTeam(statement, team, level);
  // In chunks, compact: a month's line-level statement is hundreds of megabytes of JSON.
  return statementJsonText(shown, { space: 0, extra: { scope: team === null ? null : { team } } });
}

/** A line-level statement as a team sees it: its own lines summed to `level`, totals recomputed from them alone. */
export function statementOfTeam(statement: Statement, team: string, level: Level): Statement {
  const mine = statement.lines.filter((l) => l.team === team);
  const lines = sumLines(mine, level);
  const totals = totalsOf(lines);
  return {
    ...statement,
    level,
    lines,
    totals,
    inputs: { ...statement.inputs, events: totals.events },
    differs_from_issued: teamDiffers(statement, team, totals.effective_cost),
  };
}

/**
 * What a team sees of `differs_from_issued`: its own change only (its lines
 * now against its lines as issued), never the organisation's.
 */
function teamDiffers(s: Statement, team: string, now: Money): DiffersFromIssued | null {
  const d = s.differs_from_issued;
  if (!d?.issuedLines) return null;
  const then = d.issuedLines
    .filter((l) => l.team === team)
    .reduce((a, l) => a + parseMoney(l.effective_cost), 0n);
  return now === then ? null : { version: d.version, effective_cost_delta: now - then };
}

const DAY = 86_400_000;

type Series = { team: string | null; status: Status; costs: Money[] };

/**
 * Direct cost per UTC day: one series per team for its attributed usage, and
 * disputed and unattributed money as series of their own (SPEC §9), never
 * stacked into a team's spend. Pool shares are per month, not per day, so
 * they are left out; `total_cents` is the statement's direct cost in cents.
 */
export async function dailySpend(
  store: Store,
  config: Config,
  window: Window,
  team: string | null,
): Promise<unknown> {
  const first = Math.floor(window.start / DAY) * DAY;
  const days: number[] = [];
  for (let d = first; d < window.end; d += DAY) days.push(d);
  const index = new Map(days.map((d, i) => [d, i]));
  const series = new Map<string, Series>();
  const seriesOf = (t: string | null, status: Status): Series => {
    const k = `${status}\u0000${t ?? ''}`;
    let s = series.get(k);
    if (!s) {
      s = { team: t, status, costs: days.map(() => 0n) };
      series.set(k, s);
    }
    return s;
  };
  if (team !== null) seriesOf(team, 'attributed');
  // Each charge is added to its day as it is made, not kept: a month's are millions (5.2 GB held).
  const { statement } = await computeStatementEach(store, config, window, { byDay: true }, (c) => {
    if (team !== null && c.team !== team) return;
    const i = index.get(c.day ?? Math.floor(c.time / DAY) * DAY);
    if (i === undefined) return;
    const s = seriesOf(c.status === 'attributed' ? c.team : null, c.status);
    s.costs[i] = (s.costs[i] as Money) + c.direct_cost;
  });
  const rank = (s: Series) =>
    s.status === 'attributed' ? (s.team === null ? 1 : 0) : s.status === 'disputed' ? 2 : 3;
  const order = [...series.values()].sort((a, b) =>
    rank(a) !== rank(b) ? rank(a) - rank(b) : (a.team ?? '') < (b.team ?? '') ? -1 : 1,
  );
  const lines = team === null ? statement.lines : statement.lines.filter((l) => l.team === team);
  return {
    period: { start: iso(window.start), end: iso(window.end) },
    currency: config.currency,
    scope: team === null ? null : { team },
    days: days.map((d) => new Date(d).toISOString().slice(0, 10)),
    series: order.map((s) => ({
      team: s.team,
      status: s.status,
      costs: s.costs.map((m) => formatMoney(m)),
    })),
    total_cents: centsText(lines.reduce((a, l) => a + l.cents.direct_cost, 0n)),
  };
}

/**
 * Team scoping of signals and replays: what a team token may see of them.
 */
import type { Money } from '../core/money.js';
import type { Replay, ReplayNode, ReplayTotals, ReplayTrace } from '../core/replay.js';
import type { Signal } from '../core/signals/signal.js';

export function signalsOfTeam(signals: readonly Signal[], team: string | null): Signal[] {
  return team === null ? [...signals] : signals.filter((s) => s.team === team);
}

/**
 * The replay as the team sees it: only spans charged to the team, each
 * hung under its nearest kept ancestor (or a root), signals of the team
 * only, and totals recomputed from its spans.
 */
export function replayOfTeam(r: Replay, team: string): Replay {
  const signalIndex = new Map<number, number>();
  const signals: Signal[] = [];
  r.signals.forEach((s, i) => {
    if (s.team !== team) return;
    signalIndex.set(i, signals.length);
    signals.push(s);
  });
  const kept: ReplayNode[] = [];
  const prune = (n: ReplayNode): ReplayNode[] => {
    const children = n.children.flatMap(prune);
    if (n.team !== team) return children;
    const node: ReplayNode = {
      ...n,
      children,
      signals: n.signals.flatMap((i) => (signalIndex.has(i) ? [signalIndex.get(i) as number] : [])),
    };
    kept.push(node);
    return [node];
  };
  const traces: ReplayTrace[] = [];
  for (const t of r.traces) {
    const roots = t.roots.flatMap(prune);
    if (roots.length === 0) continue;
    const cost = sum(roots, (n) => (n.selected ? n.cost : 0n));
    traces.push({ ...t, roots, cost });
  }
  return { ...r, traces, signals, spans: kept.length, totals: totalsOf(kept.filter((n) => n.selected)) };
}

function sum(roots: readonly ReplayNode[], f: (n: ReplayNode) => Money): Money {
  let s = 0n;
  const walk = (n: ReplayNode) => {
    s += f(n);
    n.children.forEach(walk);
  };
  roots.forEach(walk);
  return s;
}

function totalsOf(selected: readonly ReplayNode[]): ReplayTotals {
  const t: ReplayTotals = {
    events: 0,
    effective: 0n,
    legitimate: 0n,
    disputed: 0n,
    unattributed: 0n,
    billed: 0n,
    unpricedEvents: 0,
    byReason: [],
  };
  const reasons = new Map<string, ReplayTotals['byReason'][number]>();
  for (const n of selected) {
    t.events++;
    t.effective += n.cost;
    t.billed += n.billed;
    if (!n.priced) t.unpricedEvents++;
    if (n.verdict.status === 'attributed') t.legitimate += n.cost;
    else if (n.verdict.status === 'disputed') t.disputed += n.cost;
    else t.unattributed += n.cost;
    const key = `${n.verdict.status}\u0000${n.verdict.reason ?? ''}`;
    const entry = reasons.get(key) ?? {
      status: n.verdict.status,
      reason: n.verdict.reason,
      events: 0,
      cost: 0n,
    };
    entry.events++;
    entry.cost += n.cost;
    reasons.set(key, entry);
  }
  const order = { attributed: 0, disputed: 1, unattributed: 2 } as const;
  t.byReason = [...reasons.values()].sort(
    (a, b) =>
      order[a.status] - order[b.status] ||
      ((a.reason ?? '') < (b.reason ?? '') ? -1 : (a.reason ?? '') > (b.reason ?? '') ? 1 : 0),
  );
  return t;
}

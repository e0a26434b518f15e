/**
 * Team scoping of signals and replays: what a team token may see of them.
 */
import type { Money } from '../core/money.js';
import { type Replay, type ReplayNode, type ReplayTrace, replayTotals } from '../core/replay.js';
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
  return { ...r, traces, signals, spans: kept.length, totals: replayTotals(kept.filter((n) => n.selected)) };
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

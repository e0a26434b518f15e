/**
 * Team scoping of signals, replays and explanations: what a team token may see of them.
 */
import type { ExplanationJson } from '../core/explain.js';
import type { Money } from '../core/money.js';
import type { Registry } from '../core/registry.js';
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

/**
 * What a team sees of an explanation of its own event: of the registry's
 * selectors, only the event's own identity's and those of identities its team
 * owned at the event's time; other teams' key prefixes and names are not its
 * business.
 */
export function explanationOfTeam(x: ExplanationJson, registry: Registry, team: string): ExplanationJson {
  const time = Date.parse(String(x.event.time));
  const ours = (id: string) => {
    const identity = registry.config.identities.find((i) => i.id === id);
    const owner = identity ? registry.owner(identity, time) : null;
    return owner?.ok === true && owner.chain.team === team;
  };
  const identity = x.identity;
  return {
    ...x,
    identity: {
      ...identity,
      matched: identity.matched.filter((m) => m.chosen || ours(m.identity)),
      near_misses: identity.near_misses.filter((m) => ours(m.identity)),
    },
  };
}

/**
 * The trace-tree half of attribution (SPEC §4.3, §4.4) for spans held in
 * memory: the invoker that pays for a shared identity's span (the nearest
 * ancestor whose identity can pay) and the tenant claim a span inherits (its
 * nearest ancestor's). The statement does the same walk in SQL
 * (src/store/duckdb/usage-sql.ts); replay and the server's drill-down, which
 * look at a handful of traces, use this one.
 */
import type { Registry } from './registry.js';
import type { SelectorTuple } from './usage.js';

const MAX_DEPTH = 64;

/** What a span needs to carry for the walk: its place in the tree, its claim and its selectors. */
export interface SpanLike extends SelectorTuple {
  trace_id: string | null;
  span_id: string | null;
  parent_span_id: string | null;
  tenant: string | null;
}

interface Node {
  parent: string | null;
  tenant: string | null;
  tuple: SelectorTuple;
  canPay: boolean;
}

/** One ancestor the walk looked at (`node` null: the parent span is not stored). */
export interface WalkStep {
  span_id: string;
  node: Readonly<Node> | null;
}

export function tupleOf(e: SelectorTuple): SelectorTuple {
  return { api_key: e.api_key, service: e.service, agent: e.agent, project: e.project };
}

export class TraceIndex {
  private readonly nodes = new Map<string, Node>();

  constructor(
    private readonly registry: Registry,
    private readonly invoker: boolean,
  ) {}

  /** Adds spans; a span stored twice can pay if either copy's selectors can. */
  add(spans: Iterable<SpanLike>): this {
    for (const s of spans) {
      if (s.trace_id === null || s.span_id === null) continue;
      const key = `${s.trace_id}\u0000${s.span_id}`;
      const tuple = tupleOf(s);
      const canPay = this.canPay(tuple);
      const known = this.nodes.get(key);
      if (known) known.canPay ||= canPay;
      else this.nodes.set(key, { parent: s.parent_span_id, tenant: s.tenant, tuple, canPay });
    }
    return this;
  }

  /** Whether the span's identity is shared, so that an invoker pays for it (under `workflow_rollup: invoker`). */
  wantsPayer(s: SpanLike): boolean {
    if (!this.invoker || s.trace_id === null) return false;
    const r = this.registry.resolve(tupleOf(s));
    return r.kind === 'identity' && r.identity.shared;
  }

  /** Whether the walk needs the span's ancestors at all. */
  needsWalk(s: SpanLike): boolean {
    return s.trace_id !== null && s.parent_span_id !== null && (s.tenant === null || this.wantsPayer(s));
  }

  /**
   * The span's payer (null when none was found or none is wanted) and its
   * tenant claim, own or inherited; `steps`, when given, receives every
   * ancestor looked at, nearest first (what `tally explain` shows).
   */
  walk(
    s: SpanLike,
    steps?: WalkStep[],
  ): { shared: boolean; payer: SelectorTuple | null; tenant: string | null } {
    const shared = this.wantsPayer(s);
    let payer: SelectorTuple | null = null;
    let tenant = s.tenant;
    let next = s.trace_id === null ? null : s.parent_span_id;
    for (
      let depth = 1;
      depth < MAX_DEPTH && next !== null && ((shared && payer === null) || tenant === null);
      depth++
    ) {
      const n = this.nodes.get(`${s.trace_id}\u0000${next}`);
      steps?.push({ span_id: next, node: n ?? null });
      if (!n) break;
      if (shared && payer === null && n.canPay) payer = n.tuple;
      tenant ??= n.tenant;
      next = n.parent;
    }
    return { shared, payer, tenant };
  }

  private canPay(t: SelectorTuple): boolean {
    const r = this.registry.resolve(t);
    return r.kind === 'identity' && !r.identity.shared;
  }
}

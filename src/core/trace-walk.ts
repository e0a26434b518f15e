/**
 * The trace-tree half of attribution (SPEC §4.3, §4.4) for spans held in
 * memory: the invoker that pays for a shared identity's span (the nearest
 * ancestor whose identity can pay) and the tenant claim a span inherits (its
 * nearest ancestor's). The statement does the same walk in SQL
 * (src/store/duckdb/usage-sql.ts); replay and the server's drill-down, which
 * look at a handful of traces, use this one. It also finds the wrappers
 * (core/ai-work.ts): the spans that a token-carrying span has as its nearest
 * token-carrying ancestor.
 *
 * A span stored more than once (events of other sources or ids, trace links,
 * with the same trace and span ids) is one node of the tree, the same
 * whatever order its copies arrive in, here and in the stores' SQL: its
 * parent is the smallest parent span id its copies name, its tenant claim
 * the smallest claim they carry (texts compared by code point, as the
 * databases compare bytes of UTF-8); it can pay when some copy's selectors
 * can, and then pays as the first such copy in `tupleOrder`; it carries
 * tokens when some copy does.
 */
import { carriesTokens } from './ai-work.js';
import type { Registry } from './registry.js';
import type { SelectorTuple } from './usage.js';

const MAX_DEPTH = 64;

/** What a span needs to carry for the walk: its place in the tree, its claim and its selectors. */
export interface SpanLike extends SelectorTuple {
  trace_id: string | null;
  span_id: string | null;
  parent_span_id: string | null;
  tenant: string | null;
  /** Whether the span carries tokens: given by a store's trace span, else read from an event's counts. */
  usage?: boolean;
  input_tokens?: number;
  output_tokens?: number;
}

interface Node {
  parent: string | null;
  tenant: string | null;
  tuple: SelectorTuple;
  canPay: boolean;
  usage: boolean;
}

/** One ancestor the walk looked at (`node` null: the parent span is not stored). */
export interface WalkStep {
  span_id: string;
  node: Readonly<Node> | null;
}

export function tupleOf(e: SelectorTuple): SelectorTuple {
  return { api_key: e.api_key, service: e.service, agent: e.agent, project: e.project };
}

/** Whether a span carries tokens (core/ai-work.ts). */
function usageOf(s: SpanLike): boolean {
  if (s.usage !== undefined) return s.usage;
  return carriesTokens({ input_tokens: s.input_tokens ?? 0, output_tokens: s.output_tokens ?? 0 });
}

const keyOf = (trace: string, span: string) => `${trace}\u0000${span}`;

/** The order of selector tuples among a span's paying copies (the stores' SQL ranks payers by it). */
export function tupleOrder(a: SelectorTuple, b: SelectorTuple): number {
  const ka = JSON.stringify([a.api_key, a.service, a.agent, a.project]);
  const kb = JSON.stringify([b.api_key, b.service, b.agent, b.project]);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Two texts compared by code point (UTF-16 code units order a character past U+FFFF before U+E000–U+FFFF). */
export function codePointOrder(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

/** A UTF-16 code unit's place in code point order: surrogates (characters past U+FFFF) after U+E000–U+FFFF. */
const rank = (u: number) => (u >= 0xe000 ? u - 0x800 : u >= 0xd800 ? u + 0x2000 : u);

/** The smaller of two optional texts by code point; a missing one never wins. */
function smaller(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return codePointOrder(b, a) < 0 ? b : a;
}

export class TraceIndex {
  private readonly nodes = new Map<string, Node>();
  /** The wrappers' keys, each with a token-carrying span below it; found on first use after the last `add`. */
  private wrappers: Map<string, string> | null = null;

  constructor(
    private readonly registry: Registry,
    private readonly invoker: boolean,
  ) {}

  /** Adds spans; a span stored more than once is one node, merged as the module's comment says. */
  add(spans: Iterable<SpanLike>): this {
    this.wrappers = null;
    for (const s of spans) {
      if (s.trace_id === null || s.span_id === null) continue;
      const key = keyOf(s.trace_id, s.span_id);
      const tuple = tupleOf(s);
      const canPay = this.canPay(tuple);
      const usage = usageOf(s);
      const known = this.nodes.get(key);
      if (!known) {
        this.nodes.set(key, { parent: s.parent_span_id, tenant: s.tenant, tuple, canPay, usage });
        continue;
      }
      known.parent = smaller(known.parent, s.parent_span_id);
      known.tenant = smaller(known.tenant, s.tenant);
      if (canPay && (!known.canPay || tupleOrder(tuple, known.tuple) < 0)) known.tuple = tuple;
      known.canPay ||= canPay;
      known.usage ||= usage;
    }
    return this;
  }

  /**
   * Whether the span is a wrapper (core/ai-work.ts). Exact when every span
   * of its trace was added: the spans below it decide.
   */
  isWrapper(s: SpanLike): boolean {
    return this.wrapped(s) !== null;
  }

  /** A token-carrying span whose nearest token-carrying ancestor is this span (null: not a wrapper). */
  wrapped(s: SpanLike): string | null {
    if (s.trace_id === null || s.span_id === null || !usageOf(s)) return null;
    this.wrappers ??= this.findWrappers();
    return this.wrappers.get(keyOf(s.trace_id, s.span_id)) ?? null;
  }

  /** Each token-carrying span walks up to its nearest token-carrying ancestor and marks it. */
  private findWrappers(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [key, n] of this.nodes) {
      if (!n.usage) continue;
      const cut = key.indexOf('\u0000');
      const trace = key.slice(0, cut);
      let next = n.parent;
      for (let depth = 1; depth < MAX_DEPTH && next !== null; depth++) {
        const up = keyOf(trace, next);
        const p = this.nodes.get(up);
        if (!p) break;
        if (p.usage) {
          if (!out.has(up)) out.set(up, key.slice(cut + 1));
          break;
        }
        next = p.parent;
      }
    }
    return out;
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
  ): { shared: boolean; payer: SelectorTuple | null; tenant: string | null; wrapper: boolean } {
    const shared = this.wantsPayer(s);
    let payer: SelectorTuple | null = null;
    let tenant = s.tenant;
    let next = s.trace_id === null ? null : s.parent_span_id;
    for (
      let depth = 1;
      depth < MAX_DEPTH && next !== null && ((shared && payer === null) || tenant === null);
      depth++
    ) {
      const n = this.nodes.get(keyOf(s.trace_id as string, next));
      steps?.push({ span_id: next, node: n ?? null });
      if (!n) break;
      if (shared && payer === null && n.canPay) payer = n.tuple;
      tenant ??= n.tenant;
      next = n.parent;
    }
    return { shared, payer, tenant, wrapper: this.isWrapper(s) };
  }

  private canPay(t: SelectorTuple): boolean {
    const r = this.registry.resolve(t);
    return r.kind === 'identity' && !r.identity.shared;
  }
}

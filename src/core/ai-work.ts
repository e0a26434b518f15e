/**
 * Which spans are AI work, and as what operation (SPEC §3.2). One rule for
 * every producer: the official OpenTelemetry GenAI instrumentations,
 * OpenLLMetry (old and current conventions), the Vercel AI SDK, OpenLIT,
 * LangSmith's OTel export and OpenInference. The OTLP mapper reads the
 * attributes; this module only decides. docs/producers.md describes each
 * producer.
 *
 * Aggregates (a span whose usage is the sum of AI spans below it: a
 * framework's wrapper around the provider call, an agent or workflow span)
 * are recognised from the span itself, so that the answer does not depend on
 * which spans arrived first; they are given an orchestration operation
 * (`invoke_workflow`, `invoke_agent`), which is stored and shown but never
 * priced as tokens (AGGREGATE_OPERATIONS). Any other span whose usage is an
 * aggregate is found from its trace (wrappers, below).
 */
import { AGGREGATE_OPERATIONS } from './event.js';

/** What a span says about itself, as read from its attributes (null: absent). */
export interface SpanSignals {
  /** The span name. */
  name: string | null;
  /** `gen_ai.operation.name`. */
  operation: string | null;
  /** `ai.operationId` (Vercel AI SDK). */
  vercelOperation: string | null;
  /** `llm.request.type` (OpenLLMetry before its semantic-convention migration). */
  requestType: string | null;
  /** `openinference.span.kind` (OpenInference). */
  openinferenceKind: string | null;
  /** `traceloop.span.kind` (OpenLLMetry's workflow, task, agent and tool decorators). */
  traceloopKind: string | null;
  /** `gen_ai.provider.name`, `gen_ai.system` or a producer's own provider attribute. */
  provider: string | null;
  /** Whether any model attribute is set. */
  hasModel: boolean;
  /** Whether the span reports token usage, under any of the conventions read. */
  hasTokens: boolean;
  /** Whether it reports output (completion) tokens. */
  hasOutputTokens: boolean;
}

/**
 * Frameworks that some producers name as the span's system: a span of theirs
 * wraps the provider call that the provider's own instrumentation reports
 * (OpenLIT's LangChain integration puts its own token estimate on such a
 * `chat` span), so its usage is an aggregate.
 */
const FRAMEWORKS: ReadonlySet<string> = new Set([
  'langchain',
  'langgraph',
  'llama_index',
  'llamaindex',
  'haystack',
  'crewai',
  'ag2',
  'autogen',
  'dspy',
  'mem0',
  'letta',
  'phidata',
  'agno',
  'julep',
  'controlflow',
  'multion',
]);

/** Vercel AI SDK function spans: the outer span of a call, an aggregate of its provider calls. */
const VERCEL_OUTER: ReadonlySet<string> = new Set([
  'ai.generateText',
  'ai.streamText',
  'ai.generateObject',
  'ai.streamObject',
  'ai.embed',
  'ai.embedMany',
]);

const OPENINFERENCE: Readonly<Record<string, string>> = {
  llm: 'chat',
  embedding: 'embeddings',
  retriever: 'retrieval',
  tool: 'execute_tool',
  agent: 'invoke_agent',
  reranker: 'rerank',
};

const REQUEST_TYPES: Readonly<Record<string, string>> = {
  chat: 'chat',
  completion: 'text_completion',
  embedding: 'embeddings',
  rerank: 'rerank',
};

/** The operation of an AI-work span, or null when the span is not AI work. */
export function aiWorkOperation(s: SpanSignals): string | null {
  const vercel = vercelOperation(s);
  if (vercel !== undefined) return vercel;
  if (s.hasTokens && s.provider !== null && FRAMEWORKS.has(s.provider.toLowerCase()))
    return 'invoke_workflow';
  if (s.operation !== null) return s.operation;
  const oi = s.openinferenceKind?.toLowerCase();
  if (oi !== undefined) {
    const op = OPENINFERENCE[oi];
    if (op !== undefined) return op;
    if (s.hasTokens) return 'invoke_workflow';
  }
  if (s.requestType !== null) return REQUEST_TYPES[s.requestType.toLowerCase()] ?? s.requestType;
  const tl = s.traceloopKind?.toLowerCase();
  if (tl === 'tool') return 'execute_tool';
  if (tl !== undefined && s.hasTokens) return tl === 'agent' ? 'invoke_agent' : 'invoke_workflow';
  if (s.hasModel && s.hasTokens) return s.hasOutputTokens ? 'chat' : 'embeddings';
  return null;
}

/**
 * The Vercel AI SDK names its spans after the SDK function (`ai.operationId`,
 * also the span name): `…doGenerate` / `…doStream` are provider calls,
 * `…doEmbed` embedding calls, the function's own span their aggregate.
 * Undefined when the span is not the SDK's.
 */
function vercelOperation(s: SpanSignals): string | null | undefined {
  const id = s.vercelOperation ?? (s.name?.startsWith('ai.') ? s.name : null);
  if (id === null || !id.startsWith('ai.')) return undefined;
  if (/\.do(?:Generate|Stream)$/.test(id)) return 'chat';
  if (id.endsWith('.doEmbed')) return 'embeddings';
  if (VERCEL_OUTER.has(id)) return 'invoke_workflow';
  if (id === 'ai.toolCall') return 'execute_tool';
  return undefined;
}

/** Whether a span is a Vercel AI SDK span (its provider names carry an API suffix: `openai.chat`). */
export function isVercelSpan(s: Pick<SpanSignals, 'name' | 'vercelOperation'>): boolean {
  return (s.vercelOperation ?? s.name ?? '').startsWith('ai.');
}

/**
 * Wrappers (SPEC §3.2): an event that carries tokens and has another event
 * that carries tokens below it in its trace (a descendant, reached through
 * spans of any kind) reports the usage of the calls below it again: a
 * framework's span around the provider call whatever the framework, an
 * agent or workflow span. Which spans arrive first does not matter, because
 * the rule is applied when the spans are read, never at ingest. Each store
 * finds them with one walk per token-carrying span, up to its nearest
 * ancestor that carries tokens (core/trace-walk.ts in memory; the stores'
 * SQL for the statement and the signals), and marks it.
 *
 * The columns whose counts make an event carry tokens (cache, reasoning and
 * audio tokens are parts of these), for the stores' SQL to test.
 */
export const TOKEN_COLUMNS = ['input_tokens', 'output_tokens'] as const;

/** Whether an event carries tokens (what makes it a wrapper's child, or a wrapper). */
export function carriesTokens(e: { input_tokens: number; output_tokens: number }): boolean {
  return e.input_tokens > 0 || e.output_tokens > 0;
}

/**
 * Whether an event's usage is an aggregate, never priced as tokens nor as
 * units (its children's are priced there): an orchestration operation, or a
 * wrapper whatever its operation. Its per-call unit price (a run's or a
 * tool's fee, SPEC §4.8) still applies.
 */
export function isAggregate(operation: string, wrapper: boolean | undefined): boolean {
  return wrapper === true || AGGREGATE_OPERATIONS.has(operation);
}

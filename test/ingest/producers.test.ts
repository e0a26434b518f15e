// Real producers' OTLP exports (test/fixtures/otlp/, sources in
// test/fixtures/README.md): which spans are AI work, as what operation, with
// which tokens, identity and parent, and their cost at the catalog's list
// price, worked out by hand here. docs/producers.md is the matrix.
import { describe, expect, it } from 'vitest';
import type { TraceLink, UsageEvent } from '../../src/core/event.js';
import { formatMoney, type Money } from '../../src/core/money.js';
import { PriceBook } from '../../src/core/pricing.js';
import { parseFile } from '../../src/ingest/index.js';
import { collect, fixture, NOW, parseText } from './helpers.js';

const CATALOG = new PriceBook({ models: [], discounts: [], units: [] });
const AT = Date.parse('2026-10-05T12:00:00Z');

interface Read {
  events: UsageEvent[];
  ignored: number;
  links: TraceLink[];
}

async function read(name: string): Promise<Read> {
  const c = await collect(parseFile(fixture('otlp', name), 'auto', { now: NOW, skipInvalid: false }));
  expect(c.rejected).toEqual([]);
  return { events: c.events, ignored: c.ignored, links: c.chunks.flatMap((ch) => ch.links ?? []) };
}

/** Each event's list cost in the catalog, as a decimal string. */
function listCosts(events: readonly UsageEvent[]): string[] {
  return events.map((e) => formatMoney(CATALOG.price(e).listCost));
}

function total(events: readonly UsageEvent[]): string {
  return formatMoney(events.reduce((s: Money, e) => s + CATALOG.price(e).listCost, 0n));
}

const span = (e: UsageEvent) => [e.span_id, e.parent_span_id];

describe('OpenTelemetry GenAI, Python openai-v2', () => {
  it('maps the chat and embeddings spans and keeps the FastAPI server span as a trace link', async () => {
    const { events, ignored, links } = await read('otel-python-openai-v2.json');
    expect(ignored).toBe(1);
    expect(links).toEqual([expect.objectContaining({ span_id: 'b7ad6b7169203331', service: 'support-bot' })]);
    expect(events).toMatchObject([
      {
        id: '0af7651916cd43dd8448eb211c80319c:00f067aa0ba902b7',
        source: 'otlp',
        time: AT + 100,
        operation: 'chat',
        provider: 'openai',
        model: 'gpt-4o-mini-2024-07-18',
        input_tokens: 12,
        output_tokens: 5,
        service: 'support-bot',
        environment: 'production',
      },
      { operation: 'embeddings', model: 'text-embedding-3-small', input_tokens: 4, output_tokens: 0 },
    ]);
    expect(events.map(span)).toEqual([
      ['00f067aa0ba902b7', 'b7ad6b7169203331'],
      ['53995c3f42cd8ad8', 'b7ad6b7169203331'],
    ]);
    // gpt-4o-mini $0.15 / $0.60 per million: 12 × 0.15 + 5 × 0.60 = 4.8 µ$;
    // text-embedding-3-small $0.02 per million: 4 × 0.02 = 0.08 µ$.
    expect(listCosts(events)).toEqual(['0.0000048', '0.00000008']);
  });
});

describe('OpenTelemetry GenAI, JS openai through a SimpleSpanProcessor', () => {
  it('reads one request per span: the gateway call is an event, both HTTP spans trace links', async () => {
    const { events, ignored, links } = await read('otel-js-openai-one-span-per-request.jsonl');
    expect(ignored).toBe(2);
    expect(links).toEqual([
      {
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        span_id: 'a2fb4a1d1a96d312',
        parent_span_id: '7a085853722dc6d2',
        tenant: null,
        api_key: null,
        service: 'llm-gateway',
        agent: null,
        project: null,
      },
      {
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        span_id: '7a085853722dc6d2',
        parent_span_id: null,
        tenant: 'tenant-acme',
        api_key: null,
        service: 'checkout-web',
        agent: null,
        project: null,
      },
    ]);
    expect(events).toMatchObject([
      {
        operation: 'chat',
        provider: 'openai',
        model: 'gpt-4o-mini-2024-07-18',
        input_tokens: 22,
        output_tokens: 3,
        service: 'llm-gateway',
        span_id: 'd75597dee50b0cac',
        parent_span_id: 'a2fb4a1d1a96d312',
      },
    ]);
    // 22 × 0.15 + 3 × 0.60 = 5.1 µ$.
    expect(listCosts(events)).toEqual(['0.0000051']);
  });
});

describe('OpenLLMetry before its semantic-convention migration', () => {
  it('takes llm.request.type, prompt/completion tokens and the older llm.* names', async () => {
    const { events, ignored, links } = await read('openllmetry-legacy.json');
    expect(ignored).toBe(1); // the workflow span of @workflow
    expect(links.map((l) => l.span_id)).toEqual(['e457b5a2e4d86bd1']);
    expect(events).toMatchObject([
      {
        operation: 'chat',
        provider: 'openai', // `OpenAI` lower-cased
        model: 'gpt-4o-2024-08-06',
        input_tokens: 1250,
        output_tokens: 310,
        service: 'rag-service',
        parent_span_id: 'e457b5a2e4d86bd1',
      },
      { operation: 'embeddings', model: 'text-embedding-3-small', input_tokens: 48, output_tokens: 0 },
      { operation: 'text_completion', model: 'gpt-3.5-turbo-instruct', input_tokens: 20, output_tokens: 10 },
    ]);
    // gpt-4o $2.50 / $10: 1250 × 2.5 + 310 × 10 = 6225 µ$; embeddings 48 × 0.02 = 0.96 µ$;
    // gpt-3.5-turbo-instruct $1.50 / $2: 20 × 1.5 + 10 × 2 = 50 µ$.
    expect(listCosts(events)).toEqual(['0.006225', '0.00000096', '0.00005']);
    expect(JSON.stringify(events)).not.toContain('refund policy');
  });
});

describe('OpenLLMetry after its semantic-convention migration', () => {
  it('maps the GenAI attributes with cached input', async () => {
    const { events, ignored } = await read('openllmetry-current.json');
    expect(ignored).toBe(1);
    expect(events).toMatchObject([
      {
        operation: 'chat',
        provider: 'openai',
        input_tokens: 2000,
        cache_read_tokens: 500,
        output_tokens: 150,
        parent_span_id: 'f568c6b3f5e97ce2',
      },
    ]);
    // 1500 uncached × 0.15 + 500 cached × 0.075 + 150 × 0.60 = 225 + 37.5 + 90 = 352.5 µ$.
    expect(listCosts(events)).toEqual(['0.0003525']);
  });
});

describe('Vercel AI SDK', () => {
  it('prices the doGenerate / doStream / doEmbed calls and keeps the function spans as unpriced aggregates', async () => {
    const { events, ignored } = await read('vercel-ai-sdk.json');
    expect(ignored).toBe(0);
    expect(
      events.map((e) => [e.operation, e.provider, e.model, e.input_tokens, e.output_tokens, ...span(e)]),
    ).toEqual([
      ['invoke_workflow', 'openai', 'gpt-4o', 180, 40, '5d6e7f8091a2b3c4', null],
      ['chat', 'openai', 'gpt-4o-2024-08-06', 180, 40, '6e7f8091a2b3c4d5', '5d6e7f8091a2b3c4'],
      ['execute_tool', null, null, 0, 0, '7f8091a2b3c4d5e6', '5d6e7f8091a2b3c4'],
      ['invoke_workflow', 'anthropic', 'claude-3-5-haiku-20241022', 95, 25, '8091a2b3c4d5e6f7', null],
      ['chat', 'anthropic', 'claude-3-5-haiku-20241022', 95, 25, '91a2b3c4d5e6f708', '8091a2b3c4d5e6f7'],
      ['invoke_workflow', 'openai', 'text-embedding-3-small', 8, 0, 'a2b3c4d5e6f70819', null],
      ['embeddings', 'openai', 'text-embedding-3-small', 8, 0, 'b3c4d5e6f708192a', 'a2b3c4d5e6f70819'],
    ]);
    expect(events[2]?.tool).toBe('lookupOrder');
    expect(events.every((e) => e.service === 'next-app')).toBe(true);
    // gpt-4o 180 × 2.5 + 40 × 10 = 850 µ$; claude-3-5-haiku $0.80 / $4: 95 × 0.8 + 25 × 4 = 176 µ$;
    // text-embedding-3-small 8 × 0.02 = 0.16 µ$; the outer spans and the tool call: 0.
    expect(listCosts(events)).toEqual(['0.00', '0.00085', '0.00', '0.00', '0.000176', '0.00', '0.00000016']);
    expect(total(events)).toBe('0.00102616');
  });
});

describe('OpenLIT with its LangChain integration', () => {
  it("counts the provider call once: LangChain's own estimate is an unpriced aggregate", async () => {
    const { events } = await read('openlit-langchain.json');
    expect(events).toMatchObject([
      { operation: 'invoke_workflow', provider: 'langchain', input_tokens: 45, output_tokens: 12 },
      {
        operation: 'chat',
        provider: 'openai',
        model: 'gpt-4o-mini-2024-07-18',
        input_tokens: 38,
        output_tokens: 11,
        service: 'travel-agent',
        parent_span_id: 'c4d5e6f708192a3b',
      },
    ]);
    // Only the OpenAI call: 38 × 0.15 + 11 × 0.60 = 5.7 + 6.6 = 12.3 µ$ (OpenLIT's own gen_ai.usage.cost is not read).
    expect(total(events)).toBe('0.0000123');
  });
});

describe("LangSmith's OTel export", () => {
  it('maps the llm run as chat and the chain run as an event without cost', async () => {
    const { events, ignored } = await read('langsmith-otel.json');
    expect(ignored).toBe(0);
    expect(events).toMatchObject([
      {
        operation: 'chain',
        provider: 'langchain',
        model: null,
        input_tokens: 0,
        span_id: 'e6f708192a3b4c5d',
      },
      {
        operation: 'chat',
        provider: 'openai',
        model: 'gpt-4o-mini',
        input_tokens: 28,
        output_tokens: 9,
        service: 'faq-bot',
        parent_span_id: 'e6f708192a3b4c5d',
      },
    ]);
    // 28 × 0.15 + 9 × 0.60 = 4.2 + 5.4 = 9.6 µ$.
    expect(listCosts(events)).toEqual(['0.00', '0.0000096']);
  });
});

describe('OpenInference', () => {
  it('reads llm.token_count.* by span kind; the CHAIN span is a trace link', async () => {
    const { events, ignored, links } = await read('openinference.json');
    expect(ignored).toBe(1);
    expect(links.map((l) => l.span_id)).toEqual(['08192a3b4c5d6e7f']);
    expect(events).toMatchObject([
      {
        operation: 'embeddings',
        provider: 'openai',
        model: 'text-embedding-3-small',
        input_tokens: 16,
        parent_span_id: '08192a3b4c5d6e7f',
      },
      {
        operation: 'chat',
        model: 'gpt-4o-mini-2024-07-18',
        input_tokens: 120,
        cache_read_tokens: 64,
        output_tokens: 30,
        service: 'docs-search',
      },
    ]);
    // 16 × 0.02 = 0.32 µ$; 56 uncached × 0.15 + 64 cached × 0.075 + 30 × 0.60 = 8.4 + 4.8 + 18 = 31.2 µ$.
    expect(listCosts(events)).toEqual(['0.00000032', '0.0000312']);
    expect(JSON.stringify(events)).not.toContain('rotate a key');
  });
});

describe('the OpenTelemetry LangChain instrumentation over the openai-v2 instrumentation', () => {
  it('reads both chat spans of one request, the LangChain one above; the wrapper is priced as an aggregate', async () => {
    const { events, ignored, links } = await read('langchain-over-openai-v2.jsonl');
    expect(ignored).toBe(1);
    expect(links.map((l) => [l.span_id, l.service])).toEqual([['e4c1f5a6b7d80913', 'travel-planner']]);
    const fields = {
      operation: 'chat',
      provider: 'openai',
      model: 'gpt-3.5-turbo-0125',
      input_tokens: 24,
      output_tokens: 7,
    };
    expect(events).toMatchObject([
      { ...fields, service: 'travel-planner', environment: 'production' },
      { ...fields, service: 'travel-planner' },
    ]);
    expect(events.map(span)).toEqual([
      ['051581bf3cb55c13', 'bd2a2b4c7e1f9a02'],
      ['bd2a2b4c7e1f9a02', 'e4c1f5a6b7d80913'],
    ]);
    // gpt-3.5-turbo-0125 $0.50 / $1.50 per million: 24 × 0.50 + 7 × 1.50 = 22.5 µ$ each when read alone;
    // in the store the LangChain span is a wrapper (test/store/wrappers.test.ts): nothing.
    expect(listCosts(events)).toEqual(['0.0000225', '0.0000225']);
    expect(formatMoney(CATALOG.price({ ...(events[1] as UsageEvent), wrapper: true }).listCost)).toBe('0.00');
  });
});

describe('the OpenInference LlamaIndex instrumentation over the openai-v2 instrumentation', () => {
  it('reads the LLM span with its token details above the openai-v2 chat span; the CHAIN span is a link', async () => {
    const { events, ignored, links } = await read('llamaindex-over-openai-v2.json');
    expect(ignored).toBe(1);
    expect(links.map((l) => l.span_id)).toEqual(['1a2b3c4d5e6f7081']);
    expect(events).toMatchObject([
      {
        operation: 'chat',
        provider: 'openai',
        model: 'gpt-4o-mini',
        input_tokens: 9,
        output_tokens: 10,
        cache_read_tokens: 1,
        reasoning_tokens: 3,
        service: 'kb-assistant',
      },
      {
        operation: 'chat',
        provider: 'openai',
        model: 'gpt-4o-mini-2024-07-18',
        input_tokens: 9,
        output_tokens: 10,
      },
    ]);
    expect(events.map(span)).toEqual([
      ['2b3c4d5e6f708192', '1a2b3c4d5e6f7081'],
      ['3c4d5e6f708192a3', '2b3c4d5e6f708192'],
    ]);
    // Read alone, gpt-4o-mini ($0.15 / $0.075 cached / $0.60): the LLM span 8 × 0.15 + 1 × 0.075 + 10 × 0.60
    // = 7.275 µ$ (audio and reasoning at the text rates); the openai-v2 span 9 × 0.15 + 10 × 0.60 = 7.35 µ$.
    expect(listCosts(events)).toEqual(['0.000007275', '0.00000735']);
  });
});

describe('a file where no span is AI work', () => {
  it('stores no event, counts every span as ignored and keeps their links', async () => {
    const { events, ignored, links } = await read('http-only.json');
    expect(events).toEqual([]);
    expect(ignored).toBe(2);
    expect(links.map((l) => [l.span_id, l.parent_span_id])).toEqual([
      ['3b4c5d6e7f8091a2', null],
      ['4c5d6e7f8091a2b3', '3b4c5d6e7f8091a2'],
    ]);
  });
});

describe('a record that is not an OTLP request', () => {
  it('is refused naming its fields, a raw key among them shown as its fingerprint', async () => {
    const raw = 'sk-proj-Abc123Def456Ghi789Jkl';
    const c = await parseText(`{"request_id": "r1", "${raw}": 1}\n`, 'otlp', { skipInvalid: true });
    expect(c.events).toEqual([]);
    expect(c.rejected.map((r) => [r.problem.record, r.problem.field])).toEqual([[1, 'resourceSpans']]);
    expect(c.rejected[0]?.problem.reason).toMatch(/not an OTLP traces request \(its fields: request_id, /);
    expect(c.rejected[0]?.problem.reason).not.toContain(raw);
  });
});

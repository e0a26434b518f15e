// Spans made with the OpenTelemetry JS SDK, for the OTLP tests.

import { context, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

export interface GenAiCall {
  service: string;
  model?: string;
  input: number;
  output?: number;
  operation?: string;
  tenant?: string;
  extra?: Record<string, string | number | boolean | string[]>;
}

/** Emits one trace per call through `processor` (a root span `invoke_agent` with the call as its child). */
export function emitCalls(processor: SpanProcessor, calls: readonly GenAiCall[], at?: number): void {
  for (const c of calls) {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        'service.name': c.service,
        'deployment.environment.name': 'production',
      }),
      spanProcessors: [processor],
    });
    const tracer = provider.getTracer('tally-test');
    const startTime = at === undefined ? undefined : new Date(at);
    const root = tracer.startSpan('invoke_agent helper', {
      startTime,
      attributes: { 'gen_ai.operation.name': 'invoke_agent' },
    });
    const child = tracer.startSpan(
      `chat ${c.model ?? 'm1'}`,
      {
        startTime,
        attributes: {
          'gen_ai.operation.name': c.operation ?? 'chat',
          'gen_ai.provider.name': 'acme',
          'gen_ai.request.model': c.model ?? 'm1',
          'gen_ai.usage.input_tokens': c.input,
          'gen_ai.usage.output_tokens': c.output ?? 0,
          ...(c.tenant ? { 'tenant.id': c.tenant } : {}),
          ...c.extra,
        },
      },
      trace.setSpan(context.active(), root),
    );
    child.end(startTime);
    root.end(startTime);
  }
}

/** The finished spans of `calls`, without exporting them anywhere. */
export function spansOf(calls: readonly GenAiCall[], at: number): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  emitCalls(new SimpleSpanProcessor(exporter), calls, at);
  return exporter.getFinishedSpans();
}

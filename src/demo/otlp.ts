/**
 * OTLP/HTTP JSON encoding of spans (ids as hex, int64 as decimal strings,
 * attributes as AnyValue) and a writer that streams them into files of
 * bounded size, each one `{"resourceSpans":[…]}` document.
 */
import path from 'node:path';
import { FileSink } from './sink.js';

export const SPAN_KIND = { internal: 1, server: 2, client: 3 } as const;

export type Attr = [key: string, value: string | number | string[] | null | undefined];

function anyValue(v: string | number | string[]): string {
  if (typeof v === 'number') return `{"intValue":"${v}"}`;
  if (Array.isArray(v))
    return `{"arrayValue":{"values":[${v.map((s) => `{"stringValue":${JSON.stringify(s)}}`).join(',')}]}}`;
  return `{"stringValue":${JSON.stringify(v)}}`;
}

export function attributes(attrs: readonly Attr[]): string {
  const parts: string[] = [];
  for (const [k, v] of attrs)
    if (v !== null && v !== undefined) parts.push(`{"key":"${k}","value":${anyValue(v)}}`);
  return `[${parts.join(',')}]`;
}

export interface SpanSpec {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: number;
  /** Start, epoch ms, plus sub-millisecond nanoseconds (0–999 999) for realistic timestamps. */
  startMs: number;
  subNs: number;
  durationMs: number;
  attrs: readonly Attr[];
  error: string | null;
  /** The W3C `tracestate` of a sampled span, e.g. `ot=th:e6666666666666`. */
  traceState?: string;
}

const nanos = (ms: number, subNs: number) => `${ms}${String(subNs).padStart(6, '0')}`;

export function spanJson(s: SpanSpec): string {
  const parent = s.parentSpanId ? `"parentSpanId":"${s.parentSpanId}",` : '';
  const state = s.traceState ? `"traceState":"${s.traceState}",` : '';
  const status = s.error ? `{"code":2,"message":${JSON.stringify(s.error)}}` : '{}';
  return (
    `{"traceId":"${s.traceId}","spanId":"${s.spanId}",${state}${parent}"name":${JSON.stringify(s.name)},"kind":${s.kind},` +
    `"startTimeUnixNano":"${nanos(s.startMs, s.subNs)}","endTimeUnixNano":"${nanos(s.startMs + s.durationMs, s.subNs)}",` +
    `"attributes":${attributes(s.attrs)},"status":${status}}`
  );
}

/** One service's resource with the spans it exported in one batch. */
export function resourceSpansJson(
  resource: readonly Attr[],
  scope: string,
  spans: readonly string[],
): string {
  return (
    `{"resource":{"attributes":${attributes(resource)}},"scopeSpans":[{"scope":{"name":"${scope}","version":"1.0.0"},` +
    `"spans":[${spans.join(',')}]}]}`
  );
}

/** Writes numbered OTLP files, starting a new one when a week begins or a file is full. */
export class OtlpFiles {
  readonly written: string[] = [];
  private sink: FileSink | null = null;
  private spans = 0;
  private part = 0;
  private week = 0;

  constructor(
    private readonly dir: string,
    private readonly prefix: string,
    private readonly maxSpansPerFile: number,
  ) {}

  async startWeek(week: number): Promise<void> {
    await this.close();
    this.part = 0;
    await this.open(week);
  }

  private async open(week: number): Promise<void> {
    this.week = week;
    this.part++;
    const name = `${this.prefix}-w${week}-${String(this.part).padStart(3, '0')}.json`;
    this.sink = await FileSink.create(path.join(this.dir, name));
    this.sink.write('{"resourceSpans":[');
    this.spans = 0;
    this.written.push(name);
  }

  async add(resourceSpans: string, count: number): Promise<void> {
    if (!this.sink) throw new Error('OtlpFiles.add before startWeek');
    if (this.spans > 0 && this.spans + count > this.maxSpansPerFile) {
      await this.close();
      await this.open(this.week);
    }
    const sink = this.sink as FileSink;
    sink.write(this.spans === 0 ? resourceSpans : `,${resourceSpans}`);
    this.spans += count;
    await sink.maybeFlush();
  }

  async close(): Promise<void> {
    if (!this.sink) return;
    this.sink.write(']}\n');
    await this.sink.close();
    this.sink = null;
  }
}

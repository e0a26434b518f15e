/**
 * Ingestion: bytes in any supported format to canonical usage events
 * (SPEC §3), streamed in chunks with flat memory, every record validated
 * and every problem located (file, line or record, field, reason).
 */
import { open } from 'node:fs/promises';
import { InputError, type Problem } from '../core/errors.js';
import type { TraceLink, UsageEvent } from '../core/event.js';
import { mapAnthropicReport } from './anthropic-usage.js';
import { canonicalEvent, checkCanonicalHeader } from './canonical.js';
import { csvRecords } from './csv.js';
import { DETECT_HEAD_CHARS, detectFormat, type Format } from './detect.js';
import { isObject, toProblem, type Where } from './fields.js';
import { type JsonRecord, jsonRecords } from './json-records.js';
import { litellmEvent } from './litellm.js';
import { litellmPayloadEvent } from './litellm-callback.js';
import { mapOpenAiPage } from './openai-usage.js';
import { mapOtlpRequest } from './otlp.js';
import type { Sink } from './sink.js';
import { decodeText, peekText } from './text.js';

export { detectFormat, FORMATS, type Format } from './detect.js';

export interface ParseOptions {
  /** Name used in messages. */
  file: string;
  /** Epoch ms, for the far-future check. */
  now: number;
  skipInvalid: boolean;
  /** Events per chunk; default 10 000. */
  chunkSize?: number;
}

export interface Rejected {
  problem: Problem;
  /** The offending record's text, for a quarantine file. */
  raw: string;
}

export interface ParsedChunk {
  events: UsageEvent[];
  rejected: Rejected[];
  /** Records that are valid but not usage: OTLP spans that are not AI work (SPEC §3.2). */
  ignored?: number;
  /** The trace links of the ignored spans that have usable ids. */
  links?: TraceLink[];
}

/** Without --skip-invalid, scanning stops after this many problems. */
const MAX_PROBLEMS = 100;

class Accumulator implements Sink {
  events: UsageEvent[] = [];
  rejected: Rejected[] = [];
  ignored = 0;
  links: TraceLink[] = [];
  readonly problems: Problem[] = [];

  constructor(private readonly skipInvalid: boolean) {}

  event(e: UsageEvent): void {
    if (this.problems.length === 0) this.events.push(e);
  }

  reject(problem: Problem, raw: string): void {
    if (this.skipInvalid) {
      this.rejected.push({ problem, raw });
      return;
    }
    // Nothing of an invalid file is stored: stop collecting events, go on collecting problems.
    this.problems.push(problem);
    this.events = [];
    this.links = [];
    if (this.problems.length >= MAX_PROBLEMS) throw new InputError(this.problems);
  }

  ignore(link: TraceLink | null): void {
    this.ignored++;
    if (link && this.problems.length === 0) this.links.push(link);
  }

  /** Full chunks of `size` events (or rejections), ready to hand out. */
  *full(size: number): Generator<ParsedChunk> {
    while (
      this.problems.length === 0 &&
      (this.events.length >= size || this.rejected.length >= size || this.links.length >= size)
    ) {
      yield this.take(size);
    }
  }

  take(size: number): ParsedChunk {
    const chunk: ParsedChunk = {
      events: this.events.length > size ? this.events.splice(0, size) : this.events,
      rejected: this.rejected.length > size ? this.rejected.splice(0, size) : this.rejected,
      ignored: this.ignored,
      links: this.links.length > size ? this.links.splice(0, size) : this.links,
    };
    if (chunk.events === this.events) this.events = [];
    if (chunk.rejected === this.rejected) this.rejected = [];
    if (chunk.links === this.links) this.links = [];
    this.ignored = 0;
    return chunk;
  }

  get pending(): boolean {
    return this.events.length > 0 || this.rejected.length > 0 || this.ignored > 0 || this.links.length > 0;
  }
}

/**
 * Streams chunks. When !skipInvalid and any record is invalid, it keeps
 * scanning to collect problems (up to 100), then throws InputError with all
 * of them; the caller's store transaction rolls back, so nothing is stored.
 * With skipInvalid, invalid records are returned in `rejected` and never
 * thrown. A file-level fault (unknown format, a CSV header with unknown
 * columns) is thrown either way.
 */
export async function* parseStream(
  input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
  format: Format | 'auto',
  opts: ParseOptions,
): AsyncGenerator<ParsedChunk> {
  const size = opts.chunkSize ?? 10_000;
  let text: AsyncIterable<string> = decodeText(input, opts.file);
  let fmt: Format;
  if (format === 'auto') {
    const peek = await peekText(text, (head) => head.length >= DETECT_HEAD_CHARS);
    fmt = detectFormat(peek.head, opts.file);
    text = peek.all;
  } else {
    fmt = format;
  }
  const acc = new Accumulator(opts.skipInvalid);
  for await (const _ of feed(fmt, text, opts, acc)) yield* acc.full(size);
  if (acc.problems.length > 0) throw new InputError(acc.problems);
  yield* acc.full(size);
  if (acc.pending) yield acc.take(size);
}

export async function* parseFile(
  path: string,
  format: Format | 'auto',
  opts: Omit<ParseOptions, 'file'> & { file?: string },
): AsyncGenerator<ParsedChunk> {
  const file = opts.file ?? path;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      throw new InputError([{ file, reason: 'is a directory, not a file' }]);
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError([
      { file, reason: `cannot read the file (${code === 'ENOENT' ? 'no such file' : (code ?? String(e))})` },
    ]);
  }
  yield* parseStream(handle.createReadStream({ highWaterMark: 1 << 20 }), format, { ...opts, file });
}

/**
 * For the HTTP server: an OTLP ExportTraceServiceRequest already decoded as
 * a JS object (from JSON or protobuf). Never throws for bad spans: they come
 * back in `rejected` whatever `skipInvalid` says, for a partial-success reply.
 */
export function otlpRequestToEvents(req: unknown, opts: ParseOptions): ParsedChunk {
  const sink = new Accumulator(true);
  mapOtlpRequest(req, { file: opts.file, record: 0, recordKind: 'record' }, '', opts.now, sink);
  return { events: sink.events, rejected: sink.rejected, ignored: sink.ignored, links: sink.links };
}

/** For the HTTP server: one canonical event from a JSON value. */
export function canonicalRecordToEvent(
  rec: unknown,
  where: { file: string; record: number; recordKind: Problem['recordKind'] },
  now: number,
): UsageEvent | Problem {
  try {
    return canonicalEvent(rec, false, now);
  } catch (e) {
    return toProblem(e, { file: where.file, record: where.record, recordKind: where.recordKind ?? 'record' });
  }
}

/** For the HTTP server: one LiteLLM logging payload (its generic API callback) from a JSON value. */
export function litellmPayloadToEvent(rec: unknown, where: Where, now: number): UsageEvent | Problem {
  try {
    return litellmPayloadEvent(rec, now);
  } catch (e) {
    return toProblem(e, where);
  }
}

/** Feeds the sink; yields after each batch so the caller can hand out chunks. */
async function* feed(
  fmt: Format,
  text: AsyncIterable<string>,
  opts: ParseOptions,
  sink: Sink,
): AsyncGenerator<void> {
  if (fmt === 'csv') {
    yield* feedCsv(text, opts, sink, 'canonical');
    return;
  }
  if (fmt === 'litellm') {
    // LiteLLM rows come as JSON (API, export) or CSV (table export).
    // Bounded: a file of blanks must not be read into memory while looking for its first character.
    const peek = await peekText(
      text,
      (head) => head.length >= DETECT_HEAD_CHARS || head.trimStart().length > 0,
    );
    const c = peek.head.trimStart()[0];
    if (c !== '[' && c !== '{') {
      yield* feedCsv(peek.all, opts, sink, 'litellm');
      return;
    }
    text = peek.all;
  }
  for await (const batch of jsonRecords(text, opts.file)) {
    for (const r of batch) {
      if (r.problem) sink.reject(r.problem, r.raw);
      else mapJson(fmt, r, opts.now, sink);
    }
    yield;
  }
}

function mapJson(fmt: Format, r: JsonRecord, now: number, sink: Sink): void {
  switch (fmt) {
    case 'otlp':
      mapOtlpRequest(r.value, r.where, r.raw, now, sink);
      return;
    case 'openai-usage':
      mapOpenAiPage(r.value, r.where, r.raw, now, sink);
      return;
    case 'anthropic-usage':
      mapAnthropicReport(r.value, r.where, r.raw, now, sink);
      return;
    case 'litellm': {
      const v = r.value;
      // A paged `/spend/logs` reply wraps its rows in `data`.
      if (isObject(v) && v.request_id === undefined && Array.isArray(v.data)) {
        for (const [i, row] of v.data.entries()) {
          mapRow(() => litellmEvent(row, now), r.where, JSON.stringify(row) ?? '', sink, `data[${i}].`);
        }
      } else {
        mapRow(() => litellmEvent(v, now), r.where, r.raw, sink);
      }
      return;
    }
    default:
      mapRow(() => canonicalEvent(r.value, false, now), r.where, r.raw, sink);
  }
}

function mapRow(build: () => UsageEvent, where: Where, raw: string, sink: Sink, fieldPrefix = ''): void {
  let e: UsageEvent;
  try {
    e = build();
  } catch (err) {
    sink.reject(toProblem(err, where, fieldPrefix), raw);
    return;
  }
  sink.event(e);
}

async function* feedCsv(
  text: AsyncIterable<string>,
  opts: ParseOptions,
  sink: Sink,
  kind: 'canonical' | 'litellm',
): AsyncGenerator<void> {
  let header: string[] | undefined;
  for await (const batch of csvRecords(text, opts.file)) {
    for (const r of batch) {
      const where: Where = { file: opts.file, record: r.line, recordKind: 'line' };
      if (r.problem) {
        sink.reject(r.problem, r.raw);
        continue;
      }
      if (!header) {
        header = r.cells.map((h) => h.trim());
        checkHeader(header, kind, where);
        continue;
      }
      if (r.cells.length !== header.length) {
        sink.reject(
          { ...where, reason: `the row has ${r.cells.length} cells, the header ${header.length}` },
          r.raw,
        );
        continue;
      }
      const rec: Record<string, string | null> = {};
      for (let i = 0; i < header.length; i++) {
        const cell = r.cells[i] as string;
        rec[header[i] as string] = cell === '' ? null : cell;
      }
      if (kind === 'canonical') mapRow(() => canonicalEvent(rec, true, opts.now), where, r.raw, sink);
      else mapRow(() => litellmEvent(rec, opts.now), where, r.raw, sink);
    }
    yield;
  }
}

/** A bad header spoils every row, so it is a file error even with --skip-invalid. */
function checkHeader(header: string[], kind: 'canonical' | 'litellm', where: Where): void {
  try {
    if (kind === 'canonical') checkCanonicalHeader(header);
    else if (!header.includes('request_id'))
      throw new InputError([{ ...where, field: 'request_id', reason: 'required column is missing' }]);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError([toProblem(e, where)]);
  }
}

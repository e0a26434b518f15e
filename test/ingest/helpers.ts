import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { emptyEvent, type UsageEvent } from '../../src/core/event.js';
import {
  type Format,
  type ParsedChunk,
  parseFile,
  parseStream,
  type Rejected,
} from '../../src/ingest/index.js';

export const NOW = Date.parse('2026-11-01T00:00:00Z');
export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export function fixture(...parts: string[]): string {
  return path.join(FIXTURES, ...parts);
}

export interface Collected {
  events: UsageEvent[];
  rejected: Rejected[];
  ignored: number;
  chunks: ParsedChunk[];
}

export async function collect(chunks: AsyncIterable<ParsedChunk>): Promise<Collected> {
  const out: Collected = { events: [], rejected: [], ignored: 0, chunks: [] };
  for await (const c of chunks) {
    out.chunks.push(c);
    out.events.push(...c.events);
    out.rejected.push(...c.rejected);
    out.ignored += c.ignored ?? 0;
  }
  return out;
}

export function readFixture(format: Format | 'auto', ...parts: string[]): Promise<Collected> {
  return collect(parseFile(fixture(...parts), format, { now: NOW, skipInvalid: false }));
}

/** Feeds `text` as Buffers of `size` bytes, so records and multi-byte characters straddle chunks. */
export async function* bytes(text: string, size: number): AsyncGenerator<Buffer> {
  const all = Buffer.from(text, 'utf8');
  for (let i = 0; i < all.length; i += size) yield all.subarray(i, i + size);
}

export function parseText(
  text: string,
  format: Format | 'auto',
  opts: { skipInvalid?: boolean; chunkSize?: number; size?: number; file?: string } = {},
): Promise<Collected> {
  return collect(
    parseStream(bytes(text, opts.size ?? 1 << 16), format, {
      file: opts.file ?? 'input.txt',
      now: NOW,
      skipInvalid: opts.skipInvalid ?? false,
      ...(opts.chunkSize === undefined ? {} : { chunkSize: opts.chunkSize }),
    }),
  );
}

/** An event with the defaults of an absent field, for exact expectations. */
export function ev(fields: Partial<UsageEvent> & Pick<UsageEvent, 'id' | 'source' | 'time'>): UsageEvent {
  return { ...emptyEvent(fields.id, fields.source, fields.time), ...fields };
}

/**
 * Flat records (events, trace links) packed for the hand-over from a trace
 * parse worker to the main thread. Structured clone writes every record's
 * keys and every repeated string again, and reading 1,000 events back cost
 * the main thread ~1.6–3 ms; packed, the keys cross once per shape, each
 * distinct string once, the rest as numbers in typed arrays, and the records
 * are rebuilt as object literals: ~0.4–0.5 ms (docs/decisions.md, "The
 * spans' hand-over packed"). A record comes back equal to the one packed,
 * its keys in the same order (a queued message's bytes depend on it) and a
 * key whose value is `undefined` still present.
 */

import type { TraceLink, UsageEvent } from '../core/event.js';
import type { ParsedTraces } from './ingest.js';

/** A value's kind: absent is never written (the shape lists the keys present). */
const UNDEFINED = 0;
const NULL = 1;
const NUMBER = 2;
const STRING = 3;

export interface PackedRecords {
  /** The distinct key lists, in the order first seen. */
  shapes: string[][];
  /** Each record's shape. */
  shapeOf: Uint32Array;
  /** Each value's kind, record by record, key by key in its shape's order. */
  kinds: Uint8Array;
  /** Each value: the number, or the index of the string in `strings`. */
  values: Float64Array;
  strings: string[];
}

/**
 * The records packed, or null when one is not a plain object, a value is not a string, number, null
 * or undefined, or a key is `__proto__` (such records are sent as they are).
 */
export function packRecords(records: readonly object[]): PackedRecords | null {
  let n = 0;
  for (const r of records) n += Object.keys(r).length;
  const p: PackedRecords = {
    shapes: [],
    shapeOf: new Uint32Array(records.length),
    kinds: new Uint8Array(n),
    values: new Float64Array(n),
    strings: [],
  };
  const strings = new Map<string, number>();
  const shapes = new Map<string, number>();
  let at = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as Record<string, unknown>;
    if (Object.getPrototypeOf(r) !== Object.prototype) return null;
    const keys = Object.keys(r);
    const shape = shapeIndex(p, shapes, keys);
    if (shape < 0) return null;
    p.shapeOf[i] = shape;
    for (const k of keys) {
      const v = r[k];
      if (typeof v === 'string') {
        let s = strings.get(v);
        if (s === undefined) {
          s = p.strings.push(v) - 1;
          strings.set(v, s);
        }
        p.kinds[at] = STRING;
        p.values[at] = s;
      } else if (typeof v === 'number') {
        p.kinds[at] = NUMBER;
        p.values[at] = v;
      } else if (v === null) p.kinds[at] = NULL;
      else if (v === undefined) p.kinds[at] = UNDEFINED;
      else return null;
      at++;
    }
  }
  return p;
}

/** The index of a record's key list, -1 for one a literal cannot rebuild (`__proto__` would set the prototype). */
function shapeIndex(p: PackedRecords, shapes: Map<string, number>, keys: string[]): number {
  // Most records share the previous record's shape: compared key by key before any lookup.
  const last = p.shapes.length - 1;
  if (last >= 0 && sameKeys(p.shapes[last] as string[], keys)) return last;
  const id = keys.join('\0');
  let s = shapes.get(id);
  if (s === undefined) {
    if (keys.includes('__proto__')) return -1;
    s = p.shapes.push(keys) - 1;
    shapes.set(id, s);
  }
  return s;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The buffers of a packing, to transfer rather than copy. */
function packedBuffers(p: PackedRecords): ArrayBuffer[] {
  return [p.shapeOf.buffer, p.kinds.buffer, p.values.buffer] as ArrayBuffer[];
}

/** The records as packed, each rebuilt by its shape's maker. */
export function unpackRecords<T>(p: PackedRecords): T[] {
  const makers = p.shapes.map(maker);
  const out: T[] = new Array(p.shapeOf.length);
  const row: unknown[] = [];
  let at = 0;
  for (let i = 0; i < out.length; i++) {
    const shape = p.shapeOf[i] as number;
    const width = (p.shapes[shape] as string[]).length;
    for (let j = 0; j < width; j++, at++) row[j] = value(p, at);
    out[i] = (makers[shape] as Maker)(row) as T;
  }
  return out;
}

function value(p: PackedRecords, at: number): unknown {
  const kind = p.kinds[at];
  if (kind === STRING) return p.strings[p.values[at] as number];
  if (kind === NUMBER) return p.values[at];
  return kind === NULL ? null : undefined;
}

type Maker = (row: readonly unknown[]) => object;

/** Makers by shape: a server sees a handful of shapes, so the cache stays small; bounded all the same. */
const MAKERS = new Map<string, Maker>();
const MAX_MAKERS = 256;

/**
 * A function that builds a record of these keys, in this order, from a row of values: an object
 * literal, made once per shape, so that every record of a shape gets its hidden class at once
 * (assigning the keys one by one in a loop took longer than structured clone itself). The keys
 * are written as JSON strings, so no key can be anything but a property name.
 */
function maker(keys: readonly string[]): Maker {
  const id = keys.join('\0');
  let m = MAKERS.get(id);
  if (m === undefined) {
    const fields = keys.map((k, i) => `${JSON.stringify(k)}: row[${i}]`).join(', ');
    m = new Function('row', `return { ${fields} };`) as Maker;
    if (MAKERS.size >= MAX_MAKERS) MAKERS.clear();
    MAKERS.set(id, m);
  }
  return m;
}

/** A `ParsedTraces` whose events and links are packed. */
export interface PackedTraces extends Omit<ParsedTraces, 'events' | 'links'> {
  events: PackedRecords;
  links: PackedRecords;
}

/** A parsed request packed, and the buffers to transfer with it; null when its records cannot be. */
export function packTraces(parsed: ParsedTraces): { traces: PackedTraces; buffers: ArrayBuffer[] } | null {
  const events = packRecords(parsed.events);
  const links = events === null ? null : packRecords(parsed.links);
  if (events === null || links === null) return null;
  return {
    traces: { ...parsed, events, links },
    buffers: [...packedBuffers(events), ...packedBuffers(links)],
  };
}

/** The parsed request a worker packed. */
export function unpackTraces(p: PackedTraces): ParsedTraces {
  return { ...p, events: unpackRecords<UsageEvent>(p.events), links: unpackRecords<TraceLink>(p.links) };
}

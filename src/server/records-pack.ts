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
import type { ParsedEvents, ParsedTraces } from './ingest.js';

/** A value's kind: absent is never written (the shape lists the keys present). */
const UNDEFINED = 0;
const NULL = 1;
const NUMBER = 2;
const STRING = 3;
/** The previous record's string under the same key (the previous record has the same shape). */
const SAME = 4;

export interface PackedRecords {
  /** The distinct key lists, in the order first seen. */
  shapes: string[][];
  /** Each record's shape. */
  shapeOf: Uint32Array;
  /** Each value's kind, record by record, key by key in its shape's order (spare room at the end). */
  kinds: Uint8Array;
  /** Each value: the number, or the index of the string in `strings`. */
  values: Float64Array;
  strings: string[];
}

/** What packing keeps between records: the shapes by their keys, and the previous record's shape and values. */
interface Packing {
  p: PackedRecords;
  shapes: Map<string, number>;
  at: number;
  shape: number;
  last: unknown[];
}

/**
 * The records packed, or null when one is not a plain object, a value is not a string, number, null
 * or undefined, or a key is `__proto__` (such records are sent as they are).
 */
export function packRecords(records: readonly object[]): PackedRecords | null {
  const width = records.length === 0 ? 0 : Object.keys(records[0] as object).length;
  const k: Packing = {
    p: {
      shapes: [],
      shapeOf: new Uint32Array(records.length),
      kinds: new Uint8Array(records.length * width),
      values: new Float64Array(records.length * width),
      strings: [],
    },
    shapes: new Map(),
    at: 0,
    shape: -1,
    last: [],
  };
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as Record<string, unknown>;
    if (Object.getPrototypeOf(r) !== Object.prototype) return null;
    const from = k.at;
    // Most records have the previous record's keys: checked as they are read, without a key list.
    if (!(k.shape >= 0 && packSameShape(k, r))) {
      k.at = from;
      const keys = Object.keys(r);
      k.shape = shapeIndex(k, keys);
      if (k.shape < 0 || !packKeys(k, r, keys)) return null;
    }
    k.p.shapeOf[i] = k.shape;
  }
  return k.p;
}

/** Packs a record whose keys are the previous record's; false when they are not (or a value is not packable). */
function packSameShape(k: Packing, r: Record<string, unknown>): boolean {
  const keys = k.p.shapes[k.shape] as string[];
  let j = 0;
  for (const key in r) {
    if (keys[j] !== key || !packValue(k, j, r[key], true)) return false;
    j++;
  }
  return j === keys.length;
}

function packKeys(k: Packing, r: Record<string, unknown>, keys: readonly string[]): boolean {
  for (let j = 0; j < keys.length; j++) if (!packValue(k, j, r[keys[j] as string], false)) return false;
  return true;
}

/** Writes value `j` of a record; false when it is not packable. */
function packValue(k: Packing, j: number, v: unknown, sameShape: boolean): boolean {
  if (k.at === k.p.kinds.length) grow(k.p);
  const { p } = k;
  if (typeof v === 'string') {
    if (sameShape && k.last[j] === v) p.kinds[k.at] = SAME;
    else {
      p.kinds[k.at] = STRING;
      p.values[k.at] = p.strings.push(v) - 1;
    }
  } else if (typeof v === 'number') {
    p.kinds[k.at] = NUMBER;
    p.values[k.at] = v;
  } else if (v === null) p.kinds[k.at] = NULL;
  else if (v === undefined) p.kinds[k.at] = UNDEFINED;
  else return false;
  k.last[j] = v;
  k.at++;
  return true;
}

function grow(p: PackedRecords): void {
  const size = Math.max(64, p.kinds.length * 2);
  const kinds = new Uint8Array(size);
  kinds.set(p.kinds);
  const values = new Float64Array(size);
  values.set(p.values);
  p.kinds = kinds;
  p.values = values;
}

/** The index of a record's key list, -1 for one a literal cannot rebuild (`__proto__` would set the prototype). */
function shapeIndex(k: Packing, keys: string[]): number {
  const id = keys.join('\0');
  let s = k.shapes.get(id);
  if (s === undefined) {
    if (keys.includes('__proto__')) return -1;
    s = k.p.shapes.push(keys) - 1;
    k.shapes.set(id, s);
  }
  return s;
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
    // A value of kind SAME is the previous record's, still in the row.
    for (let j = 0; j < width; j++, at++) if (p.kinds[at] !== SAME) row[j] = value(p, at);
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
    m = literalMaker(keys) ?? assigningMaker(keys);
    if (MAKERS.size >= MAX_MAKERS) MAKERS.clear();
    MAKERS.set(id, m);
  }
  return m;
}

function literalMaker(keys: readonly string[]): Maker | null {
  const fields = keys.map((k, i) => `${JSON.stringify(k)}: row[${i}]`).join(', ');
  try {
    return new Function('row', `return { ${fields} };`) as Maker;
  } catch {
    // Node run with --disallow-code-generation-from-strings.
    return null;
  }
}

/** The slower maker, where code cannot be generated: the same keys in the same order. */
function assigningMaker(keys: readonly string[]): Maker {
  return (row) => {
    const r: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) r[keys[i] as string] = row[i];
    return r;
  };
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

/** A `ParsedEvents` whose events are packed. */
export interface PackedEvents extends Omit<ParsedEvents, 'events'> {
  events: PackedRecords;
}

/** A parsed events body packed, and the buffers to transfer with it; null when its records cannot be. */
export function packEvents(parsed: ParsedEvents): { packed: PackedEvents; buffers: ArrayBuffer[] } | null {
  const events = packRecords(parsed.events);
  return events === null ? null : { packed: { ...parsed, events }, buffers: packedBuffers(events) };
}

/** The parsed events body a worker packed. */
export function unpackEvents(p: PackedEvents): ParsedEvents {
  return { ...p, events: unpackRecords<UsageEvent>(p.events) };
}

/**
 * OTLP/HTTP protobuf (opentelemetry-proto collector/trace/v1): decodes an
 * ExportTraceServiceRequest into the OTLP/JSON shape (ids as hex, 64-bit
 * integers as decimal strings, bytes as base64) so that one mapping,
 * `otlpRequestToEvents`, serves both encodings; and encodes the replies.
 * Only the fields tally reads are materialised; the rest are skipped by wire
 * type, as protobuf requires of unknown fields.
 */
import { isUtf8 } from 'node:buffer';
import { TallyError } from '../core/errors.js';
import { HttpError } from './errors.js';

type Json = Record<string, unknown>;

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

/** Deepest nesting of messages (AnyValue in AnyValue…) decoded; checked before each step down. */
const MAX_DEPTH = 64;

/** Messages decoded from one request (as JSON objects and arrays are bounded in src/server/ingest.ts). */
const MAX_MESSAGES_PER_REQUEST = 1_000_000;

/** Spans in one request; a body of empty spans would otherwise cost memory per two bytes. */
export const MAX_SPANS_PER_REQUEST = 100_000;

class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
    readonly depth = 0,
    readonly count: { spans: number; messages: number } = { spans: 0, messages: 0 },
  ) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw malformed('truncated varint');
      const b = this.buf[this.pos++] as number;
      if (shift < 28) result |= (b & 0x7f) << shift;
      else result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return shift < 28 ? result >>> 0 : result;
      shift += 7;
      if (shift > 63) throw malformed('varint too long');
    }
  }

  /** A varint as a signed 64-bit decimal string (int64 fields). */
  int64(): string {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw malformed('truncated varint');
      const b = this.buf[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asIntN(64, result).toString();
      shift += 7n;
      if (shift > 63n) throw malformed('varint too long');
    }
  }

  fixed64(): string {
    if (this.pos + 8 > this.end) throw malformed('truncated fixed64');
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v.toString();
  }

  double(): number {
    if (this.pos + 8 > this.end) throw malformed('truncated double');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** The bounds of a length-delimited field. */
  len(): [number, number] {
    const n = this.varint();
    const start = this.pos;
    if (start + n > this.end) throw malformed('length beyond the message');
    this.pos = start + n;
    return [start, start + n];
  }

  string(): string {
    const [s, e] = this.len();
    // Most strings (keys, names, models) are short ASCII, read as they are without a UTF-8 check.
    if (e - s <= SHORT_STRING && isAscii(this.buf, s, e)) return this.buf.toString('latin1', s, e);
    // proto3 strings are UTF-8; invalid bytes are refused, not replaced (ids must not collide).
    if (!isUtf8(this.buf.subarray(s, e))) throw malformed('a string is not valid UTF-8');
    return this.buf.toString('utf8', s, e);
  }

  hex(): string {
    const [s, e] = this.len();
    return this.buf.toString('hex', s, e);
  }

  skip(wire: number): void {
    if (wire === VARINT) this.varint();
    else if (wire === I64) this.pos += 8;
    else if (wire === LEN) this.len();
    else if (wire === I32) this.pos += 4;
    else throw malformed(`unsupported wire type ${wire}`);
    if (this.pos > this.end) throw malformed('field beyond the message');
  }

  sub(): Reader {
    if (this.depth >= MAX_DEPTH) throw malformed(`messages nested deeper than ${MAX_DEPTH} levels`);
    if (++this.count.messages > MAX_MESSAGES_PER_REQUEST)
      throw new HttpError(
        'payload_too_large',
        `the request holds more than ${MAX_MESSAGES_PER_REQUEST} protobuf messages; send them in several requests`,
      );
    const [s, e] = this.len();
    return new Reader(this.buf, s, e, this.depth + 1, this.count);
  }
}

/** Strings up to this many bytes are checked for ASCII in JavaScript first. */
const SHORT_STRING = 64;

function isAscii(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((buf[i] as number) >= 0x80) return false;
  return true;
}

function malformed(detail: string): TallyError {
  return new TallyError('invalid_input', `not a valid OTLP protobuf ExportTraceServiceRequest: ${detail}`);
}

/** Iterates the fields of a message: calls `field(number, wire)`, which must consume or skip the value. */
function each(r: Reader, field: (no: number, wire: number) => void): void {
  while (r.pos < r.end) {
    const tag = r.varint();
    const no = tag >>> 3;
    if (no === 0) throw malformed('field number 0');
    field(no, tag & 7);
  }
}

function anyValue(r: Reader): Json {
  const v: Json = {};
  each(r, (no, wire) => {
    if (no === 1 && wire === LEN) v.stringValue = r.string();
    else if (no === 2 && wire === VARINT) v.boolValue = r.varint() !== 0;
    else if (no === 3 && wire === VARINT) v.intValue = r.int64();
    else if (no === 4 && wire === I64) v.doubleValue = r.double();
    else if (no === 5 && wire === LEN) v.arrayValue = { values: values(r.sub(), anyValue) };
    else if (no === 6 && wire === LEN) v.kvlistValue = { values: values(r.sub(), keyValue) };
    else if (no === 7 && wire === LEN) {
      const [s, e] = r.len();
      v.bytesValue = r.buf.toString('base64', s, e);
    } else r.skip(wire);
  });
  return v;
}

/** A repeated message field (field 1) of a wrapper such as ArrayValue or KeyValueList. */
function values(r: Reader, item: (r: Reader) => Json): Json[] {
  const out: Json[] = [];
  each(r, (no, wire) => {
    if (no === 1 && wire === LEN) out.push(item(r.sub()));
    else r.skip(wire);
  });
  return out;
}

function keyValue(r: Reader): Json {
  const kv: Json = { key: '' };
  each(r, (no, wire) => {
    if (no === 1 && wire === LEN) kv.key = r.string();
    else if (no === 2 && wire === LEN) kv.value = anyValue(r.sub());
    else r.skip(wire);
  });
  return kv;
}

function status(r: Reader): Json {
  const s: Json = {};
  each(r, (no, wire) => {
    if (no === 2 && wire === LEN) s.message = r.string();
    else if (no === 3 && wire === VARINT) s.code = r.varint();
    else r.skip(wire);
  });
  return s;
}

function span(r: Reader): Json {
  const s: Json = {};
  const attributes: Json[] = [];
  each(r, (no, wire) => {
    if (no === 1 && wire === LEN) s.traceId = r.hex();
    else if (no === 2 && wire === LEN) s.spanId = r.hex();
    else if (no === 3 && wire === LEN) s.traceState = r.string();
    else if (no === 4 && wire === LEN) s.parentSpanId = r.hex();
    else if (no === 5 && wire === LEN) s.name = r.string();
    else if (no === 6 && wire === VARINT) s.kind = r.varint();
    else if (no === 7 && wire === I64) s.startTimeUnixNano = r.fixed64();
    else if (no === 8 && wire === I64) s.endTimeUnixNano = r.fixed64();
    else if (no === 9 && wire === LEN) attributes.push(keyValue(r.sub()));
    else if (no === 15 && wire === LEN) s.status = status(r.sub());
    else r.skip(wire);
  });
  s.attributes = attributes;
  return s;
}

function scopeSpans(r: Reader): Json {
  const spans: Json[] = [];
  each(r, (no, wire) => {
    if (no === 2 && wire === LEN) {
      if (++r.count.spans > MAX_SPANS_PER_REQUEST)
        throw new HttpError(
          'payload_too_large',
          `the request holds more than ${MAX_SPANS_PER_REQUEST} spans; send them in several requests`,
        );
      spans.push(span(r.sub()));
    } else r.skip(wire);
  });
  return { spans };
}

function resourceSpans(r: Reader): Json {
  const rs: Json = {};
  const scopes: Json[] = [];
  each(r, (no, wire) => {
    if (no === 1 && wire === LEN) rs.resource = { attributes: values(r.sub(), keyValue) };
    // 1000 is the pre-1.0 `instrumentation_library_spans`, laid out like ScopeSpans.
    else if ((no === 2 || no === 1000) && wire === LEN) scopes.push(scopeSpans(r.sub()));
    else r.skip(wire);
  });
  rs.scopeSpans = scopes;
  return rs;
}

/** ExportTraceServiceRequest bytes → its OTLP/JSON form. Throws TallyError `invalid_input` when undecodable. */
export function decodeTraceRequest(buf: Buffer): { resourceSpans: Json[] } {
  const r = new Reader(buf, 0, buf.length);
  const out: Json[] = [];
  each(r, (no, wire) => {
    if (no === 1 && wire === LEN) out.push(resourceSpans(r.sub()));
    else r.skip(wire);
  });
  return { resourceSpans: out };
}

function tag(no: number, wire: number): number[] {
  return varintBytes((no << 3) | wire);
}

function varintBytes(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function lenField(no: number, bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([...tag(no, LEN), ...varintBytes(bytes.length)]), bytes]);
}

/** ExportTraceServiceResponse; empty when every span was accepted. */
export function encodeTraceResponse(rejected: number, message: string): Buffer {
  if (rejected === 0 && message === '') return Buffer.alloc(0);
  const parts: Buffer[] = [];
  if (rejected > 0) parts.push(Buffer.from([...tag(1, VARINT), ...varintBytes(rejected)]));
  if (message !== '') parts.push(lenField(2, Buffer.from(message, 'utf8')));
  return lenField(1, Buffer.concat(parts));
}

/** google.rpc.Status, the body of an OTLP/HTTP protobuf error reply. */
export function encodeStatus(code: number, message: string): Buffer {
  return Buffer.concat([
    Buffer.from([...tag(1, VARINT), ...varintBytes(code)]),
    lenField(2, Buffer.from(message)),
  ]);
}

/** The OTLP/JSON span fields `encodeTraceRequest` writes. */
export interface SpanJson {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: AttributeJson[];
}

/** An attribute with a string, integer (decimal string) or double value. */
export interface AttributeJson {
  key: string;
  value: { stringValue: string } | { intValue: string } | { doubleValue: number };
}

/**
 * ExportTraceServiceRequest bytes for an OTLP/JSON request of one resource and one scope, with the
 * fields above only: the inverse of `decodeTraceRequest` on them (a server's warm-up,
 * src/server/warm-up.ts, sends such a request through its own parser).
 */
export function encodeTraceRequest(resource: AttributeJson[], spans: SpanJson[]): Buffer {
  const resourceBytes = Buffer.concat(resource.map((a) => lenField(1, attributeBytes(a))));
  const scope = lenField(2, Buffer.concat(spans.map((s) => lenField(2, spanBytes(s)))));
  return lenField(1, Buffer.concat([lenField(1, resourceBytes), scope]));
}

function spanBytes(s: SpanJson): Buffer {
  return Buffer.concat([
    lenField(1, Buffer.from(s.traceId, 'hex')),
    lenField(2, Buffer.from(s.spanId, 'hex')),
    ...(s.parentSpanId === undefined ? [] : [lenField(4, Buffer.from(s.parentSpanId, 'hex'))]),
    lenField(5, Buffer.from(s.name)),
    fixed64Field(7, s.startTimeUnixNano),
    fixed64Field(8, s.endTimeUnixNano),
    ...s.attributes.map((a) => lenField(9, attributeBytes(a))),
  ]);
}

function fixed64Field(no: number, decimal: string): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(decimal));
  return Buffer.concat([Buffer.from(tag(no, I64)), b]);
}

function attributeBytes({ key, value }: AttributeJson): Buffer {
  let v: Buffer;
  if ('stringValue' in value) v = lenField(1, Buffer.from(value.stringValue));
  else if ('intValue' in value) v = Buffer.from([...tag(3, VARINT), ...int64Bytes(BigInt(value.intValue))]);
  else {
    const double = Buffer.alloc(8);
    double.writeDoubleLE(value.doubleValue);
    v = Buffer.concat([Buffer.from(tag(4, I64)), double]);
  }
  return Buffer.concat([lenField(1, Buffer.from(key)), lenField(2, v)]);
}

/** A signed 64-bit integer as a protobuf varint (two's complement, ten bytes when negative). */
function int64Bytes(n: bigint): number[] {
  let v = BigInt.asUintN(64, n);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/**
 * What goes through the stream: the canonical events (and trace links) of
 * one accepted request, validated by the replica, as JSON. A request too big
 * for one message is cut into several. Each message's id is the SHA-256 of
 * its bytes, so a client's resend of the same content is a duplicate within
 * the stream's window (and beyond it, the store's dedupe by (source, id)).
 */
import { createHash } from 'node:crypto';
import type { TraceLink, UsageEvent } from '../core/event.js';

export interface QueuedMessage {
  id: string;
  data: Uint8Array;
  /** Events and links in it. */
  records: number;
}

export interface QueuedBatch {
  label: string;
  events: UsageEvent[];
  links: TraceLink[];
}

const VERSION = 1;

/** Room kept in a message for the envelope and the headers. */
const ENVELOPE_BYTES = 16 * 1024;

function envelope(label: string, events: string[], links: string[]): Uint8Array {
  return Buffer.from(
    `{"v":${VERSION},"label":${JSON.stringify(label)},"events":[${events.join(',')}],"links":[${links.join(',')}]}`,
  );
}

/** The messages of one request, each under `maxPayload` bytes (the server's limit). */
export function encodeMessages(
  label: string,
  events: readonly UsageEvent[],
  links: readonly TraceLink[],
  maxPayload: number,
): QueuedMessage[] {
  const room = Math.max(1024, maxPayload - ENVELOPE_BYTES);
  const out: QueuedMessage[] = [];
  let ev: string[] = [];
  let ln: string[] = [];
  let size = 0;
  const flush = () => {
    if (ev.length + ln.length === 0) return;
    const data = envelope(label, ev, ln);
    out.push({ id: createHash('sha256').update(data).digest('hex'), data, records: ev.length + ln.length });
    ev = [];
    ln = [];
    size = 0;
  };
  const add = (text: string, into: 'events' | 'links') => {
    const bytes = Buffer.byteLength(text) + 1;
    if (size + bytes > room) flush();
    (into === 'events' ? ev : ln).push(text);
    size += bytes;
  };
  for (const e of events) add(JSON.stringify(e), 'events');
  for (const l of links) add(JSON.stringify(l), 'links');
  flush();
  return out;
}

/** A message as published by `encodeMessages`, or null for anything else (it is then set aside, never retried). */
export function decodeMessage(data: Uint8Array): QueuedBatch | null {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const m = v as Record<string, unknown>;
  if (m.v !== VERSION || typeof m.label !== 'string' || !Array.isArray(m.events) || !Array.isArray(m.links))
    return null;
  return { label: m.label, events: m.events as UsageEvent[], links: m.links as TraceLink[] };
}

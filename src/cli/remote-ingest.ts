/**
 * `tally ingest FILE --server URL`: the file is read and checked on the
 * command line exactly as on a store file (format detection, the record and
 * field of a fault, --skip-invalid and its quarantine file), then sent to a
 * running `tally serve` through its ingest API: OTLP files as the OTLP
 * documents they hold (`POST /v1/traces`, so that trace links travel with
 * them), every other format as the canonical events the parser made
 * (`POST /v1/events`, NDJSON, in requests of REQUEST_EVENTS). The counts on
 * the report line are what the server answered.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { UsageError } from '../core/errors.js';
import { ALL_EVENT_FIELDS, RICH_COUNT_FIELDS, type UsageEvent } from '../core/event.js';
import { type FileReport, type IngestOptions, type IngestTarget, ingestFile } from '../service/ingest.js';
import type { IngestChunk, IngestResult } from '../store/store.js';
import { postToServer, type Server } from './remote.js';

/** Canonical events per request to /v1/events (the server takes up to 100,000 and 16 MiB). */
const REQUEST_EVENTS = 5000;

export async function ingestFileRemote(
  server: Server,
  file: string,
  opts: IngestOptions,
): Promise<FileReport> {
  const counts = { stored: 0, duplicates: 0, superseded: 0, rejected: 0, ignored: 0, links: 0 };
  let batch: number | null = null;
  const add = (r: Record<keyof typeof counts, number> & { batch: number | null }) => {
    for (const k of Object.keys(counts) as Array<keyof typeof counts>) counts[k] += r[k];
    if (r.batch !== null) batch = r.batch;
  };
  const sink: IngestTarget = {
    async ingest(label, chunks): Promise<IngestResult> {
      if (label.startsWith('otlp:')) {
        // checked here; sent below as the documents themselves, with the trace links they carry
        for await (const _ of chunks) {
        }
        return { batch: null, stored: 0, duplicates: 0, superseded: 0 };
      }
      let pending: UsageEvent[] = [];
      const send = async () => {
        if (pending.length === 0) return;
        const body = pending.map((e) => JSON.stringify(canonicalRecord(e))).join('\n');
        pending = [];
        add({ ...(await postEvents(server, body)), rejected: 0, ignored: 0, links: 0 });
      };
      for await (const chunk of chunks) {
        const events = Array.isArray(chunk) ? chunk : (chunk as IngestChunk).events;
        for (const e of events) {
          pending.push(e);
          if (pending.length >= REQUEST_EVENTS) await send();
        }
      }
      await send();
      return { batch, stored: counts.stored, duplicates: counts.duplicates, superseded: counts.superseded };
    },
    // Records refused or ignored on the command line never reach the server: its counters do not see them.
    countIgnored: async () => undefined,
    countRejected: async () => undefined,
  };
  const local = await ingestFile(sink, file, { ...opts, validateFirst: true });
  if (local.format !== 'otlp') return { ...local, batch };
  if (file === '-')
    throw new UsageError('ingest --server: send an OTLP file by its name, not on standard input');
  for (const doc of await otlpDocuments(file)) add(await postTraces(server, doc));
  return { ...local, ...counts, rejected: local.rejected, batch };
}

/** An event as the canonical record that the server's parser reads back as the same event. */
export function canonicalRecord(e: UsageEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of ALL_EVENT_FIELDS) {
    if (f === 'time') out.time = new Date(e.time).toISOString();
    else if ((RICH_COUNT_FIELDS as readonly string[]).includes(f)) {
      const n = e[f as (typeof RICH_COUNT_FIELDS)[number]];
      if (n !== undefined && n > 0) out[f] = n;
    } else if (f === 'units') {
      if (e.units && Object.keys(e.units).length > 0) out.units = e.units;
    } else out[f] = e[f] ?? null;
  }
  return out;
}

/** The OTLP/JSON documents of a file: one document, or one a line (the Collector's file exporter). */
async function otlpDocuments(file: string): Promise<string[]> {
  let bytes = await readFile(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  try {
    JSON.parse(text);
    return [text];
  } catch {
    return text.split('\n').filter((l) => l.trim() !== '');
  }
}

async function postEvents(server: Server, ndjson: string): Promise<IngestResult & { batch: number | null }> {
  const res = await postToServer(server, '/v1/events', 'application/x-ndjson', ndjson);
  const r = (await res.json()) as IngestResult;
  return { batch: r.batch ?? null, stored: r.stored, duplicates: r.duplicates, superseded: r.superseded };
}

async function postTraces(
  server: Server,
  doc: string,
): Promise<
  Record<'stored' | 'duplicates' | 'superseded' | 'rejected' | 'ignored' | 'links', number> & {
    batch: number | null;
  }
> {
  const res = await postToServer(server, '/v1/traces', 'application/json', doc);
  await res.arrayBuffer();
  const n = (name: string) => {
    const v = res.headers.get(`x-tally-${name}`);
    if (v === null)
      throw new UsageError(
        `the server at ${server.url} did not report ${name} counts: is it a tally server?`,
      );
    return Number(v);
  };
  return {
    stored: n('stored'),
    duplicates: n('duplicates'),
    superseded: n('superseded'),
    rejected: n('rejected'),
    ignored: n('ignored'),
    links: res.headers.get('x-tally-links') === null ? 0 : n('links'),
    batch: null,
  };
}

/**
 * Ingesting a file: detect its format, parse it into canonical events and
 * store them as one atomic batch. Canonical files take the store's bulk path
 * when it has one; if that path finds the file invalid, the streaming parser
 * runs over it to say exactly which record and field are wrong.
 */
import { createReadStream } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import zlib, { createGunzip } from 'node:zlib';
import { InputError, TallyError } from '../core/errors.js';
import type { UsageEvent } from '../core/event.js';
import { detectFormat, type Format, parseStream, type Rejected } from '../ingest/index.js';
import type { Store } from '../store/store.js';

export interface IngestOptions {
  format: Format | 'auto';
  skipInvalid: boolean;
  now: number;
  /** Called with the running count of parsed records. */
  onProgress?: (records: number) => void;
}

export interface FileReport {
  file: string;
  format: Format;
  stored: number;
  duplicates: number;
  /** Records that replaced a stored version of the same event (SPEC §3.3). */
  superseded: number;
  rejected: number;
  quarantine: string | null;
  batch: number | null;
}

const HEAD_BYTES = 64 * 1024;

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

async function readStart(file: string): Promise<Buffer> {
  const fh = await open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new InputError([
      { file, reason: `cannot read the file (${e.code === 'ENOENT' ? 'no such file' : e.code})` },
    ]);
  });
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The first bytes of the text, decompressed when the file is gzip. */
async function textHead(start: Buffer, gzipped: boolean, file: string): Promise<string> {
  if (!gzipped) return start.toString('utf8');
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of createReadStream(file).pipe(createGunzip())) {
    parts.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= HEAD_BYTES) break;
  }
  return Buffer.concat(parts).subarray(0, HEAD_BYTES).toString('utf8');
}

/** Reads stdin whole: its format must be detected before parsing, and it cannot be read twice. */
async function readStdin(): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

export async function ingestFile(store: Store, file: string, opts: IngestOptions): Promise<FileReport> {
  const isStdin = file === '-';
  const stdin = isStdin ? await readStdin() : null;
  const name = isStdin ? 'stdin' : file;
  const start = stdin ?? (await readStart(file));
  // Gzip input (`.jsonl.gz`, a Collector's compressed export) is read through gunzip, whatever its name.
  const gzipped = start.subarray(0, 2).equals(GZIP_MAGIC);
  const input = stdin && gzipped ? zlib.gunzipSync(stdin) : stdin;
  const format =
    opts.format === 'auto'
      ? detectFormat(
          input ? input.subarray(0, HEAD_BYTES).toString('utf8') : await textHead(start, gzipped, file),
          name,
        )
      : opts.format;
  const label = `${format}:${isStdin ? 'stdin' : path.basename(file)}`;
  const source = () =>
    input ? [input] : gzipped ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);

  if (
    !isStdin &&
    !gzipped &&
    !opts.skipInvalid &&
    (format === 'jsonl' || format === 'csv') &&
    store.ingestCanonicalFile
  ) {
    try {
      const r = await store.ingestCanonicalFile(file, format, { label, now: opts.now });
      return { file: name, format, ...r, rejected: 0, quarantine: null };
    } catch (err) {
      if (!(err instanceof TallyError) || err.code !== 'invalid_input') throw err;
      // The bulk path refuses whatever it cannot decide exactly; the streaming
      // parser below either names the record and field that are wrong or
      // finds the file valid and stores it.
    }
  }

  const rejected: Rejected[] = [];
  let parsed = 0;
  async function* events(): AsyncIterable<UsageEvent[]> {
    for await (const chunk of parseStream(source(), format, {
      file: name,
      now: opts.now,
      skipInvalid: opts.skipInvalid,
    })) {
      rejected.push(...chunk.rejected);
      parsed += chunk.events.length + chunk.rejected.length;
      opts.onProgress?.(parsed);
      if (chunk.events.length > 0) yield chunk.events;
    }
  }
  const result = await store.ingest(label, events());
  let quarantine: string | null = null;
  if (rejected.length > 0) {
    quarantine = `${isStdin ? 'stdin' : file}.quarantine.jsonl`;
    const lines = rejected.map((r) => JSON.stringify({ ...r.problem, raw: r.raw }));
    await writeFile(quarantine, `${lines.join('\n')}\n`);
    await store.countRejected(rejected.length);
  }
  return { file: name, format, ...result, rejected: rejected.length, quarantine };
}

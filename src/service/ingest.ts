/**
 * Ingesting a file: detect its format, parse it into canonical events and
 * store them as one atomic batch. Canonical files take the store's bulk path
 * when it has one; if that path finds the file invalid, the streaming parser
 * runs over it to say exactly which record and field are wrong.
 */
import { createReadStream } from 'node:fs';
import { chmod, open, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { pushAll } from '../core/arrays.js';
import { InputError, TallyError } from '../core/errors.js';
import { detectFormat, type Format, parseStream, type Rejected } from '../ingest/index.js';
import { quarantineLine } from '../ingest/quarantine.js';
import type { IngestChunk, Store } from '../store/store.js';

export interface IngestOptions {
  format: Format | 'auto';
  skipInvalid: boolean;
  now: number;
  /**
   * Read the whole input once before anything is stored, so that an invalid
   * record stores nothing even where the target cannot take the file in one
   * transaction (a server, in several requests).
   */
  validateFirst?: boolean;
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
  /** Records valid but not usage: OTLP spans that are not AI work (SPEC §3.2). */
  ignored: number;
  /** Of the ignored spans, the trace links newly kept for the walk up a trace. */
  links: number;
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

/**
 * A gzip file may expand this many times its compressed size (plus the
 * constant below) before it is refused as a bomb: JSON telemetry compresses
 * 10–30×; a file of blanks, 1000×.
 */
const MAX_GZIP_RATIO = 200;
const GZIP_SLACK = 64 * 1024 * 1024;

/** Decompresses a stream, as an input error when it is not gzip or expands past its bound. */
async function* gunzipped(input: Readable, name: string, compressed: number): AsyncGenerator<Buffer> {
  const gz = createGunzip();
  input.on('error', (e) => gz.destroy(e));
  input.pipe(gz);
  const limit = compressed * MAX_GZIP_RATIO + GZIP_SLACK;
  let size = 0;
  try {
    for await (const chunk of gz) {
      size += (chunk as Buffer).length;
      if (size > limit)
        throw new InputError([
          {
            file: name,
            reason: `the gzip data expands more than ${MAX_GZIP_RATIO} times its size; refused as a likely decompression bomb`,
          },
        ]);
      yield chunk as Buffer;
    }
  } catch (e) {
    if (e instanceof TallyError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError([{ file: name, reason: `not valid gzip data (${code ?? message(e)})` }]);
  } finally {
    gz.destroy();
    input.destroy();
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The first bytes of the text, read from the (decompressed) source. */
async function textHead(source: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= HEAD_BYTES) break;
  }
  return Buffer.concat(parts).subarray(0, HEAD_BYTES).toString('utf8');
}

/** Reads stdin as its chunks: its format must be detected before parsing, and it cannot be read twice. */
async function readStdin(): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return parts;
}

/**
 * Whether DuckDB's bulk reader must not see the file; the streaming parser
 * then reads it (and names any fault). Two of the reader's failures are
 * avoided this way: a JSON value nested ~50k deep crashes the process, and a
 * row longer than its line buffer is silently dropped when it is the last.
 * Canonical events are flat: a JSON lines file with a `[`, or a `{` anywhere
 * but at the start of a line, goes to the parser (which checks depth); so
 * does any file with a whole 1 MiB chunk without a line break, which every
 * line of 2 MiB or more has. Native searches only: a few hundred ms per GB.
 */
async function bulkUnsafe(file: string, format: 'jsonl' | 'csv'): Promise<boolean> {
  let last = 0x0a;
  for await (const b of fileChunks(file, BULK_CHECK_READ)) {
    for (let at = 0; at + BULK_CHECK_CHUNK <= b.length; at += BULK_CHECK_CHUNK) {
      const nl = b.indexOf(0x0a, at);
      if (nl < 0 || nl >= at + BULK_CHECK_CHUNK) return true;
    }
    if (format === 'csv') continue;
    if (b.indexOf(0x5b /* [ */) >= 0) return true;
    for (let i = b.indexOf(0x7b /* { */); i >= 0; i = b.indexOf(0x7b, i + 1)) {
      const j = lastNonBlank(b, i - 1);
      if ((j >= 0 ? b[j] : last) !== 0x0a) return true;
    }
    const k = lastNonBlank(b, b.length - 1);
    if (k >= 0) last = b[k] as number;
  }
  return false;
}

function lastNonBlank(b: Buffer, from: number): number {
  let j = from;
  while (j >= 0 && (b[j] === 0x20 || b[j] === 0x09 || b[j] === 0x0d)) j--;
  return j;
}

const BULK_CHECK_CHUNK = 1 << 20;
/** The check reads four of its chunks at a time into one buffer: half the time of a read stream's fresh 1 MiB chunks. */
const BULK_CHECK_READ = 4 * BULK_CHECK_CHUNK;

/** The file's bytes in order, in one buffer of `size` bytes read into again and again (each chunk is valid until the next). */
async function* fileChunks(file: string, size: number): AsyncGenerator<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(size);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, size, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** Where a file's events go: a store, or a running server (src/cli/remote-ingest.ts). */
export type IngestTarget = Pick<Store, 'ingest' | 'countIgnored' | 'countRejected'> &
  Partial<Pick<Store, 'ingestCanonicalFile'>>;

export async function ingestFile(
  store: IngestTarget,
  file: string,
  opts: IngestOptions,
): Promise<FileReport> {
  const isStdin = file === '-';
  const stdin = isStdin ? await readStdin() : null;
  const name = isStdin ? 'stdin' : file;
  const start = stdin ? Buffer.concat(stdin.slice(0, 2)) : await readStart(file);
  // Gzip input (`.jsonl.gz`, a Collector's compressed export) is read through gunzip, whatever its name.
  const gzipped = start.subarray(0, 2).equals(GZIP_MAGIC);
  const compressed = stdin ? stdin.reduce((n, b) => n + b.length, 0) : (await stat(file)).size;
  const raw = (): Readable =>
    stdin ? Readable.from(stdin) : createReadStream(file, { highWaterMark: 1 << 20 });
  const source = (): AsyncIterable<Buffer> => (gzipped ? gunzipped(raw(), name, compressed) : raw());
  const format = opts.format === 'auto' ? detectFormat(await textHead(source()), name) : opts.format;
  const label = `${format}:${isStdin ? 'stdin' : path.basename(file)}`;

  if (
    !isStdin &&
    !gzipped &&
    !opts.skipInvalid &&
    (format === 'jsonl' || format === 'csv') &&
    store.ingestCanonicalFile &&
    !(await bulkUnsafe(file, format))
  ) {
    try {
      const r = await store.ingestCanonicalFile(file, format, { label, now: opts.now });
      return { file: name, format, ...r, rejected: 0, ignored: 0, links: 0, quarantine: null };
    } catch (err) {
      if (!(err instanceof TallyError) || err.code !== 'invalid_input') throw err;
      // The bulk path refuses whatever it cannot decide exactly; the streaming
      // parser below either names the record and field that are wrong or
      // finds the file valid and stores it.
    }
  }

  if (opts.validateFirst && !opts.skipInvalid)
    for await (const _ of parseStream(source(), format, { file: name, now: opts.now, skipInvalid: false })) {
      // each chunk is valid; an invalid record throws, naming it, before anything is sent
    }
  const rejected: Rejected[] = [];
  let parsed = 0;
  let ignored = 0;
  async function* events(): AsyncIterable<IngestChunk> {
    for await (const chunk of parseStream(source(), format, {
      file: name,
      now: opts.now,
      skipInvalid: opts.skipInvalid,
    })) {
      pushAll(rejected, chunk.rejected);
      ignored += chunk.ignored ?? 0;
      parsed += chunk.events.length + chunk.rejected.length + (chunk.ignored ?? 0);
      opts.onProgress?.(parsed);
      if (chunk.events.length > 0 || chunk.links?.length)
        yield { events: chunk.events, links: chunk.links ?? [] };
    }
  }
  const { links = 0, ...result } = await store.ingest(label, events());
  if (ignored > 0) await store.countIgnored(ignored);
  let quarantine: string | null = null;
  if (rejected.length > 0) {
    quarantine = `${isStdin ? 'stdin' : file}.quarantine.jsonl`;
    const lines = rejected.map((r) => quarantineLine(r.problem, r.raw));
    // Readable by the owner only: it holds the records' other fields as they came.
    await writeFile(quarantine, `${lines.join('\n')}\n`, { mode: 0o600 });
    await chmod(quarantine, 0o600);
    await store.countRejected(rejected.length);
  }
  return { file: name, format, ...result, rejected: rejected.length, ignored, links, quarantine };
}

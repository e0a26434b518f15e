/**
 * What a reading or closing command produces, the same whether it ran on
 * the store file or on a server (`--server`): the document for standard
 * output (or `--out`), the notes for standard error and the exit code. The
 * server answers these commands by running the very same functions, so the
 * two give the same bytes for the same data.
 */
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Budget, Config } from '../core/config.js';
import { UsageError } from '../core/errors.js';
import type { ExplanationJson } from '../core/explain.js';
import type { Replay } from '../core/replay.js';
import type { Signal } from '../core/signals/signal.js';
import type { Level, Statement } from '../core/statement.js';
import type { Store } from '../store/store.js';

/** A piece of a text document: text, or its UTF-8 bytes. */
export type Chunk = string | Uint8Array<ArrayBuffer>;

export interface Output {
  /** Text, text in chunks (a month's statement: see `chunked`), or the bytes of a binary document (FOCUS Parquet). */
  body: string | Uint8Array | Iterable<Chunk>;
  /** The document's media type. */
  type: string;
  /** Lines for standard error: what was issued, a statement that differs from its issue. */
  notes: string[];
  /** 0 ok, 1 findings (tampering, a variance past the tolerance, a signal at --fail-on). */
  exit: 0 | 1;
  /** What a file written with `--out` holds, said as `wrote <wrote> to FILE` (e.g. `12 FOCUS rows`). */
  wrote?: string;
}

/**
 * What the caller may see. The command line sees everything; a server
 * narrows each document to the token's team (src/server/routes/commands.ts).
 */
export interface View {
  team: string | null;
  /** A line-level statement as the caller sees it, its lines summed to `level`. */
  statement(s: Statement, level: Level): Statement;
  signals(list: readonly Signal[]): Signal[];
  replay(r: Replay): Replay;
  budgets(window: { start: number; end: number }): (b: Pick<Budget, 'scope' | 'id'>) => boolean;
  explanation(x: ExplanationJson): ExplanationJson;
}

export const EVERYTHING: View = {
  team: null,
  statement: (s) => s,
  signals: (list) => [...list],
  replay: (r) => r,
  budgets: () => () => true,
  explanation: (x) => x,
};

/** What a command runs on: the store and the configuration it was opened with. */
export interface RunContext {
  store: Store;
  config: Config;
}

export const TEXT = 'text/plain; charset=utf-8';
export const JSON_TYPE = 'application/json';

export function text(body: string, type = TEXT, notes: string[] = [], exit: 0 | 1 = 0): Output {
  return { body, type, notes, exit };
}

/** A text document made of `chunks` (text, or its UTF-8 bytes), written one after another (never joined into one string). */
export function chunked(chunks: Iterable<Chunk>, type: string): Output {
  return { body: chunks, type, notes: [], exit: 0 };
}

/** Whether a body is text in chunks. */
export function isChunks(body: Output['body']): body is Iterable<Chunk> {
  return typeof body !== 'string' && !(body instanceof Uint8Array);
}

/** Writes the document to `out` (or standard output) and the notes to standard error; returns the exit code. */
export async function writeOutput(command: string, o: Output, out: string | undefined): Promise<number> {
  for (const n of o.notes) process.stderr.write(`${n}\n`);
  if (out) {
    await writeFileOf(out, o.body);
    if (o.wrote) process.stderr.write(`wrote ${o.wrote} to ${out}\n`);
  } else if (o.body instanceof Uint8Array) {
    throw new UsageError(`${command}: this format is binary and needs --out FILE`);
  } else if (isChunks(o.body)) {
    for (const chunk of o.body) process.stdout.write(chunk);
  } else process.stdout.write(o.body);
  return o.exit;
}

function writeFileOf(out: string, body: Output['body']): Promise<void> {
  return isChunks(body) ? pipeline(Readable.from(body), createWriteStream(out)) : writeFile(out, body);
}

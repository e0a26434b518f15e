/**
 * The key check of the bulk JSON lines path. DuckDB's reader takes the
 * columns it is given and ignores any other key, and its sniff of the
 * columns reads only the first records; the streaming parser
 * (src/ingest/canonical.ts) refuses an unknown key wherever it is. This scan
 * reads every key of every record, as bytes, so that a misspelt key on
 * record 30,000 is refused by the bulk path as it is by the parser.
 *
 * It runs on the main thread while DuckDB reads the same file on its own
 * threads (the main thread only waits for the query meanwhile), one chunk
 * at a time so that nothing else waits long. It decides only what it can
 * decide exactly: a record it cannot read as a flat object of plain keys
 * (an escaped key, a nested value, text that is not JSON) is reported as
 * undecided, and the caller lets the parser decide.
 *
 * It also checks what DuckDB's typed read of a value cannot (`kinds`): the
 * reader turns a number or `true` into text, a string of digits into a
 * number and rounds a fraction, all silently. So a `text` field must hold a
 * string, a `count` field bare digits, a `decimal` field either (or null).
 */
import { closeSync, createReadStream, existsSync, openSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** What a key's value must be (besides null): a string, bare digits, or either. */
export type ValueKind = 'text' | 'count' | 'decimal';

export type KeyScanResult =
  | { ok: true; lines: number }
  | { ok: false; line: number; reason: string; key?: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

/**
 * The known keys as a trie over their bytes: `next[node * 256 + byte]` is
 * the next node (0: no known key continues so), `last[node]` whether a key
 * ends there. One array read per key byte, exact.
 */
class KeyTrie {
  readonly next: Int32Array;
  readonly last: Uint8Array;
  /** The kind of value the key ending at a node must have (ANY: whatever JSON). */
  readonly kind: Uint8Array;
  /** Whole lines the scan below accepts (a sticky search over a chunk as latin1 text, see `wholeLines`). */
  readonly lines: RegExp | null;

  constructor(keys: readonly string[], kinds: Readonly<Record<string, ValueKind>>, byLines: boolean) {
    this.lines = byLines ? linesRegExp(keys, kinds) : null;
    const bytes = keys.map((k) => Buffer.from(k, 'utf8'));
    const nodes = 2 + bytes.reduce((n, b) => n + b.length, 0);
    this.next = new Int32Array(nodes * 256);
    this.last = new Uint8Array(nodes);
    this.kind = new Uint8Array(nodes);
    let used = 2; // node 0 is the dead end, node 1 the root
    for (const [k, b] of bytes.entries()) {
      let node = 1;
      for (const c of b) {
        const at = node * 256 + c;
        if (this.next[at] === 0) this.next[at] = used++;
        node = this.next[at] as number;
      }
      this.last[node] = 1;
      const kind = kinds[keys[k] as string];
      if (kind !== undefined) this.kind[node] = KINDS[kind];
    }
  }
}

// The scanner's states (one record a line: `{"key": value, …}`).
const LINE = 0; // between records
const FIRST = 1; // after `{`: a key or `}`
const NEXT = 2; // after `,`: a key
const KEY = 3; // in a key
const COLON = 4; // after a key
const VALUE = 5; // after `:`
const STRING = 6; // in a string value
const ESCAPE = 7; // after a backslash in a string value
const SCALAR = 8; // in a number or literal
const AFTER = 9; // after a value
const END = 10; // after `}`
// What a refused record has (negative, so that a state is never one).
const PROBLEMS = [
  '',
  'not a JSON object',
  'not a flat JSON object',
  'a nested value',
  'a line break inside a string or key',
  'an escaped key',
  'unknown field',
  'a value of another type than the field takes',
];
const NOT_OBJECT = -1;
const NOT_FLAT = -2;
const NESTED = -3;
const BROKEN_LINE = -4;
const ESCAPED_KEY = -5;
const UNKNOWN = -6;
const NOT_TYPED = -7;

// The value kinds, and DIGITS: inside a number that must be bare digits.
const ANY = 0;
const KINDS = { text: 1, count: 2, decimal: 3 } as const;
const DIGITS = 4;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

const BLANKS = '[ \\t\\r]*';
const STRING_VALUE = '"[^"\\\\\\n]*(?:\\\\[^\\n][^"\\\\\\n]*)*"';
const DIGITS_VALUE = '[0-9]+';
/** A scalar of any kind: bytes up to a blank, `,` or `}`, not starting a string. */
const ANY_SCALAR = '[^,}\\n{\\[" \\t\\r][^,}\\n{\\[ \\t\\r]*';
const VALUES: Record<number, string> = {
  [ANY]: `${STRING_VALUE}|${ANY_SCALAR}`,
  [KINDS.text]: `${STRING_VALUE}|null`,
  [KINDS.count]: `${DIGITS_VALUE}|null`,
  [KINDS.decimal]: `${STRING_VALUE}|${DIGITS_VALUE}|null`,
};

/**
 * Lines the byte scan below accepts, whole (a subset of them: `null` for
 * every scalar starting with `n`): a record of known keys, each with a value
 * of its kind, or a blank line. A line it does not match is left to the byte
 * scan, which names the problem.
 */
function linesRegExp(keys: readonly string[], kinds: Readonly<Record<string, ValueKind>>): RegExp {
  const pairs = Object.entries(VALUES).map(([kind, value]) => {
    const of = keys.filter((k) => (kinds[k] === undefined ? ANY : KINDS[kinds[k]]) === Number(kind));
    const names = of.map((k) =>
      k.replace(/[^A-Za-z0-9_]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
    );
    return of.length === 0 ? null : `"(?:${names.join('|')})"${BLANKS}:${BLANKS}(?:${value})`;
  });
  const pair = `(?:${pairs.filter((p) => p !== null).join('|')})`;
  const record = `\\{${BLANKS}(?:${pair}${BLANKS}(?:,${BLANKS}${pair}${BLANKS})*)?\\}`;
  return new RegExp(`(?:${BLANKS}(?:${record}${BLANKS})?\\n)*`, 'y');
}

/** The kind check at byte `c` of a value (state → to): the kind that holds from here, or NOT_TYPED. */
function checkKind(kind: number, state: number, to: number, c: number): number {
  if (state !== VALUE) return kind === DIGITS && to === SCALAR && !isDigit(c) ? NOT_TYPED : kind;
  if (to === STRING) return kind === KINDS.count ? NOT_TYPED : ANY;
  if (to !== SCALAR) return kind;
  // The only JSON scalar that starts with `n` is null, which every kind takes.
  if (c === 0x6e) return ANY;
  if (kind === KINDS.text) return NOT_TYPED;
  return isDigit(c) ? DIGITS : NOT_TYPED;
}
const EMPTY = Buffer.alloc(0);
/** At most this much of an unknown key is named. */
const MAX_KEY_BYTES = 200;

/** The next state after a byte outside keys and strings, or a problem (negative). */
function step(state: number, c: number): number {
  const blank = c === 0x20 || c === 0x09 || c === 0x0d;
  switch (state) {
    case LINE:
      return c === 0x7b ? FIRST : blank || c === NEWLINE ? LINE : NOT_OBJECT;
    case FIRST:
    case NEXT:
      if (c === 0x7d && state === FIRST) return END;
      return c === QUOTE ? KEY : blank ? state : NOT_FLAT;
    case COLON:
      return c === 0x3a ? VALUE : blank ? COLON : NOT_FLAT;
    case VALUE:
      if (c === 0x7b || c === 0x5b) return NESTED;
      if (c === 0x2c || c === 0x7d || c === NEWLINE) return NOT_FLAT;
      return c === QUOTE ? STRING : blank ? VALUE : SCALAR;
    case SCALAR:
      if (c === 0x2c) return NEXT;
      if (c === 0x7d) return END;
      if (c === NEWLINE || c === 0x7b || c === 0x5b) return NOT_FLAT;
      return blank ? AFTER : SCALAR;
    case AFTER:
      return c === 0x2c ? NEXT : c === 0x7d ? END : blank ? AFTER : NOT_FLAT;
    default: // END
      return c === NEWLINE ? LINE : blank ? END : NOT_FLAT;
  }
}

/** Where a scan is, carried from one chunk to the next. */
interface ScanState {
  state: number;
  node: number;
  /** The kind of the value being reached or read (its key's, see `checkKind`). */
  kind: number;
  /** Newlines read so far: the current record is on line `lines + 1`. */
  lines: number;
  /** A problem (negative) once a record is refused, else 0. */
  problem: number;
  /** The bytes of the key being read that came in earlier chunks (at most MAX_KEY_BYTES). */
  keyHead: Buffer;
  key?: string;
}

/**
 * Scans one chunk; sets `problem` and returns at the first record it refuses.
 * Byte by byte up to the first line start, then whole lines at once
 * (`wholeLines`), then byte by byte again from the first line those leave.
 */
function scanChunk(b: Buffer, s: ScanState, trie: KeyTrie): void {
  const start = s.state === LINE ? 0 : scanBytes(b, 0, s, trie, trie.lines !== null);
  if (s.problem !== 0 || start >= b.length) return;
  scanBytes(b, wholeLines(b, start, s, trie), s, trie, false);
}

/**
 * From line start `from`, the lines `trie.lines` matches (each one the byte
 * scan accepts); returns where they end. Counts them in `s.lines`.
 */
function wholeLines(b: Buffer, from: number, s: ScanState, trie: KeyTrie): number {
  const re = trie.lines;
  if (re === null) return from;
  re.lastIndex = from;
  let end = from;
  try {
    if (re.test(b.toString('latin1'))) end = re.lastIndex;
  } catch {
    return from; // too deep a backtrack for the engine: byte by byte instead
  }
  for (let i = b.indexOf(NEWLINE, from); i >= 0 && i < end; i = b.indexOf(NEWLINE, i + 1)) s.lines++;
  return end;
}

/**
 * Scans bytes from `from` (up to the first line start after it when
 * `toLine`); returns where it stopped.
 */
function scanBytes(b: Buffer, from: number, s: ScanState, trie: KeyTrie, toLine: boolean): number {
  const { next, last } = trie;
  let { state, node, lines, kind } = s;
  let keyStart = 0;
  // Whether the key being read started in this chunk (else s.keyHead holds its start).
  let fresh = false;
  const n = b.length;
  let i = from;
  let atLine = false;
  for (; i < n; i++) {
    let c = b[i] as number;
    if (state === STRING) {
      while (c !== QUOTE && c !== BACKSLASH && c !== NEWLINE && i < n - 1) c = b[++i] as number;
      if (c === QUOTE) state = AFTER;
      else if (c === BACKSLASH) state = ESCAPE;
      else if (c === NEWLINE) break;
    } else if (state === ESCAPE) {
      if (c === NEWLINE) break;
      state = STRING;
    } else if (state === KEY) {
      while (c !== QUOTE && c !== BACKSLASH && c !== NEWLINE && i < n - 1) {
        node = next[node * 256 + c] as number;
        c = b[++i] as number;
      }
      if (c === QUOTE) {
        if (last[node] !== 1) break;
        kind = trie.kind[node] as number;
        state = COLON;
      } else if (c === BACKSLASH || c === NEWLINE) break;
      else node = next[node * 256 + c] as number;
    } else {
      if (c === NEWLINE && (state === LINE || state === END)) lines++;
      const to = step(state, c);
      if (to < 0) {
        s.problem = to;
        break;
      }
      if (kind !== ANY) kind = checkKind(kind, state, to, c);
      if (kind < 0) {
        s.problem = kind;
        s.key = keyOfValue(b, i);
        break;
      }
      if (to === KEY) {
        node = 1;
        keyStart = i + 1;
        fresh = true;
      }
      state = to;
      if (toLine && state === LINE) {
        atLine = true;
        break;
      }
    }
  }
  if (fresh) s.keyHead = EMPTY;
  if (atLine) i++;
  else if (i < n && s.problem === 0) refuseIn(b, s, state, keyStart, i);
  else if (state === KEY) s.keyHead = keyBytes(s.keyHead, b, keyStart, n);
  s.state = state;
  s.node = node;
  s.lines = lines;
  s.kind = kind;
  return i;
}

/** The key before the value starting at byte `i`, when it is in this chunk (for the message). */
function keyOfValue(b: Buffer, i: number): string | undefined {
  const end = i > 0 ? b.lastIndexOf(QUOTE, i - 1) : -1;
  const start = end > 0 ? b.lastIndexOf(QUOTE, end - 1) : -1;
  return start < 0 ? undefined : b.subarray(start + 1, end).toString('utf8');
}

/** Why the scan stopped at byte `i` in a key or string. */
function refuseIn(b: Buffer, s: ScanState, state: number, keyStart: number, i: number): void {
  if (state !== KEY || b[i] === NEWLINE) s.problem = BROKEN_LINE;
  else if (b[i] === BACKSLASH) s.problem = ESCAPED_KEY;
  else {
    s.problem = UNKNOWN;
    s.key = keyBytes(s.keyHead, b, keyStart, i).toString('utf8');
  }
}

function keyBytes(head: Buffer, b: Buffer, from: number, to: number): Buffer {
  const room = MAX_KEY_BYTES - head.length;
  return room <= 0 ? head : Buffer.concat([head, b.subarray(from, Math.min(to, from + room))]);
}

/**
 * Scans every line of a JSON lines file for keys outside `known`, and for
 * values that are not of their key's kind (`kinds`). Stops at the
 * first line with one (or one it cannot decide), or when `stop()` says so
 * (the read failed: nothing to decide any more).
 */
export async function scanJsonKeys(
  path: string,
  known: readonly string[],
  stop: () => boolean = () => false,
  kinds: Readonly<Record<string, ValueKind>> = {},
  /** Whole lines at once where it can (false: byte by byte only; a test compares the two). */
  byLines = true,
): Promise<KeyScanResult> {
  const trie = new KeyTrie(known, kinds, byLines);
  const s = startState();
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  try {
    for await (const chunk of stream) {
      if (stop()) return { ok: false, line: s.lines + 1, reason: 'not read to the end' };
      scanChunk(chunk as Buffer, s, trie);
      if (s.problem !== 0) return refused(s);
      // Let other work (the query's callbacks, a server's requests) run between chunks.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    stream.destroy();
  }
  return atEnd(s);
}

/**
 * `scanJsonKeys` for a thread that does nothing else (json-key-scan-worker.ts): the file read
 * into one buffer, chunk after chunk, without a stream's fresh buffer per chunk.
 */
export function scanJsonKeysSync(
  path: string,
  known: readonly string[],
  kinds: Readonly<Record<string, ValueKind>> = {},
): KeyScanResult {
  const trie = new KeyTrie(known, kinds, true);
  const s = startState();
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  const fd = openSync(path, 'r');
  try {
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) {
      scanChunk(buffer.subarray(0, n), s, trie);
      if (s.problem !== 0) return refused(s);
    }
  } finally {
    closeSync(fd);
  }
  return atEnd(s);
}

/** The bytes scanned at a time. */
const CHUNK_BYTES = 1 << 20;

function startState(): ScanState {
  return { state: LINE, node: 1, kind: ANY, lines: 0, problem: 0, keyHead: EMPTY };
}

/** The result once every byte is scanned without a refusal. */
function atEnd(s: ScanState): KeyScanResult {
  if (s.state === END) return { ok: true, lines: s.lines + 1 };
  if (s.state === LINE) return { ok: true, lines: s.lines };
  return { ok: false, line: s.lines + 1, reason: 'the last record is incomplete' };
}

function refused(s: ScanState): KeyScanResult {
  return {
    ok: false,
    line: s.lines + 1,
    reason: PROBLEMS[-s.problem] ?? 'not a flat JSON object',
    ...(s.key === undefined ? {} : { key: s.key }),
  };
}

/** What the scan of `scanJsonKeysAside` is given. */
export interface KeyScanJob {
  path: string;
  known: readonly string[];
  kinds: Readonly<Record<string, ValueKind>>;
}

/** A scan under way: its result, and how to end it early (its result then says the file was not read to the end). */
export interface KeyScan {
  result: Promise<KeyScanResult>;
  stop(): void;
}

/** `scanJsonKeys` on this thread, as a `KeyScan`. */
export function scanJsonKeysHere(job: KeyScanJob): KeyScan {
  let stopped = false;
  return {
    result: scanJsonKeys(job.path, job.known, () => stopped, job.kinds),
    stop: () => {
      stopped = true;
    },
  };
}

/** Files smaller than this are scanned on the calling thread: a worker takes tens of milliseconds to start. */
export const MIN_ASIDE_BYTES = 8 * 1024 * 1024;

const WORKER_SCRIPT = new URL('./json-key-scan-worker.js', import.meta.url);

/**
 * `scanJsonKeys` in a worker thread, so that the thread that waits for
 * DuckDB's insert (and answers its row-text callbacks, row-text-sink.ts) does
 * not also scan the file: on B1's million events the scan took ~1.2 s of that
 * thread's CPU. Where the worker's script is not there to run (the sources
 * run by the tests, before they are built), it scans on this thread.
 */
export function scanJsonKeysAside(job: KeyScanJob, script: URL = WORKER_SCRIPT): KeyScan {
  if (!existsSync(fileURLToPath(script))) return scanJsonKeysHere(job);
  const worker = new Worker(script, { workerData: job });
  let settle: (r: KeyScanResult) => void = () => {};
  const result = new Promise<KeyScanResult>((resolve) => {
    settle = resolve;
  });
  const failed = (reason: string) => settle({ ok: false, line: 0, reason });
  worker.once('message', (r: KeyScanResult) => settle(r));
  worker.once('error', (e) => failed(`cannot read: ${e.message}`));
  worker.once('exit', () => failed('not read to the end'));
  return {
    result,
    stop: () => {
      failed('not read to the end');
      void worker.terminate();
    },
  };
}

/**
 * A fast reader for the plain block style that large configurations are
 * written in (a registry of thousands of identities): nested mappings and
 * lists, one scalar a line, comments. It gives the same tree as the `yaml`
 * package for what it accepts, with plain scalars resolved by the YAML 1.2
 * core schema's rules as that package writes them, and gives up (`null`) on
 * anything else: flow collections, anchors, tags, block or multi-line
 * scalars, escapes, tabs, duplicate keys, anything malformed. The caller then parses with `yaml`, which also reports
 * the errors. test/config/block-yaml.test.ts holds the two to the same trees.
 *
 * The same reader also gives a file's plain values directly
 * (`readBlockValues`), with where each number was written: what the loader
 * would make of the tree, without building it (a registry's tree is most of
 * the loader's memory and time).
 */

/** A parsed node with the line (1-based; 0 when unknown) it starts on, as the loader needs it. */
export type YNode =
  | { kind: 'map'; line: number; items: YPair[] }
  | { kind: 'seq'; line: number; items: YNode[] }
  | { kind: 'scalar'; line: number; value: unknown; source?: string };

/** A mapping entry; `value` null for a key without a value node. */
export interface YPair {
  key: string;
  /** The key as a node (its line and text locate a key without value). */
  keyNode: YNode;
  value: YNode | null;
}

interface Line {
  no: number;
  indent: number;
  text: string;
}

class GiveUp extends Error {}

const KEY = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/;
/** First characters that make a value something other than a plain scalar (or that this reader does not take). */
const NOT_PLAIN = new Set([...'[]{},#&*!|>\'"%@`?:-']);

/** The document's top node (null for an empty one), or null with `ok` false when `yaml` must parse it. */
export function parseBlockYaml(text: string): { ok: true; node: YNode | null } | { ok: false } {
  const read = readBlock(text, new TreeBuilder());
  return read.ok ? { ok: true, node: read.top as YNode | null } : read;
}

/** Where a number was written: its line and its text. */
export interface NumberSource {
  line: number;
  text: string;
}

/**
 * The document's plain values (null for an empty one) as the loader merges a
 * tree into them, with the path (`a.b[0].c`) of every number and where it was
 * written; `ok` false where `parseBlockYaml` would give up too, or where a key
 * names a property every object has (`constructor`): the loader's tree path
 * decides those.
 */
export function readBlockValues(
  text: string,
): { ok: true; value: Record<string, unknown> | null; numbers: Map<string, NumberSource> } | { ok: false } {
  const builder = new PlainBuilder();
  const read = readBlock(text, builder);
  if (!read.ok) return read;
  return { ok: true, value: read.top as Record<string, unknown> | null, numbers: builder.numbers };
}

function readBlock(text: string, builder: Builder): { ok: true; top: unknown } | { ok: false } {
  if (text.includes('\t') || text.includes('\r') || text.startsWith('\uFEFF')) return { ok: false };
  try {
    const lines = contentLines(text);
    if (lines.length === 0) return { ok: true, top: null };
    const reader = new Reader(lines, builder);
    const first = lines[0] as Line;
    if (isItem(first.text)) return { ok: false };
    const top = reader.block(first.indent);
    if (reader.at < lines.length) return { ok: false };
    return { ok: true, top };
  } catch (err) {
    if (err instanceof GiveUp) return { ok: false };
    throw err;
  }
}

/**
 * What the reader makes of what it reads (the reader checks the grammar, a
 * builder only builds). `path` is the reader's: the keys and list indexes
 * from the top to the node being read.
 */
interface Builder {
  path: Array<string | number>;
  map(line: number): unknown;
  seq(line: number): unknown;
  /** A key as read (its node or value), and its name in the map. */
  key(text: string, line: number): unknown;
  name(key: unknown): string;
  /** Adds an entry; false when the map has the key already. */
  set(map: unknown, name: string, key: unknown, value: unknown): boolean;
  push(seq: unknown, item: unknown): void;
  scalar(text: string, line: number): unknown;
  /** A key or dash without value. */
  empty(line: number): unknown;
}

/** The loader's tree (YNode). */
class TreeBuilder implements Builder {
  path: Array<string | number> = [];
  map(line: number): YNode {
    return { kind: 'map', line, items: [] };
  }
  seq(line: number): YNode {
    return { kind: 'seq', line, items: [] };
  }
  key(text: string, line: number): YNode {
    return scalar(text, line);
  }
  name(key: YNode): string {
    return String(key.kind === 'scalar' ? key.value : '');
  }
  set(map: YNode & { kind: 'map' }, name: string, key: YNode, value: YNode): boolean {
    for (const pair of map.items) if (pair.key === name) return false;
    map.items.push({ key: name, keyNode: key, value });
    return true;
  }
  push(seq: YNode & { kind: 'seq' }, item: YNode): void {
    seq.items.push(item);
  }
  scalar(text: string, line: number): YNode {
    return scalar(text, line);
  }
  empty(line: number): YNode {
    return { kind: 'scalar', line, value: null, source: '' };
  }
}

/** Plain values, recording where each number was written by its path. */
class PlainBuilder implements Builder {
  path: Array<string | number> = [];
  readonly numbers = new Map<string, NumberSource>();
  map(): Record<string, unknown> {
    return {};
  }
  seq(): unknown[] {
    return [];
  }
  key(text: string): unknown {
    return scalarValue(text);
  }
  name(key: unknown): string {
    const name = String(key);
    // The loader's merge treats such a key as set already: its tree path reports it.
    if (INHERITED.has(name)) throw new GiveUp();
    return name;
  }
  set(map: Record<string, unknown>, name: string, _key: unknown, value: unknown): boolean {
    if (Object.hasOwn(map, name)) return false;
    map[name] = value;
    return true;
  }
  push(seq: unknown[], item: unknown): void {
    seq.push(item);
  }
  scalar(text: string, line: number): unknown {
    const value = scalarValue(text);
    // Only a plain scalar is a number: its text is its source.
    if (typeof value === 'number') this.numbers.set(pathText(this.path), { line, text });
    return value;
  }
  empty(): null {
    return null;
  }
}

/** The properties every object has (`in` finds them on a fresh object). */
const INHERITED = new Set(Object.getOwnPropertyNames(Object.prototype));

/** `a.b[0].c`: the loader's name for a path. */
function pathText(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/** The lines that hold content (not blank, not only a comment), with their indentation. */
function contentLines(text: string): Line[] {
  const out: Line[] = [];
  let started = false;
  // Each line is cut out once, without its indentation.
  for (let from = 0, no = 1; from <= text.length; no++) {
    let end = text.indexOf('\n', from);
    if (end < 0) end = text.length;
    let at = from;
    while (text.charCodeAt(at) === 32) at++;
    const line = from;
    from = end + 1;
    if (at === end || text.charCodeAt(at) === 35 /* # */) continue;
    const s = text.slice(at, end);
    if (at === line) {
      if (!started && s === '---' && hasContentAfter(text, from)) {
        started = true;
        continue;
      }
      if (s.startsWith('---') || s.startsWith('...') || s.startsWith('%')) throw new GiveUp();
    }
    started = true;
    out.push({ no, indent: at - line, text: s });
  }
  return out;
}

class Reader {
  at = 0;

  constructor(
    private readonly lines: Line[],
    private readonly b: Builder,
  ) {}

  /** The collection starting at the current line, whose indentation is `indent`. */
  block(indent: number): unknown {
    const first = this.lines[this.at] as Line;
    if (first.indent !== indent) throw new GiveUp();
    return isItem(first.text) ? this.seq(indent) : this.map(indent);
  }

  private seq(indent: number): unknown {
    const node = this.b.seq((this.lines[this.at] as Line).no);
    const path = this.b.path;
    for (let l = this.peek(), i = 0; l && l.indent === indent && isItem(l.text); l = this.peek(), i++) {
      path.push(i);
      this.b.push(node, this.item(l));
      path.pop();
    }
    this.noDeeper(indent);
    return node;
  }

  /** One `- …` entry: empty (a nested block or null), a compact mapping, or a scalar. */
  private item(l: Line): unknown {
    let skip = 1;
    while (l.text.charCodeAt(skip) === 32) skip++;
    const rest = stripComment(l.text.slice(skip));
    if (rest === '') {
      this.at++;
      return this.nestedOrEmpty(l.indent, l.no, false);
    }
    if (isItem(rest)) throw new GiveUp();
    if (keyOf(rest) !== null) {
      // The compact mapping starts on this line, at the column after the dash.
      l.indent += skip;
      l.text = l.text.slice(skip);
      return this.map(l.indent);
    }
    this.at++;
    const value = lineValue(rest, l.no, this.b);
    this.noDeeper(l.indent);
    return value;
  }

  private map(indent: number): unknown {
    const node = this.b.map((this.lines[this.at] as Line).no);
    for (let l = this.peek(); l && l.indent === indent && !isItem(l.text); l = this.peek())
      this.entry(node, l);
    this.noDeeper(indent);
    return node;
  }

  /** One `key: value` or `key:` line and what belongs to it, added to `map`. */
  private entry(map: unknown, l: Line): void {
    const split = keyOf(l.text);
    if (split === null) throw new GiveUp();
    const key = this.b.key(split.key, l.no);
    const name = this.b.name(key);
    this.at++;
    const rest = stripComment(split.rest);
    this.b.path.push(name);
    let value: unknown;
    if (rest === '') value = this.nestedOrEmpty(l.indent, l.no, true);
    else {
      value = lineValue(rest, l.no, this.b);
      this.noDeeper(l.indent);
    }
    this.b.path.pop();
    if (!this.b.set(map, name, key, value)) throw new GiveUp();
  }

  /** What follows a key or dash without value: a deeper block, a list at the key's own indentation, or an empty scalar. */
  private nestedOrEmpty(indent: number, no: number, underKey: boolean): unknown {
    const next = this.peek();
    if (next && next.indent > indent) return this.block(next.indent);
    if (underKey && next && next.indent === indent && isItem(next.text)) return this.seq(indent);
    return this.b.empty(no);
  }

  /** Nothing deeper may follow a scalar (it would continue it) or end a collection (malformed). */
  private noDeeper(indent: number): void {
    const next = this.peek();
    if (next && next.indent > indent) throw new GiveUp();
  }

  private peek(): Line | undefined {
    return this.lines[this.at];
  }
}

/** Whether a line from `from` on holds content (a lone `---` before nothing is a document of its own). */
function hasContentAfter(text: string, from: number): boolean {
  for (const line of text.slice(from).split('\n')) {
    const t = line.trimStart();
    if (t !== '' && !t.startsWith('#')) return true;
  }
  return false;
}

function isItem(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

/** `key: rest` or `key:` with a plain key this reader takes; null otherwise. */
function keyOf(text: string): { key: string; rest: string } | null {
  const colon = text.indexOf(':');
  if (colon <= 0) return null;
  if (colon + 1 < text.length && text[colon + 1] !== ' ') return null;
  const key = text.slice(0, colon);
  return KEY.test(key) ? { key, rest: text.slice(colon + 1) } : null;
}

/** The text before a comment (` #`), trimmed; quoted text is kept whole. */
function stripComment(text: string): string {
  const s = text.trimStart();
  if (s.startsWith("'") || s.startsWith('"')) {
    const close = closingQuote(s);
    const after = s.slice(close + 1).trimStart();
    if (after !== '' && !after.startsWith('#')) throw new GiveUp();
    return s.slice(0, close + 1);
  }
  // A flow collection ends its own comment (lineValue): a `#` may stand in its quoted text.
  if (s.startsWith('{') || s.startsWith('[')) return s.trimEnd();
  const hash = s.startsWith('#') ? 0 : s.indexOf(' #');
  return (hash < 0 ? s : s.slice(0, hash)).trimEnd();
}

/** Where the quoted scalar that opens at `from` closes. */
function closingQuote(s: string, from = 0): number {
  const q = s[from] as string;
  if (q === '"') {
    const end = s.indexOf('"', from + 1);
    const backslash = s.indexOf('\\', from + 1);
    if (end < 0 || (backslash >= 0 && backslash < end)) throw new GiveUp();
    return end;
  }
  for (let i = from + 1; i < s.length; i++) {
    if (s[i] !== "'") continue;
    if (s[i + 1] === "'") i++;
    else return i;
  }
  throw new GiveUp();
}

/** A value on one line: a flow collection, or a scalar. */
function lineValue(text: string, line: number, b: Builder): unknown {
  if (!text.startsWith('{') && !text.startsWith('[')) return b.scalar(text, line);
  const flow = new FlowReader(text, line, b);
  const node = flow.node();
  const after = text.slice(flow.at);
  if (after.trim() !== '' && !/^ +#/.test(after)) throw new GiveUp();
  return node;
}

/** Plain text inside a flow collection: up to a flow indicator, or a colon before a space, an indicator or the end. */
const PLAIN_RUN = /(?:[^,[\]{}:]|:(?![\s,[\]{}]|$))*/y;

/**
 * A flow collection written on one line (`{ id: a, team: b }`, `[a, b]`):
 * plain or quoted scalars, nested collections, no empty entries, no
 * `key: value` pairs inside lists, no colons inside plain text.
 */
class FlowReader {
  at = 0;

  constructor(
    private readonly text: string,
    private readonly line: number,
    private readonly b: Builder,
  ) {}

  node(): unknown {
    this.space();
    const c = this.text[this.at];
    if (c === '{') return this.map();
    if (c === '[') return this.seq();
    return this.b.scalar(this.plainOrQuoted(), this.line);
  }

  private map(): unknown {
    const node = this.b.map(this.line);
    this.entries('}', node);
    return node;
  }

  private seq(): unknown {
    const node = this.b.seq(this.line);
    this.entries(']', node);
    return node;
  }

  /** `key: value` of a mapping. */
  private mapEntry(node: unknown): void {
    const text = this.plainOrQuoted();
    const quoted = text.startsWith('"') || text.startsWith("'");
    if (!KEY.test(quoted ? (scalarValue(text) as string) : text)) throw new GiveUp();
    if (this.text[this.at] !== ':' || this.text[this.at + 1] !== ' ') throw new GiveUp();
    this.at++;
    const key = this.b.key(text, this.line);
    const name = this.b.name(key);
    this.b.path.push(name);
    const value = this.node();
    this.b.path.pop();
    if (!this.b.set(node, name, key, value)) throw new GiveUp();
  }

  /** The `i`th item of a list. */
  private seqEntry(node: unknown, i: number): void {
    this.b.path.push(i);
    this.b.push(node, this.node());
    this.b.path.pop();
  }

  /** `open entry, entry close` (`}` a mapping's, `]` a list's), at least one entry unless empty; the reader stands after the close. */
  private entries(close: '}' | ']', node: unknown): void {
    this.at++;
    this.space();
    if (this.text[this.at] === close) {
      this.at++;
      return;
    }
    for (let i = 0; ; i++) {
      if (close === '}') this.mapEntry(node);
      else this.seqEntry(node, i);
      this.space();
      const c = this.text[this.at];
      this.at++;
      if (c === close) return;
      if (c !== ',') throw new GiveUp();
    }
  }

  /** The text of a scalar: quoted, or plain up to where it ends. */
  private plainOrQuoted(): string {
    this.space();
    const start = this.at;
    const c = this.text[start];
    if (c === '"' || c === "'") {
      this.at = closingQuote(this.text, start) + 1;
      return this.text.slice(start, this.at);
    }
    PLAIN_RUN.lastIndex = start;
    PLAIN_RUN.test(this.text);
    this.at = PLAIN_RUN.lastIndex;
    const plain = this.text.slice(start, this.at).trimEnd();
    if (plain === '' || plain.includes(' #')) throw new GiveUp();
    return plain;
  }

  private space(): void {
    while (this.text.charCodeAt(this.at) === 32) this.at++;
  }
}

/** A one-line scalar: quoted text is a string; plain text resolves as the `yaml` core schema resolves it. */
function scalar(text: string, line: number): YNode {
  const value = scalarValue(text);
  const quoted = text.startsWith('"') || text.startsWith("'");
  return { kind: 'scalar', line, value, source: quoted ? (value as string) : text };
}

/** A one-line scalar's value (quoted text unquoted; a plain scalar's source is its text). */
function scalarValue(text: string): unknown {
  const first = text.charCodeAt(0);
  if (first === 34 /* " */) return text.slice(1, -1);
  if (first === 39 /* ' */) return text.slice(1, -1).replaceAll("''", "'");
  // Most scalars of a registry are words, ids and names (text whatever the schema), or dates read
  // before (only a text that passed the checks below is kept).
  if (isLetter(first) && WORDLIKE.test(text) && !WORDS.has(text)) return text;
  if (resolved.has(text)) return resolved.get(text);
  const c = text[0] as string;
  if (NOT_PLAIN.has(c) && !(c === '-' && /^-[0-9.]/.test(text))) throw new GiveUp();
  if (/[[\]{}]/.test(text) || text.includes(': ') || text.endsWith(':')) throw new GiveUp();
  return resolvePlain(text);
}

/** The value of a plain scalar under the core schema. */
function resolvePlain(text: string): unknown {
  // Only `~`, digits, signs, dots and the words null, true and false can be other than a string.
  if (isLetter(text.charCodeAt(0)) && !WORDS.has(text)) return text;
  // Dates and amounts repeat across a registry: each text is resolved once (scalarValue looks first).
  const value = byCoreTags(text);
  if (resolved.size < 10_000) resolved.set(text, value);
  return value;
}

const resolved = new Map<string, unknown>();

/** A letter, then letters, digits, blanks and `_ . / ( ) -`: a plain scalar the core schema leaves a string, unless one of WORDS. */
const WORDLIKE = /^[A-Za-z][A-Za-z0-9_./() -]*$/;

const WORDS = new Set(['null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE']);
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/**
 * The core schema's tags in the `yaml` package's order (null, bool, octal,
 * decimal and hexadecimal integers, infinities and NaN, floats with and
 * without exponent), each resolved as that package resolves it (integers
 * as numbers); anything else is a string.
 */
function byCoreTags(text: string): unknown {
  if (/^(?:~|[Nn]ull|NULL)?$/.test(text)) return null;
  if (/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(text)) return text[0] === 't' || text[0] === 'T';
  if (/^0o[0-7]+$/.test(text)) return Number.parseInt(text.slice(2), 8);
  if (/^[-+]?[0-9]+$/.test(text)) return Number.parseInt(text, 10);
  if (/^0x[0-9a-fA-F]+$/.test(text)) return Number.parseInt(text.slice(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(text)) {
    if (text.slice(-3).toLowerCase() === 'nan') return Number.NaN;
    return text[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(text))
    return Number.parseFloat(text);
  return text;
}

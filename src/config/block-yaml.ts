/**
 * A fast reader for the plain block style that large configurations are
 * written in (a registry of thousands of identities): nested mappings and
 * lists, one scalar a line, comments. It gives the same tree as the `yaml`
 * package for what it accepts, with scalars resolved by that package's own
 * core schema, and gives up (`null`) on anything else: flow collections,
 * anchors, tags, block or multi-line scalars, escapes, tabs, duplicate keys,
 * anything malformed. The caller then parses with `yaml`, which also reports
 * the errors. test/config/block-yaml.test.ts holds the two to the same trees.
 */
import { isScalar, Schema } from 'yaml';

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
  if (text.includes('\t') || text.includes('\r') || text.startsWith('\uFEFF')) return { ok: false };
  try {
    const lines = contentLines(text);
    if (lines.length === 0) return { ok: true, node: null };
    const reader = new Reader(lines);
    const node = reader.block(lines[0]?.indent ?? 0);
    if (reader.at < lines.length || node.kind !== 'map') return { ok: false };
    return { ok: true, node };
  } catch (err) {
    if (err instanceof GiveUp) return { ok: false };
    throw err;
  }
}

/** The lines that hold content (not blank, not only a comment), with their indentation. */
function contentLines(text: string): Line[] {
  const out: Line[] = [];
  const raw = text.split('\n');
  let started = false;
  for (let i = 0; i < raw.length; i++) {
    const s = raw[i] as string;
    let indent = 0;
    while (s.charCodeAt(indent) === 32) indent++;
    if (indent === s.length || s[indent] === '#') continue;
    if (!started && s === '---' && hasContentAfter(raw, i)) {
      started = true;
      continue;
    }
    started = true;
    if (indent === 0 && (s.startsWith('---') || s.startsWith('...') || s.startsWith('%'))) throw new GiveUp();
    out.push({ no: i + 1, indent, text: s.slice(indent) });
  }
  return out;
}

class Reader {
  at = 0;

  constructor(private readonly lines: Line[]) {}

  /** The collection starting at the current line, whose indentation is `indent`. */
  block(indent: number): YNode {
    const first = this.lines[this.at] as Line;
    if (first.indent !== indent) throw new GiveUp();
    return isItem(first.text) ? this.seq(indent) : this.map(indent);
  }

  private seq(indent: number): YNode {
    const node: YNode = { kind: 'seq', line: (this.lines[this.at] as Line).no, items: [] };
    for (let l = this.peek(); l && l.indent === indent && isItem(l.text); l = this.peek()) {
      node.items.push(this.item(l));
    }
    this.noDeeper(indent);
    return node;
  }

  /** One `- …` entry: empty (a nested block or null), a compact mapping, or a scalar. */
  private item(l: Line): YNode {
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
      this.lines[this.at] = { no: l.no, indent: l.indent + skip, text: l.text.slice(skip) };
      return this.map(l.indent + skip);
    }
    this.at++;
    const value = lineValue(rest, l.no);
    this.noDeeper(l.indent);
    return value;
  }

  private map(indent: number): YNode {
    const node: YNode & { kind: 'map' } = { kind: 'map', line: (this.lines[this.at] as Line).no, items: [] };
    const seen = new Set<string>();
    for (let l = this.peek(); l && l.indent === indent && !isItem(l.text); l = this.peek()) {
      const pair = this.entry(l);
      if (seen.has(pair.key)) throw new GiveUp();
      seen.add(pair.key);
      node.items.push(pair);
    }
    this.noDeeper(indent);
    return node;
  }

  /** One `key: value` or `key:` line and what belongs to it. */
  private entry(l: Line): YPair {
    const split = keyOf(l.text);
    if (split === null) throw new GiveUp();
    const keyNode = scalar(split.key, l.no);
    const key = String(keyNode.kind === 'scalar' ? keyNode.value : '');
    this.at++;
    const rest = stripComment(split.rest);
    if (rest === '') return { key, keyNode, value: this.nestedOrEmpty(l.indent, l.no, true) };
    const value = lineValue(rest, l.no);
    this.noDeeper(l.indent);
    return { key, keyNode, value };
  }

  /** What follows a key or dash without value: a deeper block, a list at the key's own indentation, or an empty scalar. */
  private nestedOrEmpty(indent: number, no: number, underKey: boolean): YNode {
    const next = this.peek();
    if (next && next.indent > indent) return this.block(next.indent);
    if (underKey && next && next.indent === indent && isItem(next.text)) return this.seq(indent);
    return { kind: 'scalar', line: no, value: null, source: '' };
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

/** Whether a line after `i` holds content (a lone `---` before nothing is a document of its own). */
function hasContentAfter(raw: readonly string[], i: number): boolean {
  for (let k = i + 1; k < raw.length; k++) {
    const t = (raw[k] as string).trimStart();
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

function closingQuote(s: string): number {
  const q = s[0] as string;
  if (q === '"') {
    const end = s.indexOf('"', 1);
    if (end < 0 || s.slice(1, end).includes('\\')) throw new GiveUp();
    return end;
  }
  for (let i = 1; i < s.length; i++) {
    if (s[i] !== "'") continue;
    if (s[i + 1] === "'") i++;
    else return i;
  }
  throw new GiveUp();
}

/** A value on one line: a flow collection, or a scalar. */
function lineValue(text: string, line: number): YNode {
  if (!text.startsWith('{') && !text.startsWith('[')) return scalar(text, line);
  const flow = new FlowReader(text, line);
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
  ) {}

  node(): YNode {
    this.space();
    const c = this.text[this.at];
    if (c === '{') return this.map();
    if (c === '[') return this.seq();
    return this.scalar();
  }

  private map(): YNode {
    const node: YNode & { kind: 'map' } = { kind: 'map', line: this.line, items: [] };
    const seen = new Set<string>();
    this.entries('}', () => {
      const keyNode = this.scalar();
      if (keyNode.kind !== 'scalar' || !KEY.test(keyNode.source ?? '')) throw new GiveUp();
      if (this.text[this.at] !== ':' || this.text[this.at + 1] !== ' ') throw new GiveUp();
      this.at++;
      const key = String(keyNode.value);
      if (seen.has(key)) throw new GiveUp();
      seen.add(key);
      node.items.push({ key, keyNode, value: this.node() });
    });
    return node;
  }

  private seq(): YNode {
    const node: YNode & { kind: 'seq' } = { kind: 'seq', line: this.line, items: [] };
    this.entries(']', () => node.items.push(this.node()));
    return node;
  }

  /** `open entry, entry close`, at least one entry unless empty; the reader stands after the close. */
  private entries(close: string, entry: () => void): void {
    this.at++;
    this.space();
    if (this.text[this.at] === close) {
      this.at++;
      return;
    }
    for (;;) {
      entry();
      this.space();
      const c = this.text[this.at];
      this.at++;
      if (c === close) return;
      if (c !== ',') throw new GiveUp();
    }
  }

  private scalar(): YNode {
    this.space();
    const start = this.at;
    const c = this.text[start];
    if (c === '"' || c === "'") {
      this.at = start + closingQuote(this.text.slice(start)) + 1;
      return scalar(this.text.slice(start, this.at), this.line);
    }
    PLAIN_RUN.lastIndex = start;
    PLAIN_RUN.test(this.text);
    this.at = PLAIN_RUN.lastIndex;
    const plain = this.text.slice(start, this.at).trimEnd();
    if (plain === '' || plain.includes(' #')) throw new GiveUp();
    return scalar(plain, this.line);
  }

  private space(): void {
    while (this.text.charCodeAt(this.at) === 32) this.at++;
  }
}

/** A one-line scalar: quoted text is a string; plain text resolves as the `yaml` core schema resolves it. */
function scalar(text: string, line: number): YNode {
  if (text.startsWith('"')) {
    const source = text.slice(1, -1);
    return { kind: 'scalar', line, value: source, source };
  }
  if (text.startsWith("'")) {
    const source = text.slice(1, -1).replaceAll("''", "'");
    return { kind: 'scalar', line, value: source, source };
  }
  const c = text[0] as string;
  if (NOT_PLAIN.has(c) && !(c === '-' && /^-[0-9.]/.test(text))) throw new GiveUp();
  if (/[[\]{}]/.test(text) || text.includes(': ') || text.endsWith(':')) throw new GiveUp();
  return { kind: 'scalar', line, value: resolvePlain(text), source: text };
}

const CORE_TAGS = new Schema({ schema: 'core' }).tags.filter(
  (t) => t.default === true && 'test' in t && t.test,
);

/** The value of a plain scalar under the core schema, decided by the `yaml` package's own tags. */
function resolvePlain(text: string): unknown {
  // Only `~`, digits, signs, dots and the words null, true and false can be other than a string.
  if (/^[A-Za-z]/.test(text) && !/^(?:[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(text)) return text;
  // Dates and amounts repeat across a registry: each text is resolved once.
  if (resolved.has(text)) return resolved.get(text);
  const value = byCoreTags(text);
  if (resolved.size < 10_000) resolved.set(text, value);
  return value;
}

const resolved = new Map<string, unknown>();

function byCoreTags(text: string): unknown {
  for (const tag of CORE_TAGS) {
    if (!('test' in tag) || !tag.test?.test(text)) continue;
    const v = tag.resolve(text, () => undefined, { intAsBigInt: false } as never);
    return isScalar(v) ? v.value : v;
  }
  return text;
}

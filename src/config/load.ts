/**
 * Loading `tally.yaml` and its includes (SPEC §2). Included files are merged
 * into the main one: lists concatenate, mappings merge key by key, and a
 * scalar set to two different values is a problem. The SHA-256 covers the
 * bytes of the main file and then of each include, in the order they are read.
 * Every problem carries its file and line: where each path was written is
 * recorded as the files merge only for numbers (an amount is read from its
 * text), and for every path only when a problem asks (the files are merged
 * again, recording): a registry of thousands of identities has a hundred
 * thousand paths, and a valid one needs none of them.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pushAll } from '../core/arrays.js';
import type { Config } from '../core/config.js';
import { parseConfig, type SourceLocation } from '../core/config-schema.js';
import { ConfigError, type Problem } from '../core/errors.js';
import { parseBlockYaml, readBlockValues, type YNode } from './block-yaml.js';

type YMap = YNode & { kind: 'map' };

type Obj = Record<string, unknown>;

/** Reads one file of the configuration; by default from disk (a server restating uploaded files passes its own). */
export type ReadFile = (file: string) => Promise<Buffer>;

export async function loadConfig(
  file: string,
  read: ReadFile = readFile,
): Promise<{ config: Config; files: string[] }> {
  const loader = new Loader(read);
  await loader.visit(path.resolve(file), []);
  if (loader.problems.length > 0) throw new ConfigError(loader.problems);
  const config = parseConfig(loader.merged, {
    sha256: loader.hash.digest('hex'),
    sourceMap: (p) => loader.locate(p),
  });
  return { config, files: loader.files };
}

class Loader {
  readonly problems: Problem[] = [];
  readonly files: string[] = [];
  readonly hash = createHash('sha256');
  readonly merged: Obj = {};
  /** Where numbers were written, recorded as the files merge. */
  readonly numbers = new Map<string, SourceLocation>();
  /** Each file's tree, in the order merged (a file read as plain values is parsed again when asked). */
  private readonly trees: Array<{ file: string; node: () => YMap }> = [];
  private everywhere: Map<string, SourceLocation> | null = null;

  constructor(private readonly read: ReadFile) {}

  /** Where a path was written: a number's as recorded, any other's from the trees merged again. */
  locate(at: string): SourceLocation | undefined {
    const number = this.numbers.get(at);
    if (number !== undefined) return number;
    this.everywhere ??= locationsOf(this.trees);
    return this.everywhere.get(at);
  }

  /** Where a path was written by a file merged before the one merging now (a conflict's first value). */
  firstLocation(at: string): SourceLocation | undefined {
    return this.numbers.get(at) ?? locationsOf(this.trees).get(at);
  }

  async visit(file: string, including: string[]): Promise<void> {
    const includer = including.at(-1);
    if (including.includes(file)) {
      const cycle = [...including.slice(including.indexOf(file)), file].map(display).join(' → ');
      this.problems.push({
        file: display(includer ?? file),
        field: 'include',
        reason: `include cycle: ${cycle}`,
      });
      return;
    }
    if (this.files.includes(file)) {
      this.problems.push({
        file: display(includer ?? file),
        field: 'include',
        reason: `${display(file)} is included more than once`,
      });
      return;
    }
    let bytes: Buffer;
    try {
      bytes = await this.read(file);
    } catch (err) {
      const reason =
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'file not found'
          : `cannot read: ${(err as Error).message}`;
      this.problems.push(
        includer
          ? { file: display(includer), field: 'include', reason: `${display(file)}: ${reason}` }
          : { file: display(file), reason },
      );
      return;
    }
    this.files.push(file);
    this.hash.update(bytes);

    const text = bytes.toString('utf8');
    if (this.trees.length === 0 && this.readPlain(text, display(file))) return;
    const parsed = await parseFile(text, display(file));
    if ('problems' in parsed) {
      pushAll(this.problems, parsed.problems);
      return;
    }
    if (parsed.node === null) return;
    if (parsed.node.kind !== 'map') {
      this.problems.push({
        file: display(file),
        record: 1,
        recordKind: 'line',
        reason: 'the configuration must be a mapping of sections',
      });
      return;
    }
    const source = new Source(display(file), this, this.numbers, false);
    const includes = source.includes(parsed.node);
    source.mergeMap(this.merged, parsed.node, '');
    const node = parsed.node;
    this.trees.push({ file: display(file), node: () => node });
    for (const inc of includes) await this.visit(path.resolve(path.dirname(file), inc), [...including, file]);
  }

  /**
   * The first file, when it includes nothing and the block reader takes it,
   * read straight to the merged values and its numbers' locations: what
   * merging its tree would give (test/config/block-yaml.test.ts).
   */
  private readPlain(text: string, file: string): boolean {
    const read = readBlockValues(text);
    if (!read.ok || (read.value !== null && Object.hasOwn(read.value, 'include'))) return false;
    if (read.value === null) return true;
    Object.assign(this.merged, read.value);
    for (const [at, n] of read.numbers) this.numbers.set(at, { file, line: n.line, text: n.text });
    this.trees.push({ file, node: () => (parseBlockYaml(text) as { node: YMap }).node });
    return true;
  }
}

/** Every path's location: the trees merged again in the same order, recording each (their problems were reported). */
function locationsOf(trees: ReadonlyArray<{ file: string; node: () => YMap }>): Map<string, SourceLocation> {
  const again = new Loader(() => Promise.reject(new Error('no file is read again')));
  const out = new Map<string, SourceLocation>();
  for (const t of trees) new Source(t.file, again, out, true).mergeMap(again.merged, t.node(), '');
  return out;
}

/**
 * One file's tree: by the fast block-style reader when it takes the file
 * (large registries are written that way), else by the `yaml` package
 * (loaded only then), whose errors become problems with their line.
 */
async function parseFile(
  text: string,
  file: string,
): Promise<{ node: YNode | null } | { problems: Problem[] }> {
  const fast = parseBlockYaml(text);
  if (fast.ok) return { node: fast.node };
  return (await import('./yaml-tree.js')).parseByYaml(text, file);
}

/**
 * One parsed file: converts its nodes to plain values, recording where each
 * path was written in `locations` (`everything` false: numbers only).
 */
class Source {
  constructor(
    private readonly file: string,
    private readonly loader: Loader,
    private readonly locations: Map<string, SourceLocation>,
    private readonly everything: boolean,
  ) {}

  includes(map: YMap): string[] {
    const pair = map.items.find((p) => p.key === 'include');
    if (!pair) return [];
    const value = this.value(pair.value, 'include', false);
    const list = typeof value === 'string' ? [value] : value;
    if (Array.isArray(list) && list.every((v) => typeof v === 'string' && v !== '')) return list as string[];
    this.problem(pair.value ?? pair.keyNode, 'include', 'must be a list of file names');
    return [];
  }

  mergeMap(target: Obj, map: YMap, base: string): void {
    for (const pair of map.items) {
      const key = pair.key;
      if (base === '' && key === 'include') continue;
      const at = base === '' ? key : `${base}.${key}`;
      const node = pair.value ?? pair.keyNode;
      const existing = target[key];
      if (!(key in target)) {
        if (pair.value === null) this.locate(pair.keyNode, at);
        target[key] = pair.value === null ? null : this.value(node, at);
      } else if (Array.isArray(existing) && node.kind === 'seq') {
        const offset = existing.length;
        node.items.forEach((item, i) => {
          existing.push(this.value(item, `${at}[${offset + i}]`));
        });
      } else if (isPlainObject(existing) && node.kind === 'map') {
        this.mergeMap(existing, node, at);
      } else {
        const value = this.value(node, at, false);
        if (value !== existing) {
          const first = this.loader.firstLocation(at);
          const where = first ? ` in ${first.file}${first.line ? ` line ${first.line}` : ''}` : '';
          this.problem(node, at, `conflicts with the value set${where}`);
        }
      }
    }
  }

  /** The plain value of a node; `record` false leaves the locations as they are (a conflicting duplicate). */
  private value(node: YNode | null, at: string, record = true): unknown {
    if (node === null) return null;
    if (record) this.locate(node, at);
    if (node.kind === 'map') {
      const obj: Obj = {};
      if (record) this.mergeMap(obj, node, at);
      else for (const pair of node.items) obj[pair.key] = this.value(pair.value, at, false);
      return obj;
    }
    if (node.kind === 'seq') return node.items.map((item, i) => this.value(item, `${at}[${i}]`, record));
    return node.value;
  }

  private locate(node: YNode, at: string): void {
    if (node.line === 0) return;
    if (!this.everything && !(node.kind === 'scalar' && typeof node.value === 'number')) return;
    const loc: SourceLocation = { file: this.file, line: node.line };
    if (node.kind === 'scalar' && node.source !== undefined) loc.text = node.source;
    this.locations.set(at, loc);
  }

  private problem(node: YNode, field: string, reason: string): void {
    const p: Problem = { file: this.file, field, reason };
    if (node.line !== 0) Object.assign(p, { record: node.line, recordKind: 'line' });
    this.loader.problems.push(p);
  }
}

function isPlainObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** File names in problems: relative to the working directory when under it. */
function display(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/**
 * Loading `tally.yaml` and its includes (SPEC §2). Included files are merged
 * into the main one: lists concatenate, mappings merge key by key, and a
 * scalar set to two different values is a problem. The SHA-256 covers the
 * bytes of the main file and then of each include, in the order they are read.
 * Every problem carries its file and line.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type YAMLMap,
} from 'yaml';
import type { Config } from '../core/config.js';
import { parseConfig, type SourceLocation } from '../core/config-schema.js';
import { ConfigError, type Problem } from '../core/errors.js';

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
    sourceMap: (p) => loader.locations.get(p),
  });
  return { config, files: loader.files };
}

class Loader {
  readonly problems: Problem[] = [];
  readonly files: string[] = [];
  readonly hash = createHash('sha256');
  readonly merged: Obj = {};
  readonly locations = new Map<string, SourceLocation>();

  constructor(private readonly read: ReadFile) {}

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

    const lines = new LineCounter();
    const doc = parseDocument(bytes.toString('utf8'), { lineCounter: lines, prettyErrors: false });
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
        const p: Problem = {
          file: display(file),
          reason: `${e.message.split('\n')[0]}${pos ? ` (column ${pos.col})` : ''}`,
        };
        if (pos) Object.assign(p, { record: pos.line, recordKind: 'line' });
        this.problems.push(p);
      }
      return;
    }
    if (doc.contents === null) return;
    if (!isMap(doc.contents)) {
      this.problems.push({
        file: display(file),
        record: 1,
        recordKind: 'line',
        reason: 'the configuration must be a mapping of sections',
      });
      return;
    }
    const source = new Source(display(file), doc, lines, this);
    const includes = source.includes(doc.contents);
    source.mergeMap(this.merged, doc.contents, '');
    for (const inc of includes) await this.visit(path.resolve(path.dirname(file), inc), [...including, file]);
  }
}

/** One parsed file: converts its nodes to plain values, recording where each path was written. */
class Source {
  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly loader: Loader,
  ) {}

  includes(map: YAMLMap): string[] {
    const pair = map.items.find((p) => isScalar(p.key) && p.key.value === 'include');
    if (!pair) return [];
    const value = this.value(pair.value, 'include', false);
    const list = typeof value === 'string' ? [value] : value;
    if (Array.isArray(list) && list.every((v) => typeof v === 'string' && v !== '')) return list as string[];
    this.problem(pair.value ?? pair.key, 'include', 'must be a list of file names');
    return [];
  }

  mergeMap(target: Obj, map: YAMLMap, base: string): void {
    for (const pair of map.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (base === '' && key === 'include') continue;
      const at = base === '' ? key : `${base}.${key}`;
      const node = this.resolve(pair.value ?? pair.key);
      const existing = target[key];
      if (!(key in target)) {
        if (pair.value === null) this.locate(pair.key, at);
        target[key] = pair.value === null ? null : this.value(node, at);
      } else if (Array.isArray(existing) && isSeq(node)) {
        const offset = existing.length;
        node.items.forEach((item, i) => {
          existing.push(this.value(item, `${at}[${offset + i}]`));
        });
      } else if (isPlainObject(existing) && isMap(node)) {
        this.mergeMap(existing, node, at);
      } else {
        const value = this.value(node, at, false);
        if (value !== existing) {
          const first = this.loader.locations.get(at);
          const where = first ? ` in ${first.file}${first.line ? ` line ${first.line}` : ''}` : '';
          this.problem(node, at, `conflicts with the value set${where}`);
        }
      }
    }
  }

  /** The plain value of a node; `record` false leaves the locations as they are (a conflicting duplicate). */
  private value(raw: unknown, at: string, record = true): unknown {
    const node = this.resolve(raw);
    if (record) this.locate(node, at);
    if (isMap(node)) {
      const obj: Obj = {};
      if (record) this.mergeMap(obj, node, at);
      else
        for (const pair of node.items)
          obj[String(isScalar(pair.key) ? pair.key.value : pair.key)] = this.value(pair.value, at, false);
      return obj;
    }
    if (isSeq(node)) return node.items.map((item, i) => this.value(item, `${at}[${i}]`, record));
    if (isScalar(node)) return node.value;
    return null;
  }

  private resolve(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }

  private locate(node: unknown, at: string): void {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (!range) return;
    const loc: SourceLocation = { file: this.file, line: this.lines.linePos(range[0]).line };
    if (isScalar(node) && typeof node.source === 'string') loc.text = node.source;
    this.loader.locations.set(at, loc);
  }

  private problem(node: unknown, field: string, reason: string): void {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    const p: Problem = { file: this.file, field, reason };
    if (range) Object.assign(p, { record: this.lines.linePos(range[0]).line, recordKind: 'line' });
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

/**
 * A file the block reader (block-yaml.ts) does not take, parsed by the `yaml`
 * package into the loader's tree, its errors as problems with their line.
 * Its own module, so that a configuration written in block style never
 * loads the package.
 */
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Problem } from '../core/errors.js';
import type { YNode } from './block-yaml.js';

export function parseByYaml(text: string, file: string): { node: YNode | null } | { problems: Problem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
        const p: Problem = {
          file,
          reason: `${e.message.split('\n')[0]}${pos ? ` (column ${pos.col})` : ''}`,
        };
        if (pos) Object.assign(p, { record: pos.line, recordKind: 'line' });
        return p;
      }),
    };
  }
  return { node: doc.contents === null ? null : fromYaml(doc, lines, doc.contents) };
}

/** A `yaml` node as the loader's tree (aliases resolved where they stand). */
export function fromYaml(doc: Document, lines: LineCounter, raw: unknown): YNode {
  const node = isAlias(raw) ? raw.resolve(doc) : raw;
  const start = (node as { range?: [number, number, number] } | null)?.range?.[0];
  const line = start === undefined ? 0 : lines.linePos(start).line;
  if (isMap(node)) {
    const items = node.items.map((pair) => ({
      key: isScalar(pair.key) ? String(pair.key.value) : String(pair.key),
      keyNode: fromYaml(doc, lines, pair.key),
      value: pair.value === null ? null : fromYaml(doc, lines, pair.value),
    }));
    return { kind: 'map', line, items };
  }
  if (isSeq(node)) return { kind: 'seq', line, items: node.items.map((item) => fromYaml(doc, lines, item)) };
  if (isScalar(node))
    return {
      kind: 'scalar',
      line,
      value: node.value,
      ...(typeof node.source === 'string' ? { source: node.source } : {}),
    };
  return { kind: 'scalar', line, value: null };
}

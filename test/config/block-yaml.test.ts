// The fast block-style reader against the `yaml` package: whatever the fast
// reader takes must give the tree `yaml` gives (values, lines, number texts),
// and whatever `yaml` rejects the fast reader must leave to it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineCounter, parseDocument } from 'yaml';
import {
  type NumberSource,
  parseBlockYaml,
  readBlockValues,
  type YNode,
} from '../../src/config/block-yaml.js';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { fromYaml } from '../../src/config/yaml-tree.js';
import { writeCanonicalJsonl } from '../../src/demo/index.js';

/** The tree `yaml` gives, or 'error'. */
function bySlowPath(text: string): unknown {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) return 'error';
  return doc.contents === null ? null : fromYaml(doc, lines, doc.contents);
}

/** What the loader merges a tree into: plain values, and each number's path, line and text. */
function mergedOf(node: YNode | null) {
  const numbers: Record<string, NumberSource> = {};
  const plain = (n: YNode, at: string): unknown => {
    if (n.kind === 'map')
      return Object.fromEntries(
        n.items.map((p) => [p.key, p.value && plain(p.value, at === '' ? p.key : `${at}.${p.key}`)]),
      );
    if (n.kind === 'seq') return n.items.map((item, i) => plain(item, `${at}[${i}]`));
    if (typeof n.value === 'number') numbers[at] = { line: n.line, text: n.source ?? '' };
    return n.value;
  };
  return { value: node && plain(node, ''), numbers };
}

/** Whether a map of the tree has a key that every object has (`constructor`). */
function inheritedKey(node: YNode | null): boolean {
  if (node === null || node.kind === 'scalar') return false;
  if (node.kind === 'seq') return node.items.some(inheritedKey);
  return node.items.some((p) => p.key in Object.prototype || inheritedKey(p.value));
}

/**
 * Asserts the oracle, and that the plain values read directly are the tree's
 * merged (unless a key is inherited); returns whether the fast reader took the text.
 */
function agrees(text: string): boolean {
  const fast = parseBlockYaml(text);
  const values = readBlockValues(text);
  if (!fast.ok) {
    expect(values.ok, text).toBe(false);
    return false;
  }
  expect(fast.node, text).toEqual(bySlowPath(text));
  if (inheritedKey(fast.node)) expect(values.ok, text).toBe(false);
  else if (!values.ok) expect.fail(`readBlockValues gave up on ${JSON.stringify(text)}`);
  else
    expect({ value: values.value, numbers: Object.fromEntries(values.numbers) }, text).toEqual(
      mergedOf(fast.node),
    );
  return true;
}

const TAKEN = [
  'a: 1\nb: two\n',
  '---\n# comment\nteams:\n  - id: t\n    name: T # trailing\n\n    cost_center: cc\n',
  'list:\n- a\n- b\nnext: 3\n',
  'x:\n  -\n    y: 1\n  - \n  - z\n',
  'n: ~\nm: null\nk: Null\nt: true\nf: FALSE\nyes: yes\noct: 0o17\nhex: 0x1F\nneg: -3\nf1: 2.50\nf2: .5\ne: 1e3\ninf: .inf\nnan: .NaN\n',
  "q: 'it''s'\nd: \"plain\"\nsp: a b  c\nurl: http://x/y\nhash: a#b\nempty:\n",
  'p:\n  - { team: team-1, from: 2025-01-01 }\n  - { at: 2025-07-01T00:00:00Z, event: created }\n  - [a, 1, { b: c }]\n  - {}\n  - []\n',
  '1: one\n2.0: two\nnull: n\n',
  'n1: +5\nn2: -0\nn3: 0o8\nn4: 1_000\nn5: 1.\nn6: -.5e-3\nn7: +.inf\nn8: .Nan\nn9: 0x\nn10: 00012\nn11: 1e\nn12: +0x1\nn13: 1.5E+3\nn14: 0o17.5\n',
  'constructor: 1\nx:\n  - { toString: 2, __proto__: 3 }\n',
  'prices:\n  models:\n    - { input_per_mtok: 2.50, n: [1, { m: 0x1F }] }\n    - a: -3\n      b: [.5, "7"]\n',
  'deep:\n  a:\n    b:\n      - c: 1\n        d: [x, "y, z"]\n      - e\n',
  '-   a: 1\n    b: 2\n'.replace(/^/, 'k:\n'),
  '# only a comment\n',
  '',
];

const LEFT = [
  'a: &x 1\nb: *x\n',
  'a: |\n  text\n',
  'a: >\n  folded\n',
  'a: plain\n  continued\n',
  'a:\tb\n',
  'a: 1\na: 2\n',
  'a: 1\r\nb: 2\r\n',
  'a: { b: 1, }\n',
  'a: [b: 1]\n',
  'a: "esc\\n"\n',
  'a: !tag x\n',
  'a: b: c\n',
  '? complex\n: value\n',
  'a:\n  - b\n  c: 1\n',
  'a: 1\n- b\n',
  '- a\n- b\n',
  'plain scalar document\n',
  '--- \na: 1\n...\n',
  "a: 'unclosed\n",
  'a: [1, 2\n',
];

describe('parseBlockYaml', () => {
  it.each(TAKEN)('takes plain block style and gives the same tree as yaml: %j', (text) => {
    expect(agrees(text)).toBe(true);
  });

  it.each(LEFT)('leaves what it does not take to yaml: %j', (text) => {
    expect(parseBlockYaml(text).ok).toBe(false);
  });

  it('gives the same trees as yaml for the example configuration and a generated registry', async () => {
    expect(agrees(EXAMPLE_CONFIG)).toBe(true);
    const dir = mkdtempSync(path.join(tmpdir(), 'tally-block-yaml-'));
    const { configYaml } = await writeCanonicalJsonl(path.join(dir, 'none.jsonl'), {
      events: 0,
      identities: 300,
      applications: 40,
      tenants: 50,
      agentShare: 0.2,
      month: '2026-10',
      seed: 3,
    });
    expect(agrees(configYaml)).toBe(true);
  });

  it('agrees with yaml on every YAML file in the repository', () => {
    const root = path.join(import.meta.dirname, '..', '..');
    const files = execFileSync('git', ['ls-files', '*.yaml', '*.yml'], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f !== '');
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) agrees(readFileSync(path.join(root, f), 'utf8'));
  });

  it('takes nested block documents and agrees with yaml on them', () => {
    const plain = fc.constantFrom(
      '1',
      '2.50',
      '-3',
      'true',
      '~',
      'text',
      'a b',
      'http://h/p',
      '2026-01-01',
      "'q'",
      '"d"',
    );
    type T = string | { m: Array<[string, T]> } | { s: T[] } | { f: string[] };
    const tree = fc.letrec<{ value: T; map: T; seq: T; flow: T }>((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, plain, tie('map'), tie('seq'), tie('flow')),
      map: fc
        .uniqueArray(fc.tuple(fc.constantFrom('a', 'b', 'id', 'k-1', 'x_y', '7'), tie('value')), {
          minLength: 1,
          maxLength: 4,
          selector: ([k]) => k,
        })
        .map((m) => ({ m })),
      seq: fc.array(tie('value'), { minLength: 1, maxLength: 4 }).map((s) => ({ s })),
      flow: fc.array(plain, { maxLength: 3 }).map((f) => ({ f })),
    }));
    const render = (v: T, indent: number): string[] => {
      const pad = ' '.repeat(indent);
      if (typeof v === 'string') return [v];
      if ('f' in v) return [`[${v.f.join(', ')}]`];
      if ('m' in v) return v.m.flatMap(([k, x]) => nest(`${pad}${k}:`, x, indent));
      return v.s.flatMap((x) => nest(`${pad}-`, x, indent));
    };
    const nest = (head: string, x: T, indent: number): string[] => {
      const inner = render(x, indent + 2);
      return typeof x === 'string' || 'f' in x ? [`${head} ${inner[0]}`] : [head, ...inner];
    };
    fc.assert(
      fc.property(tree.map, (m) => {
        const text = `${render(m, 0).join('\n')}\n`;
        expect(agrees(text), text).toBe(true);
      }),
      { numRuns: 1500, seed: 7 },
    );
  });

  it('never disagrees with yaml on generated documents', () => {
    const key = fc.constantFrom('a', 'b', 'id', 'team-1', '1', 'null', 'x.y', 'a b', '"q"', '-k');
    const scalar = fc.constantFrom(
      '1',
      '-2',
      '0o7',
      '0x1F',
      '1e3',
      '2.50',
      '.5',
      '.inf',
      '-.Inf',
      '.nan',
      '~',
      'Null',
      'true',
      'yes',
      'on',
      "'a''b'",
      '"x"',
      'a #c',
      'a#c',
      'a:b',
      'a: b',
      'x:',
      '[a, b]',
      '{ a: 1 }',
      '{ t: 2025-01-01T00:00:00Z }',
      '[]',
      '{}',
      '-1',
      '-x',
      '- x',
      '&a v',
      '*a',
      '|',
      '"a\\"b"',
      "'",
      '',
      '  ',
      '{ a: [1, { b: c }] }',
      '[a, b',
    );
    const line = fc
      .tuple(fc.nat(6), fc.boolean(), key, scalar, fc.boolean())
      .map(([indent, dash, k, v, keyed]) => {
        const body = keyed ? `${k}:${v === '' ? '' : ` ${v}`}` : v;
        return `${' '.repeat(indent)}${dash ? '- ' : ''}${body}`;
      });
    const doc = fc.array(fc.oneof(line, fc.constantFrom('', '# c', '  # c', '---')), { maxLength: 12 });
    let taken = 0;
    fc.assert(
      fc.property(doc, (lines) => {
        const text = `${lines.join('\n')}\n`;
        const fast = parseBlockYaml(text);
        if (!fast.ok) return;
        taken++;
        expect(fast.node, text).toEqual(bySlowPath(text));
      }),
      { numRuns: 4000, seed: 42 },
    );
    // The generator must reach the fast reader often enough for the comparison to mean something.
    expect(taken).toBeGreaterThan(200);
  });
});

// The bulk path's key scan (src/store/duckdb/json-key-scan.ts): every key of
// every record, whatever the chunk a key or value falls across.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  scanJsonKeys,
  scanJsonKeysAside,
  scanJsonKeysSync,
  type ValueKind,
} from '../../src/store/duckdb/json-key-scan.js';

const KNOWN = ['id', 'source', 'model', 'model_version', 'input_tokens'];
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-keyscan-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function scan(text: string) {
  const file = path.join(dir, 'f.jsonl');
  await writeFile(file, text);
  return bothWays(file, KNOWN);
}

/** The stream's scan, checked to equal the whole-thread scan's (scanJsonKeysSync, the worker's). */
async function bothWays(file: string, known: readonly string[], kinds: Record<string, ValueKind> = {}) {
  const streamed = await scanJsonKeys(file, known, () => false, kinds);
  expect(scanJsonKeysSync(file, known, kinds)).toEqual(streamed);
  return streamed;
}

describe('scanJsonKeys', () => {
  it('accepts known keys in any spacing, values with quotes, colons and braces, blank lines', async () => {
    const text = [
      '{"id":"a","source":"gw","model":"m","input_tokens":5}',
      '',
      '  { "id" : "b\\"model\\":{x}" ,\t"model_version": null , "input_tokens" : 12 }  \r',
      '{}',
      '{"id":"c\\\\","source":"\\u00e9"}',
    ].join('\n');
    expect(await scan(text)).toEqual({ ok: true, lines: 5 });
  });

  const refused: Array<[string, string, { line: number; reason: string; key?: string }]> = [
    [
      'a misspelt key',
      '{"id":"a"}\n{"id":"b","input_token":5}\n',
      { line: 2, reason: 'unknown field', key: 'input_token' },
    ],
    [
      'a key that only starts as a known one',
      '{"modelx":1}\n',
      { line: 1, reason: 'unknown field', key: 'modelx' },
    ],
    ['a prefix of a known key', '{"mod":1}\n', { line: 1, reason: 'unknown field', key: 'mod' }],
    ['an empty key', '{"id":"a","":1}\n', { line: 1, reason: 'unknown field', key: '' }],
    ['an escaped key', '{"\\u0069d":"a"}\n', { line: 1, reason: 'an escaped key' }],
    ['a nested value', '{"id":{"x":1}}\n', { line: 1, reason: 'a nested value' }],
    ['an array', '[1]\n', { line: 1, reason: 'not a JSON object' }],
    ['two objects on a line', '{"id":"a"}{"id":"b"}\n', { line: 1, reason: 'not a flat JSON object' }],
    ['a record cut short', '{"id":"a"}\n{"id":"b",', { line: 2, reason: 'the last record is incomplete' }],
    [
      'a line break inside a string or key',
      '{"id":"a\nb"}\n',
      { line: 1, reason: 'a line break inside a string or key' },
    ],
  ];
  for (const [what, text, expected] of refused)
    it(`refuses ${what}, naming its line`, async () => {
      expect(await scan(text)).toEqual({ ok: false, ...expected });
    });

  it('finds a key that falls across two chunks of the read, with the right line', async () => {
    const good = '{"id":"aaaaaaaaaaaaaaaa","source":"gw","model":"m","input_tokens":5}\n';
    // Move the misspelt key across the 1 MiB chunk boundary byte by byte.
    const lines = Math.floor((1 << 20) / good.length) - 1;
    // The bad line's key starts 11 bytes into it; at shift 0 it starts 5 bytes before the boundary.
    const room = (1 << 20) - (lines - 1) * good.length - 11 - 5;
    for (const shift of [-12, -7, -3, -1, 0, 1, 4, 5, 6, 16, 17]) {
      const filler = `{"id":"${'x'.repeat(room + shift - 10)}"}\n`;
      const text = `${good.repeat(lines - 1)}${filler}{"id":"z","input_tokenz":1}\n${good}`;
      expect(await scan(text)).toEqual({
        ok: false,
        line: lines + 1,
        reason: 'unknown field',
        key: 'input_tokenz',
      });
    }
    const escaped = `${'{"id":"a"}\n'.repeat(lines)}{"source":"${'\\"'.repeat(1 << 19)}","mode":1}\n`;
    expect(await scan(escaped)).toEqual({ ok: false, line: lines + 1, reason: 'unknown field', key: 'mode' });
  });
});

describe('scanJsonKeys with value kinds', () => {
  const kinds: Record<string, ValueKind> = { id: 'text', input_tokens: 'count', model: 'decimal' };
  async function scanKinds(text: string) {
    const file = path.join(dir, 'k.jsonl');
    await writeFile(file, text);
    return bothWays(file, KNOWN, kinds);
  }

  it('accepts a string or null for text, bare digits or null for a count, either for a decimal', async () => {
    const text = [
      '{"id":"a","input_tokens":5,"model":"1.50","source":7}',
      '{"id":null,"input_tokens":null,"model":12,"source":{"x":1}}',
      '{ "id" : "n" , "input_tokens" : 1234567890123 , "model" : null }',
      '{"model":"x","id":"12","input_tokens":0}',
    ].join('\n');
    const r = await scanKinds(text);
    // `source` has no kind: any value passes the kind check (the nested one is refused as ever).
    expect(r).toEqual({ ok: false, line: 2, reason: 'a nested value' });
    expect(await scanKinds(text.replace('{"x":1}', 'true'))).toEqual({ ok: true, lines: 4 });
  });

  const refused: Array<[string, string, string]> = [
    ['a number for text', '{"id":12}', 'id'],
    ['a boolean for text', '{"id":true}', 'id'],
    ['a string for a count', '{"input_tokens":"12"}', 'input_tokens'],
    ['a fraction for a count', '{"input_tokens":1.0}', 'input_tokens'],
    ['an exponent for a count', '{"input_tokens":1e2}', 'input_tokens'],
    ['a negative count', '{"input_tokens":-0}', 'input_tokens'],
    ['a boolean for a count', '{"input_tokens":false}', 'input_tokens'],
    ['a fraction given as a number for a decimal', '{"model":1.5}', 'model'],
    ['a boolean for a decimal', '{"model":true}', 'model'],
  ];
  for (const [what, line, key] of refused)
    it(`refuses ${what}, naming its line and key`, async () => {
      expect(await scanKinds(`{"id":"a","input_tokens":1}\n${line}\n`)).toEqual({
        ok: false,
        line: 2,
        reason: 'a value of another type than the field takes',
        key,
      });
    });

  it('checks a value whose key and value fall across two chunks of the read', async () => {
    const good = '{"id":"aaaaaaaaaaaaaaaa","input_tokens":5}\n';
    const lines = Math.floor((1 << 20) / good.length) - 1;
    const room = (1 << 20) - (lines - 1) * good.length;
    for (const shift of [-30, -24, -22, -21, -20, -19, -18, -2, -1, 0, 1]) {
      const filler = `{"id":"${'x'.repeat(room + shift - 30)}"}\n`;
      const text = `${good.repeat(lines - 1)}${filler}{"id":"z","input_tokens":12.5}\n${good}`;
      const r = await scanKinds(text);
      expect(r).toMatchObject({
        ok: false,
        line: lines + 1,
        reason: 'a value of another type than the field takes',
      });
    }
  });
});

describe('scanJsonKeys by whole lines', () => {
  const kinds: Record<string, ValueKind> = { id: 'text', input_tokens: 'count', model: 'decimal' };
  const GOOD: Record<string, string[]> = {
    id: ['"a"', '"x\\"y"', '"\\\\"', '"é"', '""', '"a:b,c}"', 'null'],
    source: ['"gw"', '12', 'true', '"\\u00e9"', 'null'],
    model: ['"1.50"', '12', 'null', '"m"'],
    model_version: ['"v"', 'null', '1.5'],
    input_tokens: ['12', '0', 'null'],
  };
  const ODD_KEYS = ['"inputs"', '"i\\u0064"', '""', '"model_"'];
  const ODD_VALUES = [
    'nul',
    'nothing',
    '1.5',
    '-1',
    '1e2',
    'true',
    '"12"',
    '{"x":1}',
    '[1]',
    '"a\nb"',
    '"\\',
  ];
  const BLANKS = ['', '', ' ', '\t', '\r', '  '];
  let seed = 7;
  const pick = <T>(a: readonly T[]): T => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return a[(seed >> 8) % a.length] as T;
  };
  const rare = () => pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) === 0;
  function pair(): string {
    const key = pick(Object.keys(GOOD));
    const b = () => pick(BLANKS);
    const value = rare() ? pick(ODD_VALUES) : pick(GOOD[key] as string[]);
    return `${rare() ? pick(ODD_KEYS) : `"${key}"`}${b()}:${b()}${value}${b()}`;
  }
  function line(): string {
    const pairs = Array.from({ length: pick([0, 1, 2, 3, 5]) }, pair);
    const text = `${pick(BLANKS)}{${pick(BLANKS)}${pairs.join(`,${pick(BLANKS)}`)}}${pick(BLANKS)}`;
    if (!rare()) return text;
    // Now and then a character dropped, changed or put in.
    const at = pick(Array.from(text, (_, i) => i));
    return (
      text.slice(0, at) +
      pick(['', '{', '}', ',', ':', '"', '\\', '\n', 'n', '0']) +
      text.slice(at + pick([0, 1]))
    );
  }

  it('decides every file as the byte by byte scan does', async () => {
    const file = path.join(dir, 'w.jsonl');
    const decided = { ok: 0, refused: 0 };
    for (let k = 0; k < 600; k++) {
      const text = Array.from({ length: 4 }, line).join('\n') + pick(['', '\n']);
      await writeFile(file, text);
      const byLines = await bothWays(file, KNOWN, kinds);
      expect(byLines, JSON.stringify(text)).toEqual(
        await scanJsonKeys(file, KNOWN, () => false, kinds, false),
      );
      decided[byLines.ok ? 'ok' : 'refused']++;
    }
    expect(decided.ok).toBeGreaterThan(20);
    expect(decided.refused).toBeGreaterThan(20);
  });
});

// The scan in a worker thread runs the built code (dist/, compiled before the tests).
const WORKER = pathToFileURL(
  path.join(import.meta.dirname, '../../dist/store/duckdb/json-key-scan-worker.js'),
);

describe('scanJsonKeysAside', () => {
  const records = (n: number, at: number, bad: string) =>
    Array.from({ length: n }, (_, i) =>
      i === at ? `{"id":"e${i}",${bad}}` : `{"id":"e${i}","source":"gw","input_tokens":${i}}`,
    ).join('\n');
  const aside = async (text: string, script = WORKER) => {
    const file = path.join(dir, 'f.jsonl');
    await writeFile(file, text);
    return scanJsonKeysAside({ path: file, known: KNOWN, kinds: { input_tokens: 'count' } }, script);
  };

  it('in a worker gives what the scan on this thread gives', async () => {
    expect(existsSync(fileURLToPath(WORKER))).toBe(true);
    expect(await (await aside(records(50_000, -1, ''))).result).toEqual({ ok: true, lines: 50_000 });
    expect(await (await aside(records(50_000, 41_234, '"input_token":5'))).result).toEqual({
      ok: false,
      line: 41_235,
      reason: 'unknown field',
      key: 'input_token',
    });
    expect(await (await aside(records(10, 3, '"input_tokens":"5"'))).result).toMatchObject({
      ok: false,
      line: 4,
      reason: 'a value of another type than the field takes',
    });
  });

  it('runs the script it is given in a worker thread', async () => {
    const script = path.join(dir, 'worker.mjs');
    await writeFile(
      script,
      "import { parentPort, workerData } from 'node:worker_threads';\nparentPort.postMessage({ ok: true, lines: workerData.known.length });\n",
    );
    expect(await (await aside('{}', pathToFileURL(script))).result).toEqual({
      ok: true,
      lines: KNOWN.length,
    });
  });

  it('stopped, says the file was not read to the end', async () => {
    const scan = await aside(records(200_000, -1, ''));
    scan.stop();
    expect(await scan.result).toEqual({ ok: false, line: 0, reason: 'not read to the end' });
  });

  it('without the built worker, scans on this thread', async () => {
    const missing = pathToFileURL(path.join(dir, 'no-such-worker.js'));
    expect(await (await aside(records(20, 7, '"modle":"x"'), missing)).result).toEqual({
      ok: false,
      line: 8,
      reason: 'unknown field',
      key: 'modle',
    });
  });
});

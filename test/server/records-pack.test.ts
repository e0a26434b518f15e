// The records a trace parse worker hands back packed (src/server/records-pack.ts): each comes back
// equal to the one packed, its keys in the same order, through a structured clone as postMessage
// makes; records that cannot be packed are left to the structured clone.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { emptyEvent, type UsageEvent } from '../../src/core/event.js';
import { type PackedRecords, packRecords, unpackRecords } from '../../src/server/records-pack.js';
import { ROOT } from './child.js';

function roundTrip<T extends object>(records: T[]): T[] {
  const packed = packRecords(records);
  if (packed === null) throw new Error('not packed');
  return unpackRecords<T>(deserialize(serialize(packed)) as PackedRecords);
}

/** Equal, with the keys of each record in the same order and `undefined` values kept. */
function expectSame<T extends object>(got: T[], want: T[]): void {
  expect(got).toStrictEqual(want);
  expect(got.map((r) => Object.keys(r))).toEqual(want.map((r) => Object.keys(r)));
}

const ev = (id: string, extra: Partial<UsageEvent> = {}): UsageEvent => ({
  ...emptyEvent(id, 'otlp', Date.UTC(2026, 9, 1) + id.length),
  service: 'svc',
  ...extra,
});

describe('records packed for the hand-over from a parse worker', () => {
  it('come back equal, in key order, across shapes and repeated values', () => {
    const records: UsageEvent[] = [
      ev('a'),
      ev('b'),
      ev('c', { adjusted_count: '4', input_audio_tokens: 3 }),
      ev('d', { adjusted_count: '4', input_audio_tokens: 3 }),
      ev('e'),
      ev('f', { service: null, model: 'm', input_tokens: 2 ** 53 - 1, output_tokens: -0 }),
      ev('g', { model: 'm', tenant: 'emoji 😀', agent: 'a\u0000b', project: 'x\ud800y' }),
      { ...ev('h'), cache_write_1h_tokens: undefined },
      { cache_write_1h_tokens: 1, ...ev('i') },
      ev('j', { time: Number.NaN, requests: Number.POSITIVE_INFINITY }),
    ];
    expectSame(roundTrip(records), records);
  });

  it('come back equal for empty lists, empty records and trace links', () => {
    expectSame(roundTrip([]), []);
    expectSame(roundTrip([{}, {}, { a: 'x' }, {}]), [{}, {}, { a: 'x' }, {}]);
    const links = Array.from({ length: 300 }, (_, i) => ({
      trace_id: `t${i % 7}`,
      span_id: `s${i}`,
      parent_span_id: i % 3 === 0 ? null : `s${i - 1}`,
      tenant: null,
      api_key: null,
      service: 'svc',
      agent: null,
      project: null,
    }));
    expectSame(roundTrip(links), links);
  });

  it('are left to the structured clone when a value or key cannot be packed', () => {
    expect(packRecords([ev('a'), ev('b', { units: { images: 2 } })])).toBeNull();
    expect(packRecords([{ a: true }])).toBeNull();
    expect(packRecords([{ a: 1n }])).toBeNull();
    expect(packRecords([Object.assign(Object.create(null), { a: 'x' })])).toBeNull();
    expect(packRecords([new Map()])).toBeNull();
    expect(packRecords([JSON.parse('{"__proto__": "x"}')])).toBeNull();
  });

  it('come back the same where code cannot be generated (node --disallow-code-generation-from-strings)', () => {
    const module = pathToFileURL(path.join(ROOT, 'dist/server/records-pack.js')).href;
    const script = `import(${JSON.stringify(module)}).then(({ packRecords, unpackRecords }) => {
      const records = [{ a: 'x', b: 1, c: null, d: undefined }, { a: 'x', b: -0, c: null, d: undefined }, { b: 2 }];
      const out = unpackRecords(packRecords(records));
      process.stdout.write(JSON.stringify([out.map((r) => Object.keys(r)), out.map((r) => Object.values(r).map(String))]));
    })`;
    const out = execFileSync(process.execPath, ['--disallow-code-generation-from-strings', '-e', script]);
    expect(JSON.parse(out.toString())).toEqual([
      [['a', 'b', 'c', 'd'], ['a', 'b', 'c', 'd'], ['b']],
      [['x', '1', 'null', 'undefined'], ['x', '0', 'null', 'undefined'], ['2']],
    ]);
  });
});

// A long record anywhere in a file parses in time linear in its length
// (issue 15: a 200 MB line that was not the first took 236 s, because every
// chunk re-searched the whole line so far). Fed in 16 KiB chunks, a 30 MB
// record took minutes that way; the bound on each test is its timeout.
import { describe, expect, it } from 'vitest';
import { parseText } from '../ingest/helpers.js';

const MB30 = 30 * 1024 * 1024;
const ev = (id: string, tool: string) =>
  JSON.stringify({ id, source: 's', time: '2026-10-01T12:00:00Z', operation: 'chat', tool });

describe('a 30 MB record that is not the first, in 16 KiB chunks', () => {
  it('JSON lines', async () => {
    const text = `${ev('a', 'x')}\n${ev('b', 'y'.repeat(MB30))}\n${ev('c', 'z')}\n`;
    const r = await parseText(text, 'jsonl', { size: 16 * 1024 });
    expect(r.events.map((e) => [e.id, e.tool?.length])).toEqual([
      ['a', 1],
      ['b', MB30],
      ['c', 1],
    ]);
  }, 20_000);

  it('a JSON array', async () => {
    const text = `[${ev('a', 'x')},\n${ev('b', 'y'.repeat(MB30))},${ev('c', 'z')}]`;
    const r = await parseText(text, 'jsonl', { size: 16 * 1024 });
    expect(r.events.map((e) => e.id)).toEqual(['a', 'b', 'c']);
  }, 20_000);

  it('CSV', async () => {
    const text = `id,source,time,operation,tool\na,s,2026-10-01T12:00:00Z,chat,x\nb,s,2026-10-01T12:00:00Z,chat,${'y'.repeat(MB30)}\n`;
    const r = await parseText(text, 'csv', { size: 16 * 1024 });
    expect(r.events.map((e) => [e.id, e.tool?.length])).toEqual([
      ['a', 1],
      ['b', MB30],
    ]);
  }, 20_000);
});

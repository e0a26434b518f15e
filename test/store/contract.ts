/**
 * The contract every Store adapter passes (SPEC §7, §10). `newStore` returns
 * a fresh, empty store each time; the suite closes it.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError, TallyError } from '../../src/core/errors.js';
import {
  EVENT_FIELDS,
  emptyEvent,
  RICH_COUNT_FIELDS,
  type TraceLink,
  type UsageEvent,
  unitsText,
} from '../../src/core/event.js';
import { fingerprint } from '../../src/core/secrets.js';
import type { SelectorTuple } from '../../src/core/usage.js';
import { redactEvent } from '../../src/ingest/fields.js';
import type { Store } from '../../src/store/store.js';
import type { Feature } from './adapters.js';

const T0 = Date.UTC(2026, 9, 1, 12);
const NOW = Date.UTC(2026, 9, 15);
const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** A selector tuple with the given fields, the others null. */
export function tuple(t: Partial<SelectorTuple>): SelectorTuple {
  return { api_key: null, service: null, agent: null, project: null, ...t };
}

export function event(id: string, fields: Partial<UsageEvent> = {}): UsageEvent {
  return { ...emptyEvent(id, 'gw', T0), provider: 'openai', model: 'gpt-4o', input_tokens: 100, ...fields };
}

/** The batch content hash, reimplemented from its definition in src/store/audit.ts. */
export function contentHash(events: readonly UsageEvent[]): string {
  const rows = events.map((e) => sha(rowText(e))).sort();
  const buckets = new Map<string, string[]>();
  for (const h of rows) buckets.set(h.slice(0, 2), [...(buckets.get(h.slice(0, 2)) ?? []), h]);
  const keys = [...buckets.keys()].sort();
  return sha(keys.map((k) => sha((buckets.get(k) ?? []).join(''))).join(''));
}

/** The row text: the 27 base fields, then the richer-usage fields only when any is set. */
function rowText(e: UsageEvent): string {
  const base = EVENT_FIELDS.map((f) => (e[f] === null ? '\u001e' : String(e[f]))).join('\u001f');
  const counts = RICH_COUNT_FIELDS.map((f) => e[f] ?? 0);
  const units = unitsText(e.units);
  const sampled = e.adjusted_count ? `\u001fadjusted_count=${e.adjusted_count}` : '';
  if (counts.every((n) => n === 0) && units === null) return base + sampled;
  return `${base}\u001f${[...counts.map(String), units ?? '\u001e'].join('\u001f')}${sampled}`;
}

/** A batch's content with trace links, reimplemented from its definition in src/store/audit.ts. */
export function linkedContentHash(events: readonly UsageEvent[], links: readonly TraceLink[]): string {
  const rows = links.map((l) =>
    sha(LINK_FIELDS.map((f) => (l[f] === null ? '\u001e' : l[f])).join('\u001f')),
  );
  return sha(`${events.length === 0 ? '' : contentHash(events)}|links|${bucketed(rows)}`);
}

function bucketed(rowHashes: readonly string[]): string {
  const buckets = new Map<string, string[]>();
  for (const h of [...rowHashes].sort())
    buckets.set(h.slice(0, 2), [...(buckets.get(h.slice(0, 2)) ?? []), h]);
  return sha(
    [...buckets.keys()]
      .sort()
      .map((k) => sha((buckets.get(k) ?? []).join('')))
      .join(''),
  );
}

const LINK_FIELDS = [
  'trace_id',
  'span_id',
  'parent_span_id',
  'tenant',
  'api_key',
  'service',
  'agent',
  'project',
] as const;

export function link(span: string, fields: Partial<TraceLink> = {}): TraceLink {
  return {
    trace_id: 'a'.repeat(32),
    span_id: span,
    parent_span_id: null,
    tenant: null,
    api_key: null,
    service: null,
    agent: null,
    project: null,
    ...fields,
  };
}

export function chainHash(prev: string, seq: number, count: number, content: string): string {
  return sha(`${prev}|${seq}|${count}|${content}`);
}

/** Sum of input tokens stored in October 2026, read back through the port. */
async function inputTokens(store: Store): Promise<number> {
  const groups = await store.usageGroups({
    from: Date.UTC(2026, 9, 1),
    to: Date.UTC(2026, 10, 1),
    boundaries: [],
    sharedTuples: [],
    payerTuples: [],
    byDay: false,
  });
  return groups.reduce((s, g) => s + g.input_tokens, 0);
}

export function jsonLine(e: UsageEvent): string {
  return JSON.stringify({ ...e, time: new Date(e.time).toISOString() });
}

function csvText(events: readonly UsageEvent[]): string {
  const cell = (v: unknown) =>
    v === null ? '' : typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : String(v);
  const rows = events.map((e) =>
    EVENT_FIELDS.map((f) => (f === 'time' ? new Date(e.time).toISOString() : cell(e[f]))).join(','),
  );
  return `${EVENT_FIELDS.join(',')}\n${rows.join('\n')}\n`;
}

/** The bulk path of an adapter that has it (one that lacks it skips these tests by name). */
export function bulk(store: Store): NonNullable<Store['ingestCanonicalFile']> {
  const f = store.ingestCanonicalFile;
  if (!f) throw new Error('the adapter has no bulk path but does not say it lacks one');
  return f.bind(store);
}

/**
 * The contract suite. `lacks` names the features the adapter does not have,
 * with why: their tests are skipped under a title that says so.
 */
export function storeContract(
  name: string,
  newStore: () => Promise<Store>,
  lacks: Partial<Record<Feature, string>> = {},
): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let dir: string;
    beforeEach(async () => {
      store = await newStore();
      dir = await mkdtemp(path.join(os.tmpdir(), 'tally-contract-'));
    });
    afterEach(async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('stores a batch and counts it', async () => {
      const r = await store.ingest('test:a', [[event('a'), event('b')], [event('c')]]);
      expect(r).toEqual({ batch: 1, stored: 3, duplicates: 0, superseded: 0 });
      expect(await store.counters()).toEqual({
        events: 3,
        duplicates: 0,
        superseded: 0,
        rejected: 0,
        ignored: 0,
        batches: 1,
      });
      const [b] = await store.batches();
      expect(b).toMatchObject({ seq: 1, label: 'test:a', count: 3 });
      expect(await inputTokens(store)).toBe(300);
    });

    it('reads a snapshot: an ingest that commits meanwhile is wholly out of it (SPEC §5.3)', async () => {
      await store.ingest('first', [[event('a'), event('b')]]);
      const head = await store.auditHead();
      const seen = await store.snapshot(async (snap) => {
        await store.ingest('meanwhile', [[event('c'), event('d')]]);
        const groups = await snap.usageGroups({
          from: Date.UTC(2026, 9, 1),
          to: Date.UTC(2026, 10, 1),
          boundaries: [],
          sharedTuples: [],
          payerTuples: [],
          byDay: false,
        });
        return [
          await snap.auditHead(),
          groups.reduce((n, g) => n + g.events, 0),
          await snap.latestEventTime(),
        ];
      });
      // 2 events of 100 input tokens before; the 2 committed meanwhile show only afterwards
      expect(seen).toEqual([head, 2, T0]);
      expect(await inputTokens(store)).toBe(400);
    });

    it('stores the same events once and counts the rest as duplicates', async () => {
      await store.ingest('first', [[event('a'), event('b')]]);
      const head = await store.auditHead();
      const r = await store.ingest('again', [[event('a'), event('b')]]);
      expect(r).toEqual({ batch: null, stored: 0, duplicates: 2, superseded: 0 });
      expect(await store.counters()).toEqual({
        events: 2,
        duplicates: 2,
        superseded: 0,
        rejected: 0,
        ignored: 0,
        batches: 1,
      });
      expect(await store.auditHead()).toBe(head);
      expect(await inputTokens(store)).toBe(200);
    });

    it('keeps every version in the log and uses the latest (SPEC §3.3)', async () => {
      await store.ingest('first', [[event('a'), event('b')]]);
      const r = await store.ingest('again', [[event('a', { input_tokens: 999 }), event('b')]]);
      expect(r).toEqual({ batch: 2, stored: 1, duplicates: 1, superseded: 1 });
      // 999 (a, second version) + 100 (b): the first version of a no longer counts.
      expect(await inputTokens(store)).toBe(1099);
      expect(await store.verify()).toMatchObject({ ok: true, batches: 2, events: 3 });
      expect((await store.counters()).events).toBe(2);
      // The first version again is a new version again: the latest fetch wins.
      const back = await store.ingest('third', [[event('a')]]);
      expect(back).toEqual({ batch: 3, stored: 1, duplicates: 0, superseded: 1 });
      expect(await inputTokens(store)).toBe(200);
      // Unchanged now: a duplicate.
      expect(await store.ingest('fourth', [[event('a')]])).toMatchObject({ stored: 0, duplicates: 1 });
      expect(await store.verify()).toMatchObject({ ok: true, batches: 3, events: 4 });
    });

    it('keeps the last occurrence of an event repeated within a batch', async () => {
      const r = await store.ingest('dups', [
        [event('a', { input_tokens: 7 }), event('b'), event('b')],
        [event('a', { input_tokens: 1000 })],
      ]);
      expect(r).toEqual({ batch: 1, stored: 2, duplicates: 1, superseded: 1 });
      // 1000 (the last a) + 100 (b)
      expect(await inputTokens(store)).toBe(1100);
    });

    it('tells events apart by source and id together', async () => {
      const r = await store.ingest('x', [[event('a'), event('a', { source: 'other' })]]);
      expect(r.stored).toBe(2);
    });

    it('stores nothing when the events fail mid-way, and rethrows the failure unchanged', async () => {
      await store.ingest('before', [[event('a')]]);
      const failure = new InputError([{ file: 'f.jsonl', record: 3, recordKind: 'line', reason: 'bad' }]);
      async function* chunks(): AsyncIterable<UsageEvent[]> {
        yield [event('b'), event('c')];
        throw failure;
      }
      await expect(store.ingest('broken', chunks())).rejects.toBe(failure);
      expect(await store.counters()).toEqual({
        events: 1,
        duplicates: 0,
        superseded: 0,
        rejected: 0,
        ignored: 0,
        batches: 1,
      });
      expect(await store.ingest('after', [[event('b')]])).toEqual({
        batch: 2,
        stored: 1,
        duplicates: 0,
        superseded: 0,
      });
    });

    it('hands groups by day over day by day', async () => {
      const days = [17, 3, 29, 3, 11, 1, 17, 24, 8, 29, 2];
      await store.ingest('days', [
        days.map((d, i) =>
          event(`d${i}`, {
            time: Date.UTC(2026, 9, d, i),
            api_key: `key-${i % 3}`,
            tenant: `t-${i % 4}`,
          }),
        ),
      ]);
      const q = { from: Date.UTC(2026, 9, 1), to: Date.UTC(2026, 10, 1), boundaries: [] };
      const groups = await store.usageGroups({ ...q, sharedTuples: [], payerTuples: [], byDay: true });
      const order = groups.map((g) => g.day as number);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(new Set(order).size).toBe(new Set(days).size);
    });

    it('counts rejected records', async () => {
      await store.countRejected(3);
      await store.countRejected(2);
      expect((await store.counters()).rejected).toBe(5);
    });

    it('selects events by an api_key selector as core/selectors.ts says: whole, or a 64-hex value by its prefix', async () => {
      const hash = `${'0123456789abcdef'.repeat(4)}`;
      await store.ingest('keys', [
        [
          event('whole', { api_key: hash }),
          event('longer', { api_key: `${hash.slice(0, 20)}-not-a-hash` }),
          event('other', { api_key: `f${hash.slice(1)}` }),
          event('equal', { api_key: hash.slice(0, 20) }),
        ],
      ]);
      const ids = async (api_key: string) =>
        (await store.eventsInWindow({ from: T0 - 1, to: T0 + 86_400_000, match: [{ api_key }] }))
          .map((e) => e.id)
          .sort();
      expect(await ids(hash.slice(0, 20))).toEqual(['equal', 'whole']);
      expect(await ids(hash)).toEqual(['whole']);
      expect(await ids(hash.slice(0, 20).toUpperCase())).toEqual([]);
    });

    it('never stores a raw secret', async () => {
      const secret = 'sk-proj-abcdefghijklmnopqrstuvwxyz';
      await store.ingest('s', [[event('a', { api_key: secret, service: `Bearer ${secret}` })]]);
      const tuples = await store.selectorTuples();
      expect(tuples).toEqual([
        { api_key: fingerprint(secret), service: fingerprint(secret), agent: null, project: null },
      ]);
    });

    it('hashes each batch and chains it to the previous one', async () => {
      const one = [event('a'), event('b', { reported_cost: '0.0125', tenant: 'acme', status: 'error' })];
      const two = [event('c', { time: T0 + 1 }), event('a')];
      await store.ingest('one', [one]);
      await store.ingest('two', [two]);
      const [b1, b2] = await store.batches();
      expect(b1?.contentSha256).toBe(contentHash(one));
      expect(b1?.chainSha256).toBe(chainHash('0'.repeat(64), 1, 2, contentHash(one)));
      expect(b2).toMatchObject({ seq: 2, count: 1, contentSha256: contentHash([two[0] as UsageEvent]) });
      expect(b2?.chainSha256).toBe(chainHash(b1?.chainSha256 ?? '', 2, 1, b2?.contentSha256 ?? ''));
      expect(await store.auditHead()).toBe(b2?.chainSha256);
    });

    it('hashes richer-usage and sampled events as defined, and verify recomputes the same', async () => {
      const events = [
        event('plain'),
        event('rich', { cache_write_1h_tokens: 5, units: { web_search: 2 } }),
        event('audio', { input_audio_tokens: 3 }),
        event('sampled', { adjusted_count: '4' }),
        event('both', { output_audio_tokens: 1, adjusted_count: '5/2' }),
        event('text', { service: 'é ü – 日本 🙂', tenant: 'x'.repeat(300), error_type: 'short' }),
      ];
      await store.ingest('mixed', [events]);
      await store.ingest('more', [[event('late', { time: T0 + 5, units: { code_interpreter: 1 } })]]);
      const [b1, b2] = await store.batches();
      expect(b1?.contentSha256).toBe(contentHash(events));
      expect(b2?.contentSha256).toBe(
        contentHash([event('late', { time: T0 + 5, units: { code_interpreter: 1 } })]),
      );
      expect(await store.verify()).toMatchObject({ ok: true, batches: 2, events: 7, firstBad: null });
    });

    it('reads an event back by id: under one source, or under every source that has the id, latest version only', async () => {
      await store.ingest('one', [
        [
          event('same', { source: 'gw-b', input_tokens: 7 }),
          event('same', { source: 'gw-a', input_tokens: 5, units: { web_search: 2 } }),
          event('other'),
        ],
      ]);
      await store.ingest('two', [
        [event('same', { source: 'gw-a', input_tokens: 6, units: { web_search: 2 } })],
      ]);
      const all = await store.eventsById('same', null);
      expect(all.map((e) => [e.source, e.input_tokens])).toEqual([
        ['gw-a', 6],
        ['gw-b', 7],
      ]);
      expect(all[0]).toEqual(event('same', { source: 'gw-a', input_tokens: 6, units: { web_search: 2 } }));
      expect(await store.eventsById('same', 'gw-b')).toEqual([
        event('same', { source: 'gw-b', input_tokens: 7 }),
      ]);
      expect(await store.eventsById('same', 'gw-c')).toEqual([]);
      expect(await store.eventsById('missing', null)).toEqual([]);
    });
    (lacks.traceLinks ? describe.skip : describe)(
      `trace links (spans that are not AI work, SPEC §3.2)${lacks.traceLinks ? ` (skipped: ${lacks.traceLinks})` : ''}`,
      () => {
        const TRACE = 'a'.repeat(32);
        const app = link('1000000000000001', { service: 'app', tenant: 'acme' });
        const http = link('1000000000000002', { parent_span_id: app.span_id, service: 'gateway' });
        const call = event('c', {
          trace_id: TRACE,
          span_id: '1000000000000003',
          parent_span_id: http.span_id,
          service: 'gateway',
        });

        it('stores links in the batch, hashed with its events, once per span', async () => {
          const first = await store.ingest('one', [{ events: [call], links: [app, http, app] }]);
          expect(first).toEqual({ batch: 1, stored: 1, duplicates: 0, superseded: 0, links: 2 });
          const [b1] = await store.batches();
          expect(b1?.contentSha256).toBe(linkedContentHash([call], [app, http]));
          expect(b1?.chainSha256).toBe(
            chainHash('0'.repeat(64), 1, 1, linkedContentHash([call], [app, http])),
          );
          // The same spans again: nothing new, no batch.
          const again = await store.ingest('two', [{ events: [call], links: [http] }]);
          expect(again).toEqual({ batch: null, stored: 0, duplicates: 1, superseded: 0, links: 0 });
          expect((await store.verify()).ok).toBe(true);
        });

        it('records a batch of links alone (an exporter that sends one span per request)', async () => {
          const r = await store.ingest('links', [{ events: [], links: [app] }]);
          expect(r).toEqual({ batch: 1, stored: 0, duplicates: 0, superseded: 0, links: 1 });
          const [b] = await store.batches();
          expect(b).toMatchObject({ seq: 1, count: 0, contentSha256: linkedContentHash([], [app]) });
          expect(await store.verify()).toMatchObject({ ok: true, batches: 1, events: 0 });
        });

        it('reads the spans and events of the traces asked for, and of no other', async () => {
          const OTHER = 'b'.repeat(32);
          const near = { from: T0 - 3_600_000, to: T0 + 3_600_000 };
          const other = event('o', { trace_id: OTHER, span_id: '2000000000000001' });
          await store.ingest('two traces', [
            { events: [call, other], links: [app, link('2000000000000002', { trace_id: OTHER })] },
          ]);
          const spansOf = async (traces: string[], when?: typeof near) =>
            (await store.traceSpans(traces, when)).map((s) => s.span_id).sort();
          expect(await spansOf([TRACE])).toEqual([app.span_id, call.span_id].sort());
          expect(await spansOf([TRACE], near)).toEqual([app.span_id, call.span_id].sort());
          expect(await spansOf([OTHER, 'c'.repeat(32)])).toEqual(['2000000000000001', '2000000000000002']);
          const many = Array.from({ length: 40 }, (_, i) => String(i).padStart(32, 'd'));
          expect(await spansOf([...many, OTHER], near)).toEqual(['2000000000000001', '2000000000000002']);
          expect((await store.traceEvents([OTHER])).map((e) => e.id)).toEqual(['o']);
          expect((await store.traceEvents([TRACE, OTHER])).map((e) => e.id).sort()).toEqual(['c', 'o']);
        });

        it('reads a long list of traces as it reads each trace: live versions only, near or whole', async () => {
          // 40 traces (DuckDB tests a list above 32 ids another way), two events each, one far off.
          const traces = Array.from({ length: 40 }, (_, i) => String(i).padStart(32, 'e'));
          const events = traces.flatMap((t, i) => [
            event(`s${i}`, { trace_id: t, span_id: `${i}`.padStart(16, '1'), input_tokens: i }),
            event(`f${i}`, {
              trace_id: t,
              span_id: `${i}`.padStart(16, '2'),
              parent_span_id: `${i}`.padStart(16, '1'),
              time: T0 + 5 * 86_400_000,
            }),
          ]);
          await store.ingest('traces', [
            { events, links: [link('3000000000000001', { trace_id: traces[7] })] },
          ]);
          // A new version of s3 moves it out of its trace: the old version is read from no list.
          await store.ingest('again', [[event('s3', { trace_id: null, span_id: null })]]);
          const near = { from: T0 - 3_600_000, to: T0 + 3_600_000 };
          const spans = async (ids: string[], when?: typeof near) =>
            (await store.traceSpans(ids, when)).map((s) => `${s.trace_id}/${s.span_id}/${s.usage}`).sort();
          const rows = async (ids: string[]) =>
            (await store.traceEvents(ids)).map((e) => `${e.id}/${e.input_tokens}/${e.time}`).sort();
          const oneByOne = async <T>(read: (ids: string[]) => Promise<T[]>) =>
            (await Promise.all(traces.map((t) => read([t])))).flat().sort();
          const all = [...traces, 'f'.repeat(32)];
          expect(await spans(all, near)).toEqual(await oneByOne((ids) => spans(ids, near)));
          expect(await spans(all)).toEqual(await oneByOne((ids) => spans(ids)));
          expect(await rows(all)).toEqual(await oneByOne(rows));
          expect(await spans(all, near)).toHaveLength(40);
          expect(await spans(all)).toHaveLength(80);
          expect(await rows(all)).toHaveLength(79);
          expect((await rows(all)).some((r) => r.startsWith('s3/'))).toBe(false);
        });

        it('walks through links to the invoker and the tenant, whatever request brought them', async () => {
          await store.ingest('call', [[call]]);
          await store.ingest('http', [{ events: [], links: [http] }]);
          await store.ingest('app', [{ events: [], links: [app] }]);
          expect(await store.selectorTuples()).toContainEqual({
            api_key: null,
            service: 'app',
            agent: null,
            project: null,
          });
          const spans = await store.traceSpans([TRACE]);
          expect(spans.map((s) => s.span_id).sort()).toEqual(
            [app.span_id, http.span_id, call.span_id].sort(),
          );
          const groups = await store.usageGroups({
            from: Date.UTC(2026, 9, 1),
            to: Date.UTC(2026, 10, 1),
            boundaries: [],
            sharedTuples: [{ api_key: null, service: 'gateway', agent: null, project: null }],
            payerTuples: [{ api_key: null, service: 'app', agent: null, project: null }],
            byDay: false,
          });
          expect(groups).toHaveLength(1);
          expect(groups[0]).toMatchObject({
            rollup: 'invoker',
            payer: { api_key: null, service: 'app', agent: null, project: null },
            tenant: 'acme',
            input_tokens: 100,
          });
        });

        it('walks to the invoker when the selectors hold quotes, backslashes, control and non-ASCII characters', async () => {
          const shared = `ga'te"way\\${'\u0001'}ü`;
          const payer = `app's "Zürich" \\n 🚀`;
          const root = link('2000000000000001', { service: payer, tenant: 'acme' });
          const leaf = event('q', {
            trace_id: TRACE,
            span_id: '2000000000000002',
            parent_span_id: root.span_id,
            service: shared,
          });
          await store.ingest('q', [{ events: [leaf], links: [root] }]);
          const tuple = (service: string) => ({ api_key: null, service, agent: null, project: null });
          const groups = await store.usageGroups({
            from: Date.UTC(2026, 9, 1),
            to: Date.UTC(2026, 10, 1),
            boundaries: [],
            sharedTuples: [tuple(shared), tuple('gateway')],
            payerTuples: [tuple('app'), tuple(payer)],
            byDay: false,
          });
          expect(groups).toHaveLength(1);
          expect(groups[0]).toMatchObject({ rollup: 'invoker', payer: tuple(payer), tenant: 'acme' });
        });

        it('counts ignored records', async () => {
          await store.countIgnored(7);
          expect((await store.counters()).ignored).toBe(7);
        });
      },
    );

    it('verifies an untouched store', async () => {
      expect(await store.verify()).toEqual({ ok: true, batches: 0, events: 0, firstBad: null, head: null });
      await store.ingest('one', [[event('a'), event('b')]]);
      await store.ingest('two', [[event('c')]]);
      const v = await store.verify();
      expect(v).toEqual({ ok: true, batches: 2, events: 3, firstBad: null, head: await store.auditHead() });
    });

    const bulkSkipped = lacks.bulkCanonicalFile;
    (bulkSkipped ? describe.skip : describe)(
      bulkSkipped
        ? `bulk path for canonical files (skipped: ${bulkSkipped})`
        : 'bulk path for canonical files',
      () => {
        const secret = 'sk-live-0123456789abcdefghij';
        const events = [
          event('e1', {
            api_key: secret,
            reported_cost: '0.0012',
            tenant: 'acme',
            trace_id: 't1',
            span_id: 's1',
          }),
          event('e2', { time: T0 + 1500, status: 'error', error_type: 'timeout', model: null, requests: 3 }),
          event('e3', {
            source: 'otlp',
            operation: 'embeddings',
            output_tokens: 0,
            input_tokens: 9007199254740991,
          }),
          event('e4', { client_address: 'a "quoted", value', tool: 'web_search', reported_cost: '12' }),
        ];
        // What the parser makes of the file: the secret fingerprinted.
        const parsed = events.map((e) => (e.api_key === secret ? { ...e, api_key: fingerprint(secret) } : e));

        it('ingests a JSON lines file exactly as the event path does', async () => {
          const file = path.join(dir, 'events.jsonl');
          const lines = events.map(jsonLine);
          // A cost written with padding zeros is the same amount.
          lines[0] = (lines[0] ?? '').replace('"0.0012"', '"0.00120"');
          await writeFile(file, `${lines.join('\n')}\n${jsonLine(events[1] as UsageEvent)}\n`);
          const r = await bulk(store)(file, 'jsonl', { label: 'jsonl:events.jsonl', now: NOW });
          expect(r).toEqual({ batch: 1, stored: 4, duplicates: 1, superseded: 0 });
          const [b] = await store.batches();
          expect(b?.contentSha256).toBe(contentHash(parsed));

          const other = await newStore();
          try {
            await other.ingest('events', [events]);
            expect((await other.batches())[0]?.contentSha256).toBe(b?.contentSha256);
          } finally {
            await other.close();
          }
          expect((await store.verify()).ok).toBe(true);
        });

        it('ingests a CSV file exactly as the event path does', async () => {
          const file = path.join(dir, 'events.csv');
          await writeFile(file, csvText(events));
          const r = await bulk(store)(file, 'csv', { label: 'csv:events.csv', now: NOW });
          expect(r).toEqual({ batch: 1, stored: 4, duplicates: 0, superseded: 0 });
          expect((await store.batches())[0]?.contentSha256).toBe(contentHash(parsed));
        });

        it('fingerprints whole keys and lowercases key hashes as the parser does', async () => {
          const whole = [
            event('w1', {
              api_key: `  ${secret}\t`,
              service: 'AKIAIOSFODNN7EXAMPLE',
              tenant: `Bearer ${secret}`,
            }),
            event('w2', { api_key: `${'ABCDEF0123'.repeat(6)}ABCD` }),
          ];
          const file = path.join(dir, 'keys.jsonl');
          await writeFile(file, `${whole.map(jsonLine).join('\n')}\n`);
          const r = await bulk(store)(file, 'jsonl', { label: 'keys', now: NOW });
          expect(r.stored).toBe(2);
          const byParser = whole.map((e) => redactEvent({ ...e }));
          expect(byParser[0]?.api_key).toBe(fingerprint(secret));
          expect(byParser[1]?.api_key).toBe(`${'abcdef0123'.repeat(6)}abcd`);
          expect((await store.batches())[0]?.contentSha256).toBe(contentHash(byParser));
        });

        it('leaves a key inside a value to the parser', async () => {
          const file = path.join(dir, 'inside.jsonl');
          await writeFile(
            file,
            `${jsonLine(event('i1', { error_type: `Authorization: Bearer ${secret}` }))}\n`,
          );
          await expect(bulk(store)(file, 'jsonl', { label: 'inside', now: NOW })).rejects.toThrow(/invalid/);
          expect(await store.batches()).toEqual([]);
        });

        it('fills absent optional fields as the parser does', async () => {
          const file = path.join(dir, 'min.jsonl');
          await writeFile(
            file,
            '{"id":"m1","source":"gw","time":"2026-10-01T14:00:00+02:00","operation":"chat"}\n',
          );
          await bulk(store)(file, 'jsonl', { label: 'min', now: NOW });
          const expected = { ...emptyEvent('m1', 'gw', T0), operation: 'chat' };
          expect((await store.batches())[0]?.contentSha256).toBe(contentHash([expected]));
        });

        it('skips events already stored', async () => {
          await store.ingest('first', [[events[0] as UsageEvent]]);
          const file = path.join(dir, 'events.jsonl');
          await writeFile(file, `${events.map(jsonLine).join('\n')}\n`);
          const r = await bulk(store)(file, 'jsonl', { label: 'again', now: NOW });
          expect(r).toEqual({ batch: 2, stored: 3, duplicates: 1, superseded: 0 });
          expect((await store.verify()).ok).toBe(true);
        });

        const bad: Array<[string, string]> = [
          ['negative tokens', '"input_tokens":-5'],
          ['fractional tokens', '"input_tokens":1.5'],
          ['tokens as text', '"input_tokens":"12"'],
          ['an unparseable time', '"time":"2026-10-01 noon"'],
          ['a time without zone', '"time":"2026-10-01T12:00:00"'],
          ['an impossible date', '"time":"2026-02-30T12:00:00Z"'],
          ['a time far in the future', '"time":"2026-10-20T00:00:00Z"'],
          ['a missing id', '"id":null'],
          ['an unknown status', '"status":"weird"'],
          ['a negative cost', '"reported_cost":"-1.5"'],
          ['a number for a string field', '"model":42'],
          ['a boolean for a string field', '"tool":true'],
          ['a number for the time', '"time":1790000000000'],
          ['tokens in exponent form', '"input_tokens":1e2'],
          ['tokens as a whole float', '"input_tokens":5.0'],
          ['a boolean for the cost', '"reported_cost":true'],
          ['an unknown field', '"input_token":5'],
          ['broken JSON', '"id":'],
        ];
        for (const [what, field] of bad) {
          it(`rejects a JSON lines file with ${what} and stores nothing`, async () => {
            await store.ingest('before', [[event('x')]]);
            const before = { counters: await store.counters(), batches: await store.batches() };
            const good = jsonLine(event('ok'));
            const key = field.slice(0, field.indexOf(':'));
            const line = good.includes(key)
              ? good.replace(new RegExp(`${key}:("[^"]*"|[^,}]*)`), field)
              : good.replace('{', `{${field},`);
            const file = path.join(dir, 'bad.jsonl');
            await writeFile(file, `${good.replace('"ok"', '"ok0"')}\n${line}\n`);
            const err = await bulk(store)(file, 'jsonl', { label: 'bad', now: NOW }).catch((e: unknown) => e);
            expect(err).toBeInstanceOf(TallyError);
            expect((err as TallyError).code).toBe('invalid_input');
            expect((err as TallyError).message).toMatch(/invalid/);
            expect(await store.counters()).toEqual(before.counters);
            expect(await store.batches()).toEqual(before.batches);
          });
        }

        it("rejects a JSON lines file whose unknown key first appears after the reader's sample", async () => {
          const file = path.join(dir, 'late.jsonl');
          const good = Array.from({ length: 30_000 }, (_, i) => jsonLine(event(`g${i}`)));
          const late = jsonLine(event('late')).replace('{', '{"input_token":5,');
          await writeFile(file, `${good.join('\n')}\n${late}\n`);
          const err = await bulk(store)(file, 'jsonl', { label: 'late', now: NOW }).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(TallyError);
          expect((err as TallyError).code).toBe('invalid_input');
          expect((err as TallyError).message).toMatch(/line 30001: unknown field "input_token"/);
          expect(await store.counters()).toMatchObject({ events: 0, batches: 0 });
        });

        it('reads keys written with blanks, escapes in values and no final line break', async () => {
          const file = path.join(dir, 'spaced.jsonl');
          const spaced = jsonLine(event('s1', { tool: 'say "id": x', tenant: 'a,"b":c' }))
            .replaceAll('":', '" : ')
            .replaceAll(',"', ', "');
          await writeFile(file, `\r\n${spaced}\r\n\n${jsonLine(event('s2'))}`);
          const r = await bulk(store)(file, 'jsonl', { label: 'spaced', now: NOW });
          expect(r.stored).toBe(2);
        });

        it('leaves an escaped key to the parser, even one that spells a known field', async () => {
          const file = path.join(dir, 'escaped.jsonl');
          await writeFile(file, `${jsonLine(event('x1')).replace('"model"', '"mod\\u0065l"')}\n`);
          await expect(bulk(store)(file, 'jsonl', { label: 'escaped', now: NOW })).rejects.toMatchObject({
            code: 'invalid_input',
          });
          expect((await store.counters()).events).toBe(0);
        });

        it('rejects a CSV file with an unknown column or a bad cell', async () => {
          const file = path.join(dir, 'bad.csv');
          await writeFile(file, 'id,source,time,operation,input_token\ne1,gw,2026-10-01T12:00:00Z,chat,5\n');
          await expect(bulk(store)(file, 'csv', { label: 'bad', now: NOW })).rejects.toMatchObject({
            code: 'invalid_input',
          });
          await writeFile(
            file,
            'id,source,time,operation,input_tokens\ne1,gw,2026-10-01T12:00:00Z,chat,-5\n',
          );
          await expect(bulk(store)(file, 'csv', { label: 'bad', now: NOW })).rejects.toMatchObject({
            code: 'invalid_input',
          });
          expect((await store.counters()).events).toBe(0);
        });
      },
    );
  });
}

// Usage groups read chunk by chunk (src/store/duckdb/usage-read.ts): a month
// has far more groups than one chunk holds (2,048 rows), and the store asks
// for the next chunk before handing this one over. Every group must arrive
// once, and a reader that fails stops the read with its own error.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UsageQuery } from '../../src/core/usage.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { event } from './contract.js';

let dir: string;
let store: Store | null;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-chunks-'));
  store = null;
});
afterEach(async () => {
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

const GROUPS = 7_000; // more than three chunks
const QUERY: UsageQuery = {
  from: 0,
  to: Date.UTC(2030, 0, 1),
  boundaries: [],
  sharedTuples: [],
  payerTuples: [],
  byDay: false,
};

async function storeWithGroups(): Promise<Store> {
  const s = await openStore(path.join(dir, 'tally.duckdb'));
  // One tenant an event: each event is a group of its own; two events share the last tenant.
  const events = Array.from({ length: GROUPS + 1 }, (_, i) =>
    event(`e${i}`, { tenant: `t-${Math.min(i, GROUPS - 1)}`, input_tokens: i + 1 }),
  );
  await s.ingest('many', [events]);
  return s;
}

describe('usage groups read in chunks', () => {
  it('hands every group over once, across many chunks', async () => {
    store = await storeWithGroups();
    const tenants = new Map<string | null, number>();
    let tokens = 0;
    await store.snapshot((snap) =>
      snap.eachUsageGroup(QUERY, (g) => {
        tenants.set(g.tenant, (tenants.get(g.tenant) ?? 0) + g.events);
        tokens += g.input_tokens;
      }),
    );
    expect(tenants.size).toBe(GROUPS);
    expect(tenants.get(`t-${GROUPS - 1}`)).toBe(2);
    expect(tokens).toBe(((GROUPS + 1) * (GROUPS + 2)) / 2);
    expect(await store.usageGroups(QUERY)).toHaveLength(GROUPS);
  });

  it("stops at a reader's error, and the store reads on afterwards", async () => {
    store = await storeWithGroups();
    let seen = 0;
    const failing = store.snapshot((snap) =>
      snap.eachUsageGroup(QUERY, () => {
        if (++seen === 3_000) throw new Error('reader gave up');
      }),
    );
    await expect(failing).rejects.toThrow(/reader gave up/);
    expect(seen).toBe(3_000);
    expect(await store.usageGroups(QUERY)).toHaveLength(GROUPS);
  });
});

describe("usage groups' sums", () => {
  // The store sums counts in doubles (usage-sql.ts `exactSum`): exact while below 2^53, refused from there.
  const BIG = 2 ** 52;
  it('are exact up to 2^53 − 1 and refused from 2^53 on', async () => {
    store = await openStore(path.join(dir, 'tally.duckdb'));
    await store.ingest('near', [
      [
        event('a', { tenant: 'near', input_tokens: BIG, output_tokens: 2 ** 53 - 2 }),
        event('b', { tenant: 'near', input_tokens: BIG - 1, output_tokens: 1 }),
        event('c', { tenant: 'odd', input_tokens: 2 ** 53 - 1, output_tokens: 3 }),
        event('d', { tenant: 'odd', input_tokens: 0, output_tokens: 5 }),
      ],
    ]);
    const groups = await store.usageGroups(QUERY);
    const near = groups.find((g) => g.tenant === 'near');
    expect([near?.input_tokens, near?.output_tokens]).toEqual([2 ** 53 - 1, 2 ** 53 - 1]);
    expect(groups.find((g) => g.tenant === 'odd')?.output_tokens).toBe(8);
    await store.ingest('over', [[event('e', { tenant: 'near', input_tokens: 1 })]]);
    await expect(store.usageGroups(QUERY)).rejects.toThrow(/exceeds 2\^53 − 1/);
  });
});

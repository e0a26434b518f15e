// The usage groups are keyed by a hash of each selector tuple, the values read
// back from the census of tuples (src/store/duckdb/tuple-census.ts). Where the
// census finds a hash shared by two tuples, the groups keep those tuples'
// values in their key: listing every hash that way must give the same groups,
// and a census that does not match the groups must fail the read, never
// lose or double a group.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UsageGroup, UsageQuery } from '../../src/core/usage.js';
import { type ContextCensus, takeContextCensus } from '../../src/store/duckdb/context-census.js';
import { type TupleCensus, takeCensus } from '../../src/store/duckdb/tuple-census.js';
import { type ChunkDb, readGroups } from '../../src/store/duckdb/usage-read.js';
import { usageGroupsSql, usageSetupParts, windowOf } from '../../src/store/duckdb/usage-sql.js';
import { openStore } from '../../src/store/open.js';
import { event, tuple } from './contract.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-census-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const PAYER = tuple({ api_key: 'payer' });
const SHARED = tuple({ service: 'shared-svc' });
const QUERY: UsageQuery = {
  from: 0,
  to: Date.UTC(2030, 0, 1),
  boundaries: [],
  sharedTuples: [SHARED],
  payerTuples: [PAYER],
  byDay: false,
};

/** Tuples that differ only in where a value or a null stands, and a shared span under a payer. */
async function storeFile(): Promise<string> {
  const file = path.join(dir, 'tally.duckdb');
  const store = await openStore(file);
  const own = [
    tuple({ api_key: 'a' }),
    tuple({ service: 'a' }),
    tuple({ agent: 'a' }),
    tuple({ project: 'a' }),
    tuple({}),
    tuple({ api_key: 'a', service: 'b' }),
    tuple({ api_key: 'b', service: 'a' }),
  ];
  await store.ingest('census', [
    [
      ...own.map((t, i) => event(`e${i}`, { ...t, input_tokens: 10 + i })),
      event('root', { ...PAYER, trace_id: 't1', span_id: 's1', tenant: 'tn', input_tokens: 1 }),
      event('child', { ...SHARED, trace_id: 't1', span_id: 's2', parent_span_id: 's1', input_tokens: 2 }),
    ],
  ]);
  await store.close();
  return file;
}

type Edit = (census: TupleCensus, db: ChunkDb) => Promise<TupleCensus>;
type ContextEdit = (census: ContextCensus, db: ChunkDb) => Promise<ContextCensus>;

/** The groups read on a connection of the file's own, with the censuses `edit` and `editContext` make of the real ones. */
async function groupsWith(
  file: string,
  edit: Edit = async (c) => c,
  editContext: ContextEdit = async (c) => c,
): Promise<UsageGroup[]> {
  const instance = await DuckDBInstance.create(file);
  const conn = await instance.connect();
  const db: ChunkDb = {
    rows: async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[],
    run: async (sql) => {
      await conn.run(sql);
      return 0;
    },
    chunks: async (sql, each) => {
      const result = await conn.stream(sql);
      for (let c = await result.fetchChunk(); c && c.rowCount > 0; c = await result.fetchChunk()) each(c);
    },
  };
  try {
    const census = await edit(await takeCensus(db), db);
    const context = await editContext(await takeContextCensus(db, windowOf(QUERY)), db);
    const { walk, wrappers } = usageSetupParts(QUERY);
    for (const sql of [...walk, ...wrappers]) await db.run(sql);
    const groups: UsageGroup[] = [];
    const varying = { tiered: [], timeOfDay: [] };
    await readGroups(db, usageGroupsSql(QUERY, census, context, varying), (g) => groups.push(g));
    return groups;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const sorted = (groups: readonly UsageGroup[]) => groups.map((g) => JSON.stringify(g)).sort();

/** Every hash of the census read as shared by two tuples (and one that no tuple has). */
const everyHash: Edit = async (c, db) => {
  expect(c.collisions).toEqual([]);
  const rows = await db.rows('SELECT h::VARCHAR AS h FROM tally_census');
  return { ...c, collisions: ['1', ...rows.map((r) => String(r.h))] };
};

describe('usage groups keyed by the tuple census', () => {
  it('keeps tuples apart that differ only in where a null stands, and finds the payer', async () => {
    const groups = await groupsWith(await storeFile());
    expect(groups).toHaveLength(9);
    expect(new Set(groups.map((g) => JSON.stringify(g.own))).size).toBe(9);
    const child = groups.find((g) => g.own.service === 'shared-svc');
    expect(child).toMatchObject({ rollup: 'invoker', payer: PAYER, tenant: 'tn', input_tokens: 2 });
    expect(groups.find((g) => g.own.service === 'a' && g.own.api_key === 'b')?.input_tokens).toBe(16);
  });

  it('gives the same groups when every hash is read as shared by two tuples', async () => {
    const file = await storeFile();
    const plain = await groupsWith(file);
    expect(sorted(await groupsWith(file, everyHash))).toEqual(sorted(plain));
    const store = await openStore(file);
    try {
      expect(sorted(await store.usageGroups(QUERY))).toEqual(sorted(plain));
    } finally {
      await store.close();
    }
  });

  it('fails the read when the census lacks a tuple of the groups, or holds a shared hash it did not list', async () => {
    const file = await storeFile();
    const lacking: Edit = async (c, db) => {
      await db.run(`DELETE FROM tally_census WHERE service = 'a' AND api_key IS NULL`);
      return c;
    };
    const lackingPayer: Edit = async (c, db) => {
      await db.run(`DELETE FROM tally_census WHERE api_key = 'payer'`);
      return c;
    };
    // A second tuple under the hash of ('a', null, null, null), which the census does not list.
    const unlisted: Edit = async (c, db) => {
      await db.run(`INSERT INTO tally_census SELECT h, 'other', NULL, NULL, NULL FROM tally_census
        WHERE api_key = 'a' AND service IS NULL`);
      return c;
    };
    for (const edit of [lacking, lackingPayer, unlisted])
      await expect(groupsWith(file, edit)).rejects.toThrow(/census does not match the usage groups/);
    // Listed, the same shared hash reads the right tuple's groups.
    const listed: Edit = async (c, db) => unlisted(await everyHash(c, db), db);
    expect(sorted(await groupsWith(file, listed))).toEqual(sorted(await groupsWith(file)));
  });
});

describe('usage groups keyed by the context census', () => {
  /** Contexts that differ only in where a value or a null stands, one with units and one sampled. */
  async function contextFile(): Promise<string> {
    const file = path.join(dir, 'contexts.duckdb');
    const store = await openStore(file);
    const key = tuple({ api_key: 'k' });
    await store.ingest('contexts', [
      [
        event('c0', { ...key, tool: 'a' }),
        event('c1', { ...key, data_source: 'a' }),
        event('c2', { ...key, environment: 'a' }),
        event('c3', { ...key, tool: 'a', data_source: 'b' }),
        event('c4', { ...key, tool: 'b', data_source: 'a' }),
        event('c5', { ...key, model: 'other', input_tokens: 7 }),
        event('c6', { ...key, operation: 'embeddings', input_tokens: 9 }),
        event('c7', { ...key, units: { searches: 2 }, input_tokens: 0 }),
        event('c8', { ...key, tool: 'a', input_tokens: 5 }),
        event('c9', { ...key, adjusted_count: '4', input_tokens: 3 }),
      ],
    ]);
    await store.close();
    return file;
  }

  it('keeps contexts apart that differ only in where a null stands, each with its values', async () => {
    const groups = await groupsWith(await contextFile());
    const of = (g: UsageGroup) => [g.environment, g.model, g.operation, g.tool, g.data_source].join('|');
    expect(groups.map(of).sort()).toEqual(
      [
        '|gpt-4o|chat|a|',
        '|gpt-4o|chat||a',
        'a|gpt-4o|chat||',
        '|gpt-4o|chat|a|b',
        '|gpt-4o|chat|b|a',
        '|other|chat||',
        '|gpt-4o|embeddings||',
        '|gpt-4o|chat||',
        '|gpt-4o|chat||',
      ].sort(),
    );
    expect(groups.find((g) => g.tool === 'a' && g.data_source === null)).toMatchObject({
      events: 2,
      input_tokens: 105,
    });
    expect(groups.find((g) => g.units !== undefined)?.units).toEqual({ searches: 2 });
    expect(groups.find((g) => g.adjusted_count !== undefined)).toMatchObject({
      adjusted_count: '4',
      input_tokens: 3,
    });
  });

  it('gives the same groups when every context hash is read as shared by two contexts', async () => {
    const file = await contextFile();
    const everyContext: ContextEdit = async (c, db) => {
      expect(c.collisions).toEqual([]);
      const rows = await db.rows('SELECT h::VARCHAR AS h FROM tally_ctx');
      return { ...c, collisions: ['1', ...rows.map((r) => String(r.h))] };
    };
    const plain = await groupsWith(file);
    expect(plain).toHaveLength(9);
    expect(sorted(await groupsWith(file, undefined, everyContext))).toEqual(sorted(plain));
    // Listed as shared, a second context under one context's hash does not take that context's groups.
    const unlisted: ContextEdit = async (c, db) => {
      const listed = await everyContext(c, db);
      await db.run(`INSERT INTO tally_ctx SELECT h, 'prod', provider, model, operation, tool, data_source, units, sampled
        FROM tally_ctx WHERE tool = 'a' AND data_source IS NULL`);
      return listed;
    };
    expect(sorted(await groupsWith(file, undefined, unlisted))).toEqual(sorted(plain));
  });
});

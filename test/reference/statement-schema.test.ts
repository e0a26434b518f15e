// schemas/statement.schema.json is true to the statement tally computes: the
// demo month, ingested into a real DuckDB store and priced by the same code
// as `tally statement --format json`, validates at every level, and it has
// the lines the schema must cover (attributed, unattributed, disputed, pools).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/core/config.js';
import { LEVELS, statementJson } from '../../src/core/statement.js';
import { generateDemo } from '../../src/demo/index.js';
import { ingestFile } from '../../src/service/ingest.js';
import { computeStatement } from '../../src/service/statement.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { removeTempDirs, tempDir } from '../demo/helpers.js';
import { expectInvalid, expectValid, loadSchema } from './helpers.js';

const schema = loadSchema('statement');
const OCTOBER = { start: Date.UTC(2026, 9, 1), end: Date.UTC(2026, 10, 1) };
let store: Store;
let config: Config;

beforeAll(async () => {
  const dir = tempDir('statement');
  const demo = await generateDemo({ dir, events: 1_500, month: '2026-10', seed: 7 });
  config = (await loadConfig(demo.config)).config;
  store = await openStore(path.join(dir, 'reference.duckdb'));
  for (const f of demo.files)
    await ingestFile(store, f.path, { format: 'auto', skipInvalid: false, now: OCTOBER.end });
});

afterAll(async () => {
  await store?.close();
  removeTempDirs();
});

type Json = { lines: Array<Record<string, unknown>>; totals: Record<string, unknown> };

describe('the statement schema', () => {
  it.each(LEVELS)('accepts the demo month at level %s', async (level) => {
    const { statement } = await computeStatement(store, config, OCTOBER, { level });
    const json = statementJson(statement) as Json;
    expectValid(schema, JSON.parse(JSON.stringify(json)), `statement at level ${level}`);
  });

  it('is checked against every kind of line: attributed, unattributed, disputed and pool lines', async () => {
    const { statement } = await computeStatement(store, config, OCTOBER);
    const json = statementJson(statement) as Json;
    const kinds = new Set(json.lines.map((l) => `${l.status}${l.pool === null ? '' : ' pool'}`));
    expect([...kinds].sort()).toEqual(['attributed', 'attributed pool', 'disputed', 'unattributed']);
  });

  it('rejects a statement whose line has an unknown status or an inexact amount', async () => {
    const { statement } = await computeStatement(store, config, OCTOBER);
    const json = JSON.parse(JSON.stringify(statementJson(statement))) as Json;
    const line = json.lines[0] as Record<string, unknown>;
    line.status = 'paid';
    expectInvalid(schema, json, 'status paid');
    line.status = 'attributed';
    line.effective_cost = 1.5;
    expectInvalid(schema, json, 'a number as an amount');
    line.effective_cost = '1.5e3';
    expectInvalid(schema, json, 'an exponent in an amount');
  });

  it('accepts differs_from_issued, added in this release, and only in its documented shape', async () => {
    const { statement } = await computeStatement(store, config, OCTOBER);
    const json = statementJson(statement) as Record<string, unknown>;
    expectValid(
      schema,
      { ...json, differs_from_issued: { version: 2, effective_cost_delta: '-1.25' } },
      'late data',
    );
    expectInvalid(
      schema,
      { ...json, differs_from_issued: { version: 0, effective_cost_delta: '1' } },
      'bad delta',
    );
  });
});

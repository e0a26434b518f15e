import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatMoney, parseMoney } from '../../src/core/money.js';
import { FOCUS_COLUMNS, focusRows } from '../../src/export/focus.js';
import { writeFocusParquet } from '../../src/export/focus-parquet.js';
import { charge, DAY, OCT, pool, share } from './fixtures.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-focus-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJson();
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

describe('FOCUS Parquet', () => {
  it('round-trips: the exact EffectiveCost sum, every column in order, typed', async () => {
    const odd = parseMoney('0.000000000007');
    const charges = [
      charge(),
      charge({ identity: 'nhi-b', effective_cost: odd, direct_cost: odd }),
      charge({ day: OCT.start + 5 * DAY, team: "o'brien" }),
    ];
    const rows = focusRows(charges, [share()], { period: OCT, currency: 'USD', pools: [pool()] });
    const file = path.join(dir, "it's.parquet");
    await writeFocusParquet([rows], file);
    const src = `read_parquet('${file.replaceAll("'", "''")}')`;

    const expected = charges.reduce((a, c) => a + c.effective_cost, parseMoney('100'));
    const [sum] = await query(`SELECT sum(EffectiveCost)::VARCHAR AS s, count(*) AS n FROM ${src}`);
    expect(parseMoney(String(sum?.s))).toBe(expected);
    expect(formatMoney(expected)).toBe('102.500000000007');
    expect(Number(sum?.n)).toBe(rows.length);

    const schema = await query(`DESCRIBE SELECT * FROM ${src}`);
    expect(schema.map((c) => c.column_name)).toEqual(FOCUS_COLUMNS.map(([n]) => n));
    const typeOf = Object.fromEntries(schema.map((c) => [c.column_name, c.column_type]));
    expect(typeOf).toMatchObject({
      EffectiveCost: 'DECIMAL(38,12)',
      ChargePeriodStart: 'TIMESTAMP WITH TIME ZONE',
      Tags: 'JSON',
      x_Events: 'BIGINT',
      x_Estimated: 'BOOLEAN',
      ServiceName: 'VARCHAR',
    });

    const [first] = await query(
      `SELECT epoch_ms(ChargePeriodStart) AS s, epoch_ms(ChargePeriodEnd) AS e, x_TeamId FROM ${src} WHERE x_TeamId = 'o''brien'`,
    );
    expect(Number(first?.s)).toBe(OCT.start + 5 * DAY);
    expect(Number(first?.e)).toBe(OCT.start + 6 * DAY);
  });
});

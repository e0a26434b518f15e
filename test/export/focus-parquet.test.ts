import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatMoney, parseMoney } from '../../src/core/money.js';
import { FOCUS_COLUMNS, type FocusColumn, type FocusRow, focusRows } from '../../src/export/focus.js';
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

  it('keeps every text as it is: quotes, line breaks, formulas, non-ASCII, an empty text apart from null', async () => {
    const base = focusRows([charge()], [], { period: OCT, currency: 'USD', pools: [] })[0] as FocusRow;
    const texts = ['say "hi", then\r\nleave', '=SUM(A1)', '', null, 'Zürich 日本 \u2028', '\\ back \\'];
    const varchar = FOCUS_COLUMNS.filter(([, t]) => t === 'varchar').map(([n]) => n);
    const rows: FocusRow[] = texts.map((t, i) => ({
      ...base,
      [varchar[i % varchar.length] as string]: t,
      x_TeamId: t,
    }));
    const file = path.join(dir, 'texts.parquet');
    expect(await writeFocusParquet([rows.slice(0, 2), [], rows.slice(2)], file)).toBe(rows.length);
    const got = await query(`SELECT * FROM read_parquet('${file}')`);
    expect(got.map((r) => r.x_TeamId)).toEqual(texts);
    for (const [i, r] of got.entries()) {
      const column = varchar[i % varchar.length] as string;
      expect(r[column]).toEqual(rows[i]?.[column as FocusColumn]);
    }
  });

  it('writes a file with no rows, its columns typed', async () => {
    const file = path.join(dir, 'empty.parquet');
    expect(await writeFocusParquet([], file)).toBe(0);
    const schema = await query(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
    expect(schema.map((c) => c.column_name)).toEqual(FOCUS_COLUMNS.map(([n]) => n));
    expect(await query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${file}')`)).toEqual([{ n: 0 }]);
  });
});

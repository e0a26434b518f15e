// Reconciliation and true-up (SPEC §5.2), issue and restate (SPEC §5.3).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatMoney, parseMoney } from '../../src/core/money.js';
import { reconcile, trueUp } from '../../src/core/reconcile.js';
import { focusRows } from '../../src/export/focus.js';
import { readInvoice } from '../../src/ingest/invoice.js';
import { correctionCharges, issueStatement, restate } from '../../src/service/issue.js';
import { ADAPTERS } from '../store/adapters.js';
import { BASE, config, ev, OCT, type Scenario, scenario as scenarioOn } from './helpers.js';

describe.each(ADAPTERS)('$name store', (adapter) => {
  const scenario: typeof scenarioOn = (yaml, batches) => scenarioOn(yaml, batches, adapter);

  let s: Scenario | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  const usage = [
    ev('a', '2026-10-05T00:00:00Z', { api_key: 'key-one', input_tokens: 1_000_000 }), // $1.00 team-a
    ev('b', '2026-10-12T00:00:00Z', { service: 'svc-two', input_tokens: 2_000_000 }), // $2.00 team-b
    ev('c', '2026-10-12T00:00:00Z', {
      service: 'svc-two',
      model: 'm2',
      input_tokens: 100_000,
      project: 'p1',
    }), // $1.00
  ];

  describe('reconcile', () => {
    it('reports variance per provider and model, and spend on the bill that telemetry never saw', async () => {
      s = await scenario(BASE, [usage]);
      const file = path.join(s.dir, 'bill.csv');
      await writeFile(file, 'provider,model,amount\nacme,m1,3.30\nacme,m2,1.00\nacme,m9,0.50\n');
      const { charges } = await s.compute();
      const rows = reconcile(await readInvoice(file), charges, parseMoney('2'));
      const byModel = Object.fromEntries(rows.map((r) => [r.model, r]));
      expect(formatMoney(byModel.m1!.telemetry)).toBe('3.00');
      expect(formatMoney(byModel.m1!.variance)).toBe('0.30');
      expect(formatMoney(byModel.m1!.variancePct!)).toBe('10.00');
      expect(byModel.m1!.status).toBe('over_billed');
      expect(byModel.m2!.status).toBe('matched');
      expect(byModel.m9!.status).toBe('not_in_telemetry');
    });

    it('trues up each provider so the statement equals the bill to the cent', async () => {
      s = await scenario(BASE, [usage]);
      const { charges } = await s.compute();
      const bill = [
        { provider: 'acme', model: null, project: null, apiKey: null, amount: parseMoney('4.01') },
      ];
      const adj = trueUp(bill, charges);
      expect(adj.reduce((t, a) => t + a.adjusted, 0n)).toBe(parseMoney('4.01'));
      expect(adj.reduce((t, a) => t + a.telemetry, 0n)).toBe(parseMoney('4.00'));
      // team-a's line is 1/4 of the telemetry: 1.0025 → 1.00 by floor, the spare cent goes to the larger remainder
      const byTeam = Object.fromEntries(adj.map((a) => [a.team, formatMoney(a.adjusted)]));
      expect(byTeam).toEqual({ 'team-a': '1.00', 'team-b': '3.01' });
    });

    it('rejects a bill with a bad amount, naming the line and field', async () => {
      s = await scenario(BASE, [[]]);
      const file = path.join(s.dir, 'bad.csv');
      await writeFile(file, 'provider,model,amount\nacme,m1,abc\n');
      await expect(readInvoice(file)).rejects.toThrow(/bad\.csv, line 2, field amount: not a decimal amount/);
    });
  });

  describe('issue and restate', () => {
    it('freezes a statement and reports the per-line difference after an ownership correction', async () => {
      s = await scenario(BASE, [usage]);
      const { statement } = await s.compute();
      const issued = await issueStatement(s.store, '2026-10', statement, Date.UTC(2026, 10, 2));
      expect(issued.version).toBe(1);
      expect(issued.contentSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(issued.auditHead).toBe(await s.store.auditHead());

      // correction: app-one belonged to team-b all along
      const corrected = config(
        BASE.replace(
          '- { team: team-a, from: 2026-01-01, until: 2026-10-15 }',
          '- { team: team-b, from: 2026-01-01, until: 2026-10-15 }',
        ),
      );
      const r = await restate(s.store, corrected, '2026-10', OCT);
      const moved = r.corrections.map((c) => [
        c.key.team,
        c.key.application,
        formatMoney(c.effective_difference),
      ]);
      expect(moved).toEqual(
        expect.arrayContaining([
          ['team-a', 'app-one', '-1.00'],
          ['team-b', 'app-one', '1.00'],
        ]),
      );
      expect(r.total_effective_difference).toBe(0n);
      await expect(restate(s.store, corrected, '2026-09', OCT)).rejects.toThrow(
        /no statement issued for 2026-09/,
      );
    });
  });

  describe('bill lines by model family', () => {
    it('lets a bill line naming a family cover its dated releases', async () => {
      s = await scenario(BASE.replace('model: m1, from', 'model: "m1*", from'), [
        [
          ev('a', '2026-10-05T00:00:00Z', {
            api_key: 'key-one',
            model: 'm1-2026-09-01',
            input_tokens: 1_000_000,
          }),
          ev('b', '2026-10-05T00:00:00Z', {
            api_key: 'key-one',
            model: 'm1-20260901',
            input_tokens: 1_000_000,
          }),
        ],
      ]);
      const { charges } = await s.compute();
      const bill = [
        { provider: 'acme', model: 'm1', project: null, apiKey: null, amount: parseMoney('2.00') },
      ];
      const [row] = reconcile(bill, charges, parseMoney('2'));
      expect([formatMoney(row!.telemetry), row!.status]).toEqual(['2.00', 'matched']);
    });
  });

  describe('restatement as FOCUS corrections', () => {
    it('writes one Correction row per changed line carrying the difference', async () => {
      s = await scenario(BASE, [usage]);
      const { statement } = await s.compute();
      await issueStatement(s.store, '2026-10', statement, Date.UTC(2026, 10, 2));
      const corrected = config(
        BASE.replace(
          '- { team: team-a, from: 2026-01-01, until: 2026-10-15 }',
          '- { team: team-b, from: 2026-01-01, until: 2026-10-15 }',
        ),
      );
      const r = await restate(s.store, corrected, '2026-10', OCT);
      const rows = focusRows(correctionCharges(r, OCT), [], {
        period: OCT,
        currency: 'USD',
        pools: [],
        chargeClass: 'Correction',
      });
      expect(rows.map((row) => row.ChargeClass)).toEqual(rows.map(() => 'Correction'));
      const byTeam = Object.fromEntries(rows.map((row) => [row.x_TeamId, row.EffectiveCost]));
      expect(byTeam).toMatchObject({ 'team-a': '-1.00', 'team-b': '1.00' });
    });
  });
});

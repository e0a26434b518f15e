// Reconciliation (SPEC §5.2): each bill line matched once, the true-up. Amounts worked out by hand.
import { afterEach, describe, expect, it } from 'vitest';
import { formatMoney, parseMoney } from '../../src/core/money.js';
import { type BillRow, reconcile, trueUp } from '../../src/core/reconcile.js';
import { BASE, ev, type Scenario, scenario as scenarioOn } from '../statement/helpers.js';
import { ADAPTERS } from '../store/adapters.js';

describe.each(ADAPTERS)('$name store', (adapter) => {
  const scenario: typeof scenarioOn = (yaml, batches) => scenarioOn(yaml, batches, adapter);

  let s: Scenario | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  const $ = (v: string) => parseMoney(v);
  const bill = (provider: string, model: string | null, amount: string): BillRow => ({
    provider,
    model,
    project: null,
    apiKey: null,
    amount: $(amount),
  });

  // gpt-4o and its releases at $1.00 per million input tokens, so N tokens cost N/1,000,000 dollars.
  const OPENAI = BASE.replace(
    '  units:',
    `    - { provider: openai, model: "gpt-4o*", from: 2026-01-01, input_per_mtok: 1.00, output_per_mtok: 1.00 }
  units:`,
  );

  describe('a bill with a family line and a release line', () => {
    it('matches each bill line once: the release to its own line, the family to the rest', async () => {
      s = await scenario(OPENAI, [
        [
          // $2.20 on the family name, $132.13 on the release (svc-two has no model allowlist)
          ev('f', '2026-10-05T00:00:00Z', {
            service: 'svc-two',
            provider: 'openai',
            model: 'gpt-4o',
            input_tokens: 2_200_000,
          }),
          ev('r', '2026-10-06T00:00:00Z', {
            service: 'svc-two',
            provider: 'openai',
            model: 'gpt-4o-2024-08-06',
            input_tokens: 132_130_000,
          }),
        ],
      ]);
      const { charges } = await s.compute();
      const rows = reconcile(
        [bill('openai', 'gpt-4o', '2.20'), bill('openai', 'gpt-4o-2024-08-06', '132.13')],
        charges,
        $('2'),
      );
      expect(
        rows.map((r) => [r.model, formatMoney(r.billed), formatMoney(r.telemetry), r.status, r.exceeds]),
      ).toEqual([
        ['gpt-4o', '2.20', '2.20', 'matched', false],
        ['gpt-4o-2024-08-06', '132.13', '132.13', 'matched', false],
      ]);
    });

    it('lets the family line cover a release that has no line of its own', async () => {
      s = await scenario(OPENAI, [
        [
          ev('f', '2026-10-05T00:00:00Z', {
            service: 'svc-two',
            provider: 'openai',
            model: 'gpt-4o',
            input_tokens: 2_200_000,
          }),
          ev('r', '2026-10-06T00:00:00Z', {
            service: 'svc-two',
            provider: 'openai',
            model: 'gpt-4o-2024-08-06',
            input_tokens: 132_130_000,
          }),
          // $1.00 on a release the bill does not name: the family line covers it
          ev('o', '2026-10-07T00:00:00Z', {
            service: 'svc-two',
            provider: 'openai',
            model: 'gpt-4o-2024-05-13',
            input_tokens: 1_000_000,
          }),
        ],
      ]);
      const { charges } = await s.compute();
      const rows = reconcile(
        [bill('openai', 'gpt-4o', '2.20'), bill('openai', 'gpt-4o-2024-08-06', '132.13')],
        charges,
        $('2'),
      );
      // family: billed 2.20 against 2.20 + 1.00 = 3.20 → −1.00, −31.25 % (1.00 / 3.20)
      expect(
        rows.map((r) => [r.model, formatMoney(r.telemetry), formatMoney(r.variancePct ?? 0n), r.status]),
      ).toEqual([
        ['gpt-4o', '3.20', '-31.25', 'under_billed'],
        ['gpt-4o-2024-08-06', '132.13', '0.00', 'matched'],
      ]);
      expect(rows.filter((r) => r.exceeds).map((r) => r.model)).toEqual(['gpt-4o']);
    });
  });

  describe('tolerance', () => {
    it('lets a bill rounded to the cent match telemetry of a fraction of a cent', async () => {
      // 14,600 input tokens at $1 per million: $0.0146, billed $0.01 (−31 %, but within the bill's own half cent)
      s = await scenario(BASE, [
        [ev('a', '2026-10-05T00:00:00Z', { service: 'svc-two', input_tokens: 14_600 })],
      ]);
      const { charges } = await s.compute();
      const [row] = reconcile([bill('acme', 'm1', '0.01')], charges, $('2'));
      expect([formatMoney(row!.variancePct ?? 0n), row!.status, row!.exceeds]).toEqual([
        '-31.51',
        'matched',
        false,
      ]);
      // billed $0.02: 0.02 − 0.0146 = 0.0054, more than half a cent over
      const [over] = reconcile([bill('acme', 'm1', '0.02')], charges, $('2'));
      expect([over!.status, over!.exceeds]).toEqual(['over_billed', true]);
    });
  });

  describe('true-up', () => {
    const usage = [
      ev('a', '2026-10-05T00:00:00Z', { api_key: 'key-one', input_tokens: 1_000_000 }), // $1.00 team-a, attributed
      ev('b', '2026-10-12T00:00:00Z', { service: 'svc-two', input_tokens: 3_000_000 }), // $3.00 team-b (cc-b), attributed
      ev('c', '2026-10-21T00:00:00Z', { api_key: 'key-comp', input_tokens: 2_000_000 }), // $2.00 disputed, after compromise
    ];

    it('never scales disputed lines and books bill money without telemetry as uninstrumented', async () => {
      s = await scenario(BASE, [usage]);
      const { charges } = await s.compute();
      // acme bills 6.90: m1 6.50 (telemetry 6.00) and m9 0.40 (no telemetry at all)
      const adj = trueUp([bill('acme', 'm1', '6.50'), bill('acme', 'm9', '0.40')], charges);
      const shown = adj.map((a) => [
        a.team,
        a.status,
        a.reason,
        formatMoney(a.telemetry),
        formatMoney(a.adjusted),
      ]);
      // uninstrumented 0.40; disputed stays 2.00; 6.90 − 0.40 − 2.00 = 4.50 over 1 : 3 →
      // 1.125 and 3.375 → 1.12 + 3.37 = 4.49, the spare cent on a tie to the first line (cc-a before cc-b)
      expect(shown).toEqual([
        ['team-a', 'attributed', null, '1.00', '1.13'],
        ['team-b', 'attributed', null, '3.00', '3.37'],
        ['team-b', 'disputed', 'use_after_compromise', '2.00', '2.00'],
        [null, 'unattributed', 'uninstrumented', '0.00', '0.40'],
      ]);
      expect(adj.reduce((t, a) => t + a.adjusted, 0n)).toBe($('6.90'));
      expect(adj.find((a) => a.status === 'disputed')?.adjustment).toBe(0n);
    });

    it('books the whole bill as uninstrumented when the provider has no scalable telemetry', async () => {
      s = await scenario(BASE, [[usage[2]!]]);
      const { charges } = await s.compute();
      const adj = trueUp([bill('acme', 'm1', '5.00')], charges);
      // disputed 2.00 kept; the other 3.00 has nothing to scale
      expect(adj.map((a) => [a.status, a.reason, formatMoney(a.adjusted)])).toEqual([
        ['disputed', 'use_after_compromise', '2.00'],
        ['unattributed', 'uninstrumented', '3.00'],
      ]);
    });
  });
});

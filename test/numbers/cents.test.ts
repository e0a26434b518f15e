// Cents computed once (SPEC §4.8), worked out by hand.
import { describe, expect, it } from 'vitest';
import { formatMoney, parseMoney } from '../../src/core/money.js';
import { rollUp } from '../../src/core/statement.js';
import { renderCsv } from '../../src/export/csv.js';
import { renderTable } from '../../src/export/table.js';
import { charge, statement } from '../export/fixtures.js';

const $ = (v: string) => parseMoney(v);
const usage = (team: string, application: string, cost: string, billed = true) =>
  charge({
    team,
    application,
    cost_center: 'cc-a',
    direct_cost: $(cost),
    effective_cost: $(cost),
    list_cost: $(cost),
    billed_cost: billed ? $(cost) : 0n,
  });

describe('cents, top-down', () => {
  it('rounds the total, then each team, then each line, so that every level adds up', () => {
    // 1.004 × 3 = 3.012 → 3.01. Teams: team-a 2.008 → 2.00, team-b 1.004 → 1.00, the spare cent to the
    // larger remainder (team-a). Within team-a: 1.004 and 1.004 → 1.00 each, the spare cent on a tie to app-1.
    const s = statement([
      usage('team-a', 'app-1', '1.004'),
      usage('team-a', 'app-2', '1.004'),
      usage('team-b', 'app-3', '1.004'),
    ]);
    expect(s.lines.map((l) => [l.application, formatMoney(l.cents.effective_cost)])).toEqual([
      ['app-1', '1.01'],
      ['app-2', '1.00'],
      ['app-3', '1.00'],
    ]);
    expect(formatMoney(s.totals.cents.effective_cost)).toBe('3.01');
    const teams = rollUp(s, 'team');
    expect(teams.lines.map((l) => [l.team, formatMoney(l.cents.effective_cost)])).toEqual([
      ['team-a', '2.01'],
      ['team-b', '1.00'],
    ]);
    // the table's rows, subtotal and header agree (rounding each on its own would print 1.00 three times and 3.01)
    const table = renderTable(s);
    expect(table).toMatch(/^effective +3\.01$/m);
    expect(table).toMatch(/^total .* 3\.01 +3\.01 +3\.01 +9$/m);
    expect(renderCsv(teams)).toContain('cc-a,team-a,,,,,attributed,,,2.01,0.00,2.01,2.01,2.01,6,0,2000,400');
  });

  it('never shows billed above effective, and a fully billed line the same cents twice', () => {
    // team-a: 0.006 billed (production) and 0.006 not billed (experimentation under showback).
    // total 0.012 → 0.01; the two lines tie at 0.006 → 0.01 to the first (app-1), 0.00 to app-2.
    const s = statement([usage('team-a', 'app-1', '0.006'), usage('team-a', 'app-2', '0.006', false)]);
    expect(
      s.lines.map((l) => [
        l.application,
        formatMoney(l.cents.effective_cost),
        formatMoney(l.cents.billed_cost),
      ]),
    ).toEqual([
      ['app-1', '0.01', '0.01'],
      ['app-2', '0.00', '0.00'],
    ]);
    // the team: effective 0.012 and billed 0.006 are shown as the sums of their lines' cents, 0.01 and 0.01
    const [team] = rollUp(s, 'team').lines;
    expect([formatMoney(team!.cents.effective_cost), formatMoney(team!.cents.billed_cost)]).toEqual([
      '0.01',
      '0.01',
    ]);
  });
});

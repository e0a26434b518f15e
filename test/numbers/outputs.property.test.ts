// Cents alike in every output (SPEC §4.8), on generated statements: the
// table, CSV, HTML, the dashboard's API payload (the statement JSON and a
// team's scoped view of it) and budgets show the same cents for each line and
// total; rounded lines add up to the rounded totals at every level; FOCUS and
// JSON stay exact and equal.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PoolShare } from '../../src/core/allocation.js';
import type { Charge, Status } from '../../src/core/attribution.js';
import { CENT_COLUMNS } from '../../src/core/cents.js';
import { CENT, formatMoney, type Money, parseMoney, roundTo } from '../../src/core/money.js';
import {
  centsText,
  KEY_FIELDS,
  LEVELS,
  type Line,
  rollUp,
  type Statement,
  statementJson,
  sumLines,
  totalsOf,
} from '../../src/core/statement.js';
import { renderCsv } from '../../src/export/csv.js';
import { focusRows } from '../../src/export/focus.js';
import { renderHtml } from '../../src/export/html.js';
import { renderTable } from '../../src/export/table.js';
import { budgetCents } from '../../src/service/budgets.js';
import { charge, OCT, pool, share, statement } from '../export/fixtures.js';

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
// amounts with sub-cent digits, so that rounding matters
const amount = fc.bigInt({ min: 0n, max: 5n * 10n ** 12n });

const chargeArb = fc
  .record({
    team: pick(['team-a', 'team-b', 'team-c']),
    application: pick(['app-1', 'app-2', null]),
    tenant: pick(['tenant-x', 'tenant-y', null]),
    environment: pick(['production', 'experimentation']),
    status: pick<Status>(['attributed', 'attributed', 'disputed', 'unattributed']),
    cost: amount,
    list: amount,
    billed: fc.boolean(),
    day: fc.integer({ min: 0, max: 30 }),
  })
  .map(
    (r): Charge =>
      charge({
        cost_center: r.team === 'team-c' ? 'cc-b' : 'cc-a',
        team: r.status === 'unattributed' ? null : r.team,
        application: r.application,
        tenant: r.tenant,
        environment: r.environment,
        status: r.status,
        reason:
          r.status === 'disputed'
            ? 'use_after_compromise'
            : r.status === 'unattributed'
              ? 'unknown_identity'
              : null,
        direct_cost: r.cost,
        effective_cost: r.cost,
        list_cost: r.cost + r.list,
        billed_cost: r.billed && r.status !== 'unattributed' ? r.cost : 0n,
        day: OCT.start + r.day * 86_400_000,
        time: OCT.start + r.day * 86_400_000 + 1,
      }),
  );

const shareArb = fc
  .record({ team: pick(['team-a', 'team-b']), cents: fc.bigInt({ min: 0n, max: 10_000n }) })
  .map((r): PoolShare => share({ team: r.team, consumer: r.team, amount: r.cents * parseMoney('0.01') }));

const statementArb = fc.record({
  charges: fc.array(chargeArb, { minLength: 1, maxLength: 25 }),
  shares: fc.array(shareArb, { maxLength: 2 }).map((xs) => [...new Map(xs.map((x) => [x.team, x])).values()]),
});

const amountsOfRow = (row: string) => row.trim().split(/ +/);
const sumOf = (lines: readonly Line[], f: (typeof CENT_COLUMNS)[number]) =>
  lines.reduce((a, l) => a + l.cents[f], 0n);

/** Each rolled-up statement: lines to the cent, within a cent of exact, adding up, billed never above effective. */
function checkLevels(line: Statement): void {
  const json = statementJson(line) as { totals: { cents: Record<string, string> } };
  expect(json.totals.cents.effective_cost).toBe(centsText(roundTo(line.totals.effective_cost, 2)));
  for (const level of LEVELS) {
    const s = rollUp(line, level);
    for (const l of s.lines) {
      for (const f of CENT_COLUMNS) expect(l.cents[f] % CENT).toBe(0n);
      expect(l.cents.billed_cost <= l.cents.effective_cost).toBe(true);
      expect(l.cents.direct_cost + l.cents.shared_cost).toBe(l.cents.effective_cost);
      // list is never below effective when the exact list is not (no markup here)
      expect(l.cents.list_cost >= l.cents.effective_cost).toBe(true);
      // the organisation's levels are nodes of the rounding tree: each within a cent of its exact amount
      // (the tenant level cuts across it and keeps the same totals instead, core/cents.ts)
      const diff = l.cents.effective_cost - l.effective_cost;
      if (level !== 'tenant') expect(diff < CENT && diff > -CENT).toBe(true);
    }
    // the totals are the lines' cents, the same at every level
    for (const f of CENT_COLUMNS) expect(sumOf(s.lines, f)).toBe(line.totals.cents[f]);
    for (const status of ['attributed', 'unattributed', 'disputed'] as const)
      expect(
        s.lines.filter((l) => l.status === status).reduce((a, l) => a + l.cents.effective_cost, 0n),
      ).toBe(line.totals.cents[`${status}_cost`]);
  }
}

/** The table shows each line's cents in order, the subtotals and the totals. */
function checkTable(s: Statement): void {
  const text = renderTable(s);
  const header = (name: string) => new RegExp(`^${name} +(\\S+)$`, 'm').exec(text)?.[1];
  expect(header('effective')).toBe(centsText(s.totals.cents.effective_cost));
  expect(header('billed')).toBe(centsText(s.totals.cents.billed_cost));
  expect(header('disputed')).toBe(centsText(s.totals.cents.disputed_cost));
  for (const status of ['attributed', 'disputed', 'unattributed'] as const) {
    const lines = s.lines.filter((l) => l.status === status);
    if (lines.length === 0) continue;
    const start = text.indexOf(`${status.toUpperCase()} (${lines.length})`);
    const block = text.slice(start).split('\n\n')[0]!.trimEnd().split('\n');
    // title, head, rule, the lines, rule, subtotal
    const rows = block.slice(3, 3 + lines.length);
    rows.forEach((row, i) => {
      const cells = amountsOfRow(row);
      expect(cells.slice(-6, -1)).toEqual(CENT_COLUMNS.map((f) => centsText(lines[i]!.cents[f])));
    });
    expect(amountsOfRow(block.at(-1)!).slice(-6, -1)).toEqual(
      CENT_COLUMNS.map((f) => centsText(sumOf(lines, f))),
    );
  }
}

/** The CSV rows carry the lines' cents and add up to the totals. */
function checkCsv(s: Statement): void {
  const [head, ...rows] = renderCsv(s).trimEnd().split('\r\n');
  const names = head!.split(',');
  expect(rows).toHaveLength(s.lines.length);
  rows.forEach((row, i) => {
    const cells = row.split(',');
    for (const f of CENT_COLUMNS) expect(cells[names.indexOf(f)]).toBe(centsText(s.lines[i]!.cents[f]));
  });
}

/** The HTML report: the cover's totals and every line's effective and billed cents. */
function checkHtml(s: Statement): void {
  const html = renderHtml(s);
  expect(html).toContain(
    `<td>Effective cost</td><td class="n">${centsText(s.totals.cents.effective_cost)}</td>`,
  );
  expect(html).toContain(`<td>Billed cost</td><td class="n">${centsText(s.totals.cents.billed_cost)}</td>`);
  const shown = [
    ...html.matchAll(
      /<tr>(?!<td>Team total)(?:<td>[^<]*<\/td>){6}<td class="n">([^<]+)<\/td><td class="n">([^<]+)<\/td><\/tr>/g,
    ),
  ]
    .map((m) => `${m[1]} ${m[2]}`)
    .sort();
  const lines = s.lines
    .map((l) => `${centsText(l.cents.effective_cost)} ${centsText(l.cents.billed_cost)}`)
    .sort();
  expect(shown).toEqual(lines);
}

/** A team's scoped view (what the API gives a team token) is the organisation's cents for its lines. */
function checkTeamScope(line: Statement, team: string): void {
  const mine = line.lines.filter((l) => l.team === team);
  const totals = totalsOf(sumLines(mine, 'team'));
  for (const f of CENT_COLUMNS) expect(totals.cents[f]).toBe(sumOf(mine, f));
  // and it is what the organisation's team level shows for that team
  const orgTeam = rollUp(line, 'team').lines.filter((l) => l.team === team);
  expect(totals.cents.effective_cost).toBe(sumOf(orgTeam, 'effective_cost'));
}

describe('cents across outputs', () => {
  it('are the same in the table, CSV, HTML, the API payload and budgets, and add up', () => {
    fc.assert(
      fc.property(statementArb, ({ charges, shares }) => {
        const line = statement(charges, shares);
        checkLevels(line);
        for (const level of LEVELS) {
          const s = rollUp(line, level);
          checkTable(s);
          checkCsv(s);
          checkHtml(s);
          // the API payload is the statement JSON: its cents are the lines' cents
          const json = statementJson(s) as { lines: { cents: Record<string, string> }[] };
          json.lines.forEach((l, i) => {
            for (const f of CENT_COLUMNS) expect(l.cents[f]).toBe(centsText(s.lines[i]!.cents[f]));
          });
        }
        for (const team of ['team-a', 'team-b', 'team-c']) {
          checkTeamScope(line, team);
          // a team's budget counts its attributed lines: the team level's attributed cents
          const b = budgetCents(line, { scope: 'team', id: team, monthly: 0n, alertAt: [] }, 'hold');
          const shown = rollUp(line, 'team').lines.filter(
            (l) => l.team === team && l.status === 'attributed',
          );
          expect(b).toBe(sumOf(shown, 'effective_cost'));
        }
        for (const tenant of ['tenant-x', 'tenant-y']) {
          const b = budgetCents(line, { scope: 'tenant', id: tenant, monthly: 0n, alertAt: [] }, 'charge');
          const shown = rollUp(line, 'tenant').lines.filter(
            (l) => l.tenant === tenant && l.status !== 'unattributed',
          );
          expect(b).toBe(sumOf(shown, 'effective_cost'));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('leaves FOCUS and JSON exact and equal to each other', () => {
    fc.assert(
      fc.property(statementArb, ({ charges, shares }) => {
        const s = statement(charges, shares);
        const rows = focusRows(charges, shares, {
          period: OCT,
          currency: 'USD',
          pools: [pool()],
        });
        const byKey = new Map<string, Money>();
        const key = (r: Record<string, unknown>) => KEY_FIELDS.map((f) => r[f] ?? '').join('|');
        for (const r of rows) {
          const k = key({
            cost_center: r.x_CostCenterId,
            team: r.x_TeamId,
            application: r.x_ApplicationId,
            tenant: r.x_TenantId,
            environment: r.x_Environment,
            category: r.x_CostCategory,
            status: r.x_AttributionStatus,
            reason: r.x_AttributionReason,
            pool: r.x_SharedPoolId,
          });
          byKey.set(k, (byKey.get(k) ?? 0n) + parseMoney(String(r.EffectiveCost)));
        }
        const json = statementJson(s) as { lines: Record<string, unknown>[] };
        expect(byKey.size).toBe(json.lines.length);
        for (const l of json.lines) expect(formatMoney(byKey.get(key(l)) ?? -1n)).toBe(l.effective_cost);
      }),
      { numRuns: 100 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import { parseMoney } from '../../src/core/money.js';
import { renderTable } from '../../src/export/table.js';
import { charge, share, statement } from './fixtures.js';

describe('table', () => {
  const charges = [
    charge({ effective_cost: parseMoney('1234.5'), direct_cost: parseMoney('1234.5') }),
    charge({ team: 'team-b', status: 'disputed', reason: 'use_after_compromise', billed_cost: 0n }),
    charge({
      team: null,
      status: 'unattributed',
      reason: 'unknown_identity',
      billed_cost: 0n,
      unpriced_events: 2,
    }),
  ];

  it('heads the lines with the period, currency and totals', () => {
    const out = renderTable(statement(charges, [share()]));
    expect(out).toMatch(/^period +2026-10-01T00:00:00Z \.\. 2026-11-01T00:00:00Z/);
    expect(out).toMatch(/^currency +USD$/m);
    expect(out).toMatch(/^effective +1337\.00$/m);
    expect(out).toMatch(/^disputed +1\.25$/m);
    expect(out).toMatch(/^unattributed +1\.25$/m);
    expect(out).toMatch(/^shared +100\.00$/m);
    expect(out).toMatch(/^coverage +99\.80 %$/m);
    expect(out).toMatch(/^unpriced events +2$/m);
  });

  it('groups lines by status, with a subtotal, amounts right-aligned to the cent', () => {
    const out = renderTable(statement(charges, [share()]));
    const attributed = out.slice(out.indexOf('ATTRIBUTED (2)'), out.indexOf('DISPUTED'));
    const rows = attributed.split('\n').filter((l) => l.includes('team-a'));
    expect(rows).toHaveLength(2);
    const head = attributed.split('\n').find((l) => l.startsWith('cost_center')) ?? '';
    for (const r of rows) expect(r.length).toBe(head.length);
    expect(rows[1]).toMatch(/ 1234\.50 +0\.00 +1234\.50 +1\.50 +1\.25 +3$/);
    expect(attributed).toMatch(/^total +.*1334\.50/m);
    expect(out.indexOf('DISPUTED (1)')).toBeLessThan(out.indexOf('UNATTRIBUTED (1)'));
  });

  it('shows only the level’s columns', () => {
    const out = renderTable(statement(charges, [], 'team'));
    const head = out.split('\n').find((l) => l.startsWith('cost_center'));
    expect(head?.split(/ +/)).toEqual([
      'cost_center',
      'team',
      'reason',
      'direct',
      'shared',
      'effective',
      'list',
      'billed',
      'events',
    ]);
  });

  it('renders a month of lines: more than can be spread as a call’s arguments', () => {
    // 200,000 tenants' lines: the widest row was once found with Math.max(...rows), which
    // throws past ~120k arguments ("Maximum call stack size exceeded").
    const many = Array.from({ length: 200_000 }, (_, i) =>
      charge({ tenant: `tenant-${String(i).padStart(6, '0')}`, events: 1 }),
    );
    const out = renderTable(statement(many));
    const lines = out.split('\n');
    expect(out).toContain('ATTRIBUTED (200000)');
    const rows = lines.filter((l) => l.includes(' tenant-'));
    expect(rows).toHaveLength(200_000);
    expect(rows.at(-1)).toMatch(/^cc-a +team-a +app-a +tenant-199999 /);
    const rules = lines.filter((l) => /^-+$/.test(l));
    expect(rules).toHaveLength(2);
    expect(rules[0]?.length).toBe(rows[0]?.length);
    expect(out).toMatch(/^total +.* 200000$/m);
  });
});

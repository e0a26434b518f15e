// The pure parts of the rules: robust statistics, the spike verdict, the
// settings, model names and S13 over reconciliation rows.
import { describe, expect, it } from 'vitest';
import { normalizeModel } from '../../src/core/models.js';
import { formatMoney, parseMoney } from '../../src/core/money.js';
import { s06Spikes, s07NewModels, s10Addresses, s11Claims } from '../../src/core/signals/from-facts.js';
import { s13FromReconciliation } from '../../src/core/signals/reconciliation.js';
import { signalSettings } from '../../src/core/signals/settings.js';
import { mad, median, robustZ } from '../../src/core/signals/stats.js';

const $ = (s: string) => parseMoney(s);
const settings = signalSettings({ spikeZ: 6, spikeFloor: $('5'), baselineDays: 14, historyDays: 7 });
const T = Date.UTC(2026, 9, 20, 14);

describe('robust statistics', () => {
  it('median and MAD are exact on Money and ignore an outlier', () => {
    const xs = [$('1'), $('2'), $('3'), $('4'), $('1000')];
    expect(median(xs)).toBe($('3'));
    expect(mad(xs)).toBe($('1'));
    expect(median([$('1'), $('2')])).toBe($('1.5'));
  });

  it('a zero spread counts as a tiny one, so the floor decides', () => {
    expect(robustZ($('7'), [0n, 0n, 0n], 0.25).z).toBeGreaterThan(1e12);
  });

  it('the spread never counts as less than a share of the median', () => {
    // MAD 0 around a median of $100: a 25 % floor makes $130 a z of about 1.2, not infinity.
    const r = robustZ($('130'), [$('100'), $('100'), $('100')], 0.25);
    expect(r.z).toBeCloseTo(1.2, 5);
  });
});

describe('S06 verdict', () => {
  const hour = (cost: string, baseline: string[], monthAgo = '0') => ({
    identity: 'nhi-x',
    hour: T,
    events: 10,
    cost: $(cost),
    firstSeen: T,
    lastSeen: T + 1000,
    eventId: 'e1',
    baseline: baseline.map($),
    monthAgoMax: $(monthAgo),
  });
  const seen = new Map([['nhi-x', T - 30 * 86_400_000]]);

  it('fires above both z and floor, high when far above', () => {
    const [s] = s06Spikes([hour('80', ['1', '1.1', '0.9', '1', '1.2', '0.8'])], seen, settings);
    expect(s?.rule).toBe('S06');
    expect(s?.severity).toBe('high');
    const [m] = s06Spikes([hour('9', ['1', '1.1', '0.9', '1', '1.2', '0.8'])], seen, settings);
    expect(m?.severity).toBe('medium');
  });

  it('tiny identities do not page: under the floor, whatever the z', () => {
    expect(s06Spikes([hour('4.99', ['0', '0', '0'])], seen, settings)).toEqual([]);
  });

  it('a month-end job seen about a month ago is not a spike', () => {
    expect(s06Spikes([hour('50', ['0', '0', '0'], '40')], seen, settings)).toEqual([]);
  });

  it('needs history and a baseline', () => {
    expect(s06Spikes([hour('50', ['0', '0'])], seen, settings)).toEqual([]);
    expect(s06Spikes([hour('50', ['0', '0', '0'])], new Map([['nhi-x', T - 86_400_000]]), settings)).toEqual(
      [],
    );
  });
});

describe('settings', () => {
  it('defaults and overrides by YAML name', () => {
    const s = signalSettings({
      spikeZ: 8,
      spikeFloor: $('10'),
      baselineDays: 21,
      historyDays: 7,
      error_burst_min: 50,
    });
    expect(s.spikeZ).toBe(8);
    expect(formatMoney(s.spikeFloor)).toBe('10.00');
    expect(s.errorBurstMin).toBe(50);
    expect(s.offHoursMinEvents).toBe(10);
    expect(formatMoney(s.premiumOutputPerMtok)).toBe('30.00');
  });
});

describe('model names', () => {
  it('a release date or -latest names the same model', () => {
    expect(normalizeModel('gpt-4o-2024-08-06')).toBe('gpt-4o');
    expect(normalizeModel('claude-sonnet-4-5-20250929')).toBe('claude-sonnet-4-5');
    expect(normalizeModel('claude-3-5-haiku-latest')).toBe('claude-3-5-haiku');
    expect(normalizeModel('o1')).toBe('o1');
  });
});

describe('S13 from reconciliation', () => {
  const window = { start: Date.UTC(2026, 9, 1), end: Date.UTC(2026, 10, 1) };
  const row = (billed: string, telemetry: string, project: string | null = null) => ({
    provider: 'openai',
    model: 'gpt-4o',
    project,
    billed: $(billed),
    telemetry: $(telemetry),
  });

  it('fires beyond the tolerance, with the excess as its cost', () => {
    const [s] = s13FromReconciliation([row('1100', '1000', 'proj_1')], 2, window);
    expect(s?.rule).toBe('S13');
    expect(s?.severity).toBe('high');
    expect(s?.identity).toBe('project:proj_1');
    expect(formatMoney(s?.cost ?? 0n)).toBe('100.00');
    expect(s?.evidence.excess_pct).toBe('10.00');
  });

  it('stays quiet within the tolerance and when the bill is lower', () => {
    expect(s13FromReconciliation([row('1020', '1000'), row('900', '1000')], 2, window)).toEqual([]);
  });

  it('fires on spend that telemetry never saw', () => {
    const [s] = s13FromReconciliation([row('12.50', '0')], 2, window);
    expect(s?.identity).toBe('provider:openai');
    expect(s?.evidence.excess_pct).toBeNull();
  });
});

describe('S10 several addresses at once', () => {
  const seen = new Map([['nhi-x', T - 30 * 86_400_000]]);
  const window = { start: T - 86_400_000, end: T + 86_400_000 };
  const hour = (addresses: number, baselineMax: number) => ({
    identity: 'nhi-x',
    hour: T,
    events: 40,
    cost: $('3'),
    firstSeen: T,
    lastSeen: T + 1000,
    eventId: 'e1',
    addresses,
    baselineMax,
  });

  it('fires when an hour sees many more addresses than the identity ever does', () => {
    const [s] = s10Addresses([], [hour(12, 2)], seen, window, settings);
    expect(s).toMatchObject({ rule: 'S10', identity: 'nhi-x', severity: 'medium' });
    expect(s?.evidence).toMatchObject({ hours: [{ addresses: 12, baseline_max: 2 }] });
  });

  it('stays quiet for a pool of workers the identity always uses, and for a few addresses', () => {
    expect(s10Addresses([], [hour(12, 10)], seen, window, settings)).toEqual([]);
    expect(s10Addresses([], [hour(4, 0)], seen, window, settings)).toEqual([]);
  });

  it('needs history first', () => {
    expect(s10Addresses([], [hour(12, 2)], new Map([['nhi-x', T - 86_400_000]]), window, settings)).toEqual(
      [],
    );
  });
});

describe('evidence ids whatever order the store returns the uses in', () => {
  // Two names of one model (normalized alike), and two services claimed: the evidence names the
  // earliest uses' ids first, not the ones of the row the store's parallel aggregate gave first.
  const window = { start: T - 3_600_000, end: T + 3_600_000 };
  const use = (model: string, first: number, ids: string[]) => ({
    identity: 'nhi-x',
    provider: 'openai',
    model,
    firstEver: first,
    events: 3,
    cost: $('1'),
    firstSeen: first,
    lastSeen: first + 1000,
    eventIds: ids,
  });
  const uses = [use('gpt-4o-2024-08-06', T + 5000, ['c', 'd', 'e']), use('gpt-4o', T, ['a', 'b', 'f'])];
  const seen = new Map([['nhi-x', T - 30 * 86_400_000]]);

  it('S07', () => {
    const ids = (u: typeof uses) =>
      s07NewModels(u, seen, window, settings, () => null).map((x) => x.evidence.events);
    expect(normalizeModel('gpt-4o-2024-08-06')).toBe(normalizeModel('gpt-4o'));
    expect(ids(uses)).toEqual([['a', 'b', 'f', 'c', 'd']]);
    expect(ids([...uses].reverse())).toEqual(ids(uses));
  });

  it('S10 (two networks first seen at the same time)', () => {
    const nets = uses.map((u, i) => ({ ...u, firstEver: T, network: `10.${i}`, addresses: [`10.${i}.0.1`] }));
    const evidence = (n: typeof nets) => s10Addresses(n, [], seen, window, settings).map((x) => x.evidence);
    expect(evidence(nets)).toHaveLength(1);
    expect(evidence([...nets].reverse())).toEqual(evidence(nets));
  });

  it('S11', () => {
    const claims = uses.map((u, i) => ({ ...u, environment: 'prod', service: `svc-${i}` }));
    const ids = (c: typeof claims) => s11Claims(c, () => 'prod', settings).map((x) => x.evidence.events);
    expect(ids(claims)).toEqual([['a', 'b', 'f', 'c', 'd']]);
    expect(ids([...claims].reverse())).toEqual(ids(claims));
  });
});

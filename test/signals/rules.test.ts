// Every rule must fire where it should: the steady traffic of traffic.ts plus
// one injected incident per rule, each on its own identity, in one store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/core/event.js';
import { formatMoney, parseMoney } from '../../src/core/money.js';
import type { RuleId, Signal } from '../../src/core/signals/signal.js';
import { computeReplay } from '../../src/service/replay.js';
import { evaluateSignals, type SignalScope } from '../../src/service/signals.js';
import { computeStatement } from '../../src/service/statement.js';
import { ADAPTERS } from '../store/adapters.js';
import {
  eventOf,
  HOUR,
  REGISTRY,
  Rng,
  steadyTraffic,
  stream,
  WINDOW,
  type World,
  world as worldOn,
} from './traffic.js';

describe.each(ADAPTERS)('$name store', (adapter) => {
  const world: typeof worldOn = (events, yaml) => worldOn(events, yaml, adapter);
  /** The hours of nhi-nightly's S10 signal (new addresses) over the steady stream and `events`. */
  const nightlyS10Hours = async (events: UsageEvent[]) => {
    const local = await world([...steadyTraffic(1), ...events], REGISTRY);
    try {
      const burst = (await local.signals()).find(
        (x) => x.rule === 'S10' && x.identity === 'nhi-nightly' && 'hours' in x.evidence,
      );
      return burst?.evidence.hours;
    } finally {
      await local.close();
    }
  };

  const at = (iso: string) => Date.parse(iso);
  const rng = new Rng(99);
  const injected = new Map<RuleId, string[]>();

  function inject(
    rule: RuleId,
    identity: string,
    start: string,
    n: number,
    over: Partial<UsageEvent>,
    spreadMs = 30 * 60_000,
  ) {
    const s = stream(identity);
    const events = Array.from({ length: n }, (_, i) =>
      eventOf(s, `${rule}-${i}`, at(start) + Math.floor((i / n) * spreadMs), rng, over),
    );
    injected.set(
      rule,
      events.map((e) => e.id),
    );
    return events;
  }

  const INCIDENTS: UsageEvent[] = [
    ...inject('S03', 'nhi-api', '2026-10-10T13:00:00Z', 6, { api_key: 'key-unknown' }),
    ...inject('S04', 'nhi-tenants', '2026-10-12T10:00:00Z', 5, { tenant: 'tenant-c' }),
    ...inject('S05', 'nhi-web', '2026-10-14T14:00:00Z', 5, { model: 'm-premium' }),
    ...inject('S06', 'nhi-web', '2026-10-15T14:00:00Z', 600, {}),
    ...inject('S07', 'nhi-api', '2026-10-16T09:00:00Z', 20, { model: 'm-premium' }),
    ...inject('S08', 'nhi-tenants', '2026-10-22T03:00:00Z', 40, {}),
    ...inject('S09', 'nhi-api', '2026-10-23T10:00:00Z', 40, {
      status: 'error',
      error_type: '401',
      input_tokens: 0,
      output_tokens: 0,
    }),
    ...inject('S10', 'nhi-nightly', '2026-10-24T02:00:00Z', 10, { client_address: '203.0.113.9' }),
    ...inject('S11', 'nhi-web', '2026-10-25T10:00:00Z', 5, { environment: 'experimentation' }),
    ...inject('S14', 'nhi-api', '2026-10-26T11:00:00Z', 40, { input_tokens: 1500, output_tokens: 30_000 }),
  ];

  let w: World;
  let signals: Signal[];
  beforeAll(async () => {
    w = await world([...steadyTraffic(1), ...INCIDENTS], REGISTRY);
    signals = await w.signals();
  });
  afterAll(() => w.close());

  function one(rule: RuleId, identity: string): Signal {
    const found = signals.filter((s) => s.rule === rule && s.identity === identity);
    expect(found, `${rule} for ${identity}: ${JSON.stringify(found.map((s) => s.evidence))}`).toHaveLength(1);
    return found[0] as Signal;
  }

  /** The evidence names injected events only. */
  function evidenceFrom(s: Signal, rule: RuleId) {
    const ids = injected.get(rule) ?? [];
    expect(s.evidence.events.length).toBeGreaterThan(0);
    for (const id of s.evidence.events) expect(ids).toContain(id);
  }

  describe('rules that read the attribution', () => {
    it('S01: use after revocation, critical, from the revocation on', () => {
      const s = one('S01', 'nhi-revoked');
      expect(s.severity).toBe('critical');
      expect(s.first_seen).toBeGreaterThanOrEqual(at('2026-10-21T00:00:00Z'));
      expect(s.evidence.lifecycle).toEqual({ event: 'revoked', at: '2026-10-21T00:00:00.000Z' });
      expect(s.refs).toEqual(['OWASP NHI1', 'OWASP NHI7']);
      expect(s.events).toBeGreaterThan(0);
    });

    it('S02: use after a leak, critical', () => {
      const s = one('S02', 'nhi-leaked');
      expect(s.severity).toBe('critical');
      expect(s.first_seen).toBeGreaterThanOrEqual(at('2026-10-21T00:00:00Z'));
      expect(s.team).toBe('team-web');
    });

    it('S03: an unknown key, named by its selector', () => {
      const s = one('S03', 'api_key:key-unknown,service:gateway');
      expect(s.severity).toBe('high');
      expect(s.events).toBe(6);
      expect(s.team).toBeNull();
      evidenceFrom(s, 'S03');
    });

    it('S04: a tenant claim the identity may not make, on the paying identity', () => {
      const s = one('S04', 'nhi-tenants');
      expect(s.evidence.claimed).toEqual(['tenant-c']);
      expect(s.events).toBe(5);
      evidenceFrom(s, 'S04');
    });

    it('S05: a model outside the allowlist', () => {
      const s = one('S05', 'nhi-web');
      expect(s.severity).toBe('high');
      expect(s.evidence.models).toEqual(['m-premium']);
      expect(s.events).toBe(5);
      evidenceFrom(s, 'S05');
    });

    it('S12: spend after the owner team was offboarded', () => {
      const s = one('S12', 'nhi-gone');
      expect(s.first_seen).toBeGreaterThanOrEqual(at('2026-10-20T00:00:00Z'));
      expect(s.evidence.team).toBe('team-gone');
    });
  });

  describe('behavioural rules', () => {
    it('S06: a spend spike at a usual hour, with its figures', () => {
      const s = one('S06', 'nhi-web');
      expect(s.first_seen).toBeGreaterThanOrEqual(at('2026-10-15T14:00:00Z'));
      expect(s.last_seen).toBeLessThan(at('2026-10-15T15:00:00Z'));
      const hours = s.evidence.hours as Array<{ hour: string; z: number; cost: string; median: string }>;
      expect(hours[0]?.hour).toBe('2026-10-15T14:00:00.000Z');
      expect(hours[0]?.z).toBeGreaterThanOrEqual(6);
      expect(parseMoney(hours[0]?.cost ?? '0') - parseMoney(hours[0]?.median ?? '0')).toBeGreaterThan(
        parseMoney('5'),
      );
      expect(s.refs).toEqual(['NIST AI RMF MEASURE 2.4']);
    });

    it('S07: first use of a premium model is medium', () => {
      const s = one('S07', 'nhi-api');
      expect(s.severity).toBe('medium');
      const models = s.evidence.models as Array<{ model: string; premium: boolean }>;
      expect(models.map((m) => [m.model, m.premium])).toEqual([['m-premium', true]]);
      expect(s.events).toBe(20);
      evidenceFrom(s, 'S07');
    });

    it('S08: activity in the dead of the night for a business-hours key', () => {
      const s = one('S08', 'nhi-tenants');
      expect(s.first_seen).toBeGreaterThanOrEqual(at('2026-10-22T03:00:00Z'));
      expect(s.last_seen).toBeLessThan(at('2026-10-22T04:00:00Z'));
    });

    it('S09: a burst of 401s', () => {
      const s = one('S09', 'nhi-api');
      const hours = s.evidence.hours as Array<{ errors: number }>;
      expect(hours[0]?.errors).toBeGreaterThanOrEqual(40);
    });

    it('S10: a client address from a network the identity never used', () => {
      const s = one('S10', 'nhi-nightly');
      expect(s.evidence.new_networks).toEqual([
        { network: '203.0.0.0/16', first_use: '2026-10-24T02:00:00.000Z', addresses: ['203.0.113.9'] },
      ]);
      expect(s.events).toBe(10);
      evidenceFrom(s, 'S10');
    });

    it('S11: events claiming another environment', () => {
      const s = one('S11', 'nhi-web');
      expect(s.evidence.claimed_environments).toEqual(['experimentation']);
      expect(s.events).toBe(5);
      evidenceFrom(s, 'S11');
    });

    it('S14: an hour whose output/input ratio is far off the baseline', () => {
      const s = one('S14', 'nhi-api');
      expect(s.severity).toBe('low');
      expect(s.first_seen).toBeGreaterThanOrEqual(at('2026-10-26T11:00:00Z'));
      expect(s.last_seen).toBeLessThan(at('2026-10-26T12:00:00Z'));
    });

    it('a replay of one identity shows the same signals when it sums only the events that can feed it', async () => {
      const window = { start: at('2026-10-09T00:00:00Z'), end: at('2026-10-27T00:00:00Z') };
      let fed = 0;
      for (const id of ['nhi-api', 'nhi-web', 'nhi-tenants', 'nhi-revoked', 'nhi-leaked']) {
        const all = await computeReplay(w.store, w.config, {
          window,
          identity: id,
          signals: (win) => evaluateSignals(w.store, w.config, win),
        });
        const scoped = await computeReplay(w.store, w.config, {
          window,
          identity: id,
          signals: (win, scope) => evaluateSignals(w.store, w.config, win, scope ?? {}),
        });
        expect(scoped, id).toEqual(all);
        fed += all.signals.length;
      }
      expect(fed).toBeGreaterThan(5);
    });

    it('a replay needs the statement only when a span of the identity, or one it pays for, has a finding’s property', async () => {
      // After the offboarding (10-20), the revocation and the leak (10-21): no configuration change in the window.
      const window = { start: at('2026-10-22T00:00:00Z'), end: at('2026-10-27T00:00:00Z') };
      const asked = new Map<string, SignalScope | undefined>();
      let fed = 0;
      for (const id of ['nhi-api', 'nhi-nightly', 'nhi-web', 'nhi-revoked', 'nhi-leaked', 'nhi-gone']) {
        const all = await computeReplay(w.store, w.config, {
          window,
          identity: id,
          signals: (win) => evaluateSignals(w.store, w.config, win),
        });
        const scoped = await computeReplay(w.store, w.config, {
          window,
          identity: id,
          signals: (win, scope) => {
            asked.set(id, scope);
            return evaluateSignals(w.store, w.config, win, scope ?? {});
          },
        });
        expect(scoped, id).toEqual(all);
        fed += all.signals.length;
      }
      expect(fed).toBeGreaterThan(3);
      const findings = (id: string) => asked.get(id)?.findingsOf;
      for (const id of ['nhi-api', 'nhi-nightly']) expect(findings(id), id).toBe('none');
      for (const id of ['nhi-revoked', 'nhi-leaked', 'nhi-gone']) expect(findings(id), id).toEqual([id]);
      expect(asked.get('nhi-api')?.identities).toEqual(['nhi-api']);
      // Otherwise the statement is read: a configuration change inside the window, or a window of part hours.
      const scopeOver = async (win: { start: number; end: number }) => {
        let got: SignalScope | undefined;
        await computeReplay(w.store, w.config, {
          window: win,
          identity: 'nhi-api',
          signals: async (_, scope) => {
            got = scope;
            return [];
          },
        });
        return got?.findingsOf;
      };
      expect(await scopeOver({ start: at('2026-10-19T00:00:00Z'), end: window.end })).toEqual(['nhi-api']);
      expect(await scopeOver({ start: window.start + 60_000, end: window.end })).toEqual(['nhi-api']);
      expect(await scopeOver(window)).toBe('none');
    });

    it('raises nothing else', () => {
      const expected = new Set([
        'S01 nhi-revoked',
        'S02 nhi-leaked',
        'S03 api_key:key-unknown,service:gateway',
        'S04 nhi-tenants',
        'S05 nhi-web',
        'S06 nhi-web',
        'S07 nhi-api',
        'S07 nhi-web',
        'S08 nhi-tenants',
        'S09 nhi-api',
        'S10 nhi-nightly',
        'S11 nhi-web',
        'S12 nhi-gone',
        'S14 nhi-api',
      ]);
      expect(signals.map((s) => `${s.rule} ${s.identity}`).filter((k) => !expected.has(k))).toEqual([]);
    });

    it('orders by severity, rule, identity', () => {
      expect(signals.map((s) => s.rule)).toEqual(
        [...signals.map((s) => s.rule)].sort((a, b) => {
          const rank = (r: string) =>
            ['critical', 'high', 'medium', 'low'].indexOf(signals.find((s) => s.rule === r)?.severity ?? '');
          return rank(a) - rank(b) || a.localeCompare(b);
        }),
      );
    });
  });

  describe('S13: the provider bill against telemetry', () => {
    it('fires when the bill exceeds the telemetry-priced cost beyond the tolerance', async () => {
      const telemetry = await billedTelemetry();
      const withBill = await w.signals({
        invoice: [
          {
            provider: 'acme',
            model: 'm-batch',
            project: null,
            apiKey: null,
            amount: telemetry + parseMoney('100'),
          },
        ],
      });
      const s13 = withBill.filter((s) => s.rule === 'S13');
      expect(s13).toHaveLength(1);
      expect(s13[0]?.severity).toBe('high');
      expect(formatMoney(s13[0]?.cost ?? 0n)).toBe('100.00');
      expect(s13[0]?.identity).toBe('provider:acme');
    });

    it('stays quiet within the tolerance', async () => {
      const telemetry = await billedTelemetry();
      const withBill = await w.signals({
        invoice: [
          {
            provider: 'acme',
            model: 'm-batch',
            project: null,
            apiKey: null,
            amount: telemetry + telemetry / 100n,
          },
        ],
      });
      expect(withBill.filter((s) => s.rule === 'S13')).toEqual([]);
    });
  });

  async function billedTelemetry(): Promise<bigint> {
    const c = await computeStatement(w.store, w.config, WINDOW);
    return c.charges.filter((x) => x.model === 'm-batch').reduce((m, x) => m + x.direct_cost, 0n);
  }

  describe('rule by rule, whatever the statement line says (SPEC §4.7, §6)', () => {
    it('a compromised key calling a model outside its allowlist raises S02 and S05', async () => {
      // nhi-leaked may use m-std only; after its leak on 10-21 it calls m-premium 4 times.
      const yaml = REGISTRY.replace(
        '    match: [{ api_key: key-leaked }]\n',
        '    match: [{ api_key: key-leaked }]\n    models: ["m-std*"]\n',
      );
      const s = stream('nhi-leaked');
      const r = new Rng(5);
      const events = [0, 1, 2, 3].map((i) =>
        eventOf(s, `leak-premium-${i}`, at('2026-10-22T12:00:00Z') + i * 60_000, r, {
          model: 'm-premium',
          status: 'ok',
          input_tokens: 1000,
          output_tokens: 100,
        }),
      );
      const local = await world(events, yaml);
      try {
        const found = (await local.signals()).filter((x) => x.identity === 'nhi-leaked');
        const rules = found.map((x) => x.rule).sort();
        expect(rules).toContain('S02');
        expect(rules).toContain('S05');
        const s05 = found.find((x) => x.rule === 'S05') as Signal;
        expect(s05.events).toBe(4);
        // 4 × (1000 × $15 + 100 × $75) / 1M = 4 × $0.0225 = $0.09
        expect(formatMoney(s05.cost)).toBe(formatMoney(parseMoney('0.09')));
        expect(s05.evidence.models).toEqual(['m-premium']);
      } finally {
        await local.close();
      }
    });

    it('evidence names the earliest events, across addresses and hours (S10)', async () => {
      // Eight addresses of one new network, each its own profile row, used in reverse address order one
      // hour apart: the evidence is the first event of each of the five earliest hours, in time order.
      const s = stream('nhi-nightly');
      const r = new Rng(8);
      const events = Array.from({ length: 8 }, (_, k) =>
        Array.from({ length: 3 }, (_, j) =>
          eventOf(s, `net-${k}-${j}`, at('2026-10-24T02:00:00Z') + k * HOUR + j * 60_000, r, {
            client_address: `203.0.113.${90 - k}`,
          }),
        ),
      ).flat();
      const local = await world([...steadyTraffic(1), ...events], REGISTRY);
      try {
        const found = (await local.signals()).filter((x) => x.rule === 'S10' && x.identity === 'nhi-nightly');
        expect(found).toHaveLength(1);
        expect(found[0]?.evidence.events).toEqual(['net-0-0', 'net-1-0', 'net-2-0', 'net-3-0', 'net-4-0']);
        expect(found[0]?.events).toBe(24);
      } finally {
        await local.close();
      }
    });

    it('evidence names the first event of each hour when a key starts with a burst (S10)', async () => {
      // One new address, ten events an hour for three hours: a key's earliest events all fall in its first
      // hour, and the evidence is still the first event of each of its hours.
      const s = stream('nhi-nightly');
      const r = new Rng(9);
      const events = Array.from({ length: 3 }, (_, k) =>
        Array.from({ length: 10 }, (_, j) =>
          eventOf(s, `burst-${k}-${j}`, at('2026-10-24T02:00:00Z') + k * HOUR + j * 60_000, r, {
            client_address: '203.0.113.77',
          }),
        ),
      ).flat();
      const local = await world([...steadyTraffic(1), ...events], REGISTRY);
      try {
        const found = (await local.signals()).filter((x) => x.rule === 'S10' && x.identity === 'nhi-nightly');
        expect(found).toHaveLength(1);
        expect(found[0]?.evidence.events).toEqual(['burst-0-0', 'burst-1-0', 'burst-2-0']);
        expect(found[0]?.events).toBe(30);
      } finally {
        await local.close();
      }
    });

    it('S10 counts an hour’s distinct addresses, not its uses (one address, several models)', async () => {
      // Six new addresses in one hour, each used with two models and from two environments: 24 distinct
      // (address, model, environment) uses. With the steady stream's own address that hour has seven.
      const s = stream('nhi-nightly');
      const r = new Rng(11);
      const events = Array.from({ length: 6 }, (_, k) =>
        ['m-batch', 'm-mini'].flatMap((model, j) =>
          ['production', 'staging'].map((environment, e) =>
            eventOf(s, `many-${k}-${j}-${e}`, at('2026-10-24T02:00:00Z') + (k * 4 + j * 2 + e) * 60_000, r, {
              client_address: `198.51.100.${10 + k}`,
              model,
              environment,
            }),
          ),
        ),
      ).flat();
      expect(await nightlyS10Hours(events)).toEqual([
        { hour: '2026-10-24T02:00:00.000Z', addresses: 7, baseline_max: 1 },
      ]);
    });

    it('S10 counts an hour’s distinct addresses when an identity has more than 64 (each used twice)', async () => {
      // Seventy new addresses in one hour, each with two models: an identity with more addresses than a
      // word has bits counts them from a list. With the steady stream's own address that hour has 71.
      const s = stream('nhi-nightly');
      const r = new Rng(12);
      const events = Array.from({ length: 70 }, (_, k) =>
        ['m-batch', 'm-mini'].map((model, j) =>
          eventOf(s, `wide-${k}-${j}`, at('2026-10-24T02:00:00Z') + (k * 2 + j) * 20_000, r, {
            client_address: `198.51.${100 + (k % 2)}.${10 + k}`,
            model,
          }),
        ),
      ).flat();
      expect(await nightlyS10Hours(events)).toEqual([
        { hour: '2026-10-24T02:00:00.000Z', addresses: 71, baseline_max: 1 },
      ]);
    });

    it('S11 ignores unset environments (the OpenLIT default `default`, empty)', async () => {
      const s = stream('nhi-api');
      const r = new Rng(6);
      const events = Array.from({ length: 40 }, (_, i) =>
        eventOf(s, `env-${i}`, at('2026-10-22T12:00:00Z') + i * 60_000, r, {
          environment: i % 2 === 0 ? 'default' : '',
        }),
      );
      const local = await world([
        ...events,
        ...Array.from({ length: 40 }, (_, i) =>
          eventOf(s, `exp-${i}`, at('2026-10-23T12:00:00Z') + i * 60_000, r, {
            environment: 'experimentation',
          }),
        ),
      ]);
      try {
        const found = (await local.signals()).filter((x) => x.rule === 'S11' && x.identity === 'nhi-api');
        // Only the 40 events that claim `experimentation` count, none of the 40 unset ones.
        expect(found).toHaveLength(1);
        expect(found[0]?.evidence.claimed_environments).toEqual(['experimentation']);
        expect(found[0]?.events).toBe(40);
      } finally {
        await local.close();
      }
    });

    it('a model or network used before the history the hourly rules read is not new (S07, S10), scoped too', async () => {
      // The hourly rules read from 35 days before the window; a use older than that still counts as the first.
      const r = new Rng(21);
      const older = at('2026-07-15T10:00:00Z');
      const before = [
        eventOf(stream('nhi-api'), 'old-premium', older, r, { model: 'm-premium' }),
        eventOf(stream('nhi-nightly'), 'old-address', older + HOUR, r, { client_address: '203.0.113.9' }),
      ];
      const incidents = [
        ...Array.from({ length: 20 }, (_, i) =>
          eventOf(stream('nhi-api'), `premium-${i}`, at('2026-10-16T09:00:00Z') + i * 60_000, r, {
            model: 'm-premium',
          }),
        ),
        ...Array.from({ length: 10 }, (_, i) =>
          eventOf(stream('nhi-nightly'), `address-${i}`, at('2026-10-24T02:00:00Z') + i * 60_000, r, {
            client_address: '203.0.113.9',
          }),
        ),
      ];
      const newUses = (signals: Signal[]) =>
        signals
          .filter(
            (s) =>
              (s.rule === 'S07' && s.identity === 'nhi-api') ||
              (s.rule === 'S10' && s.identity === 'nhi-nightly'),
          )
          .map((s) => `${s.rule} ${s.identity}`);
      const judged = async (events: UsageEvent[]) => {
        const local = await world([...steadyTraffic(1), ...events], REGISTRY);
        try {
          const scoped = async (id: string) =>
            newUses(await local.signals({ identities: [id], findingsOf: 'none' }));
          return {
            all: newUses(await local.signals()),
            scoped: [...(await scoped('nhi-api')), ...(await scoped('nhi-nightly'))],
          };
        } finally {
          await local.close();
        }
      };
      expect(await judged(incidents)).toEqual({
        all: ['S07 nhi-api', 'S10 nhi-nightly'],
        scoped: ['S07 nhi-api', 'S10 nhi-nightly'],
      });
      expect(await judged([...before, ...incidents])).toEqual({ all: [], scoped: [] });
    });
  });
});

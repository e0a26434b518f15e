import { afterEach, describe, expect, it } from 'vitest';
import { parseMoney } from '../../src/core/money.js';
import { assessPosture, type Finding, postureReads } from '../../src/core/posture.js';
import { postureJson, renderPostureTable } from '../../src/export/posture.js';
import { computePosture } from '../../src/service/posture.js';
import { BASE, ev, OCT, type Scenario, scenario } from '../statement/helpers.js';

let s: Scenario | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const EXTRA = `
  - id: nhi-stale
    kind: api_key
    application: app-two
    environment: production
    models: [m1]
    match: [{ api_key: key-stale }]
    lifecycle:
      - { at: 2026-01-01T00:00:00Z, event: created }
      - { at: 2026-06-01T00:00:00Z, event: rotated }
  - id: nhi-fresh
    kind: api_key
    application: app-two
    environment: production
    models: [m1]
    match: [{ api_key: key-fresh }]
    lifecycle:
      - { at: 2026-10-01T00:00:00Z, event: created }
  - id: nhi-leaky
    kind: workload
    application: app-two
    environment: production
    models: [m1]
    match: [{ service: leaky }]
    lifecycle:
      - { at: 2026-10-05T00:00:00Z, event: leaked }
prices:`;

const YAML = BASE.replace('\nprices:', EXTRA);

function find(findings: readonly Finding[], kind: string, subject: string): Finding {
  const f = findings.find((x) => x.kind === kind && x.subject === subject);
  if (!f)
    throw new Error(
      `no ${kind} finding for ${subject}: ${findings.map((x) => `${x.kind}:${x.subject}`).join(' ')}`,
    );
  return f;
}

describe('posture', () => {
  it('finds each kind of gap, with its framework references', async () => {
    s = await scenario(YAML, [
      [
        ev('u1', '2026-10-02T00:00:00Z', { api_key: 'key-nobody', input_tokens: 1_000_000 }),
        ev('d1', '2026-10-02T00:00:00Z', { service: 'dup', input_tokens: 10 }),
        ev('o1', '2026-10-02T00:00:00Z', { service: 'orphan', input_tokens: 10 }),
        ev('e1', '2026-10-02T00:00:00Z', {
          api_key: 'key-one',
          environment: 'experimentation',
          service: 's1',
        }),
        ev('e2', '2026-10-02T00:00:00Z', { api_key: 'key-one', environment: 'production', service: 's2' }),
        ev('p1', '2026-10-03T00:00:00Z', {
          service: 'svc-two',
          model: 'mystery',
          input_tokens: 500,
          output_tokens: 7,
        }),
        ev('st', '2026-10-03T00:00:00Z', { api_key: 'key-stale', input_tokens: 1_000_000 }),
        ev('fr', '2026-10-03T00:00:00Z', { api_key: 'key-fresh', input_tokens: 1_000_000 }),
      ],
    ]);
    const p = await computePosture(s.store, s.config, { window: OCT });
    const f = p.findings;
    expect(find(f, 'unregistered_identity', 'api_key:key-nobody')).toMatchObject({
      severity: 'high',
      events: 1,
      cost: parseMoney('1.00'),
      refs: ['NIST CSF ID.AM-02', 'NIST CSF ID.AM-08', 'OWASP NHI1'],
    });
    expect(find(f, 'ambiguous_identity', 'service:dup').figures.candidates).toBe('nhi-dup-1, nhi-dup-2');
    expect(find(f, 'identity_without_owner', 'nhi-orphan')).toMatchObject({ severity: 'high', events: 1 });
    expect(find(f, 'identity_without_owner', 'nhi-future').severity).toBe('medium');
    expect(find(f, 'application_without_team', 'app-future').refs).toContain('OWASP NHI1');
    expect(find(f, 'key_not_rotated', 'nhi-stale')).toMatchObject({
      figures: { age_days: 152, last_renewed: '2026-06-01T00:00:00Z' },
      refs: ['NIST CSF ID.AM-08', 'OWASP NHI7'],
    });
    expect(find(f, 'key_not_rotated', 'nhi-one').detail).toBe('no creation or rotation on record');
    expect(f.some((x) => x.subject === 'nhi-fresh' || x.subject === 'nhi-old')).toBe(false);
    expect(find(f, 'compromised_not_revoked', 'nhi-leaky')).toMatchObject({ severity: 'critical' });
    expect(find(f, 'identity_across_environments', 'nhi-one')).toMatchObject({
      events: 1,
      refs: ['NIST CSF ID.AM-02', 'OWASP NHI8', 'OWASP NHI9'],
    });
    expect(find(f, 'identity_across_services', 'nhi-one').figures.services).toBe('s1, s2');
    expect(find(f, 'unpriced_model', 'acme/mystery')).toMatchObject({
      events: 1,
      cost: null,
      figures: { input_tokens: 500, output_tokens: 7 },
    });
    expect(find(f, 'unrestricted_identity', 'nhi-two').refs).toEqual(['OWASP NHI5']);
    const coverage = find(f, 'attribution_coverage', 'telemetry');
    expect(coverage.cost).toBe(p.coverage.direct - p.coverage.attributed);
    expect(p.coverage.direct - p.coverage.attributed).toBeGreaterThanOrEqual(parseMoney('1.00'));
    // Most serious first.
    expect(f[0]?.severity).toBe('critical');
    // It keeps only the charges it reads (postureReads): the posture of every charge is the same.
    const all = await s.compute({}, OCT);
    expect(all.charges.filter(postureReads).length).toBeLessThan(all.charges.length);
    const usage = await s.store.selectorUsage({ from: OCT.start, to: OCT.end });
    const fromAll = assessPosture({
      config: s.config,
      registry: all.registry,
      window: OCT,
      usage,
      charges: all.charges,
      totals: all.statement.totals,
      rotationDays: p.rotationDays,
    });
    expect(p).toEqual(fromAll);
  });

  it('takes the rotation period from the options and renders JSON and a table', async () => {
    s = await scenario(YAML, [[ev('st', '2026-10-03T00:00:00Z', { api_key: 'key-stale' })]]);
    const p = await computePosture(s.store, s.config, { window: OCT, rotationDays: 200 });
    expect(p.findings.some((x) => x.kind === 'key_not_rotated' && x.subject === 'nhi-stale')).toBe(false);
    const json = postureJson(p) as { findings: Array<{ cost: string | null }>; rotation_days: number };
    expect(json.rotation_days).toBe(200);
    expect(renderPostureTable(p)).toContain('compromised_not_revoked');
  });
});

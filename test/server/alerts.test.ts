// Budget alerts: posted to a real webhook receiver once per crossing, also
// across a restart (a new BudgetAlerts on the same store), and retried after
// a failed delivery.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BudgetAlerts } from '../../src/server/alerts.js';
import {
  canonical,
  config,
  type Harness,
  harness,
  NOW,
  postJson,
  type Receiver,
  TOKENS,
  webhookReceiver,
} from './helpers.js';

let h: Harness;
let hook: Receiver;

beforeEach(async () => {
  h = await harness();
  hook = await webhookReceiver();
});

afterEach(async () => {
  await hook.close();
  await h.close();
});

const alerts = () => new BudgetAlerts(h.store, config(), hook.url, { now: () => NOW });

describe('budget alerts', () => {
  it('posts each threshold crossing once, also after a restart', async () => {
    // team-a: $6 of its $10 budget → the 50% threshold
    await postJson(h, '/v1/events', TOKENS.ingest, [canonical('a1', 'svc-a', { input_tokens: 6_000_000 })]);
    expect(await alerts().check()).toBe(1);
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]).toMatchObject({
      period: '2026-10',
      scope: 'team',
      id: 'team-a',
      threshold: 50,
      actual: '6.00',
      budget: '10.00',
    });
    expect(String(hook.received[0]?.text)).toContain('team-a');
    expect(await alerts().check()).toBe(0);

    // $11 → the 100% threshold, once, from yet another instance
    await postJson(h, '/v1/events', TOKENS.ingest, [canonical('a2', 'svc-a', { input_tokens: 5_000_000 })]);
    const again = alerts();
    expect(await again.check()).toBe(1);
    expect(await again.check()).toBe(0);
    expect(hook.received.map((r) => r.threshold)).toEqual([50, 100]);
  });

  it('retries a delivery that failed', async () => {
    await postJson(h, '/v1/events', TOKENS.ingest, [canonical('a1', 'svc-a', { input_tokens: 6_000_000 })]);
    hook.failNext = 1;
    expect(await alerts().check()).toBe(0);
    expect(hook.received).toHaveLength(0);
    expect(await alerts().check()).toBe(1);
    expect(await alerts().check()).toBe(0);
    expect(hook.received).toHaveLength(1);
  });
});

// Signal notifications (SPEC §12): the signals at or above notify.min_severity are
// posted to a real webhook receiver once each, also across a restart (a new notifier
// on the same store), retried after a failed delivery, as Slack-compatible JSON.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SignalNotices } from '../../src/server/notify.js';
import { BASE, ev, type Scenario, scenario } from '../statement/helpers.js';
import { type Receiver, webhookReceiver } from './helpers.js';

let s: Scenario;
let hook: Receiver;

beforeEach(async () => {
  hook = await webhookReceiver();
  // nhi-comp is compromised on 10-20: three calls after that are S02 (critical).
  s = await scenario(BASE, [
    [1, 2, 3].map((i) =>
      ev(`c${i}`, `2026-10-21T0${i}:00:00Z`, {
        api_key: 'key-comp',
        input_tokens: 1_000_000,
        output_tokens: 0,
      }),
    ),
  ]);
});

afterEach(async () => {
  await hook.close();
  await s.close();
});

const notifier = (minSeverity: 'critical' | 'high' | 'medium' | 'low' = 'critical') =>
  new SignalNotices(s.store, s.config, {
    webhook: hook.url,
    minSeverity,
    dashboardUrl: 'https://tally.example/',
  });

describe('signal notifications', () => {
  it('posts each signal at or above the severity once, with identity, cost, evidence and the replay link', async () => {
    expect(await notifier().check()).toBe(1);
    expect(hook.received).toHaveLength(1);
    const [msg] = hook.received as [Record<string, unknown>];
    expect(msg.rule).toBe('S02');
    expect(msg.identity).toBe('nhi-comp');
    // 3 × 1M input tokens of m1 at $1/M.
    expect(msg.cost).toBe('3.00');
    expect(msg.events).toBe(3);
    expect((msg.evidence as { events: string[] }).events.sort()).toEqual(['c1', 'c2', 'c3']);
    expect(msg.text).toMatch(/^tally critical S02: .*nhi-comp, 3 events, 3\.00 USD/);
    expect(msg.replay).toBe(
      'https://tally.example/#/replay?identity=nhi-comp&from=2026-10-21T01%3A00%3A00Z&to=2026-10-21T04%3A00%3A00Z',
    );
    // Again, and after a restart: nothing new.
    expect(await notifier().check()).toBe(0);
    expect(await notifier().check()).toBe(0);
    expect(hook.received).toHaveLength(1);
  });

  it('a lower threshold adds the lower signals; a failed post is retried on the next check', async () => {
    hook.failNext = 1;
    const first = await notifier('high').check();
    const rules = () => hook.received.map((r) => r.rule).sort();
    // The first post fails and is released; the next check sends it.
    expect(first).toBe(rules().length);
    const second = await notifier('high').check();
    expect(first + second).toBe(rules().length);
    expect(second).toBe(1);
    expect(rules()).toContain('S02');
    expect(new Set(rules()).size).toBe(rules().length);
  });
});

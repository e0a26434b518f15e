// Budget alerts: posted to a real webhook receiver once per crossing, also
// across a restart (a new BudgetAlerts on the same store), and retried after
// a failed delivery.
import { createServer, type Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BudgetAlerts } from '../../src/server/alerts.js';
import { canonical, config, type Harness, harness, NOW, postJson, TOKENS } from './helpers.js';

let h: Harness;
let receiver: Server;
let received: Array<Record<string, unknown>>;
let failNext: number;
let url: string;

beforeEach(async () => {
  h = await harness();
  received = [];
  failNext = 0;
  receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => {
      text += d.toString();
    });
    req.on('end', () => {
      if (failNext > 0) {
        failNext--;
        res.writeHead(500).end();
        return;
      }
      received.push(JSON.parse(text) as Record<string, unknown>);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
});

afterEach(async () => {
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  await h.close();
});

const alerts = () => new BudgetAlerts(h.store, config(), url, { now: () => NOW });

describe('budget alerts', () => {
  it('posts each threshold crossing once, also after a restart', async () => {
    // team-a: $6 of its $10 budget → the 50% threshold
    await postJson(h, '/v1/events', TOKENS.ingest, [canonical('a1', 'svc-a', { input_tokens: 6_000_000 })]);
    expect(await alerts().check()).toBe(1);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      period: '2026-10',
      scope: 'team',
      id: 'team-a',
      threshold: 50,
      actual: '6.00',
      budget: '10.00',
    });
    expect(String(received[0]?.text)).toContain('team-a');
    expect(await alerts().check()).toBe(0);

    // $11 → the 100% threshold, once, from yet another instance
    await postJson(h, '/v1/events', TOKENS.ingest, [canonical('a2', 'svc-a', { input_tokens: 5_000_000 })]);
    const again = alerts();
    expect(await again.check()).toBe(1);
    expect(await again.check()).toBe(0);
    expect(received.map((r) => r.threshold)).toEqual([50, 100]);
  });

  it('retries a delivery that failed', async () => {
    await postJson(h, '/v1/events', TOKENS.ingest, [canonical('a1', 'svc-a', { input_tokens: 6_000_000 })]);
    failNext = 1;
    expect(await alerts().check()).toBe(0);
    expect(received).toHaveLength(0);
    expect(await alerts().check()).toBe(1);
    expect(await alerts().check()).toBe(0);
    expect(received).toHaveLength(1);
  });
});

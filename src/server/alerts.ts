/**
 * Budget alerts: after ingests (at most once per `minIntervalMs`) the
 * current month's budgets are checked and every newly crossed threshold is
 * posted to the webhook. A crossing is claimed in the store before it is
 * posted, so it is sent once — also across restarts — and released again
 * if the post fails, so that the next check retries it.
 */
import type { Config } from '../core/config.js';
import { formatMoney } from '../core/money.js';
import { iso } from '../core/statement.js';
import { computeBudgets } from '../service/budgets.js';
import type { Store } from '../store/store.js';
import { currentMonth } from './params.js';

export interface AlertOptions {
  now?: () => number;
  minIntervalMs?: number;
  timeoutMs?: number;
}

export class BudgetAlerts {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private lastRun = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private readonly minIntervalMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly store: Store,
    private readonly config: Config,
    private readonly webhook: string,
    opts: AlertOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.minIntervalMs = opts.minIntervalMs ?? 60_000;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  start(): void {
    this.poke();
  }

  /** Asks for a check soon; repeated pokes within the interval make one check. */
  poke(): void {
    if (this.timer || this.config.budgets.length === 0) return;
    const wait = Math.max(0, this.lastRun + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.check().catch((e: unknown) => {
        process.stderr.write(
          `tally serve: budget check failed: ${e instanceof Error ? e.message : String(e)}\n`,
        );
      });
    }, wait);
    this.timer.unref();
  }

  /** Checks now; resolves to the number of alerts posted. */
  check(): Promise<number> {
    this.running ??= this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  private async run(): Promise<number> {
    this.lastRun = Date.now();
    const now = this.now();
    const months = [currentMonth(now)];
    // A backfill crosses budgets of the month its events are in.
    const latest = await this.store.latestEventTime();
    if (latest !== null && latest < (months[0] as { start: number }).start) months.push(currentMonth(latest));
    const crossings = [];
    for (const m of months) crossings.push(...(await computeBudgets(this.store, this.config, m)).crossings);
    let sent = 0;
    for (const c of crossings) {
      const key = `${c.period}:${c.scope}:${c.id}:${c.threshold}`;
      if (!(await this.store.claimAlert(key, now))) continue;
      const amount = `${formatMoney(c.actual)} ${this.config.currency}`;
      const text = `tally: ${c.scope} ${c.id} reached ${c.threshold}% of its ${c.period} budget (${amount} of ${formatMoney(c.budget)})`;
      const body = {
        text,
        period: c.period,
        scope: c.scope,
        id: c.id,
        threshold: c.threshold,
        crossed_at: iso(c.crossedAt),
        actual: formatMoney(c.actual),
        budget: formatMoney(c.budget),
        currency: this.config.currency,
      };
      if (await this.post(body)) sent++;
      else await this.store.releaseAlert(key);
    }
    return sent;
  }

  private async post(body: unknown): Promise<boolean> {
    try {
      const r = await fetch(this.webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await r.arrayBuffer();
      return r.ok;
    } catch {
      return false;
    }
  }
}

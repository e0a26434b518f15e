/**
 * Budget alerts: every newly crossed threshold of the current month's budgets
 * (and of the month of a backfill) is posted once to the webhook
 * (`alerts.webhook`); see webhook.ts for when and how.
 */
import type { Config } from '../core/config.js';
import { formatMoney } from '../core/money.js';
import { iso } from '../core/statement.js';
import { computeBudgets } from '../service/budgets.js';
import type { Store } from '../store/store.js';
import { currentMonth } from './params.js';
import { type Notice, type NotifierOptions, WebhookNotifier } from './webhook.js';

export type AlertOptions = NotifierOptions;

export class BudgetAlerts extends WebhookNotifier {
  constructor(
    store: Store,
    private readonly config: Config,
    webhook: string,
    opts: AlertOptions = {},
  ) {
    super(store, webhook, 'budget', opts);
  }

  protected enabled(): boolean {
    return this.config.budgets.length > 0;
  }

  protected async notices(now: number): Promise<Notice[]> {
    const months = [currentMonth(now)];
    // A backfill crosses budgets of the month its events are in.
    const latest = await this.store.latestEventTime();
    if (latest !== null && latest < (months[0] as { start: number }).start) months.push(currentMonth(latest));
    const out: Notice[] = [];
    for (const m of months)
      for (const c of (await computeBudgets(this.store, this.config, m)).crossings) {
        const amount = `${formatMoney(c.actual)} ${this.config.currency}`;
        out.push({
          key: `${c.period}:${c.scope}:${c.id}:${c.threshold}`,
          body: {
            text: `tally: ${c.scope} ${c.id} reached ${c.threshold}% of its ${c.period} budget (${amount} of ${formatMoney(c.budget)})`,
            period: c.period,
            scope: c.scope,
            id: c.id,
            threshold: c.threshold,
            crossed_at: iso(c.crossedAt),
            actual: formatMoney(c.actual),
            budget: formatMoney(c.budget),
            currency: this.config.currency,
          },
        });
      }
    return out;
  }
}

/**
 * Signal notifications (SPEC §12): the signals of the default window (the 30
 * days up to the latest event) at or above `notify.min_severity` are posted to
 * `notify.webhook` once each, as Slack-compatible JSON with the identity, the
 * cost, the evidence and a link to the replay; see webhook.ts for when and how.
 *
 * A signal is "the same" while its rule, identity and first hour stay the
 * same: a spike that goes on is not posted again, a new one is.
 */
import type { Config } from '../core/config.js';
import { formatMoney } from '../core/money.js';
import { atOrAbove } from '../core/signals/order.js';
import type { Signal } from '../core/signals/signal.js';
import { iso } from '../core/statement.js';
import { defaultSignalWindow, evaluateSignals } from '../service/signals.js';
import type { Store } from '../store/store.js';
import { type Notice, type NotifierOptions, WebhookNotifier } from './webhook.js';

const HOUR_MS = 3_600_000;

export class SignalNotices extends WebhookNotifier {
  constructor(
    store: Store,
    private readonly config: Config,
    private readonly notify: NonNullable<Config['notify']>,
    opts: NotifierOptions = {},
  ) {
    super(store, notify.webhook, 'signal', opts);
  }

  protected enabled(): boolean {
    return true;
  }

  protected async notices(): Promise<Notice[]> {
    const latest = await this.store.latestEventTime();
    if (latest === null) return [];
    const signals = await evaluateSignals(this.store, this.config, defaultSignalWindow(latest));
    return signals
      .filter((s) => atOrAbove(s.severity, this.notify.minSeverity))
      .map((s) => ({ key: signalKey(s), body: this.body(s) }));
  }

  private body(s: Signal): unknown {
    const cost = `${formatMoney(s.cost)} ${this.config.currency}`;
    const replay = this.replayLink(s);
    const text =
      `tally ${s.severity} ${s.rule}: ${s.title} — ${s.identity}, ${s.events} events, ${cost} ` +
      `(${iso(s.first_seen)} to ${iso(s.last_seen)})${replay ? `\n<${replay}|Replay the incident>` : ''}`;
    return {
      text,
      rule: s.rule,
      severity: s.severity,
      title: s.title,
      identity: s.identity,
      team: s.team,
      first_seen: iso(s.first_seen),
      last_seen: iso(s.last_seen),
      events: s.events,
      cost: formatMoney(s.cost),
      currency: this.config.currency,
      evidence: s.evidence,
      refs: s.refs,
      replay,
    };
  }

  /** The dashboard's replay of the identity over the signal's hours, when the dashboard's address is known. */
  private replayLink(s: Signal): string | null {
    const base = this.notify.dashboardUrl;
    if (base === null) return null;
    const q = new URLSearchParams({
      identity: s.identity,
      from: iso(s.first_seen),
      to: iso(Math.floor(s.last_seen / HOUR_MS) * HOUR_MS + HOUR_MS),
    });
    return `${base.replace(/\/+$/, '')}/#/replay?${q}`;
  }
}

export function signalKey(s: Signal): string {
  return `signal:${s.rule}:${s.identity}:${iso(Math.floor(s.first_seen / HOUR_MS) * HOUR_MS)}`;
}

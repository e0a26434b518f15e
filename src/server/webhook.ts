/**
 * What budget alerts and signal notifications share: after ingests (at most
 * once per `minIntervalMs`) find what is new, claim each item in the store
 * before posting it, so that it is sent once — also across restarts — and
 * release the claim if the post fails, so that the next check retries it.
 */
import type { Store } from '../store/store.js';

export interface NotifierOptions {
  now?: () => number;
  minIntervalMs?: number;
  timeoutMs?: number;
}

/** One message: the key it is claimed under and the JSON body posted. */
export interface Notice {
  key: string;
  body: unknown;
}

export abstract class WebhookNotifier {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private lastRun = Number.NEGATIVE_INFINITY;
  protected readonly now: () => number;
  private readonly minIntervalMs: number;
  private readonly timeoutMs: number;

  constructor(
    protected readonly store: Store,
    private readonly webhook: string,
    private readonly what: string,
    opts: NotifierOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.minIntervalMs = opts.minIntervalMs ?? 60_000;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** Whether there is anything to check at all. */
  protected abstract enabled(): boolean;
  /** Everything that should have been posted by now; already-claimed keys are skipped. */
  protected abstract notices(now: number): Promise<Notice[]>;

  start(): void {
    this.poke();
  }

  /** Asks for a check soon; repeated pokes within the interval make one check. */
  poke(): void {
    if (this.timer || !this.enabled()) return;
    const wait = Math.max(0, this.lastRun + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.check().catch((e: unknown) => {
        process.stderr.write(
          `tally serve: ${this.what} check failed: ${e instanceof Error ? e.message : String(e)}\n`,
        );
      });
    }, wait);
    this.timer.unref();
  }

  /** Checks now; resolves to the number of messages posted. */
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
    let sent = 0;
    for (const n of await this.notices(now)) {
      if (!(await this.store.claimAlert(n.key, now))) continue;
      if (await this.post(n.body)) sent++;
      else await this.store.releaseAlert(n.key);
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

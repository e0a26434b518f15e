/**
 * `tally posture` (SPEC §6): the registry against what telemetry shows over
 * a window, by default the 30 days up to the latest event (as `tally
 * signals`). Ownership and key age are judged as of the window's end.
 */
import type { Charge } from '../core/attribution.js';
import type { Config } from '../core/config.js';
import {
  assessPosture,
  DEFAULT_ROTATION_DAYS,
  type Posture,
  postureReads,
  type UnmatchedSelector,
  unmatchedSelectors,
} from '../core/posture.js';
import { Registry } from '../core/registry.js';
import type { Store } from '../store/store.js';
import { computeStatementEach } from './statement.js';

export interface PostureOptions {
  window?: { start: number; end: number } | null;
  /** Days a key may go without `created` or `rotated`; default `policy.signals.rotation_days`, else 90. */
  rotationDays?: number;
}

const DEFAULT_DAYS = 30;
const DAY_MS = 86_400_000;

export async function computePosture(
  store: Store,
  config: Config,
  opts: PostureOptions = {},
): Promise<Posture> {
  const window = opts.window ?? (await defaultWindow(store));
  // Only the charges the posture reads are kept: a month's are millions.
  const charges: Charge[] = [];
  const { statement, registry } = await computeStatementEach(store, config, window, {}, (c) => {
    if (postureReads(c)) charges.push(c);
  });
  const usage = await store.selectorUsage({ from: window.start, to: window.end });
  const configured = config.policy.signals.rotation_days;
  return assessPosture({
    config,
    registry,
    window,
    usage,
    charges,
    totals: statement.totals,
    rotationDays: opts.rotationDays ?? (typeof configured === 'number' ? configured : DEFAULT_ROTATION_DAYS),
  });
}

/**
 * The registry selectors that matched no event in the default posture window
 * while unknown callers of their kind were seen, for `tally ingest` to warn about.
 */
export async function selectorWarnings(
  store: Store,
  config: Config,
): Promise<{ window: { start: number; end: number }; unmatched: UnmatchedSelector[] }> {
  const window = await defaultWindow(store);
  const usage = await store.selectorUsage({ from: window.start, to: window.end });
  return { window, unmatched: unmatchedSelectors(config, new Registry(config), usage, window.end - 1) };
}

async function defaultWindow(store: Store): Promise<{ start: number; end: number }> {
  const latest = await store.latestEventTime();
  const end = (latest ?? Date.now()) + 1;
  return { start: end - DEFAULT_DAYS * DAY_MS, end };
}

/**
 * The bounds of every read (SPEC §9): the same for every role and for the
 * command line, so that no request can hold the store or the machine for
 * long. Past one, the request fails with a LimitError that names it (HTTP 422).
 */
import { LimitError } from './errors.js';

const DAY_MS = 86_400_000;

/** Longest window, in days, per kind of read. */
export const MAX_WINDOW_DAYS = {
  /** statements, daily spend, drill-down, posture: a year and a day. */
  read: 366,
  /** signals: a quarter (they compare each hour with weeks of baseline). */
  signals: 92,
  /** incident replay: a quarter (a replay is a forensic look at a few traces). */
  replay: 92,
} as const;

/** Most events one replay loads (the selected spans and their traces). */
export const MAX_REPLAY_EVENTS = 100_000;

/**
 * Most traces one `tally sampling` plan holds. A plan folds each charge as it is made; only a
 * trace's costs to each team and tenant are held until the period's groups are all read (an
 * event without a trace is a unit whole in its one group, folded at once). A held trace costs
 * ~365 bytes, so ~1.4 GB at the bound. The 10M-event benchmark month has 0.4M traces.
 */
export const MAX_SAMPLING_TRACES = 4_000_000;

/** Throws a LimitError when [start, end) is longer than `maxDays`. */
export function checkWindow(what: string, window: { start: number; end: number }, maxDays: number): void {
  const days = (window.end - window.start) / DAY_MS;
  if (days > maxDays)
    throw new LimitError(
      `${what}: the window is ${Math.ceil(days)} days long; a ${what} window may be at most ${maxDays} days`,
    );
}

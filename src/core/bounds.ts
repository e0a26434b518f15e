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
 * Most sampling units (traces, and events without a trace) one `tally sampling` plan splits a
 * period's charges by: each is a charge of its own, held in memory (~3–4 KB each; 839k units of
 * the 1M-event benchmark month peaked at 3.4 GB). Past it, the plan is refused at once instead
 * of running out of memory minutes later (the 10M-event month's 8.4M units did).
 */
export const MAX_SAMPLING_UNITS = 1_000_000;

/** Throws a LimitError when [start, end) is longer than `maxDays`. */
export function checkWindow(what: string, window: { start: number; end: number }, maxDays: number): void {
  const days = (window.end - window.start) / DAY_MS;
  if (days > maxDays)
    throw new LimitError(
      `${what}: the window is ${Math.ceil(days)} days long; a ${what} window may be at most ${maxDays} days`,
    );
}

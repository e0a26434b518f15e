/** Ordering and filtering of signals. */
import { SEVERITIES, type Severity, type Signal } from './signal.js';

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/** At or above `min` (critical is the highest). */
export function atOrAbove(s: Severity, min: Severity): boolean {
  return rank(s) <= rank(min);
}

/** Deterministic: severity (highest first), rule, identity, first seen. */
export function sortSignals(signals: Signal[]): Signal[] {
  return signals.sort(
    (a, b) =>
      rank(a.severity) - rank(b.severity) ||
      (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0) ||
      (a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : 0) ||
      a.first_seen - b.first_seen,
  );
}

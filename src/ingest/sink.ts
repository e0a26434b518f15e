import type { Problem } from '../core/errors.js';
import type { TraceLink, UsageEvent } from '../core/event.js';

/** Where a format mapper puts what it read. */
export interface Sink {
  event(e: UsageEvent): void;
  /** `raw` is the offending record's text, for a quarantine file. */
  reject(problem: Problem, raw: string): void;
  /**
   * A record that is valid but not usage (an OTLP span that is not AI work),
   * with its trace link when it has one (kept for the walk up a trace).
   */
  ignore(link: TraceLink | null): void;
}

/** A security or hygiene finding (SPEC §6). */
import type { Money } from '../money.js';

export type Severity = 'critical' | 'high' | 'medium' | 'low';
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];

export type RuleId =
  | 'S01'
  | 'S02'
  | 'S03'
  | 'S04'
  | 'S05'
  | 'S06'
  | 'S07'
  | 'S08'
  | 'S09'
  | 'S10'
  | 'S11'
  | 'S12'
  | 'S13'
  | 'S14';

export interface Signal {
  rule: RuleId;
  severity: Severity;
  /** The identity id, or for S03 the unmatched selector as seen (`api_key:…`). */
  identity: string;
  /** The team the identity belongs to, when known: what a team-scoped reader may see. */
  team: string | null;
  first_seen: number;
  last_seen: number;
  events: number;
  cost: Money;
  /** A few event ids and the figures behind the verdict. */
  evidence: { events: string[]; [figure: string]: unknown };
  refs: string[];
  title: string;
}

export const REFS: Record<RuleId, string[]> = {
  S01: ['OWASP NHI1', 'OWASP NHI7'],
  S02: ['OWASP NHI2'],
  S03: ['NIST CSF ID.AM-02', 'NIST CSF ID.AM-08'],
  S04: ['NIST AI RMF GOVERN 2.1'],
  S05: ['OWASP NHI5'],
  S06: ['NIST AI RMF MEASURE 2.4'],
  S07: [],
  S08: [],
  S09: [],
  S10: [],
  S11: ['OWASP NHI8', 'OWASP NHI9'],
  S12: ['OWASP NHI1'],
  S13: ['NIST AI RMF MEASURE 2.4'],
  S14: [],
};

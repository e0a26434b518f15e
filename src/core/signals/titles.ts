import type { RuleId } from './signal.js';

export const TITLES: Record<RuleId, string> = {
  S01: 'Use after revocation or expiry',
  S02: 'Use after leak or compromise',
  S03: 'Usage by an identity not in the registry',
  S04: 'Tenant claim the identity may not make',
  S05: "Model outside the identity's allowlist",
  S06: "Spend-rate spike against the identity's own baseline",
  S07: 'First use of a model or provider',
  S08: "Activity outside the identity's usual hours",
  S09: 'Burst of failed or invalid requests',
  S10: 'New client network or several addresses at once',
  S11: 'Identity seen in several services or environments',
  S12: 'Spend by an identity whose owner team is offboarded or application retired',
  S13: 'Provider bill exceeds telemetry-priced cost',
  S14: 'Token-shape anomaly',
};

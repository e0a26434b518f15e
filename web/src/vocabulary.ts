/**
 * The words of the statement, defined once (docs/vocabulary.md says the same):
 * every view, chart and summary uses the statement's own figures under these
 * names.
 */
export const VOCABULARY: ReadonlyArray<readonly [string, string]> = [
  [
    'Effective',
    'What the usage and the shared pools cost after the organisation’s prices and discounts: direct + shared, whatever the status. Effective = attributed + unattributed + disputed.',
  ],
  [
    'Billed',
    'The part of the effective cost charged to its owners: attributed cost (less experimentation under showback), and disputed cost only under “disputed: charge”. Unattributed cost is never billed.',
  ],
  ['Direct', 'The cost of the usage itself, priced event by event from the telemetry.'],
  [
    'Shared',
    'Shares of the shared pools (fixed costs such as a vector database), allocated by each pool’s rule. A pool is per calendar month; a shorter window carries its part of the month.',
  ],
  [
    'Attributed',
    'Effective cost with an accountable owner (cost center, team, application) at the time of use, pool shares included. A team’s, application’s or tenant’s spend is its attributed cost.',
  ],
  [
    'Unattributed',
    'Effective cost without an accountable owner, with the reason (unknown identity, no owner at the time, a pool without consumers, bill money without telemetry). Nobody is billed for it until the registry is corrected.',
  ],
  [
    'Disputed',
    'Effective cost held for review: use of a revoked or compromised key, or of a model outside the identity’s allowlist. Shown against the owner, never part of its spend.',
  ],
];

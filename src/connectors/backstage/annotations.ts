/**
 * The annotations tally reads from Backstage entities (docs/backstage.md).
 * Backstage leaves annotation names to each integration; tally's live under
 * `tally.dev/`.
 */
export const ANNOTATIONS = {
  /** On a Group (or any ancestor Group): the cost center of the team. */
  costCenter: 'tally.dev/cost-center',
  /** On a Component, System or Resource: the date its current owner took it over. */
  ownerSince: 'tally.dev/owner-since',
  /** API keys as LiteLLM shows them (SHA-256, 64 hex digits, or a prefix of ≥ 16), or provider key ids. */
  apiKeys: 'tally.dev/api-keys',
  /** OpenTelemetry `service.name` values the entity's workloads report. */
  services: 'tally.dev/service-names',
  /** `gen_ai.agent.id` values. */
  agents: 'tally.dev/agent-ids',
  /** Provider projects or workspaces (`proj_…`, `wrkspc_…`). */
  projects: 'tally.dev/provider-projects',
  kind: 'tally.dev/identity-kind',
  environment: 'tally.dev/environment',
  tenants: 'tally.dev/tenants',
  models: 'tally.dev/models',
  shared: 'tally.dev/shared',
} as const;

/** `a, b c` → [a, b, c]: annotations are strings, lists are comma- or space-separated. */
export function listAnnotation(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

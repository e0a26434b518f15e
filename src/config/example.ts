/** The example `tally.yaml` that `tally init` writes: every section, explained. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../core/errors.js';

export const EXAMPLE_CONFIG = `# tally.yaml: who pays for which AI usage. Keep it in git and review changes like code.
# Dates are UTC: 2026-10-15 means midnight UTC; times need their zone (2026-10-20T03:00:00Z).
# Every \`until\` is exclusive. Amounts are in \`currency\` and are exact decimals.
# Parts may live in further files: include: [registry.yaml, prices.yaml]

store: ./tally.duckdb                 # an embedded DuckDB file (relative to this file), or postgres://user@host/db
currency: USD

# The accountable org units.
cost_centers:
  - id: cc-retail
    name: Retail
  - id: cc-service
    name: Customer Service

teams:
  - id: team-search
    name: Search
    cost_center: cc-retail            # or a list of {cost_center, from, until}
  - id: team-cx
    name: Customer Experience
    cost_center:
      - { cost_center: cc-retail, from: 2026-01-01, until: 2026-07-01 }
      - { cost_center: cc-service, from: 2026-07-01 }
    # offboarded: 2026-12-01          # the team no longer exists from then; its spend raises signal S12

# Deployed systems; each identity belongs to one. Ownership is effective-dated:
# usage is charged to the team that owned the application at the time of the request.
applications:
  - id: app-support-bot
    name: Support Bot
    owner:
      - { team: team-cx, from: 2026-01-01, until: 2026-10-15 }
      - { team: team-search, from: 2026-10-15 }   # the open-ended entry is the current owner
    # retired: 2027-03-01
  - id: app-search
    name: Product Search
    owner: team-search
  - id: app-agent-platform
    name: Agent Platform
    owner: team-search

# External customers. A request is charged to a tenant only if its identity may act for it.
tenants:
  - id: tenant-acme
    name: ACME Corp
  - id: tenant-globex
    name: Globex

# Non-human identities: API keys, service accounts, agents, workloads.
identities:
  - id: nhi-support-prod
    kind: api_key                     # api_key | service_account | agent | workload
    application: app-support-bot
    environment: production           # production | experimentation | any other name
    tenants: [tenant-acme, tenant-globex]    # tenants it may act for; ["*"] = any; omitted = none
    models: ["gpt-4o*", "text-embedding-3-*"] # authorised models (globs); omitted = any
    match:                            # telemetry refers to it by any one of these selectors;
      # a selector matches when all its fields match the event's; api_key: the key's SHA-256
      # as 64 hex digits (as LiteLLM shows it), or a prefix of it of at least 16; never a raw key
      - { api_key: 88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b }
      - { service: support-bot }
    lifecycle:                        # optional: use after revoked/expired/leaked/compromised is disputed
      - { at: 2026-01-01T00:00:00Z, event: created }   # created | rotated | revoked | expired | leaked | compromised
      - { at: 2026-09-01T00:00:00Z, event: rotated }
  - id: nhi-search-prod
    kind: service_account
    application: app-search
    environment: production
    match:
      - { service: product-search }
  - id: nhi-research-agent
    kind: agent
    application: app-agent-platform
    environment: production
    shared: true                      # works on behalf of its callers: the invoking application pays
    tenants: ["*"]
    match:
      - { service: agent-platform, agent: research-agent }
  - id: nhi-search-lab
    kind: api_key
    application: app-search
    environment: experimentation      # shown (showback), billed 0 unless policy.experimentation is charge
    match:
      - { project: proj-search-lab }

# The bundled catalog (@pydantic/genai-prices) prices most models; these win over it.
prices:
  models:
    - provider: openai
      model: gpt-4o                   # exact name, or a glob such as "gpt-4o-2024-*"; exact names win
      from: 2026-01-01                # the latest \`from\` in effect wins
      input_per_mtok: 2.50            # per million tokens
      output_per_mtok: 10.00
      cache_read_per_mtok: 1.25       # omitted: cache tokens at the input rate
      cache_write_per_mtok: 3.125
      reasoning_per_mtok: 10.00       # omitted: reasoning tokens at the output rate
  discounts:                          # per cent off catalog and organisation token prices
    - { provider: anthropic, percent: 10, from: 2026-09-01 }
  units:                              # per span, never discounted; the most specific one applies
    - { operation: execute_tool, tool: web_search, per_call: 0.01 }
    - { operation: retrieval, data_source: kb-main, per_query: 0.0004 }
    - { operation: invoke_agent, per_call: 0.002 }

# Fixed costs allocated to consumers each period (shares to the cent, summing to the amount).
shared_pools:
  - id: pool-vectordb
    amount: 3000.00
    level: application                # team | application | tenant | cost_center
    method: proportional              # proportional | even | weighted
    basis: retrieval                  # a category's cost (inference, embedding, retrieval, tool,
                                      # orchestration), or cost, tokens, requests
  - id: pool-platform
    amount: 1000.00
    level: team
    method: even                      # evenly among consumers with attributed cost in the period
  - id: pool-gpu
    amount: 5000.00
    level: team
    method: weighted
    weights: { team-search: 60, team-cx: 40 }   # every listed consumer gets its share

policy:
  workflow_rollup: invoker            # invoker: shared services' usage is paid by the caller | executor
  experimentation: showback           # showback: shown, billed 0 | charge
  disputed: hold                      # hold: disputed spend billed 0 until resolved | charge
  signals:                            # security signal thresholds (these are the defaults)
    spike_z: 6                        # S06: robust z of an hour's cost against its hour-of-week median
    spike_floor: 5.00                 # S06: and at least this much above that median
    baseline_days: 14                 # S06: days of history for the median
    history_days: 7                   # S07, S08: history an identity needs first

# Server access: SHA-256 hashes of bearer tokens, never the tokens themselves.
# Generate a token and its hash:  t=$(openssl rand -hex 32); echo "$t"; printf %s "$t" | sha256sum
# These placeholders match no token: replace them.
access:
  - { token_sha256: "0000000000000000000000000000000000000000000000000000000000000001", role: admin }
  - { token_sha256: "0000000000000000000000000000000000000000000000000000000000000002", role: finance }
  - { token_sha256: "0000000000000000000000000000000000000000000000000000000000000003", role: team, team: team-search }
  - { token_sha256: "0000000000000000000000000000000000000000000000000000000000000004", role: ingest }

# Monthly budgets; alerts at these per cents of the budget, once per crossing.
budgets:
  - { team: team-search, monthly: 5000, alert_at: [50, 80, 100] }
  - { application: app-support-bot, monthly: 1500 }

alerts:
  webhook: https://hooks.example.com/tally   # receives a JSON body (Slack-compatible) per crossed threshold

# New security signals at or above a severity, posted once each (Slack-compatible JSON).
notify:
  webhook: https://hooks.example.com/tally-signals
  min_severity: high                         # critical | high | medium | low
  # dashboard_url: https://tally.example.com # adds a link to the incident's replay
`;

/** Writes the example to DIR/tally.yaml and returns its path; never overwrites a file. */
export async function initConfig(dir: string): Promise<string> {
  const file = path.join(dir, 'tally.yaml');
  await mkdir(dir, { recursive: true });
  try {
    await writeFile(file, EXAMPLE_CONFIG, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UsageError(`${file} already exists; not overwriting it`);
    throw err;
  }
  return file;
}

/**
 * Renders the demo organisation as `tally.yaml` in the SPEC §2 layout: block
 * style for entities, one-line flow maps for dated entries, as a person
 * would write and review it.
 */
import { pushAll } from '../core/arrays.js';
import type { IdentityDef, World } from './world.js';

/** What the YAML needs of an organisation; the demo world and the benchmark registry both fit it. */
export type Registry = Pick<World, 'costCenters' | 'teams' | 'applications' | 'tenants' | 'identities'> & {
  dates: { orgStart: string; discountFrom: string };
};

/** A plain scalar when YAML reads it back as the same string, else a double-quoted one. */
function scalar(value: string): string {
  const plain =
    /^[A-Za-z][A-Za-z0-9 ._/()-]*[A-Za-z0-9)]$/.test(value) &&
    !/^(true|false|null|yes|no|on|off|y|n)$/i.test(value);
  return plain ? value : JSON.stringify(value);
}

const list = (items: readonly string[]) => `[${items.map(scalar).join(', ')}]`;

function flow(entries: Array<[string, string | number | undefined]>): string {
  const parts = entries.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}`);
  return `{ ${parts.join(', ')} }`;
}

export interface YamlExtras {
  header: string;
  budgets: Array<{
    scope: 'team' | 'application' | 'tenant';
    id: string;
    monthly: string;
    alertAt: number[];
  }>;
  pools: { vectordb: string; platform: string; gpu: string; gpuWeights: Record<string, number> };
  access: Array<{ sha256: string; role: string; team?: string }>;
}

function identityYaml(id: IdentityDef): string {
  const out = [`  - id: ${id.id}`, `    kind: ${id.kind}`, `    application: ${id.application}`];
  out.push(`    environment: ${id.environment}`);
  if (id.shared) out.push('    shared: true');
  if (id.tenants) out.push(`    tenants: ${list(id.tenants)}`);
  if (id.models) out.push(`    models: [${id.models.map((m) => JSON.stringify(m)).join(', ')}]`);
  out.push('    match:');
  for (const sel of id.match) {
    out.push(`      - ${flow(Object.entries(sel).map(([k, v]) => [k, JSON.stringify(v)]))}`);
  }
  out.push('    lifecycle:');
  for (const l of id.lifecycle)
    out.push(
      `      - ${flow([
        ['at', l.at],
        ['event', l.event],
      ])}`,
    );
  return out.join('\n');
}

function teamYaml(t: Registry['teams'][number]): string[] {
  const out = [`  - id: ${t.id}`, `    name: ${scalar(t.name)}`];
  const only = t.costCenters[0];
  if (t.costCenters.length === 1 && only) out.push(`    cost_center: ${only.cc}`);
  else {
    out.push('    cost_center:');
    for (const c of t.costCenters) {
      out.push(
        `      - ${flow([
          ['cost_center', c.cc],
          ['from', c.from],
          ['until', c.until],
        ])}`,
      );
    }
  }
  if (t.offboarded) out.push(`    offboarded: ${t.offboarded}`);
  return out;
}

function applicationYaml(a: Registry['applications'][number]): string[] {
  const out = [`  - id: ${a.id}`, `    name: ${scalar(a.name)}`, '    owner:'];
  for (const o of a.owners)
    out.push(
      `      - ${flow([
        ['team', o.team],
        ['from', o.from],
        ['until', o.until],
      ])}`,
    );
  return out;
}

/** Cost centers, teams, applications, tenants and identities. */
function organisationYaml(world: Registry): string[] {
  const out = ['cost_centers:'];
  for (const cc of world.costCenters) out.push(`  - id: ${cc.id}`, `    name: ${scalar(cc.name)}`);
  out.push('', 'teams:');
  for (const t of world.teams) pushAll(out, teamYaml(t));
  out.push('', 'applications:');
  for (const a of world.applications) pushAll(out, applicationYaml(a));
  out.push('', 'tenants:');
  for (const t of world.tenants) out.push(`  - id: ${t.id}`, `    name: ${scalar(t.name)}`);
  out.push('', 'identities:');
  for (const id of world.identities) out.push(identityYaml(id));
  return out;
}

function pricesYaml(dates: Registry['dates']): string[] {
  return [
    'prices:',
    '  models:',
    '    # negotiated: 10 % under list, for the alias and every dated snapshot',
    '    - provider: openai',
    '      model: gpt-4o',
    `      from: ${dates.orgStart}`,
    '      input_per_mtok: 2.25',
    '      output_per_mtok: 9.00',
    '      cache_read_per_mtok: 1.125',
    '    - provider: openai',
    '      model: "gpt-4o-2024-*"',
    `      from: ${dates.orgStart}`,
    '      input_per_mtok: 2.25',
    '      output_per_mtok: 9.00',
    '      cache_read_per_mtok: 1.125',
    '  discounts:',
    `    - ${flow([
      ['provider', 'anthropic'],
      ['percent', 10],
      ['from', dates.discountFrom],
    ])}`,
    '  units:',
    '    - { operation: execute_tool, tool: web_search, per_call: 0.01 }',
    '    - { operation: retrieval, data_source: kb-main, per_query: 0.0004 }',
    '    - { operation: invoke_agent, per_call: 0.002 }',
  ];
}

function poolsYaml(pools: YamlExtras['pools']): string[] {
  return [
    'shared_pools:',
    '  - id: pool-vectordb',
    `    amount: ${pools.vectordb}`,
    '    level: application',
    '    method: proportional',
    '    basis: retrieval',
    '  - id: pool-platform',
    `    amount: ${pools.platform}`,
    '    level: team',
    '    method: even',
    '  - id: pool-gpu',
    `    amount: ${pools.gpu}`,
    '    level: team',
    '    method: weighted',
    `    weights: ${flow(Object.entries(pools.gpuWeights))}`,
  ];
}

function policyAndBudgetsYaml(budgets: YamlExtras['budgets']): string[] {
  const out = [
    'policy:',
    '  workflow_rollup: invoker',
    '  experimentation: showback',
    '  disputed: hold',
    '',
  ];
  out.push('budgets:');
  for (const b of budgets) {
    out.push(
      `  - ${flow([
        [b.scope, b.id],
        ['monthly', b.monthly],
        ['alert_at', `[${b.alertAt.join(', ')}]`],
      ])}`,
    );
  }
  return out;
}

function accessYaml(access: YamlExtras['access']): string[] {
  const out = ['access:                     # raw tokens: tokens.txt (demo only)'];
  for (const a of access) {
    out.push(
      `  - ${flow([
        ['token_sha256', JSON.stringify(a.sha256)],
        ['role', a.role],
        ['team', a.team],
      ])}`,
    );
  }
  return out;
}

export function renderConfigYaml(world: Registry, extras: YamlExtras): string {
  const out = [extras.header.trimEnd(), 'store: ./tally.duckdb', 'currency: USD', ''];
  const parts = [
    organisationYaml(world),
    pricesYaml(world.dates),
    poolsYaml(extras.pools),
    policyAndBudgetsYaml(extras.budgets),
  ];
  for (const part of parts) pushAll(out, part).push('');
  pushAll(out, accessYaml(extras.access));
  return `${out.join('\n')}\n`;
}

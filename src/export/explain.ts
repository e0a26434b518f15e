/**
 * The text form of `tally explain` (the default on a terminal): the same
 * facts as the JSON (core/explain.ts), one section per question a disputed
 * charge raises, in the order attribution answers them.
 */
import type {
  ExplanationJson,
  IdentityJson,
  InvokerJson,
  OwnerJson,
  SelectorJson,
  TenantJson,
} from '../core/explain.js';
import type { PriceJson } from '../core/explain-price.js';

export function renderExplanation(x: ExplanationJson): string {
  const sections = [
    eventText(x),
    identityText(x.identity),
    invokerText(x.invoker),
    ownerText(x.owner),
    tenantText(x.tenant, x.environment),
    verdictText(x),
    priceText(x.price, x.currency),
    ...(x.wrapper === null
      ? []
      : [
          [
            `Wrapper: span ${x.wrapper.below} below it carries tokens too; they are priced there, never here.`,
          ],
        ]),
    billingText(x),
    lineText(x),
  ];
  return `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}

function eventText(x: ExplanationJson): string[] {
  const e = x.event as Record<string, unknown>;
  const usage = [
    `${num(e.input_tokens)} input`,
    `${num(e.output_tokens)} output tokens`,
    e.cache_read_tokens ? `${num(e.cache_read_tokens)} cache read` : null,
    e.cache_write_tokens ? `${num(e.cache_write_tokens)} cache write` : null,
    e.reasoning_tokens ? `${num(e.reasoning_tokens)} reasoning` : null,
    `${num(e.requests)} request${e.requests === 1 ? '' : 's'}`,
  ].filter((s) => s !== null);
  const what = [e.provider, e.model].filter((v) => v !== null).join(' ') || 'no model';
  const trace = e.trace_id === null ? 'no trace' : `trace ${e.trace_id}, span ${e.span_id}`;
  return [
    `Event ${e.id} (source ${e.source}) at ${e.time}`,
    `  ${what}, ${e.operation}${e.tool ? ` (tool ${e.tool})` : ''}: ${usage.join(', ')}`,
    `  ${trace}${e.parent_span_id ? `, parent ${e.parent_span_id}` : ''}; status ${e.status}`,
  ];
}

function identityText(i: IdentityJson): string[] {
  const carried = Object.entries(i.selectors)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k} ${v}`);
  const head =
    i.verdict === 'matched'
      ? `Identity: ${i.id} (${i.kind}, application ${i.application ?? 'none'}, ${i.environment}${i.shared ? ', shared' : ''})`
      : i.verdict === 'ambiguous_identity'
        ? `Identity: ambiguous: ${i.candidates.join(', ')} tie on the most specific selector`
        : 'Identity: unknown: no selector of the registry matches';
  const out = [head, `  the event carried: ${carried.join(', ') || 'no selector'}`];
  for (const m of i.matched)
    out.push(
      `  matched: ${m.identity} by ${selectorText(m)} (${m.score} field${m.score === 1 ? '' : 's'})${m.chosen ? '  <- chosen' : ''}`,
    );
  for (const n of i.near_misses) out.push(`  near miss: ${n.identity} by ${selectorText(n)}: ${missText(n)}`);
  if (i.near_misses.length === 0 && i.verdict !== 'matched') out.push('  near misses: none');
  return out;
}

function selectorText(s: SelectorJson): string {
  return `{${s.fields.map((f) => `${f.field}: ${f.wanted}`).join(', ')}}`;
}

const MISS: Record<string, string> = {
  absent: 'the event has no',
  differs: 'differs in',
  case: 'differs only in letter case in',
  prefix: 'one value is a prefix of the other in',
  close: 'within two edits in',
};

function missText(s: SelectorJson): string {
  return s.fields
    .map((f) =>
      f.verdict === 'match'
        ? `${f.field} matches`
        : `${MISS[f.verdict]} ${f.field} (wanted ${f.wanted}, carried ${f.carried ?? 'nothing'})`,
    )
    .join('; ');
}

function invokerText(v: InvokerJson): string[] {
  const head =
    v.rollup === 'self'
      ? `Invoker: none needed: ${v.payer ?? 'the event'} pays for itself${v.policy === 'executor' ? ' (policy executor)' : ''}`
      : v.rollup === 'invoker'
        ? `Invoker: ${v.payer} pays: the event's identity is shared and ${v.payer} invoked it`
        : `Invoker: none found: the identity is shared but no ancestor can pay, so its own owner pays (no_invoker)`;
  const out = [head];
  for (const s of v.path) {
    if (!s.stored) {
      out.push(`  up: span ${s.span_id} is not stored: the walk stops`);
      continue;
    }
    const who = s.identity ?? 'unknown identity';
    const role = s.can_pay ? 'can pay' : s.shared ? 'shared' : 'cannot pay';
    out.push(`  up: span ${s.span_id}: ${who} (${role})${s.tenant ? `, tenant claim ${s.tenant}` : ''}`);
  }
  return out;
}

function ownerText(o: OwnerJson): string[] {
  if (o.verdict === null) return ['Owner: none: the identity is not in the registry'];
  const chain = [o.application, o.team, o.cost_center].map((v) => v ?? '?').join(' -> ');
  const out = [
    `Owner at ${o.at}${o.identity ? ` (of ${o.identity})` : ''}: ${chain}${o.verdict === 'ok' ? '' : `  (${o.verdict})`}`,
  ];
  for (const e of o.owners)
    out.push(`  owner ${e.team} ${span(e.from, e.until)}${e.in_effect ? '  <- in effect' : ''}`);
  for (const c of o.cost_centers)
    out.push(`  cost center ${c.cost_center} ${span(c.from, c.until)}${c.in_effect ? '  <- in effect' : ''}`);
  if (o.team_offboarded) out.push(`  team offboarded at ${o.team_offboarded}`);
  if (o.application_retired) out.push(`  application retired at ${o.application_retired}`);
  if (o.stale) out.push('  the owner was offboarded or retired before the event and still pays (signal S12)');
  return out;
}

function span(from: string | null, until: string | null): string {
  if (from === null && until === null) return '(always)';
  return `(${from ? `from ${from}` : 'from the start'}${until ? ` until ${until}` : ''})`;
}

const TENANT: Record<TenantJson['verdict'], string> = {
  none: 'no claim',
  accepted: 'accepted',
  unknown_tenant: 'refused: not a tenant of the registry (tenant_unverified, signal S04)',
  not_allowed: 'refused: the paying identity may not act for it (tenant_unverified, signal S04)',
  unknown_identity: 'not judged: the identity is unknown',
};

function tenantText(t: TenantJson, env: ExplanationJson['environment']): string[] {
  const claim =
    t.claim === null
      ? ''
      : `${t.claim} (${t.inherited_from ? `inherited from span ${t.inherited_from}` : 'own claim'}): `;
  const allowed = t.claim === null ? '' : `; the payer may act for ${t.allowed?.join(', ') || 'no tenant'}`;
  const envNote =
    env.claimed !== null && env.claimed !== env.charged
      ? ` (the event claimed ${env.claimed}; the line keeps the paying identity's)`
      : '';
  return [
    `Tenant: ${claim}${TENANT[t.verdict]}${allowed}`,
    `Environment: ${env.charged ?? 'none'}${envNote}`,
  ];
}

function verdictText(x: ExplanationJson): string[] {
  const l = x.lifecycle;
  const events = l.events.map((e) => `${e.event} ${e.at} (${e.before_event ? 'before' : 'after'} the event)`);
  const a = x.allowlist;
  const allow =
    a.models === null
      ? 'any model'
      : a.model === null
        ? `no model to judge (allowed: ${a.models.join(', ')})`
        : `${a.model} ${a.allowed ? 'is' : 'is NOT'} in ${a.models.join(', ')}`;
  return [
    `Lifecycle${l.identity ? ` of ${l.identity}` : ''}: ${events.join(', ') || 'no entries'}`,
    `Allowlist: ${allow}`,
    `Disputes: ${x.disputes.join(', ') || 'none'}`,
    `Status: ${x.status}${x.reason ? ` / ${x.reason}` : ''}`,
  ];
}

function priceText(p: PriceJson, currency: string): string[] {
  const from =
    p.source === 'organisation' && p.organisation_price
      ? `organisation price for ${p.organisation_price.provider}/${p.organisation_price.model}`
      : p.catalog_model
        ? `catalog ${p.catalog_model.provider}/${p.catalog_model.model} (${p.catalog_version})`
        : 'no token price';
  const out = [`Price: ${from}${p.stop ? ` (${p.stop.replace('_', ' ')})` : ''}`];
  for (const c of p.components) {
    const per = c.rate_unit === 'per_mtok' ? '/Mtok' : ' each';
    const tier = c.tier > 0 ? `, tier ${c.tier}` : '';
    out.push(
      `${row(`${c.part.padEnd(14)} ${num(c.quantity).padStart(12)} x ${c.rate}${per}`, c.amount)}  (${c.source}${tier})`,
    );
  }
  out.push(row('= before discount', p.token_cost_before_discount));
  if (p.discount)
    out.push(row(`- discount ${p.discount.percent}% (${p.discount.provider})`, p.discount_amount));
  out.push(row('= token cost', p.token_cost));
  if (p.unit_price)
    out.push(
      `  unit price ${p.unit_price.operation}${p.unit_price.tool ? `/${p.unit_price.tool}` : ''}${p.unit_price.data_source ? `/${p.unit_price.data_source}` : ''}: ${p.unit_price.calls} x ${p.unit_price.per_call} = ${p.unit_price.amount}`,
    );
  for (const u of p.unit_rates) out.push(`  unit ${u.unit}: ${u.count} x ${u.per_unit} = ${u.amount}`);
  for (const f of p.fallbacks)
    out.push(`  fallback: ${f.part}, ${num(f.quantity)} priced at a more general rate or left out`);
  out.push(
    p.effective_cost === null
      ? '  event cost: unknown (the model has no price anywhere; counted as unpriced, never as 0)'
      : `${row('= event cost', p.effective_cost)} ${currency}  (list price ${p.list_cost})`,
  );
  return out;
}

const NOT_BILLED: Record<string, string> = {
  unattributed: 'unattributed cost is not billed',
  disputed_hold: 'disputed spend is held (policy disputed: hold) until an analyst resolves it',
  experimentation_showback: 'experimentation is shown back, not billed (policy experimentation: showback)',
};

function billingText(x: ExplanationJson): string[] {
  const b = x.billing;
  return [
    b.billed
      ? `Billed: ${b.billed_cost ?? 'unknown'}`
      : `Billed: 0: ${NOT_BILLED[b.not_billed ?? ''] ?? b.not_billed}`,
  ];
}

function lineText(x: ExplanationJson): string[] {
  const l = x.line;
  if (l === null) return ['Statement line: not found'];
  const key = Object.entries(l.key)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    `Statement line (${l.period.start.slice(0, 7)}): ${key}`,
    `  this event adds ${l.event_effective_cost ?? 'an unknown cost'} effective, ${l.event_billed_cost ?? 'unknown'} billed`,
    `  the line: ${num(l.events)} events, ${l.effective_cost} effective (${l.cents.effective_cost} on the statement), ${l.billed_cost} billed (${l.cents.billed_cost})`,
  ];
}

/** A labelled figure of the price, the figures in one column. */
function row(label: string, value: string): string {
  return `  ${label.padEnd(40)} ${value}`;
}

function num(v: unknown): string {
  return typeof v === 'number' ? v.toLocaleString('en-US') : String(v);
}

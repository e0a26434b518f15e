/**
 * The printable chargeback report (SPEC §5, `--format html`): a cover with the
 * totals and one section per team, each starting on a new page. Amounts are
 * the statement's cents (core/cents.ts), the same as in the table and the
 * dashboard, so every team's lines add up to its total and the teams add up
 * to the cover.
 * Self-contained: inline CSS, no scripts, no external assets.
 */
import type { Reason } from '../core/attribution.js';
import type { Money } from '../core/money.js';
import { centsText as cents, iso, type Line, type Statement } from '../core/statement.js';
import { coveragePercent, signedCents } from './format.js';
import { type Names, nameOf } from './names.js';

export interface HtmlOptions {
  title?: string;
  names?: Names;
}

const EXPLAIN: Record<Reason, string> = {
  unknown_identity: 'no identity in the registry matches the telemetry',
  ambiguous_identity: 'several identities match the telemetry equally well',
  no_application: 'the identity belongs to no application',
  no_owner_at_time: 'the application had no owner team at the time of use',
  no_cost_center_at_time: 'the team had no cost center at the time of use',
  pool_without_consumers: 'the shared pool had no eligible consumer',
  uninstrumented: 'the provider billed it, but no telemetry shows the usage',
  use_after_compromise: 'used after the key was reported leaked or compromised',
  use_after_revocation: 'used after the key was revoked or expired',
  unauthorized_model: 'a model outside the identity’s allowlist',
  no_invoker: 'a shared service with no invoking application; its owner pays',
  tenant_unverified: 'the tenant claim was refused; the team pays',
};

const CSS = `
body { font: 11pt/1.4 system-ui, sans-serif; color: #111; margin: 2em; }
h1 { font-size: 18pt; margin: 0 0 .3em; } h2 { font-size: 14pt; margin: 0 0 .3em; }
.meta { color: #555; margin: 0 0 1em; }
table { border-collapse: collapse; width: 100%; margin: .5em 0 1em; }
th, td { padding: .25em .5em; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tfoot td { font-weight: 600; border-top: 2px solid #999; }
.callout { border-left: 4px solid #c60; background: #fff6ee; padding: .5em 1em; margin: .5em 0; }
.callout.disputed { border-color: #b00; background: #fdeeee; }
.inputs { color: #666; font-size: 9pt; word-break: break-all; }
section.team { margin-top: 2em; }
@media print { body { margin: 0; } section.team { break-before: page; page-break-before: always; } }
`;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderHtml(s: Statement, opts: HtmlOptions = {}): string {
  const title = opts.title ?? `AI chargeback ${day(s.period.start)} to ${day(s.period.end - 1)}`;
  const rounded = roundedLines(s.lines);
  const teams = byTeam(rounded);
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${CSS}</style></head><body>`,
    cover(s, title, teams, opts.names),
    ...[...teams].map(([team, lines]) => teamSection(s, team, lines, opts.names)),
    '</body></html>',
    '',
  ].join('\n');
}

/** A line with its effective and billed cost rounded to the cent. */
interface Shown {
  line: Line;
  effective: Money;
  billed: Money;
}

function roundedLines(lines: readonly Line[]): Shown[] {
  return lines.map((line) => ({
    line,
    effective: line.cents.effective_cost,
    billed: line.cents.billed_cost,
  }));
}

/** Lines by team id, teams in id order, lines without a team last. */
function byTeam(lines: readonly Shown[]): Map<string | null, Shown[]> {
  const groups = new Map<string | null, Shown[]>();
  const sorted = [...lines].sort((a, b) => teamOrder(a.line.team, b.line.team));
  for (const l of sorted) {
    const group = groups.get(l.line.team);
    if (group) group.push(l);
    else groups.set(l.line.team, [l]);
  }
  return groups;
}

function teamOrder(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

function cover(s: Statement, title: string, teams: Map<string | null, Shown[]>, names?: Names): string {
  const t = s.totals;
  const totals: [string, string][] = [
    ['Effective cost', cents(t.cents.effective_cost)],
    ['Billed cost', cents(t.cents.billed_cost)],
    ['Attributed', cents(t.cents.attributed_cost)],
    ['Unattributed', cents(t.cents.unattributed_cost)],
    ['Disputed', cents(t.cents.disputed_cost)],
    ['Shared pools', cents(t.cents.shared_cost)],
    ['Coverage', coveragePercent(t)],
    ['Events', String(t.events)],
    ['Unpriced events', String(t.unpriced_events)],
  ];
  const teamRows = [...teams].map(([team, lines]) => {
    const sum = (f: (l: Shown) => Money, status?: Line['status']) =>
      cents(lines.filter((l) => !status || l.line.status === status).reduce((a, l) => a + f(l), 0n));
    return row([
      teamLabel(team, names),
      costCenters(lines, names),
      num(sum((l) => l.effective)),
      num(sum((l) => l.billed)),
      num(sum((l) => l.effective, 'disputed')),
      num(sum((l) => l.effective, 'unattributed')),
    ]);
  });
  return [
    '<section class="cover">',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="meta">${periodText(s)} · currency ${escapeHtml(s.currency)}</p>`,
    s.differs_from_issued
      ? `<div class="callout"><p>This period differs from issued statement v${s.differs_from_issued.version}: effective ${escapeHtml(
          signedCents(s.differs_from_issued.effective_cost_delta),
        )} since it was issued (late data or a changed configuration).</p></div>`
      : '',
    `<table>${totals.map(([k, v]) => row([escapeHtml(k), num(v)])).join('')}</table>`,
    '<h2>Teams</h2>',
    '<table><thead>',
    row(['Team', 'Cost center', num('Effective'), num('Billed'), num('Disputed'), num('Unattributed')], 'th'),
    `</thead><tbody>${teamRows.join('')}</tbody></table>`,
    `<p class="inputs">config sha256 ${escapeHtml(s.inputs.config_sha256)} · catalog ${escapeHtml(
      s.inputs.catalog_version,
    )} · audit head ${escapeHtml(s.inputs.audit_head ?? 'none')} · ${s.inputs.events} events</p>`,
    '</section>',
  ].join('\n');
}

function teamSection(s: Statement, team: string | null, lines: readonly Shown[], names?: Names): string {
  const head = [
    'Application',
    'Tenant',
    'Category',
    'Environment',
    'Status',
    'Reason',
    num('Effective'),
    num('Billed'),
  ];
  const body = lines.map(({ line: l, effective, billed }) =>
    row([
      text(l.application && nameOf(names, 'application', l.application)),
      text(l.tenant && nameOf(names, 'tenant', l.tenant)),
      text(l.pool ? `shared: ${l.pool}` : l.category),
      text(l.environment),
      text(l.status),
      text(l.reason),
      num(cents(effective)),
      num(cents(billed)),
    ]),
  );
  const total = (f: (l: Shown) => Money) => num(cents(lines.reduce((a, l) => a + f(l), 0n)));
  return [
    '<section class="team">',
    `<h2>${teamLabel(team, names)}</h2>`,
    `<p class="meta">Cost center: ${costCenters(lines, names)} · ${periodText(s)} · ${escapeHtml(s.currency)}</p>`,
    `<table><thead>${row(head, 'th')}</thead>`,
    `<tbody>${body.join('')}</tbody>`,
    `<tfoot>${row(['Team total', '', '', '', '', '', total((l) => l.effective), total((l) => l.billed)])}</tfoot></table>`,
    callout(
      lines,
      'disputed',
      'Disputed: under review; the Billed column shows what is charged until an analyst resolves it',
    ),
    callout(lines, 'unattributed', 'Unattributed: not billed until the registry is corrected'),
    '</section>',
  ].join('\n');
}

/** Disputed or unattributed money of a team, summed by reason, with what the reason means. */
function callout(lines: readonly Shown[], status: 'disputed' | 'unattributed', heading: string): string {
  const byReason = new Map<string, Money>();
  for (const l of lines) {
    if (l.line.status !== status) continue;
    const reason = l.line.reason ?? 'unspecified';
    byReason.set(reason, (byReason.get(reason) ?? 0n) + l.effective);
  }
  if (byReason.size === 0) return '';
  const items = [...byReason].map(
    ([reason, amount]) =>
      `<li><strong>${escapeHtml(reason)}</strong> ${cents(amount)}: ${escapeHtml(EXPLAIN[reason as Reason] ?? '')}</li>`,
  );
  return `<div class="callout ${status}"><p>${escapeHtml(heading)}</p><ul>${items.join('')}</ul></div>`;
}

function costCenters(lines: readonly Shown[], names?: Names): string {
  const ids = [...new Set(lines.map((l) => l.line.cost_center).filter((c) => c !== null))].sort();
  return ids.length === 0 ? '—' : ids.map((id) => labelled(nameOf(names, 'cost_center', id), id)).join(', ');
}

function teamLabel(team: string | null, names?: Names): string {
  return team === null ? 'No team' : labelled(nameOf(names, 'team', team), team);
}

/** "Name (id)", or the id alone when it has no other name; escaped. */
function labelled(name: string, id: string): string {
  return name === id ? escapeHtml(id) : `${escapeHtml(name)} <small>(${escapeHtml(id)})</small>`;
}

function periodText(s: Statement): string {
  return `${day(s.period.start)} to ${day(s.period.end - 1)} (UTC)`;
}

function day(ms: number): string {
  return iso(ms).slice(0, 10);
}

function text(v: string | null): string {
  return v === null || v === '' ? '—' : escapeHtml(v);
}

/** A number cell, right-aligned. */
interface Num {
  n: string;
}
type Cell = string | Num;

function num(v: string): Num {
  return { n: v };
}

/** A table row of escaped HTML cells and number cells. */
function row(cells: readonly Cell[], tag: 'td' | 'th' = 'td'): string {
  const out = cells.map((c) =>
    typeof c === 'string' ? `<${tag}>${c}</${tag}>` : `<${tag} class="n">${escapeHtml(c.n)}</${tag}>`,
  );
  return `<tr>${out.join('')}</tr>`;
}

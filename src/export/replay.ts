/**
 * Writers of an incident replay (SPEC §6): JSON for tools, Markdown for a
 * terminal or an incident ticket, HTML for a self-contained report. Amounts
 * are exact decimal strings in all three: a replay is evidence, so nothing
 * is rounded. Multi-span traces are drawn as trees; traces of a single span
 * (a direct call through a gateway) are listed as one table.
 */
import type { Reason } from '../core/attribution.js';
import { formatMoney, type Money } from '../core/money.js';
import type { Replay, ReplayNode, ReplayTrace } from '../core/replay.js';
import type { Signal } from '../core/signals/signal.js';
import { iso } from '../core/statement.js';
import { escapeHtml } from './html.js';

const money = (m: Money) => formatMoney(m);

export function replayJson(r: Replay): unknown {
  return {
    window: { start: iso(r.window.start), end: iso(r.window.end) },
    selection: r.selection,
    currency: r.currency,
    totals: {
      events: r.totals.events,
      effective_cost: money(r.totals.effective),
      legitimate_cost: money(r.totals.legitimate),
      disputed_cost: money(r.totals.disputed),
      unattributed_cost: money(r.totals.unattributed),
      billed_cost: money(r.totals.billed),
      unpriced_events: r.totals.unpricedEvents,
      by_reason: r.totals.byReason.map((b) => ({
        status: b.status,
        reason: b.reason,
        events: b.events,
        cost: money(b.cost),
      })),
    },
    signals: r.signals.map(signalJson),
    spans: r.spans,
    traces: r.traces.map((t) => ({
      trace_id: t.traceId,
      start: iso(t.start),
      cost: money(t.cost),
      spans: t.roots.map(nodeJson),
    })),
    inputs: r.inputs,
  };
}

function nodeJson(n: ReplayNode): unknown {
  const e = n.event;
  return {
    id: e.id,
    source: e.source,
    time: iso(e.time),
    span_id: e.span_id,
    parent_span_id: e.parent_span_id,
    operation: e.operation,
    provider: e.provider,
    model: e.model,
    input_tokens: e.input_tokens,
    output_tokens: e.output_tokens,
    requests: e.requests,
    status: e.status,
    error_type: e.error_type,
    client_address: e.client_address,
    selected: n.selected,
    identity: n.identity,
    payer: n.payer,
    team: n.team,
    application: n.application,
    tenant: n.tenant,
    cost: money(n.cost),
    billed_cost: money(n.billed),
    priced: n.priced,
    wrapper: n.wrapper,
    verdict: {
      lifecycle: n.verdict.lifecycle,
      lifecycle_since: n.verdict.lifecycleSince === null ? null : iso(n.verdict.lifecycleSince),
      model_allowed: n.verdict.modelAllowed,
      tenant_claim: n.verdict.tenantClaim,
      tenant_allowed: n.verdict.tenantAllowed,
      owner_stale: n.verdict.ownerStale,
      status: n.verdict.status,
      reason: n.verdict.reason,
    },
    signals: n.signals,
    children: n.children.map(nodeJson),
  };
}

function signalJson(s: Signal): unknown {
  return {
    rule: s.rule,
    severity: s.severity,
    title: s.title,
    identity: s.identity,
    team: s.team,
    first_seen: iso(s.first_seen),
    last_seen: iso(s.last_seen),
    events: s.events,
    cost: money(s.cost),
    evidence: JSON.parse(JSON.stringify(s.evidence, (_, v) => (typeof v === 'bigint' ? v.toString() : v))),
    refs: s.refs,
  };
}

function title(r: Replay): string {
  const who = [
    r.selection.identity === null ? null : `identity ${r.selection.identity}`,
    r.selection.trace === null ? null : `trace ${r.selection.trace}`,
  ].filter((x) => x !== null);
  return `Replay of ${who.length > 0 ? who.join(', ') : 'every identity'}, ${iso(r.window.start)} to ${iso(r.window.end)}`;
}

/** The verdict in a few words: what was wrong at that time, or "authorised". */
function verdictText(n: ReplayNode): string {
  const v = n.verdict;
  const parts: string[] = [];
  if (v.lifecycle === 'unregistered') parts.push('not in the registry');
  else if (v.lifecycle !== 'active')
    parts.push(`key ${v.lifecycle}${v.lifecycleSince === null ? '' : ` since ${iso(v.lifecycleSince)}`}`);
  if (v.modelAllowed === false) parts.push('model not allowed');
  if (v.tenantAllowed === false) parts.push(`tenant ${v.tenantClaim} refused`);
  if (v.ownerStale) parts.push('owner offboarded or retired');
  return parts.length > 0 ? parts.join('; ') : 'authorised';
}

function statusText(status: string, reason: Reason | null): string {
  return reason === null ? status : `${status} (${reason})`;
}

function signalRefs(r: Replay, n: ReplayNode): string {
  return n.signals.map((i) => `${r.signals[i]?.rule ?? '?'}#${i + 1}`).join(' ');
}

function tokens(n: ReplayNode): string {
  return `${n.event.input_tokens} in / ${n.event.output_tokens} out`;
}

function modelText(n: ReplayNode): string {
  const e = n.event;
  return [e.provider, e.model].filter((x) => x !== null).join('/') || '-';
}

function isTree(t: ReplayTrace): boolean {
  return t.roots.length > 1 || t.roots.some((n) => n.children.length > 0);
}

function singles(r: Replay): ReplayNode[] {
  return r.traces.filter((t) => !isTree(t)).flatMap((t) => t.roots);
}

// Markdown

/**
 * Text from the events or the registry as Markdown text: emphasis, links,
 * code and table characters are escaped, HTML is written as entities and a
 * line break becomes a space, so a name can never add markup, a link or HTML.
 */
function md(s: string): string {
  return s.replace(/\r\n|[\r\n]/g, ' ').replace(/[\\`*_[\]|~<>&]/g, (c) => MD_ESCAPES[c] ?? `\\${c}`);
}

const MD_ESCAPES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;' };

function mdCell(s: string): string {
  return md(s);
}

function mdRow(cells: readonly string[]): string {
  return `| ${cells.map(mdCell).join(' | ')} |`;
}

function totalsMd(r: Replay): string[] {
  const t = r.totals;
  const count = (status: string) =>
    t.byReason.filter((b) => b.status === status).reduce((n, b) => n + b.events, 0);
  const out = [
    '## Totals',
    '',
    mdRow(['', 'events', 'amount']),
    '|---|---:|---:|',
    mdRow(['legitimate (attributed)', String(count('attributed')), money(t.legitimate)]),
    mdRow(['disputed', String(count('disputed')), money(t.disputed)]),
    mdRow(['unattributed', String(count('unattributed')), money(t.unattributed)]),
    mdRow(['total (effective)', String(t.events), money(t.effective)]),
    mdRow(['billed', '', money(t.billed)]),
    '',
  ];
  if (t.unpricedEvents > 0)
    out.push(`${t.unpricedEvents} events have no price: their token cost is unknown, not 0.`, '');
  if (t.byReason.length > 0) {
    out.push(
      '### By status and reason',
      '',
      mdRow(['status', 'reason', 'events', 'amount']),
      '|---|---|---:|---:|',
    );
    for (const b of t.byReason) out.push(mdRow([b.status, b.reason ?? '', String(b.events), money(b.cost)]));
    out.push('');
  }
  return out;
}

function signalsMd(r: Replay): string[] {
  if (r.signals.length === 0) return ['## Signals', '', 'No signal was fed by these events.', ''];
  const out = [
    '## Signals',
    '',
    mdRow(['#', 'rule', 'severity', 'identity', 'first seen', 'last seen', 'events', 'cost', 'what']),
    '|---|---|---|---|---|---|---:|---:|---|',
  ];
  r.signals.forEach((s, i) => {
    out.push(
      mdRow([
        String(i + 1),
        s.rule,
        s.severity,
        s.identity,
        iso(s.first_seen),
        iso(s.last_seen),
        String(s.events),
        money(s.cost),
        s.title,
      ]),
    );
  });
  out.push('');
  return out;
}

function treesMd(r: Replay): string[] {
  const trees = r.traces.filter(isTree);
  if (trees.length === 0) return [];
  const out = [`## Trace trees (${trees.length})`, ''];
  for (const tr of trees) {
    out.push(
      `### Trace ${md(tr.traceId ?? '(none)')}, ${iso(tr.start)}, selected cost ${money(tr.cost)}`,
      '',
    );
    const walk = (n: ReplayNode, depth: number) => {
      out.push(`${'  '.repeat(depth)}- ${mdNode(r, n)}`);
      for (const c of n.children) walk(c, depth + 1);
    };
    for (const root of tr.roots) walk(root, 0);
    out.push('');
  }
  return out;
}

function singlesMd(r: Replay): string[] {
  const single = singles(r);
  if (single.length === 0) return [];
  const out = [
    `## Single spans (${single.length})`,
    '',
    mdRow([
      'time',
      'trace',
      'operation',
      'model',
      'tokens',
      'cost',
      'status',
      'verdict',
      'client',
      'signals',
    ]),
    '|---|---|---|---|---|---:|---|---|---|---|',
  ];
  for (const n of single) {
    out.push(
      mdRow([
        iso(n.event.time),
        n.event.trace_id ?? '',
        n.event.operation,
        modelText(n),
        tokens(n),
        money(n.cost),
        statusText(n.verdict.status, n.verdict.reason),
        verdictText(n),
        n.event.client_address ?? '',
        signalRefs(r, n),
      ]),
    );
  }
  out.push('');
  return out;
}

export function renderReplayMarkdown(r: Replay): string {
  return [
    `# ${md(title(r))}`,
    '',
    `${r.totals.events} events of the selection, ${r.spans} spans shown (spans outside the selection complete the trace trees and are marked *context*). Amounts in ${r.currency}, exact.`,
    '',
    ...totalsMd(r),
    ...signalsMd(r),
    ...treesMd(r),
    ...singlesMd(r),
    `Inputs: config sha256 ${r.inputs.config_sha256}, catalog ${r.inputs.catalog_version}, audit head ${r.inputs.audit_head ?? 'none'}.`,
    '',
  ].join('\n');
}

function mdNode(r: Replay, n: ReplayNode): string {
  const e = n.event;
  const who =
    n.identity === null
      ? ''
      : ` · ${md(n.identity)}${n.payer !== null && n.payer !== n.identity ? ` → paid by ${md(n.payer)}` : ''}`;
  const sig = signalRefs(r, n);
  const text = [
    `${iso(e.time)} **${md(e.operation)}** ${md(modelText(n))}`,
    `${tokens(n)}${e.status === 'error' ? ` · error ${md(e.error_type ?? '')}`.trimEnd() : ''}`,
    `${money(n.cost)}${n.priced ? '' : ' (unpriced)'}${n.wrapper ? ' (wrapper: its tokens are priced below)' : ''}`,
    `**${md(statusText(n.verdict.status, n.verdict.reason))}**${who}`,
    md(verdictText(n)),
    ...(sig ? [`signals ${sig}`] : []),
  ].join(' · ');
  return (n.selected ? text : `*context:* ${text}`).replace(/\r?\n/g, ' ');
}

// HTML

const CSS = `
body { font: 11pt/1.4 system-ui, sans-serif; color: #111; margin: 2em; }
h1 { font-size: 17pt; } h2 { font-size: 14pt; margin-top: 1.5em; } h3 { font-size: 11pt; margin: 1em 0 .3em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { padding: .2em .5em; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
ul.tree, ul.tree ul { list-style: none; padding-left: 1.2em; border-left: 1px dotted #bbb; margin: .2em 0; }
li.context { color: #777; }
.disputed { color: #b00; font-weight: 600; } .unattributed { color: #c60; font-weight: 600; }
.meta, .inputs { color: #666; font-size: 9pt; word-break: break-all; }
code { font-size: 9pt; }
`;

export function renderReplayHtml(r: Replay): string {
  const t = r.totals;
  const h = escapeHtml;
  const num = (s: string) => `<td class="n">${h(s)}</td>`;
  const count = (status: string) =>
    t.byReason.filter((b) => b.status === status).reduce((n, b) => n + b.events, 0);
  const out: string[] = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${h(title(r))}</title>`,
    `<style>${CSS}</style></head><body>`,
    `<h1>${h(title(r))}</h1>`,
    `<p class="meta">${t.events} events of the selection, ${r.spans} spans shown; amounts in ${h(r.currency)}, exact.</p>`,
    '<h2>Totals</h2><table>',
    `<tr><th></th><th class="n">events</th><th class="n">amount</th></tr>`,
    `<tr><td>legitimate (attributed)</td>${num(String(count('attributed')))}${num(money(t.legitimate))}</tr>`,
    `<tr><td class="disputed">disputed</td>${num(String(count('disputed')))}${num(money(t.disputed))}</tr>`,
    `<tr><td class="unattributed">unattributed</td>${num(String(count('unattributed')))}${num(money(t.unattributed))}</tr>`,
    `<tr><td>total (effective)</td>${num(String(t.events))}${num(money(t.effective))}</tr>`,
    `<tr><td>billed</td><td></td>${num(money(t.billed))}</tr>`,
    '</table>',
  ];
  if (t.byReason.length > 0) {
    out.push(
      '<table><tr><th>status</th><th>reason</th><th class="n">events</th><th class="n">amount</th></tr>',
    );
    for (const b of t.byReason) {
      out.push(
        `<tr><td class="${h(b.status)}">${h(b.status)}</td><td>${h(b.reason ?? '')}</td>${num(String(b.events))}${num(money(b.cost))}</tr>`,
      );
    }
    out.push('</table>');
  }
  out.push('<h2>Signals</h2>');
  if (r.signals.length === 0) out.push('<p>No signal was fed by these events.</p>');
  else {
    out.push(
      '<table><tr><th>#</th><th>rule</th><th>severity</th><th>identity</th><th>first seen</th><th>last seen</th><th class="n">events</th><th class="n">cost</th><th>what</th></tr>',
    );
    r.signals.forEach((s, i) => {
      out.push(
        `<tr><td>${i + 1}</td><td>${h(s.rule)}</td><td>${h(s.severity)}</td><td>${h(s.identity)}</td><td>${h(iso(s.first_seen))}</td><td>${h(iso(s.last_seen))}</td>${num(String(s.events))}${num(money(s.cost))}<td>${h(s.title)}</td></tr>`,
      );
    });
    out.push('</table>');
  }
  const trees = r.traces.filter(isTree);
  if (trees.length > 0) {
    out.push(`<h2>Trace trees (${trees.length})</h2>`);
    for (const tr of trees) {
      out.push(
        `<h3>Trace <code>${h(tr.traceId ?? '(none)')}</code>, ${h(iso(tr.start))}, selected cost ${h(money(tr.cost))}</h3>`,
      );
      out.push(`<ul class="tree">${tr.roots.map((n) => htmlNode(r, n)).join('')}</ul>`);
    }
  }
  const single = singles(r);
  if (single.length > 0) {
    out.push(`<h2>Single spans (${single.length})</h2>`);
    out.push(
      '<table><tr><th>time</th><th>trace</th><th>operation</th><th>model</th><th>tokens</th><th class="n">cost</th><th>status</th><th>verdict</th><th>client</th><th>signals</th></tr>',
    );
    for (const n of single) {
      out.push(
        `<tr><td>${h(iso(n.event.time))}</td><td><code>${h(n.event.trace_id ?? '')}</code></td><td>${h(n.event.operation)}</td><td>${h(modelText(n))}</td><td>${h(tokens(n))}</td>${num(money(n.cost))}<td class="${h(n.verdict.status)}">${h(statusText(n.verdict.status, n.verdict.reason))}</td><td>${h(verdictText(n))}</td><td>${h(n.event.client_address ?? '')}</td><td>${h(signalRefs(r, n))}</td></tr>`,
      );
    }
    out.push('</table>');
  }
  out.push(
    `<p class="inputs">config sha256 ${h(r.inputs.config_sha256)} · catalog ${h(r.inputs.catalog_version)} · audit head ${h(r.inputs.audit_head ?? 'none')}</p>`,
    '</body></html>',
    '',
  );
  return out.join('\n');
}

function htmlNode(r: Replay, n: ReplayNode): string {
  const h = escapeHtml;
  const e = n.event;
  const who =
    n.identity === null
      ? ''
      : ` · ${h(n.identity)}${n.payer !== null && n.payer !== n.identity ? ` → paid by ${h(n.payer)}` : ''}`;
  const sig = signalRefs(r, n);
  const body = [
    `${h(iso(e.time))} <strong>${h(e.operation)}</strong> ${h(modelText(n))}`,
    h(tokens(n)) + (e.status === 'error' ? ` · error ${h(e.error_type ?? '')}` : ''),
    h(money(n.cost)) +
      (n.priced ? '' : ' (unpriced)') +
      (n.wrapper ? ' (wrapper: its tokens are priced below)' : ''),
    `<span class="${h(n.verdict.status)}">${h(statusText(n.verdict.status, n.verdict.reason))}</span>${who}`,
    h(verdictText(n)),
    ...(sig ? [`signals ${h(sig)}`] : []),
  ].join(' · ');
  const children = n.children.length > 0 ? `<ul>${n.children.map((c) => htmlNode(r, c)).join('')}</ul>` : '';
  return `<li${n.selected ? '' : ' class="context"'}>${n.selected ? '' : '<em>context:</em> '}${body}${children}</li>`;
}

/**
 * Signals for people and scripts: the JSON form (SPEC §6: amounts as decimal
 * strings, times ISO) and an aligned table for a terminal.
 */
import { formatMoney } from '../core/money.js';
import type { Signal } from '../core/signals/signal.js';
import { cents, columnWidths } from './format.js';

export interface SignalJson {
  rule: string;
  severity: string;
  identity: string;
  team: string | null;
  title: string;
  first_seen: string;
  last_seen: string;
  events: number;
  cost: string;
  evidence: Record<string, unknown>;
  refs: string[];
}

const iso = (t: number) => new Date(t).toISOString();

export function signalJson(s: Signal): SignalJson {
  return {
    rule: s.rule,
    severity: s.severity,
    identity: s.identity,
    team: s.team,
    title: s.title,
    first_seen: iso(s.first_seen),
    last_seen: iso(s.last_seen),
    events: s.events,
    cost: formatMoney(s.cost),
    // Evidence holds figures only; an amount that slipped in as Money is written as a decimal string.
    evidence: JSON.parse(JSON.stringify(s.evidence, (_k, v) => (typeof v === 'bigint' ? formatMoney(v) : v))),
    refs: s.refs,
  };
}

export function renderSignalsJson(signals: readonly Signal[]): string {
  return `${JSON.stringify(signals.map(signalJson), null, 2)}\n`;
}

const minute = (t: number) => iso(t).slice(0, 16).replace('T', ' ');

/** One row per signal, then the figures of its evidence indented beneath it. */
export function renderSignalsTable(signals: readonly Signal[]): string {
  if (signals.length === 0) return 'no signals\n';
  const head = [
    'SEVERITY',
    'RULE',
    'IDENTITY',
    'FIRST SEEN (UTC)',
    'LAST SEEN (UTC)',
    'EVENTS',
    'COST',
    'WHAT',
  ];
  const rows = signals.map((s) => [
    s.severity.toUpperCase(),
    s.rule,
    s.identity, // in full: an unmatched selector as the event carried it
    minute(s.first_seen),
    minute(s.last_seen),
    String(s.events),
    cents(s.cost),
    s.title,
  ]);
  const widths = columnWidths([head, ...rows]);
  const right = new Set([5, 6]);
  const fmt = (r: string[]) =>
    r
      .map((c, i) =>
        i === r.length - 1 ? c : right.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0),
      )
      .join('  ');
  const out = [fmt(head)];
  signals.forEach((s, i) => {
    out.push(fmt(rows[i] as string[]));
    const { events, ...figures } = signalJson(s).evidence as { events?: string[] };
    const detail = JSON.stringify(figures);
    if (detail !== '{}') out.push(`    ${detail.length > 300 ? `${detail.slice(0, 299)}…` : detail}`);
    if (events && events.length > 0) out.push(`    events: ${events.join(', ')}`);
  });
  const bySeverity = ['critical', 'high', 'medium', 'low']
    .map((sev) => [sev, signals.filter((s) => s.severity === sev).length] as const)
    .filter(([, n]) => n > 0)
    .map(([sev, n]) => `${n} ${sev}`);
  out.push('', `${signals.length} signals: ${bySeverity.join(', ')}`);
  return `${out.join('\n')}\n`;
}

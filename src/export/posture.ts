/** Writers of the posture report: JSON with exact amounts, and a table for a terminal. */
import { formatMoney } from '../core/money.js';
import type { Posture } from '../core/posture.js';
import { iso } from '../core/statement.js';
import { columnWidths } from './format.js';

export function postureJson(p: Posture): unknown {
  return {
    window: { start: iso(p.window.start), end: iso(p.window.end) },
    as_of: iso(p.asOf),
    rotation_days: p.rotationDays,
    coverage: {
      attributed: formatMoney(p.coverage.attributed),
      direct: formatMoney(p.coverage.direct),
    },
    findings: p.findings.map((f) => ({
      kind: f.kind,
      severity: f.severity,
      subject: f.subject,
      detail: f.detail,
      events: f.events,
      cost: f.cost === null ? null : formatMoney(f.cost),
      figures: f.figures,
      refs: f.refs,
    })),
  };
}

export function renderPostureTable(p: Posture): string {
  const rows = p.findings.map((f) => [
    f.severity,
    f.kind,
    f.subject,
    f.events === 0 ? '' : String(f.events),
    f.cost === null ? '' : formatMoney(f.cost),
    f.detail,
    f.refs.join(', '),
  ]);
  const head = ['severity', 'finding', 'subject', 'events', 'cost', 'detail', 'refs'];
  const widths = columnWidths([head, ...rows]).map((w) => Math.min(48, w));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const out = [
    `Posture as of ${iso(p.asOf)} (telemetry ${iso(p.window.start)} to ${iso(p.window.end)}; keys rotate within ${p.rotationDays} days)`,
    '',
  ];
  if (rows.length === 0) out.push('No finding.');
  else out.push(line(head), ...rows.map(line));
  out.push('');
  return out.join('\n');
}

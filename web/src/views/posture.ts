import type { Ctx } from '../context.js';
import { h, notice, table } from '../dom.js';
import { cents, count, parseMoney, utc } from '../format.js';

interface Finding {
  kind: string;
  severity: 'critical' | 'high' | 'medium' | 'low';
  subject: string;
  detail: string;
  events: number;
  cost: string | null;
  figures: Record<string, string | number | null>;
  refs: string[];
}

interface Posture {
  window: { start: string; end: string };
  as_of: string;
  rotation_days: number;
  coverage: { attributed: string; direct: string };
  findings: Finding[];
}

const ORDER = ['critical', 'high', 'medium', 'low'];

/** attributed ÷ direct as a percentage with one decimal, from the exact amounts. */
function coverage(c: Posture['coverage']): string {
  const direct = parseMoney(c.direct);
  if (direct === 0n) return '—';
  const permille = (parseMoney(c.attributed) * 1000n + direct / 2n) / direct;
  return `${permille / 10n}.${permille % 10n} %`;
}

export async function postureView(ctx: Ctx): Promise<Node> {
  const p = await ctx.api<Posture>('/v1/posture', ctx.range);
  const findings = [...p.findings].sort(
    (a, b) => ORDER.indexOf(a.severity) - ORDER.indexOf(b.severity) || a.kind.localeCompare(b.kind),
  );
  return h(
    'div',
    { 'data-testid': 'posture' },
    h(
      'p',
      { class: 'help' },
      `NHI and asset hygiene (NIST CSF 2.0 ID.AM, OWASP NHI Top 10) over ${utc(p.window.start)} – ${utc(p.window.end)}; keys count as unrotated after ${p.rotation_days} days.`,
    ),
    h(
      'dl',
      { class: 'kpis small' },
      h(
        'div',
        { class: 'kpi' },
        h('dt', {}, 'Attribution coverage'),
        h('dd', { 'data-testid': 'posture-coverage' }, coverage(p.coverage)),
      ),
      ORDER.map((s) =>
        h(
          'div',
          { class: 'kpi' },
          h('dt', {}, `${s} findings`),
          h('dd', {}, count(findings.filter((f) => f.severity === s).length)),
        ),
      ),
    ),
    findings.length === 0
      ? notice('empty', `No findings in ${ctx.label}: every identity seen is registered, owned and rotated.`)
      : table(
          `${findings.length} findings`,
          [
            { label: 'Severity' },
            { label: 'Finding' },
            { label: 'Subject' },
            { label: 'Detail' },
            { label: 'Events', numeric: true },
            { label: 'Cost', numeric: true },
            { label: 'References' },
          ],
          findings.map((f) => [
            h('span', { class: `badge sev-${f.severity}` }, f.severity),
            f.kind.replace(/_/g, ' '),
            h('code', {}, f.subject),
            f.detail,
            count(f.events),
            f.cost === null ? '—' : cents(f.cost),
            f.refs.join(', '),
          ]),
          { 'data-testid': 'findings' },
        ),
  );
}

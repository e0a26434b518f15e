import { UsageError } from '../../core/errors.js';
import { formatFixed, formatMoney, parseMoney } from '../../core/money.js';
import { reconcile, trueUp } from '../../core/reconcile.js';
import { readInvoice } from '../../ingest/invoice.js';
import { computeStatement } from '../../service/statement.js';
import { COMMON_OPTIONS, monthWindow, parse, str } from '../args.js';
import { withContext } from '../context.js';

export async function reconcileCommand(argv: string[]): Promise<number> {
  const { values } = parse('reconcile', argv, {
    ...COMMON_OPTIONS,
    period: { type: 'string' },
    invoice: { type: 'string' },
    'true-up': { type: 'boolean', default: false },
    tolerance: { type: 'string', default: '2' },
    format: { type: 'string', default: 'table' },
  });
  const period = str(values, 'period');
  const invoice = str(values, 'invoice');
  if (!period || !invoice)
    throw new UsageError('reconcile: --period YYYY-MM and --invoice FILE are required');
  const format = str(values, 'format');
  if (format !== 'table' && format !== 'json')
    throw new UsageError('reconcile: --format must be table or json');
  let tolerance: bigint;
  try {
    tolerance = parseMoney(str(values, 'tolerance') ?? '2');
  } catch {
    throw new UsageError('reconcile: --tolerance must be a per cent such as 2 or 0.5');
  }
  const window = monthWindow(period);
  const bill = await readInvoice(invoice);
  return withContext(values, async ({ store, config }) => {
    const { charges } = await computeStatement(store, config, window);
    const rows = reconcile(bill, charges, tolerance);
    const adjustments = values['true-up'] ? trueUp(bill, charges) : [];
    // SPEC §5.2: a variance beyond the tolerance is a finding (exit 1), true-up or not.
    const code = rows.some((r) => r.exceeds) ? 1 : 0;
    if (format === 'json') {
      const m = (v: bigint | null) => (v === null ? null : formatMoney(v));
      process.stdout.write(
        `${JSON.stringify(
          {
            period,
            rows: rows.map((r) => ({
              ...r,
              billed: m(r.billed),
              telemetry: m(r.telemetry),
              variance: m(r.variance),
              variancePct: r.variancePct === null ? null : formatFixed(r.variancePct, 2),
            })),
            adjustments: adjustments.map((a) => ({
              ...a,
              charge_category: 'Adjustment',
              telemetry: m(a.telemetry),
              adjustment: m(a.adjustment),
              adjusted: m(a.adjusted),
            })),
          },
          null,
          2,
        )}\n`,
      );
      return code;
    }
    const usd = (v: bigint) => formatFixed(v, 2).padStart(14);
    const out = [`Reconciliation ${period} (tolerance ${formatMoney(tolerance, 0)} %)`, ''];
    out.push(
      `${'provider / model / project'.padEnd(50)} ${'billed'.padStart(14)} ${'telemetry'.padStart(14)} ${'variance'.padStart(14)}  %       status`,
    );
    for (const r of rows) {
      const name = [r.provider, r.model ?? '*', r.project ?? r.api_key ?? '*'].join(' / ');
      const pct = r.variancePct === null ? 'n/a' : formatFixed(r.variancePct, 2);
      out.push(
        `${name.padEnd(50)} ${usd(r.billed)} ${usd(r.telemetry)} ${usd(r.variance)}  ${pct.padEnd(7)} ${r.status}`,
      );
    }
    if (adjustments.length > 0) {
      out.push(
        '',
        'True-up adjustments (ChargeCategory Adjustment; each provider now equals its bill to the cent, disputed lines unscaled):',
        `  ${'provider / team / application / tenant / category / status'.padEnd(70)} ${'telemetry'.padStart(14)} ${'adjustment'.padStart(14)} ${'adjusted'.padStart(14)}`,
      );
      for (const a of adjustments) {
        const who = [
          a.provider,
          a.team ?? '-',
          a.application ?? '-',
          a.tenant ?? '-',
          a.category ?? '-',
          a.reason ? `${a.status} (${a.reason})` : a.status,
        ].join(' / ');
        out.push(`  ${who.padEnd(70)} ${usd(a.telemetry)} ${usd(a.adjustment)} ${usd(a.adjusted)}`);
      }
    }
    const beyond = rows.filter((r) => r.exceeds).length;
    out.push(
      '',
      beyond > 0
        ? `${beyond} row(s) beyond the tolerance of ${formatMoney(tolerance, 0)} %`
        : 'every row within the tolerance',
    );
    process.stdout.write(`${out.join('\n')}\n`);
    return code;
  });
}

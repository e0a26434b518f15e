import { readFile } from 'node:fs/promises';
import { UsageError } from '../../core/errors.js';
import { formatFixed, formatMoney, parseMoney } from '../../core/money.js';
import { reconcile, trueUp } from '../../core/reconcile.js';
import { type InvoiceRow, parseInvoice, readInvoice } from '../../ingest/invoice.js';
import { computeStatement } from '../../service/statement.js';
import { monthWindow, str } from '../args.js';
import { JSON_TYPE, text } from '../output.js';
import { type CommandSpec, runCommand, type Values } from '../runner.js';

interface ReconcileOptions {
  period: string;
  window: { start: number; end: number };
  trueUp: boolean;
  tolerance: bigint;
  format: string;
}

export const reconcileSpec: CommandSpec<ReconcileOptions, InvoiceRow[]> = {
  name: 'reconcile',
  flags: {
    period: { type: 'string' },
    invoice: { type: 'string' },
    'true-up': { type: 'boolean', default: false },
    tolerance: { type: 'string', default: '2' },
    format: { type: 'string', default: 'table' },
  },
  local: ['invoice'],
  options(values) {
    const period = str(values, 'period');
    if (!period) throw new UsageError('reconcile: --period YYYY-MM and --invoice FILE are required');
    const format = str(values, 'format') as string;
    if (format !== 'table' && format !== 'json')
      throw new UsageError('reconcile: --format must be table or json');
    let tolerance: bigint;
    try {
      tolerance = parseMoney(str(values, 'tolerance') ?? '2');
    } catch {
      throw new UsageError('reconcile: --tolerance must be a per cent such as 2 or 0.5');
    }
    return { period, window: monthWindow(period), trueUp: values['true-up'] === true, tolerance, format };
  },
  load: (values) => readInvoice(invoiceOf(values)),
  async upload(values) {
    return { type: 'text/csv', body: new Uint8Array(await readFile(invoiceOf(values))) };
  },
  receive: (body) => parseInvoice(Buffer.from(body).toString('utf8'), 'the uploaded bill'),
  route: () => ({ method: 'POST', path: '/v1/reconcile' }),
  async run({ store, config }, o, _view, bill) {
    const { charges } = await computeStatement(store, config, o.window);
    const rows = reconcile(bill ?? [], charges, o.tolerance);
    const adjustments = o.trueUp ? trueUp(bill ?? [], charges) : [];
    // SPEC §5.2: a variance beyond the tolerance is a finding (exit 1), true-up or not.
    const exit = rows.some((r) => r.exceeds) ? 1 : 0;
    const { period, tolerance } = o;
    if (o.format === 'json') return text(reconcileJson(period, rows, adjustments), JSON_TYPE, [], exit);
    return text(reconcileTable(period, tolerance, rows, adjustments), undefined, [], exit);
  },
};

/** --invoice is required; a missing file is an input error naming it (readInvoice). */
function invoiceOf(values: Values): string {
  const invoice = str(values, 'invoice');
  if (!invoice) throw new UsageError('reconcile: --period YYYY-MM and --invoice FILE are required');
  return invoice;
}

export function reconcileCommand(argv: string[]): Promise<number> {
  return runCommand(reconcileSpec, argv);
}

type Rows = ReturnType<typeof reconcile>;
type Adjustments = ReturnType<typeof trueUp>;

function reconcileJson(period: string, rows: Rows, adjustments: Adjustments): string {
  const m = (v: bigint | null) => (v === null ? null : formatMoney(v));
  const body = {
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
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}

function reconcileTable(period: string, tolerance: bigint, rows: Rows, adjustments: Adjustments): string {
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
  return `${out.join('\n')}\n`;
}

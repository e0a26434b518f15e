import { UsageError } from '../../core/errors.js';
import { atOrAbove } from '../../core/signals/order.js';
import { SEVERITIES, type Severity } from '../../core/signals/signal.js';
import { renderSignalsJson, renderSignalsTable } from '../../export/signals.js';
import { readInvoice } from '../../ingest/invoice.js';
import { defaultSignalWindow, evaluateSignals } from '../../service/signals.js';
import { COMMON_OPTIONS, parse, parseTime, str } from '../args.js';
import { withContext } from '../context.js';

const DAY_MS = 86_400_000;

function severity(flag: string, v: string | undefined): Severity | null {
  if (v === undefined) return null;
  if (!SEVERITIES.includes(v as Severity))
    throw new UsageError(`signals: ${flag} must be one of ${SEVERITIES.join(', ')}`);
  return v as Severity;
}

export async function signalsCommand(argv: string[]): Promise<number> {
  const { values } = parse('signals', argv, {
    ...COMMON_OPTIONS,
    from: { type: 'string' },
    to: { type: 'string' },
    severity: { type: 'string' },
    format: { type: 'string', default: 'table' },
    'fail-on': { type: 'string' },
    invoice: { type: 'string' },
  });
  const format = str(values, 'format');
  if (format !== 'table' && format !== 'json')
    throw new UsageError('signals: --format must be table or json');
  const min = severity('--severity', str(values, 'severity'));
  const failOn = severity('--fail-on', str(values, 'fail-on'));
  const from = str(values, 'from');
  const to = str(values, 'to');
  const bill = str(values, 'invoice');
  const invoice = bill ? await readInvoice(bill) : undefined;

  return withContext(values, async ({ store, config }) => {
    const latest = from && to ? null : await store.latestEventTime();
    const fallback = latest === null ? null : defaultSignalWindow(latest);
    const end = to ? parseTime('--to', to) : (fallback?.end ?? null);
    const window = end === null ? null : { start: from ? parseTime('--from', from) : end - 30 * DAY_MS, end };
    if (window !== null && window.end <= window.start)
      throw new UsageError('signals: --to must be after --from');
    const signals =
      window === null ? [] : await evaluateSignals(store, config, window, invoice ? { invoice } : {});
    const shown = min === null ? signals : signals.filter((s) => atOrAbove(s.severity, min));
    process.stdout.write(format === 'json' ? renderSignalsJson(shown) : renderSignalsTable(shown));
    return failOn !== null && signals.some((s) => atOrAbove(s.severity, failOn)) ? 1 : 0;
  });
}

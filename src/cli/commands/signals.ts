import type { Config } from '../../core/config.js';
import { UsageError } from '../../core/errors.js';
import type { BillRow } from '../../core/reconcile.js';
import { atOrAbove } from '../../core/signals/order.js';
import { SEVERITIES, type Severity } from '../../core/signals/signal.js';
import { renderSignalsJson, renderSignalsTable } from '../../export/signals.js';
import { readInvoice } from '../../ingest/invoice.js';
import { defaultSignalWindow, evaluateSignals } from '../../service/signals.js';
import type { Store } from '../../store/store.js';
import { parseTime, str } from '../args.js';
import { JSON_TYPE, text } from '../output.js';
import { type CommandSpec, runCommand } from '../runner.js';

const DAY_MS = 86_400_000;

function severity(flag: string, v: string | undefined): Severity | null {
  if (v === undefined) return null;
  if (!SEVERITIES.includes(v as Severity))
    throw new UsageError(`signals: ${flag} must be one of ${SEVERITIES.join(', ')}`);
  return v as Severity;
}

interface SignalsOptions {
  from: number | null;
  to: number | null;
  min: Severity | null;
  failOn: Severity | null;
  format: string;
}

export const signalsSpec: CommandSpec<SignalsOptions, readonly BillRow[]> = {
  name: 'signals',
  flags: {
    from: { type: 'string' },
    to: { type: 'string' },
    severity: { type: 'string' },
    format: { type: 'string', default: 'table' },
    'fail-on': { type: 'string' },
    invoice: { type: 'string' },
  },
  local: ['invoice'],
  options(values) {
    const format = str(values, 'format') as string;
    if (format !== 'table' && format !== 'json')
      throw new UsageError('signals: --format must be table or json');
    const from = str(values, 'from');
    const to = str(values, 'to');
    return {
      from: from === undefined ? null : parseTime('--from', from),
      to: to === undefined ? null : parseTime('--to', to),
      min: severity('--severity', str(values, 'severity')),
      failOn: severity('--fail-on', str(values, 'fail-on')),
      format,
    };
  },
  async load(values) {
    const bill = str(values, 'invoice');
    return bill ? await readInvoice(bill) : undefined;
  },
  async upload(values) {
    if (str(values, 'invoice') !== undefined)
      throw new UsageError(
        'signals: --invoice reads a local bill and cannot go to a server; S13 over a server: `tally reconcile --server`',
      );
    return undefined;
  },
  route: () => ({ method: 'GET', path: '/v1/signals' }),
  async run({ store, config }, o, view, invoice) {
    const window = await windowOf(store, o);
    const signals = window === null ? [] : await evaluate(store, config, window, invoice);
    const mine = view.signals(signals);
    const shown = o.min === null ? mine : mine.filter((s) => atOrAbove(s.severity, o.min as Severity));
    const failOn = o.failOn;
    const exit = failOn !== null && mine.some((s) => atOrAbove(s.severity, failOn)) ? 1 : 0;
    return o.format === 'json'
      ? text(renderSignalsJson(shown), JSON_TYPE, [], exit)
      : text(renderSignalsTable(shown), undefined, [], exit);
  },
};

/** --from/--to, or the 30 days up to the latest event; null when the store has no events. */
async function windowOf(store: Store, o: SignalsOptions): Promise<{ start: number; end: number } | null> {
  const latest = o.from !== null && o.to !== null ? null : await store.latestEventTime();
  const fallback = latest === null ? null : defaultSignalWindow(latest);
  const end = o.to ?? fallback?.end ?? null;
  const window = end === null ? null : { start: o.from ?? end - 30 * DAY_MS, end };
  if (window !== null && window.end <= window.start)
    throw new UsageError('signals: --to must be after --from');
  return window;
}

function evaluate(
  store: Store,
  config: Config,
  window: { start: number; end: number },
  invoice: readonly BillRow[] | undefined,
) {
  return evaluateSignals(store, config, window, invoice ? { invoice } : {});
}

export function signalsCommand(argv: string[]): Promise<number> {
  return runCommand(signalsSpec, argv);
}

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import { UsageError } from '../../core/errors.js';
import { formatFixed, formatMoney } from '../../core/money.js';
import { focusRows, renderFocusCsv } from '../../export/focus.js';
import { namesOf } from '../../export/names.js';
import { correctionCharges, issueStatement, restate } from '../../service/issue.js';
import { computeStatement } from '../../service/statement.js';
import { openStore } from '../../store/open.js';
import { checkOut, monthWindow, parse, str } from '../args.js';
import { mustExist, resolveStorePath } from '../context.js';

export async function restateCommand(argv: string[]): Promise<number> {
  const { values } = parse('restate', argv, {
    period: { type: 'string' },
    config: { type: 'string' },
    store: { type: 'string' },
    format: { type: 'string', default: 'table' },
    out: { type: 'string' },
    issue: { type: 'boolean', default: false },
  });
  const period = str(values, 'period');
  const configPath = str(values, 'config');
  if (!period || !configPath)
    throw new UsageError('restate: --period YYYY-MM and --config NEW.yaml are required');
  const format = str(values, 'format');
  if (format !== 'table' && format !== 'json' && format !== 'focus')
    throw new UsageError('restate: --format must be table, json or focus');
  const { config } = await loadConfig(path.resolve(configPath));
  const storeUrl = str(values, 'store') ?? resolveStorePath(config.store, path.resolve(configPath));
  mustExist(storeUrl);
  const store = await openStore(storeUrl);
  try {
    const window = monthWindow(period);
    const r = await restate(store, config, period, window);
    if (values.issue) {
      // the restatement becomes the period's next issued version (SPEC §5.3)
      const { statement } = await computeStatement(store, config, window);
      const issued = await issueStatement(store, period, statement, Date.now());
      process.stderr.write(
        issued.created
          ? `issued the restatement of ${period} as v${issued.version}: content ${issued.contentSha256}\n`
          : `the restatement of ${period} is identical to issued v${issued.version}: no new version\n`,
      );
    }
    if (format === 'focus') {
      const rows = focusRows(correctionCharges(r, window), [], {
        period: window,
        currency: config.currency,
        pools: config.sharedPools,
        names: namesOf(config),
        chargeClass: 'Correction',
      });
      const text = renderFocusCsv(rows);
      const out = str(values, 'out');
      checkOut('restate', out);
      if (out) await writeFile(out, text);
      else process.stdout.write(text);
      return 0;
    }
    if (format === 'json') {
      const m = (v: bigint) => formatMoney(v);
      process.stdout.write(
        `${JSON.stringify(
          {
            ...r,
            charge_class: 'Correction',
            corrections: r.corrections.map((c) => ({
              ...c.key,
              issued_effective_cost: m(c.issued.effective_cost),
              restated_effective_cost: m(c.restated.effective_cost),
              effective_difference: m(c.effective_difference),
              issued_billed_cost: m(c.issued.billed_cost),
              restated_billed_cost: m(c.restated.billed_cost),
              billed_difference: m(c.billed_difference),
              issued_events: c.issued.events,
              restated_events: c.restated.events,
            })),
            total_effective_difference: m(r.total_effective_difference),
            total_billed_difference: m(r.total_billed_difference),
          },
          null,
          2,
        )}\n`,
      );
      return 0;
    }
    const out = [
      `Restatement of ${period} (correction of issued v${r.issued.version}, content ${r.issued.content_sha256.slice(0, 12)}…)`,
      `config ${r.issued.config_sha256.slice(0, 12)}… → ${r.restated_config_sha256.slice(0, 12)}…`,
      '',
    ];
    if (r.corrections.length === 0) out.push('no line changed');
    for (const c of r.corrections) {
      const who = [
        c.key.team ?? '-',
        c.key.application ?? '-',
        c.key.tenant ?? '-',
        c.key.category ?? '-',
        c.key.status,
        c.key.reason ?? '',
      ].join(' / ');
      out.push(
        `${who.padEnd(70)} ${formatFixed(c.issued.effective_cents, 2).padStart(12)} → ${formatFixed(c.restated.effective_cents, 2).padStart(12)}  (${formatFixed(c.restated.effective_cents - c.issued.effective_cents, 2)})`,
      );
    }
    out.push(
      '',
      `total effective difference ${formatFixed(
        r.corrections.reduce((t, c) => t + c.restated.effective_cents - c.issued.effective_cents, 0n),
        2,
      )}, billed ${formatFixed(r.total_billed_difference, 2)}`,
    );
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

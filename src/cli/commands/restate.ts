import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../core/config.js';
import { ConfigError, UsageError } from '../../core/errors.js';
import { formatFixed, formatMoney } from '../../core/money.js';
import { focusMeta, focusRows, renderFocusCsv } from '../../export/focus.js';
import { correctionCharges, issueStatement, type Restatement, restate } from '../../service/issue.js';
import { computeStatementOnly } from '../../service/statement.js';
import { monthWindow, str } from '../args.js';
import { JSON_TYPE, text } from '../output.js';
import { type CommandSpec, runCommand, type Values } from '../runner.js';

interface RestateOptions {
  period: string;
  window: { start: number; end: number };
  format: string;
  issue: boolean;
}

/**
 * `tally restate --period P --config NEW.yaml`: on the store file the
 * corrected configuration also names the store; with `--server` its files
 * are sent to the server, which restates with them (never with its own
 * store or access settings).
 */
export const restateSpec: CommandSpec<RestateOptions, Config> = {
  name: 'restate',
  flags: {
    period: { type: 'string' },
    format: { type: 'string', default: 'table' },
    out: { type: 'string' },
    issue: { type: 'boolean', default: false },
  },
  options(values) {
    const period = str(values, 'period');
    if (!period) throw new UsageError('restate: --period YYYY-MM and --config NEW.yaml are required');
    const format = str(values, 'format') as string;
    if (format !== 'table' && format !== 'json' && format !== 'focus')
      throw new UsageError('restate: --format must be table, json or focus');
    return { period, window: monthWindow(period), format, issue: values.issue === true };
  },
  async load(values) {
    configOf(values);
    return undefined;
  },
  async upload(values) {
    const { files } = await loadConfig(configOf(values));
    const base = path.dirname(files[0] as string);
    const sent = await Promise.all(
      files.map(async (f) => ({ name: path.relative(base, f), text: await readFile(f, 'utf8') })),
    );
    return { type: 'application/json', body: JSON.stringify({ files: sent }) };
  },
  receive: async (body) => (body.byteLength === 0 ? undefined : uploadedConfig(body)),
  route: () => ({ method: 'POST', path: '/v1/restate' }),
  async run({ store, config: current }, o, _view, uploaded) {
    const config = uploaded ?? current;
    const r = await restate(store, config, o.period, o.window);
    const notes: string[] = [];
    if (o.issue) {
      // the restatement becomes the period's next issued version (SPEC §5.3)
      const { statement } = await computeStatementOnly(store, config, o.window);
      const issued = await issueStatement(store, o.period, statement, Date.now());
      notes.push(
        issued.created
          ? `issued the restatement of ${o.period} as v${issued.version}: content ${issued.contentSha256}`
          : `the restatement of ${o.period} is identical to issued v${issued.version}: no new version`,
      );
    }
    if (o.format === 'focus') {
      const rows = focusRows(correctionCharges(r, o.window), [], {
        ...focusMeta(config, o.window),
        chargeClass: 'Correction',
      });
      return { ...text(renderFocusCsv(rows), 'text/csv; charset=utf-8'), notes };
    }
    if (o.format === 'json') return { ...text(restatementJson(r), JSON_TYPE), notes };
    return { ...text(restatementTable(r)), notes };
  },
};

function configOf(values: Values): string {
  const file = str(values, 'config');
  if (!file) throw new UsageError('restate: --period YYYY-MM and --config NEW.yaml are required');
  return path.resolve(file);
}

/** Where uploaded files live while they are read: nowhere on disk, only in the request. */
const UPLOAD_ROOT = '/uploaded-config';

/** The corrected configuration from `{"files": [{"name", "text"}, …]}`, the main file first, includes by relative name. */
async function uploadedConfig(body: Uint8Array): Promise<Config> {
  let files: { name: string; text: string }[];
  try {
    files = (JSON.parse(Buffer.from(body).toString('utf8')) as { files: typeof files }).files;
    if (!Array.isArray(files) || files.length === 0) throw new Error('no files');
  } catch {
    throw new UsageError(
      'the body must be {"files": [{"name": "tally.yaml", "text": "…"}, …]}: the corrected configuration, main file first',
    );
  }
  const byPath = new Map<string, Buffer>();
  for (const f of files) {
    if (typeof f?.name !== 'string' || typeof f.text !== 'string')
      throw new UsageError('each uploaded file needs a name and a text');
    byPath.set(path.posix.resolve(UPLOAD_ROOT, f.name), Buffer.from(f.text, 'utf8'));
  }
  const main = path.posix.resolve(UPLOAD_ROOT, (files[0] as { name: string }).name);
  const read = async (file: string) => {
    const bytes = byPath.get(file);
    if (bytes) return bytes;
    throw Object.assign(new Error(`not uploaded: ${file}`), { code: 'ENOENT' });
  };
  try {
    return (await loadConfig(main, read)).config;
  } catch (e) {
    // the uploaded files' own names, relative to the main one: they are the caller's, not the server's
    if (e instanceof ConfigError) throw new UsageError(e.message.replaceAll(`${UPLOAD_ROOT}/`, ''));
    throw e;
  }
}

function restatementJson(r: Restatement): string {
  const m = (v: bigint) => formatMoney(v);
  const body = {
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
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}

function restatementTable(r: Restatement): string {
  const out = [
    `Restatement of ${r.period} (correction of issued v${r.issued.version}, content ${r.issued.content_sha256.slice(0, 12)}…)`,
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
  return `${out.join('\n')}\n`;
}

export function restateCommand(argv: string[]): Promise<number> {
  return runCommand(restateSpec, argv);
}

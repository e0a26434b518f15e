import type { Config } from '../../core/config.js';
import { UsageError } from '../../core/errors.js';
import { iso } from '../../core/statement.js';
import { FORMATS, type Format } from '../../ingest/index.js';
import { type FileReport, ingestFile } from '../../service/ingest.js';
import { selectorWarnings } from '../../service/posture.js';
import type { Store } from '../../store/store.js';
import { COMMON_OPTIONS, parse, str } from '../args.js';
import { withContext } from '../context.js';
import { progress } from '../progress.js';
import { SERVER_OPTIONS, serverOf } from '../remote.js';
import { ingestFileRemote } from '../remote-ingest.js';

export async function ingestCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('ingest', argv, {
    ...COMMON_OPTIONS,
    ...SERVER_OPTIONS,
    format: { type: 'string', default: 'auto' },
    'skip-invalid': { type: 'boolean', default: false },
    report: { type: 'string', default: 'table' },
  });
  if (positionals.length === 0)
    throw new UsageError('ingest: name at least one FILE (or - for standard input)');
  const format = str(values, 'format') ?? 'auto';
  if (format !== 'auto' && !FORMATS.includes(format as Format)) {
    throw new UsageError(`ingest: unknown --format '${format}' (one of auto, ${FORMATS.join(', ')})`);
  }
  const json = str(values, 'report') === 'json';
  const opts = { format: format as Format | 'auto', skipInvalid: values['skip-invalid'] === true };
  const server = serverOf(values);
  if (server) {
    await ingestFiles(positionals, json, (file, onProgress) =>
      ingestFileRemote(server, file, { ...opts, now: Date.now(), onProgress }),
    );
    return 0;
  }
  return withContext(
    values,
    async ({ store, config }) => {
      await ingestFiles(positionals, json, (file, onProgress) =>
        ingestFile(store, file, { ...opts, now: Date.now(), onProgress }),
      );
      await warnUnmatchedSelectors(store, config);
      return 0;
    },
    { create: true },
  );
}

/** Ingests the files one after another, printing each one's report line (or all, as JSON, at the end). */
async function ingestFiles(
  files: string[],
  json: boolean,
  one: (file: string, onProgress: (n: number) => void) => Promise<FileReport>,
): Promise<void> {
  const reports: FileReport[] = [];
  for (const file of files) {
    const bar = progress(`ingest ${file}`, null);
    const r = await one(file, (n) => bar.update(n));
    bar.done();
    reports.push(r);
    if (!json) process.stdout.write(`${reportLine(r)}\n`);
    const note = nothingAiNote(r);
    if (note) process.stderr.write(`${note}\n`);
  }
  if (json) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
}

/** One file's counts: every ingest says what it stored, found duplicate, superseded, rejected and ignored. */
export function reportLine(r: FileReport): string {
  const parts = [
    `${r.file} (${r.format}): ${r.stored} stored`,
    `${r.duplicates} duplicates`,
    `${r.superseded} superseded`,
    `${r.rejected} rejected`,
    `${r.ignored} ignored${r.ignored > 0 ? ` (spans that are not AI work${r.links > 0 ? `; ${r.links} kept as trace links` : ''})` : ''}`,
  ];
  if (r.quarantine) parts.push(`quarantined in ${r.quarantine}`);
  return parts.join(', ');
}

/** A file of spans none of which is AI work stores no event: said on standard error, not left to a bare "0 stored". */
function nothingAiNote(r: FileReport): string | null {
  if (r.ignored === 0 || r.stored + r.duplicates + r.superseded + r.rejected > 0) return null;
  return (
    `note: ${r.file}: none of its ${r.ignored} spans is AI work, so no usage event was stored` +
    (r.links > 0 ? ` (their ids were kept, so that AI spans of the same traces find their invoker)` : '') +
    '; docs/producers.md lists the instrumentations tally reads'
  );
}

/** A registry selector that matched nothing while unknown callers of its kind came in: most likely mis-pasted. */
async function warnUnmatchedSelectors(store: Store, config: Config): Promise<void> {
  const { window, unmatched } = await selectorWarnings(store, config);
  for (const u of unmatched) {
    process.stderr.write(
      `warning: ${u.identity}: selector ${u.selector} matched no event from ${iso(window.start)} to ${iso(window.end)}, ` +
        `while ${u.unknown.length} unknown caller(s) of that kind sent ${u.events} event(s), e.g. ${u.unknown[0]} ` +
        '(check the value was pasted whole; `tally posture` lists them all)\n',
    );
  }
}

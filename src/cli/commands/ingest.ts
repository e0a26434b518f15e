import type { Config } from '../../core/config.js';
import { UsageError } from '../../core/errors.js';
import { iso } from '../../core/statement.js';
import { FORMATS, type Format } from '../../ingest/index.js';
import { ingestFile } from '../../service/ingest.js';
import { selectorWarnings } from '../../service/posture.js';
import type { Store } from '../../store/store.js';
import { COMMON_OPTIONS, parse, str } from '../args.js';
import { withContext } from '../context.js';
import { progress } from '../progress.js';

export async function ingestCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('ingest', argv, {
    ...COMMON_OPTIONS,
    format: { type: 'string', default: 'auto' },
    'skip-invalid': { type: 'boolean', default: false },
  });
  if (positionals.length === 0)
    throw new UsageError('ingest: name at least one FILE (or - for standard input)');
  const format = str(values, 'format') ?? 'auto';
  if (format !== 'auto' && !FORMATS.includes(format as Format)) {
    throw new UsageError(`ingest: unknown --format '${format}' (one of auto, ${FORMATS.join(', ')})`);
  }
  return withContext(
    values,
    async ({ store, config }) => {
      for (const file of positionals) {
        const bar = progress(`ingest ${file}`, null);
        const r = await ingestFile(store, file, {
          format: format as Format | 'auto',
          skipInvalid: values['skip-invalid'] === true,
          now: Date.now(),
          onProgress: (n) => bar.update(n),
        });
        bar.done();
        const parts = [`${r.file} (${r.format}): ${r.stored} stored, ${r.duplicates} duplicates`];
        if (values['skip-invalid']) parts.push(`${r.rejected} invalid`);
        if (r.quarantine) parts.push(`quarantined in ${r.quarantine}`);
        process.stdout.write(`${parts.join(', ')}\n`);
      }
      await warnUnmatchedSelectors(store, config);
      return 0;
    },
    { create: true },
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

import { UsageError } from '../../core/errors.js';
import { renderExplanation } from '../../export/explain.js';
import { explain } from '../../service/explain.js';
import { COMMON_OPTIONS, parse, str } from '../args.js';
import { withContext } from '../context.js';

/** `tally explain EVENT_ID [--source S] [--format text|json]`. */
export async function explainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('explain', argv, {
    ...COMMON_OPTIONS,
    source: { type: 'string' },
    format: { type: 'string', default: 'text' },
  });
  const [id, ...extra] = positionals;
  if (id === undefined || id === '')
    throw new UsageError('explain: give the event id: tally explain EVENT_ID');
  if (extra.length > 0) throw new UsageError(`explain: one event id at a time (also got ${extra.join(' ')})`);
  return withContext(values, async ({ store, config }) => {
    const x = await explain(store, config, { id, source: str(values, 'source') ?? null });
    process.stdout.write(
      str(values, 'format') === 'json' ? `${JSON.stringify(x, null, 2)}\n` : renderExplanation(x),
    );
    return 0;
  });
}

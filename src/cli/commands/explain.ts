import { UsageError } from '../../core/errors.js';
import type { ExplanationJson } from '../../core/explain.js';
import { renderExplanation } from '../../export/explain.js';
import { explain } from '../../service/explain.js';
import { COMMON_OPTIONS, parse, str } from '../args.js';
import { withContext } from '../context.js';
import { JSON_TYPE, type Output, text, writeOutput } from '../output.js';
import { callServer, SERVER_OPTIONS, serverOf } from '../remote.js';

export const EXPLAIN_FORMATS = ['text', 'json'] as const;
export type ExplainFormat = (typeof EXPLAIN_FORMATS)[number];

/** The document `tally explain --format F` prints; the API's `format=` answers the same bytes. */
export function explanationOutput(x: ExplanationJson, format: ExplainFormat): Output {
  return format === 'json' ? text(`${JSON.stringify(x, null, 2)}\n`, JSON_TYPE) : text(renderExplanation(x));
}

/** `tally explain EVENT_ID [--source S] [--format text|json]`, on the store file or with `--server` through `GET /v1/explain`. */
export async function explainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('explain', argv, {
    ...COMMON_OPTIONS,
    ...SERVER_OPTIONS,
    source: { type: 'string' },
    format: { type: 'string', default: 'text' },
  });
  const [id, ...extra] = positionals;
  if (id === undefined || id === '')
    throw new UsageError('explain: give the event id: tally explain EVENT_ID');
  if (extra.length > 0) throw new UsageError(`explain: one event id at a time (also got ${extra.join(' ')})`);
  const source = str(values, 'source') ?? null;
  const format = (str(values, 'format') ?? 'text') as ExplainFormat;
  const server = serverOf(values);
  if (server) {
    const query = new URLSearchParams({ id, format });
    if (source !== null) query.set('source', source);
    return writeOutput(
      'explain',
      await callServer(server, { method: 'GET', path: '/v1/explain' }, query, undefined),
      undefined,
    );
  }
  const output = await withContext(
    values,
    async ({ store, config }) => explanationOutput(await explain(store, config, { id, source }), format),
    { server: true },
  );
  return writeOutput('explain', output, undefined);
}

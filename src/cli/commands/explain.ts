import { UsageError } from '../../core/errors.js';
import { renderExplanation } from '../../export/explain.js';
import { explain } from '../../service/explain.js';
import { str } from '../args.js';
import { JSON_TYPE, text } from '../output.js';
import { type CommandSpec, runCommand } from '../runner.js';

interface ExplainOptions {
  id: string;
  source: string | null;
  format: string;
}

/** `tally explain EVENT_ID [--source S] [--format text|json]`. */
export const explainSpec: CommandSpec<ExplainOptions> = {
  name: 'explain',
  flags: { source: { type: 'string' }, format: { type: 'string', default: 'text' } },
  positional: 'id',
  options(values) {
    const id = str(values, 'id');
    if (id === undefined || id === '')
      throw new UsageError('explain: give the event id: tally explain EVENT_ID');
    return { id, source: str(values, 'source') ?? null, format: str(values, 'format') as string };
  },
  route: () => ({ method: 'GET', path: '/v1/explain' }),
  async run({ store, config }, o, view) {
    // a team sees only its own events (another team's is not found) and only its own identities
    const x = view.explanation(await explain(store, config, { id: o.id, source: o.source, team: view.team }));
    return o.format === 'json'
      ? text(`${JSON.stringify(x, null, 2)}\n`, JSON_TYPE)
      : text(renderExplanation(x));
  },
};

export function explainCommand(argv: string[]): Promise<number> {
  return runCommand(explainSpec, argv);
}

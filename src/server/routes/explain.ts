/** `GET /v1/explain`: why one event was charged where it was (team tokens: only events charged to their team). */
import { choice } from '../../cli/args.js';
import { EXPLAIN_FORMATS, type ExplainFormat, explanationOutput } from '../../cli/commands/explain.js';
import { EXIT_HEADER } from '../../cli/remote.js';
import { UsageError } from '../../core/errors.js';
import { Registry } from '../../core/registry.js';
import { explain } from '../../service/explain.js';
import { json, optional } from '../http.js';
import { type AppContext, READERS, type Route, type RouteContext } from '../routes.js';
import { explanationOfTeam } from '../scope.js';
import { formatParam } from './commands.js';

const SOURCE = { name: 'source', description: 'the event source (needed when the id exists under several)' };
const FORMAT = formatParam('explain', EXPLAIN_FORMATS);

export function explainRoutes(app: AppContext): Route[] {
  const { store, config } = app;
  const registry = new Registry(config);
  /** A team token asking about an event of another team gets 404, as for an id that does not exist. */
  const handle = async (id: string | undefined, { query, principal }: RouteContext) => {
    if (id === undefined) throw new UsageError('explain: give the event id (`id=`)');
    const team = principal?.role === 'team' ? principal.team : null;
    const asked = optional(query, 'format');
    const format =
      asked === undefined ? null : (choice('explain', 'format', asked, EXPLAIN_FORMATS) as ExplainFormat);
    const body = await explain(store, config, {
      id,
      source: optional(query, 'source') ?? null,
      team,
      sourceOption: '`source=`',
    });
    const seen = team === null ? body : explanationOfTeam(body, registry, team);
    if (format === null) return json(seen);
    // `format=`: the bytes `tally explain --format F` prints (what `--server` relays).
    const out = explanationOutput(seen, format);
    return new Response(out.body as string, {
      headers: { 'content-type': out.type, 'cache-control': 'no-store', [EXIT_HEADER]: '0' },
    });
  };
  return [
    {
      method: 'GET',
      path: '/v1/explain',
      roles: READERS,
      summary:
        'why an event was charged where it was: selectors, owner at the time, invoker path, verdicts, price components, statement line',
      query: [{ name: 'id', description: 'the event id', required: true }, SOURCE, FORMAT],
      produces: 'application/json',
      handle: (ctx) => handle(optional(ctx.query, 'id'), ctx),
    },
    {
      method: 'GET',
      path: '/v1/explain/:event_id',
      roles: READERS,
      summary: 'the same, with the event id in the path (URL-encoded)',
      query: [SOURCE, FORMAT],
      produces: 'application/json',
      handle: (ctx) => handle(pathId(ctx.req.url), ctx),
    },
  ];
}

function pathId(url: string): string | undefined {
  const rest = new URL(url).pathname.slice('/v1/explain/'.length);
  try {
    return rest === '' ? undefined : decodeURIComponent(rest);
  } catch {
    throw new UsageError('explain: the event id in the path is not valid URL encoding');
  }
}

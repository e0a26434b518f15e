/** `GET /v1/explain`: why one event was charged where it was (team tokens: only events charged to their team). */
import { UsageError } from '../../core/errors.js';
import { Registry } from '../../core/registry.js';
import { explain } from '../../service/explain.js';
import { json, optional } from '../http.js';
import { type AppContext, READERS, type Route, type RouteContext } from '../routes.js';
import { explanationOfTeam } from '../scope.js';

const SOURCE = { name: 'source', description: 'the event source (needed when the id exists under several)' };

export function explainRoutes(app: AppContext): Route[] {
  const { store, config } = app;
  const registry = new Registry(config);
  /** A team token asking about an event of another team gets 404, as for an id that does not exist. */
  const handle = (id: string | undefined, { query, principal }: RouteContext) => {
    if (id === undefined) throw new UsageError('explain: give the event id (`id=`)');
    const team = principal?.role === 'team' ? principal.team : null;
    return explain(store, config, {
      id,
      source: optional(query, 'source') ?? null,
      team,
      sourceOption: '`source=`',
    }).then((body) => json(team === null ? body : explanationOfTeam(body, registry, team)));
  };
  return [
    {
      method: 'GET',
      path: '/v1/explain',
      roles: READERS,
      summary:
        'why an event was charged where it was: selectors, owner at the time, invoker path, verdicts, price components, statement line',
      query: [{ name: 'id', description: 'the event id', required: true }, SOURCE],
      produces: 'application/json',
      handle: (ctx) => handle(optional(ctx.query, 'id'), ctx),
    },
    {
      method: 'GET',
      path: '/v1/explain/:event_id',
      roles: READERS,
      summary: 'the same, with the event id in the path (URL-encoded)',
      query: [SOURCE],
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

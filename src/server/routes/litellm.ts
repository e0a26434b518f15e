/** LiteLLM live: the proxy's generic API callback posts its logging payloads here. */

import { readBody } from '../body.js';
import { json } from '../http.js';
import { ingestLitellm } from '../ingest.js';
import { type AppContext, INGESTERS, type Route } from '../routes.js';

export function litellmRoutes(app: AppContext): Route[] {
  const { store, writer, limits, now, committed, parseEvents } = app;
  return [
    {
      method: 'POST',
      path: '/v1/litellm',
      roles: INGESTERS,
      summary:
        "LiteLLM's logging payloads (its generic API callback): one object, a JSON array or NDJSON; all or nothing",
      accepts: ['application/json', 'application/x-ndjson'],
      produces: 'application/json',
      async handle({ req }) {
        const body = await readBody(req, limits.bodyBytes);
        const contentType = req.headers.get('content-type');
        const result = await ingestLitellm(store, writer, contentType, body, now(), parseEvents);
        committed(result.stored);
        return json(result);
      },
    },
  ];
}

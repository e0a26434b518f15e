/** Ingest routes: OTLP traces and canonical events. */

import { readBody } from '../body.js';
import { bytes, json } from '../http.js';
import { ingestEvents, ingestTraces, otlpEncoding } from '../ingest.js';
import { type AppContext, INGESTERS, type Route } from '../routes.js';

export function ingestRoutes(app: AppContext): Route[] {
  const { store, writer, limits, now, committed } = app;
  return [
    {
      method: 'POST',
      path: '/v1/traces',
      roles: INGESTERS,
      summary: 'OTLP/HTTP trace export (protobuf or JSON, gzip accepted); partial success for invalid spans',
      accepts: ['application/x-protobuf', 'application/json'],
      produces: 'application/x-protobuf',
      async handle({ req }) {
        const encoding = otlpEncoding(req.headers.get('content-type'));
        const body = await readBody(req, limits.bodyBytes);
        const reply = await ingestTraces(store, writer, encoding, body, now());
        committed(reply.result.stored);
        return new Response(typeof reply.body === 'string' ? reply.body : bytes(reply.body), {
          status: 200,
          headers: {
            'content-type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json',
          },
        });
      },
    },
    {
      method: 'POST',
      path: '/v1/events',
      roles: INGESTERS,
      summary: 'canonical usage events, JSON array or NDJSON; all or nothing',
      accepts: ['application/json', 'application/x-ndjson'],
      produces: 'application/json',
      async handle({ req }) {
        const body = await readBody(req, limits.bodyBytes);
        const result = await ingestEvents(store, writer, req.headers.get('content-type'), body, now());
        committed(result.stored);
        return json(result);
      },
    },
  ];
}

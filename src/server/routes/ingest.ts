/** Ingest routes: OTLP traces and canonical events. */

import { readBody } from '../body.js';
import { bytes, json } from '../http.js';
import { ingestEvents, ingestTraces, otlpEncoding, type TracesReply } from '../ingest.js';
import { type AppContext, INGESTERS, type Route } from '../routes.js';

export function ingestRoutes(app: AppContext): Route[] {
  const { store, writer, limits, now, committed, parseTraces, parseEvents } = app;
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
        const reply = await ingestTraces(store, writer, encoding, body, now(), parseTraces);
        committed(reply.result.stored);
        return new Response(typeof reply.body === 'string' ? reply.body : bytes(reply.body), {
          status: 200,
          headers: {
            'content-type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json',
            ...countHeaders(reply),
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
        const result = await ingestEvents(
          store,
          writer,
          req.headers.get('content-type'),
          body,
          now(),
          parseEvents,
        );
        committed(result.stored);
        // All or nothing: a request that gets here had no invalid record, and canonical events are all usage.
        return json({ ...result, rejected: 0, ignored: 0 });
      },
    },
  ];
}

/**
 * What a traces request did, in headers (the OTLP reply body has no place
 * for it): counts of this request's group commit for stored, duplicate and
 * superseded; this request's own for rejected and ignored.
 */
function countHeaders(reply: TracesReply): Record<string, string> {
  return {
    'x-tally-stored': String(reply.result.stored),
    'x-tally-duplicates': String(reply.result.duplicates),
    'x-tally-superseded': String(reply.result.superseded),
    'x-tally-rejected': String(reply.rejected),
    'x-tally-ignored': String(reply.ignored),
    'x-tally-links': String(reply.result.links ?? 0),
    ...(reply.result.queued === undefined ? {} : { 'x-tally-queued': String(reply.result.queued) }),
  };
}

/** The OpenAPI 3.1 document, generated from the route table. */
import type { Route } from './routes.js';

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    problems: { type: 'array', items: { type: 'object' } },
  },
};

const STATUS_TEXT: Record<string, string> = {
  '400': 'bad parameters or records',
  '401': 'missing or unknown token',
  '403': 'beyond the role or its team',
  '413': 'body too large',
  '415': 'unsupported content type or encoding',
  '429': 'rate limit of the token exceeded (see Retry-After)',
};

export function openApiDocument(routes: readonly Route[], version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const errors = r.roles === 'public' ? [] : ['400', '401', '403', '429'];
    if (r.accepts) errors.push('413', '415');
    const responses: Record<string, unknown> = {
      '200': { description: 'success', content: { [r.produces]: {} } },
    };
    for (const s of errors)
      responses[s] = {
        description: STATUS_TEXT[s],
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    const op: Record<string, unknown> = {
      summary: r.summary,
      operationId: `${r.method.toLowerCase()}${r.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
      responses,
    };
    if (r.roles !== 'public') {
      op.security = [{ bearer: [] }];
      op['x-roles'] = [...r.roles];
    }
    if (r.query && r.query.length > 0)
      op.parameters = r.query.map((p) => ({
        name: p.name,
        in: 'query',
        required: p.required ?? false,
        description: p.description,
        schema: { type: 'string' },
      }));
    if (r.accepts)
      op.requestBody = { required: true, content: Object.fromEntries(r.accepts.map((t) => [t, {}])) };
    paths[r.path] ??= {};
    (paths[r.path] as Record<string, unknown>)[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'tally', version, description: 'AI chargeback: ingest usage, read statements (SPEC §9).' },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: ERROR_SCHEMA },
    },
  };
}

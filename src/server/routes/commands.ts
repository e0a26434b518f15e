/**
 * The command line's reading and closing commands through the API (the
 * month close: issue a statement, FOCUS download, reconcile, restate,
 * verify), and `format=` on the reading routes: each runs the command's own
 * spec (src/cli/runner.ts), so the body is byte for byte what the command
 * prints for the same data, narrowed to a team token's team. The notes the
 * command writes to standard error and its exit code travel in the
 * `Tally-Notes` (URI-encoded JSON array) and `Tally-Exit-Code` headers.
 */

import { reconcileSpec } from '../../cli/commands/reconcile.js';
import { restateSpec } from '../../cli/commands/restate.js';
import { samplingSpec } from '../../cli/commands/sampling.js';
import { statementSpec } from '../../cli/commands/statement.js';
import { verifySpec } from '../../cli/commands/verify.js';
import { EVERYTHING, isChunks, type Output, type View } from '../../cli/output.js';
import { EXIT_HEADER, NOTES_HEADER, WROTE_HEADER } from '../../cli/remote.js';
import { type AnySpec, valuesOf } from '../../cli/runner.js';
import type { Config } from '../../core/config.js';
import { UsageError } from '../../core/errors.js';
import { Registry } from '../../core/registry.js';
import { readBody } from '../body.js';
import { visibleToTeam } from '../budgets.js';
import { optional, streamOf } from '../http.js';
import { scopeTeam, statementOfTeam } from '../read.js';
import type { AppContext, Param, Route, RouteContext } from '../routes.js';
import { READERS, WINDOW_PARAMS } from '../routes.js';
import { explanationOfTeam, replayOfTeam, signalsOfTeam } from '../scope.js';

const CLOSERS = ['admin', 'finance'] as const;

/** What a team token sees of each document; finance and admin see everything. */
export function teamView(config: Config, team: string | null): View {
  if (team === null) return EVERYTHING;
  return {
    team,
    statement: (s, level) => statementOfTeam(s, team, level),
    signals: (list) => signalsOfTeam(list, team),
    replay: (r) => replayOfTeam(r, team),
    budgets: (window) => visibleToTeam(config, team, window),
    explanation: (x) => explanationOfTeam(x, new Registry(config), team),
  };
}

/** Runs a command's spec for a request: its flags from the query (`fixed` ones win), its input from the body. */
export async function commandReply(
  app: AppContext,
  spec: AnySpec,
  { req, query, principal }: RouteContext,
  fixed: Record<string, string | boolean> = {},
): Promise<Response> {
  const o = spec.options(valuesOf(spec, query, fixed));
  const team = principal ? scopeTeam(principal, optional(query, 'team') ?? null) : null;
  const input = spec.receive
    ? await spec.receive(await readBody(req, app.limits.bodyBytes), req.headers.get('content-type') ?? '')
    : undefined;
  return reply(
    await spec.run({ store: app.store, config: app.config }, o, teamView(app.config, team), input),
  );
}

function reply(o: Output): Response {
  const headers: Record<string, string> = {
    'content-type': o.type,
    'cache-control': 'no-store',
    [EXIT_HEADER]: String(o.exit),
  };
  if (o.notes.length > 0) headers[NOTES_HEADER] = encodeURIComponent(JSON.stringify(o.notes));
  if (o.wrote) headers[WROTE_HEADER] = o.wrote;
  return new Response(bodyOf(o.body), { status: 200, headers });
}

/** A response body: a document in chunks is streamed as they are made (`streamOf`), never held whole. */
function bodyOf(body: Output['body']): BodyInit {
  if (typeof body === 'string') return body;
  return isChunks(body) ? streamOf(body) : new Uint8Array(body);
}

/** The `format` parameter of a reading route: the command's output instead of the API's JSON. */
export function formatParam(command: string, formats: readonly string[]): Param {
  return {
    name: 'format',
    description: `the output of \`tally ${command} --format F\`, byte for byte (${formats.join(', ')}); without it, the JSON below`,
  };
}

const FORMAT = { name: 'format', description: 'as the command: table or json (default json)' };

export function closeRoutes(app: AppContext): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/statements/issue',
      roles: CLOSERS,
      summary:
        'issue (freeze) the statement of a period, as `tally statement --issue`; the body is the statement (format as the command, default json)',
      query: [
        ...WINDOW_PARAMS,
        { name: 'level', description: 'line roll-up of the statement returned (the issue is line level)' },
        { name: 'format', description: 'table, json (default), csv, html, focus or focus-parquet' },
      ],
      produces: 'application/json',
      handle: (ctx) => commandReply(app, statementSpec, ctx, { issue: true, format: formatOr(ctx, 'json') }),
    },
    {
      method: 'GET',
      path: '/v1/statements/focus',
      roles: CLOSERS,
      summary: 'the FOCUS export of a window, as `tally statement --format focus|focus-parquet`',
      query: [...WINDOW_PARAMS, { name: 'format', description: 'csv (default) or parquet' }],
      produces: 'text/csv; charset=utf-8',
      handle(ctx) {
        // the command's own names (focus, focus-parquet) are understood too
        const f = formatOr(ctx, 'csv')
          .replace(/^focus$/, 'csv')
          .replace(/^focus-/, '');
        if (f !== 'csv' && f !== 'parquet') throw new UsageError(`format must be csv or parquet, got '${f}'`);
        return commandReply(app, statementSpec, ctx, { format: f === 'csv' ? 'focus' : 'focus-parquet' });
      },
    },
    {
      method: 'POST',
      path: '/v1/reconcile',
      roles: CLOSERS,
      summary:
        "compare the provider's bill (the body: FOCUS CSV, or CSV provider,model,amount[,project|api_key]) with telemetry, as `tally reconcile`",
      query: [
        { name: 'period', description: 'the billed month YYYY-MM', required: true },
        { name: 'true-up', description: 'true: scale the statement to the bill (as --true-up)' },
        { name: 'tolerance', description: 'allowed variance in per cent (default 2)' },
        FORMAT,
      ],
      accepts: ['text/csv'],
      produces: 'application/json',
      handle: (ctx) => commandReply(app, reconcileSpec, ctx, { format: formatOr(ctx, 'json') }),
    },
    {
      method: 'POST',
      path: '/v1/restate',
      roles: CLOSERS,
      summary:
        'recompute an issued period with a corrected configuration (the body; none: the running one), as `tally restate`',
      query: [
        { name: 'period', description: 'the issued month YYYY-MM', required: true },
        { name: 'issue', description: 'true: issue the restatement as the next version' },
        { name: 'format', description: 'table, json (default) or focus' },
      ],
      accepts: ['application/json'],
      produces: 'application/json',
      handle: (ctx) => commandReply(app, restateSpec, ctx, { format: formatOr(ctx, 'json') }),
    },
    {
      method: 'GET',
      path: '/v1/verify',
      roles: CLOSERS,
      summary:
        'recompute every batch hash and the audit chain, as `tally verify` (Tally-Exit-Code 1: tampered)',
      query: [FORMAT],
      produces: 'application/json',
      handle: (ctx) => commandReply(app, verifySpec, ctx, { format: formatOr(ctx, 'json') }),
    },
    {
      method: 'GET',
      path: '/v1/sampling',
      roles: READERS,
      summary:
        'what a sampling rate buys in billing precision, per team and tenant, as `tally sampling` (team tokens: their team)',
      query: [
        { name: 'period', description: 'month YYYY-MM', required: true },
        { name: 'rate', description: 'the sampling probability to assess, in (0, 1]', required: true },
        { name: 'target', description: 'the relative error to stay within (default 0.05)' },
        FORMAT,
      ],
      produces: 'application/json',
      handle: (ctx) => commandReply(app, samplingSpec, ctx, { format: formatOr(ctx, 'json') }),
    },
  ];
}

function formatOr(ctx: RouteContext, dflt: string): string {
  return optional(ctx.query, 'format') ?? dflt;
}

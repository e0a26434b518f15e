/** Reading routes of spend: statements, daily series, drill-down, budgets. */
import { budgetsSpec } from '../../cli/commands/budgets.js';
import { statementSpec } from '../../cli/commands/statement.js';
import { BREAKDOWN_DIMENSIONS } from '../../core/breakdown.js';
import { UsageError } from '../../core/errors.js';
import { iso, LEVELS } from '../../core/statement.js';
import { computeBudgets } from '../../service/budgets.js';
import { breakdownFilter, breakdownFocus, breakdownJson } from '../breakdown.js';
import { budgetStatusJson, visibleToTeam } from '../budgets.js';
import { decodeCursor, EVENT_FILTERS, eventFilter, NONE_FIELDS } from '../drilldown.js';
import { json, jsonChunks, optional } from '../http.js';
import { namesJson } from '../names.js';
import { currentMonth, intParam, oneOf, windowOf } from '../params.js';
import { dailySpend, scopeTeam, statementFor } from '../read.js';
import { type AppContext, READERS, type Route, WINDOW_PARAMS } from '../routes.js';
import { commandReply, formatParam } from './commands.js';

/** The statement's formats on GET /v1/statements; FOCUS has a route of its own (finance and admin). */
function readable(query: URLSearchParams): string {
  const f = query.get('format') ?? '';
  if (f === 'focus' || f === 'focus-parquet')
    throw new UsageError('FOCUS exports are at GET /v1/statements/focus?format=csv|parquet');
  return f;
}

export function reportRoutes(app: AppContext): Route[] {
  return [...statementRoutes(app), ...eventRoutes(app), ...breakdownRoutes(app), ...budgetRoutes(app)];
}

/** The statement and its daily series. */
function statementRoutes(app: AppContext): Route[] {
  const { store, config } = app;
  return [
    {
      method: 'GET',
      path: '/v1/statements',
      roles: READERS,
      summary: 'the statement JSON of a window (team tokens: their team only, totals recomputed)',
      query: [
        ...WINDOW_PARAMS,
        { name: 'level', description: `line roll-up: ${LEVELS.join(', ')}` },
        { name: 'team', description: 'only this team (team tokens: their own only)' },
        formatParam('statement', ['table', 'json', 'csv', 'html']),
      ],
      produces: 'application/json',
      async handle(ctx) {
        const { query, principal } = ctx;
        if (query.has('format'))
          return commandReply(app, statementSpec, ctx, { issue: false, format: readable(query) });
        const window = windowOf(query);
        const level = oneOf(query, 'level', LEVELS, 'line');
        const team = scopeTeam(principal as NonNullable<typeof principal>, optional(query, 'team') ?? null);
        return jsonChunks(await statementFor(store, config, window, level, team));
      },
    },
    {
      method: 'GET',
      path: '/v1/spend/daily',
      roles: READERS,
      summary: 'effective cost per UTC day and team (team tokens: their team only)',
      query: [...WINDOW_PARAMS, { name: 'team', description: 'only this team' }],
      produces: 'application/json',
      async handle({ query, principal }) {
        const window = windowOf(query);
        const team = scopeTeam(principal as NonNullable<typeof principal>, optional(query, 'team') ?? null);
        return json(await dailySpend(store, config, window, team));
      },
    },
  ];
}

/** The drill-down: priced, attributed events, cursor-paged. */
function eventRoutes(app: AppContext): Route[] {
  const { now, drilldown } = app;
  return [
    {
      method: 'GET',
      path: '/v1/events',
      roles: READERS,
      summary: 'drill-down: priced, attributed events, newest first, filtered, cursor-paged',
      query: [
        ...WINDOW_PARAMS,
        ...EVENT_FILTERS.map((name) => ({
          name,
          description: `only events with this ${name === 'status' ? 'attribution status' : name.replace('_', ' ')}`,
        })),
        {
          name: 'none',
          description: `comma-separated fields the events must have no value in (${NONE_FIELDS.join(', ')})`,
        },
        { name: 'limit', description: 'events per page, 1–1000 (default 100)' },
        { name: 'cursor', description: 'next_cursor of the previous page' },
      ],
      produces: 'application/json',
      async handle({ query, principal }) {
        const window = windowOf(query, () => currentMonth(now()));
        const filter = eventFilter(query);
        const team = scopeTeam(principal as NonNullable<typeof principal>, optional(query, 'team') ?? null);
        if (team !== null) filter.team = team;
        const limit = intParam(query, 'limit', 1, 1000, 100);
        const cursor = optional(query, 'cursor');
        return json(await drilldown.page(window, filter, cursor ? decodeCursor(cursor) : null, limit));
      },
    },
  ];
}

/** Group-by and filters over a window, its FOCUS download, the latest period and display names. */
function breakdownRoutes(app: AppContext): Route[] {
  const { store, config } = app;
  return [
    {
      method: 'GET',
      path: '/v1/breakdown',
      roles: READERS,
      summary:
        'money by one dimension (model, provider, identity, team, …), filtered, with the previous window (team tokens: their team)',
      query: BREAKDOWN_PARAMS,
      produces: 'application/json',
      async handle({ query, principal }) {
        const window = windowOf(query);
        const team = scopeTeam(principal as NonNullable<typeof principal>, optional(query, 'team') ?? null);
        const filter = breakdownFilter(query);
        if (team !== null) filter.team = team;
        const by = oneOf(query, 'by', BREAKDOWN_DIMENSIONS, 'team');
        const compare = oneOf(query, 'compare', ['previous', 'none'] as const, 'none') === 'previous';
        return json(await breakdownJson(store, config, { window, by, filter, team, compare }));
      },
    },
    {
      method: 'GET',
      path: '/v1/breakdown/focus',
      roles: READERS,
      summary: 'the breakdown’s selection as FOCUS CSV rows (team tokens: their team)',
      query: BREAKDOWN_PARAMS.filter((p) => p.name !== 'by' && p.name !== 'compare'),
      produces: 'text/csv; charset=utf-8',
      async handle({ query, principal }) {
        const window = windowOf(query);
        const team = scopeTeam(principal as NonNullable<typeof principal>, optional(query, 'team') ?? null);
        const csv = await breakdownFocus(store, config, window, breakdownFilter(query), team);
        return new Response(csv, {
          headers: {
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': `attachment; filename="tally-focus-${window.label.replace(/[^0-9A-Za-z-]+/g, '_')}.csv"`,
            'cache-control': 'no-store',
          },
        });
      },
    },
    {
      method: 'GET',
      path: '/v1/periods/latest',
      roles: READERS,
      summary: 'the latest month with events (the dashboard opens on it)',
      produces: 'application/json',
      async handle() {
        const latest = await store.latestEventTime();
        return json({
          period: latest === null ? null : iso(latest).slice(0, 7),
          latest_event: latest === null ? null : iso(latest),
        });
      },
    },
    {
      method: 'GET',
      path: '/v1/names',
      roles: READERS,
      summary:
        'display names from tally.yaml by id (team tokens: their team, its cost centers, applications and tenants)',
      produces: 'application/json',
      async handle({ principal }) {
        const team = scopeTeam(principal as NonNullable<typeof principal>, null);
        return json(namesJson(config, team));
      },
    },
  ];
}

/** Budgets: actual, forecast and thresholds crossed. */
function budgetRoutes(app: AppContext): Route[] {
  const { store, config, now } = app;
  return [
    {
      method: 'GET',
      path: '/v1/budgets',
      roles: READERS,
      summary: 'budgets: actual, forecast and thresholds crossed (team tokens: their team and applications)',
      query: [
        { name: 'period', description: 'month YYYY-MM (default: the current month)' },
        { name: 'team', description: 'only budgets of this team (team tokens: their own only)' },
        formatParam('budgets', ['table', 'json']),
      ],
      produces: 'application/json',
      async handle(ctx) {
        const { query, principal } = ctx;
        if (query.has('format')) return commandReply(app, budgetsSpec, ctx);
        const team = scopeTeam(principal as NonNullable<typeof principal>, optional(query, 'team') ?? null);
        const window = windowOf(query, () => currentMonth(now()));
        const report = await computeBudgets(store, config, window);
        const show = team === null ? () => true : visibleToTeam(config, team, window);
        const budgets = report.budgets.filter(show);
        return json({
          period: window.label,
          start: iso(window.start),
          end: iso(window.end),
          currency: config.currency,
          scope: team === null ? null : { team },
          budgets: budgets.map(budgetStatusJson),
        });
      },
    },
  ];
}

const BREAKDOWN_PARAMS = [
  ...WINDOW_PARAMS,
  { name: 'by', description: `the dimension to group by: ${BREAKDOWN_DIMENSIONS.join(', ')} (default team)` },
  ...BREAKDOWN_DIMENSIONS.map((name) => ({
    name,
    description: `only money with this ${name.replace('_', ' ')}${name === 'team' ? ' (team tokens: their own only)' : ''}`,
  })),
  { name: 'none', description: 'comma-separated dimensions that must have no value (no tenant, say)' },
  {
    name: 'compare',
    description: 'previous: add the previous window (the month before, or as long just before)',
  },
];

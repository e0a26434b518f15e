/** Security routes: signals, incident replay, posture. */
import { postureSpec } from '../../cli/commands/posture.js';
import { replaySpec } from '../../cli/commands/replay.js';
import { signalsSpec } from '../../cli/commands/signals.js';
import { MAX_WINDOW_DAYS } from '../../core/bounds.js';
import { iso } from '../../core/statement.js';
import { postureJson } from '../../export/posture.js';
import { replayJson } from '../../export/replay.js';
import { signalJson } from '../../export/signals.js';
import { computePosture } from '../../service/posture.js';
import { computeReplay } from '../../service/replay.js';
import { defaultSignalWindow, evaluateSignals } from '../../service/signals.js';
import { json, optional } from '../http.js';
import { windowOf } from '../params.js';
import { scopeTeam } from '../read.js';
import { type AppContext, READERS, type Route, WINDOW_PARAMS } from '../routes.js';
import { replayOfTeam, signalsOfTeam } from '../scope.js';
import { commandReply, formatParam } from './commands.js';

export function securityRoutes(app: AppContext): Route[] {
  return [signalsRoute(app), replayRoute(app), postureRoute(app)];
}

/** Signals of a window: the default is the 30 days up to the latest event. */
function signalsRoute(app: AppContext): Route {
  const { store, config } = app;
  return {
    method: 'GET',
    path: '/v1/signals',
    roles: READERS,
    summary:
      'security and hygiene signals (default: the 30 days up to the latest event; team tokens: their team)',
    query: [
      { name: 'from', description: 'window start (with `to`)' },
      { name: 'to', description: 'window end, exclusive' },
      { name: 'team', description: 'only signals of this team' },
      { name: 'severity', description: 'with format: only this severity and above' },
      {
        name: 'fail-on',
        description: 'with format: Tally-Exit-Code 1 when a signal of this severity or above is found',
      },
      formatParam('signals', ['table', 'json']),
    ],
    produces: 'application/json',
    async handle(ctx) {
      const { query, principal } = ctx;
      if (query.has('format')) return commandReply(app, signalsSpec, ctx);
      const team = scopeTeam(principal as NonNullable<typeof principal>, optional(query, 'team') ?? null);
      const latest = query.get('from') || query.get('to') ? null : await store.latestEventTime();
      const window =
        latest === null && !query.get('from') && !query.get('to')
          ? null
          : windowOf(
              query,
              () => ({ ...defaultSignalWindow(latest as number), label: 'default' }),
              MAX_WINDOW_DAYS.signals,
            );
      const signals =
        window === null ? [] : signalsOfTeam(await evaluateSignals(store, config, window), team);
      return json({
        window: window === null ? null : { start: iso(window.start), end: iso(window.end) },
        scope: team === null ? null : { team },
        signals: signals.map(signalJson),
      });
    },
  };
}

/** An incident replayed from the event log, by identity or trace. */
function replayRoute(app: AppContext): Route {
  const { store, config } = app;
  return {
    method: 'GET',
    path: '/v1/replay',
    roles: READERS,
    summary:
      'incident replay: events of a window by identity or trace as trace trees (team tokens: their spans)',
    query: [
      { name: 'from', description: 'window start (with `to`; optional with `trace`)' },
      { name: 'to', description: 'window end, exclusive' },
      { name: 'identity', description: 'a registry identity, or an unmatched selector such as api_key:…' },
      { name: 'trace', description: 'a trace id' },
      { name: 'team', description: 'only spans of this team (team tokens: their own only)' },
      formatParam('replay', ['md', 'json', 'html']),
    ],
    produces: 'application/json',
    async handle(ctx) {
      const { query, principal } = ctx;
      if (query.has('format')) return commandReply(app, replaySpec, ctx);
      const team = scopeTeam(principal as NonNullable<typeof principal>, optional(query, 'team') ?? null);
      const trace = optional(query, 'trace') ?? null;
      const window =
        query.get('from') || query.get('to') || !trace
          ? windowOf(query, undefined, MAX_WINDOW_DAYS.replay)
          : null;
      const replay = await computeReplay(store, config, {
        window,
        identity: optional(query, 'identity') ?? null,
        trace,
        signals: (w, scope) => evaluateSignals(store, config, w, scope ?? {}),
      });
      return json({
        ...(replayJson(team === null ? replay : replayOfTeam(replay, team)) as object),
        scope: team === null ? null : { team },
      });
    },
  };
}

/** NHI and asset hygiene, organisation-wide. */
function postureRoute(app: AppContext): Route {
  const { store, config } = app;
  return {
    method: 'GET',
    path: '/v1/posture',
    roles: ['admin', 'finance'],
    summary: 'NHI and asset hygiene (organisation-wide: admin and finance only)',
    query: [
      ...WINDOW_PARAMS,
      { name: 'rotation-days', description: 'with format: keys not rotated in N days are a finding' },
      formatParam('posture', ['table', 'json']),
    ],
    produces: 'application/json',
    async handle(ctx) {
      const { query } = ctx;
      if (query.has('format')) return commandReply(app, postureSpec, ctx);
      const window = query.get('period') || query.get('from') || query.get('to') ? windowOf(query) : null;
      return json(postureJson(await computePosture(store, config, { window })));
    },
  };
}

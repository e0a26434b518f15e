/**
 * `tally serve`: the HTTP API and dashboard on a port. Stops on SIGINT or
 * SIGTERM after in-flight requests finish, then closes the store.
 */
import { serve } from '@hono/node-server';
import { UsageError } from '../../core/errors.js';
import { BudgetAlerts } from '../../server/alerts.js';
import { createApp } from '../../server/app.js';
import { COMMON_OPTIONS, parse, str } from '../args.js';
import { openContext } from '../context.js';

function number(values: Record<string, unknown>, name: string, dflt: number): number {
  const v = str(values, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`serve: --${name} must be a number ≥ 0, got '${v}'`);
  return n;
}

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parse('serve', argv, {
    ...COMMON_OPTIONS,
    port: { type: 'string', default: '4318' },
    host: { type: 'string', default: '127.0.0.1' },
    web: { type: 'string' },
    'rate-limit': { type: 'string' },
    'max-body-mb': { type: 'string' },
    'read-timeout': { type: 'string' },
  });
  const port = number(values, 'port', 4318);
  if (!Number.isInteger(port) || port > 65_535) throw new UsageError('serve: --port must be 0-65535');
  const host = str(values, 'host') ?? '127.0.0.1';
  const rate = number(values, 'rate-limit', 100);
  const bodyMb = number(values, 'max-body-mb', 16);
  // Every read of the API is bounded in time (SPEC §9): past it the query is interrupted and the reply is a 422.
  const readTimeout = number(values, 'read-timeout', 60);

  const { store, config } = await openContext(values, { readTimeoutMs: Math.max(1, readTimeout * 1000) });
  const alerts = config.alertWebhook ? new BudgetAlerts(store, config, config.alertWebhook) : null;
  const app = createApp({
    store,
    config,
    webDir: str(values, 'web'),
    limits: { bodyBytes: Math.floor(bodyMb * 1024 * 1024), rate: { perSecond: rate, burst: rate * 2 } },
    onIngest: () => alerts?.poke(),
  });
  const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
    process.stderr.write(`tally serve: listening on http://${host}:${info.port}\n`);
  });
  alerts?.start();

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stderr.write('tally serve: stopping\n');
      server.close(() => resolve());
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await alerts?.stop();
  await store.close();
  return 0;
}

/**
 * `tally serve`: the HTTP API and dashboard on a port. Stops on SIGINT or
 * SIGTERM after in-flight requests finish, then closes the store.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { serve } from '@hono/node-server';
import { UsageError } from '../../core/errors.js';
import type { QueueConnection } from '../../queue/connect.js';
import { QueuePublisher } from '../../queue/publisher.js';
import { BudgetAlerts } from '../../server/alerts.js';
import { createApp } from '../../server/app.js';
import { SignalNotices } from '../../server/notify.js';
import { TracePool } from '../../server/trace-pool.js';
import { warmUp } from '../../server/warm-up.js';
import { storeFilePath } from '../../store/open.js';
import { COMMON_OPTIONS, parse, str } from '../args.js';
import { type Context, openContext, serverNoteFile } from '../context.js';
import { needsSharedStore, openQueue, queueUrl } from '../queue.js';

function number(values: Record<string, unknown>, name: string, dflt: number): number {
  const v = str(values, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`serve: --${name} must be a number ≥ 0, got '${v}'`);
  return n;
}

/**
 * Threads decoding OTLP traces requests by default: one core is left to the main thread (which
 * appends to the store), and one worker decodes ~200k spans a second, far more than a commit takes.
 */
const defaultParseWorkers = () => Math.max(0, Math.min(2, availableParallelism() - 1));

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parse('serve', argv, {
    ...COMMON_OPTIONS,
    port: { type: 'string', default: '4318' },
    host: { type: 'string', default: '127.0.0.1' },
    web: { type: 'string' },
    'rate-limit': { type: 'string' },
    'max-body-mb': { type: 'string' },
    'read-timeout': { type: 'string' },
    queue: { type: 'string' },
    'max-in-flight': { type: 'string' },
    'parse-workers': { type: 'string' },
  });
  const port = number(values, 'port', 4318);
  if (!Number.isInteger(port) || port > 65_535) throw new UsageError('serve: --port must be 0-65535');
  const host = str(values, 'host') ?? '127.0.0.1';
  const rate = number(values, 'rate-limit', 100);
  const bodyMb = number(values, 'max-body-mb', 16);
  // Every read of the API is bounded in time (SPEC §9): past it the query is interrupted and the reply is a 422.
  const readTimeout = number(values, 'read-timeout', 60);
  const traces = new TracePool(Math.floor(number(values, 'parse-workers', defaultParseWorkers())));
  // The workers load their modules while the store opens.
  traces.start();

  const context = await openContext(values, {
    create: true,
    steadyWriter: true,
    readTimeoutMs: Math.max(1, readTimeout * 1000),
  });
  const { store, config, storeUrl } = context;
  // Before it listens: a server that could not warm up still serves, its first requests slower.
  await warmUp(traces, store).catch((e: unknown) => {
    process.stderr.write(`tally serve: warm-up skipped: ${e instanceof Error ? e.message : String(e)}\n`);
  });
  const queue = await replicaQueue(values, context);
  const alerts = config.alertWebhook ? new BudgetAlerts(store, config, config.alertWebhook) : null;
  const notices = config.notify ? new SignalNotices(store, config, config.notify) : null;
  const app = createApp({
    store,
    config,
    webDir: str(values, 'web'),
    limits: { bodyBytes: Math.floor(bodyMb * 1024 * 1024), rate: { perSecond: rate, burst: rate * 2 } },
    ...(queue ? { queue: new QueuePublisher(queue, number(values, 'max-in-flight', 512)) } : {}),
    parseTraces: traces.parse,
    parseEvents: traces.parseEvents,
    onIngest: () => {
      alerts?.poke();
      notices?.poke();
    },
  });
  const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
    process.stderr.write(`tally serve: listening on http://${host}:${info.port}\n`);
  });
  try {
    await listening(server, host, port);
  } catch (err) {
    await traces.close();
    await queue?.close();
    await store.close();
    throw err;
  }
  alerts?.start();
  notices?.start();
  const note = await noteAddress(storeUrl, server.address(), host);

  await untilSignal(server);
  await traces.close();
  await alerts?.stop();
  await notices?.stop();
  await queue?.close();
  await store.close();
  if (note) await rm(note, { force: true });
  return 0;
}

/** Resolves on SIGINT or SIGTERM once the server has answered its in-flight requests. */
function untilSignal(server: ReturnType<typeof serve>): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stderr.write('tally serve: stopping\n');
      server.close(() => resolve());
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** With a queue (`--queue` or `queue:`), the connection this replica publishes on; else null. */
async function replicaQueue(
  values: Record<string, unknown>,
  context: Context,
): Promise<QueueConnection | null> {
  const url = queueUrl(values, context.config);
  if (url === null) return null;
  try {
    needsSharedStore('serve', context.storeUrl);
    const conn = await openQueue('serve', url, `tally serve ${process.pid}`);
    process.stderr.write(`tally serve: publishing to stream ${conn.settings.stream} (queue)\n`);
    return conn;
  } catch (e) {
    await context.store.close();
    throw e;
  }
}

/**
 * Beside an embedded store, the address this server listens on: a command
 * that finds the store held reads it to say which `--server URL` reaches it.
 */
async function noteAddress(storeUrl: string, address: unknown, host: string): Promise<string | null> {
  const file = storeFilePath(storeUrl);
  const port = (address as { port?: number } | null)?.port;
  if (file === null || port === undefined) return null;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const note = serverNoteFile(file);
  // Written whole or not at all: a command may read it at any moment.
  await writeFile(`${note}.tmp`, `${JSON.stringify({ url: `http://${shown}:${port}`, pid: process.pid })}\n`);
  await rename(`${note}.tmp`, note);
  return note;
}

/** Resolves once the server listens; a busy or forbidden address is a usage error that says what to do. */
function listening(server: ReturnType<typeof serve>, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${host}:${port}`;
      if (err.code === 'EADDRINUSE')
        reject(
          new UsageError(
            `serve: ${where} is already in use (4318 is also the OpenTelemetry Collector's OTLP/HTTP port); ` +
              'pick another with --port, e.g. --port 4319, or --port 0 for any free port',
          ),
        );
      else if (err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL')
        reject(
          new UsageError(`serve: cannot listen on ${where} (${err.code}); pick another --host or --port`),
        );
      else reject(err);
    });
  });
}

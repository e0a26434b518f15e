/**
 * `tally worker`: consumes the ingest queue into the store (SPEC §10). Stops
 * on SIGINT or SIGTERM after the batch in hand is committed and acknowledged.
 */
import { createServer, type Server } from 'node:http';
import { UsageError } from '../../core/errors.js';
import { redactSecrets } from '../../core/secrets.js';
import type { QueueConnection } from '../../queue/connect.js';
import { lagMetrics, workerMetrics } from '../../queue/metrics.js';
import { queueStatus } from '../../queue/status.js';
import { QueueWorker } from '../../queue/worker.js';
import { COMMON_OPTIONS, parse, str } from '../args.js';
import { openContext } from '../context.js';
import { needsSharedStore, openConsumer, openQueue, queueUrl } from '../queue.js';

function count(values: Record<string, unknown>, name: string, dflt: number, min: number): number {
  const v = str(values, name);
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isInteger(n) || n < min || n > 65_535)
    throw new UsageError(`worker: --${name} must be an integer from ${min} to 65535, got '${v}'`);
  return n;
}

const log = (line: string) => process.stderr.write(redactSecrets(`tally worker: ${line}\n`));

export async function workerCommand(argv: string[]): Promise<number> {
  const { values } = parse('worker', argv, {
    ...COMMON_OPTIONS,
    queue: { type: 'string' },
    batch: { type: 'string' },
    'metrics-port': { type: 'string' },
    'metrics-host': { type: 'string' },
  });
  const batch = count(values, 'batch', 100, 1);
  const metricsPort = str(values, 'metrics-port') === undefined ? null : count(values, 'metrics-port', 0, 0);
  const { store, config, storeUrl } = await openContext(values, { create: true, steadyWriter: true });
  let conn: QueueConnection | null = null;
  try {
    const url = queueUrl(values, config);
    if (url === null)
      throw new UsageError('worker: no queue: set `queue: nats://…` in tally.yaml or --queue');
    needsSharedStore('worker', storeUrl);
    conn = await openQueue('worker', url, `tally worker ${process.pid}`);
    await openConsumer('worker', conn);
    const worker = new QueueWorker(conn, store, { batch, waitMs: 1_000, log });
    const metrics =
      metricsPort === null
        ? null
        : await listenMetrics(worker, conn, str(values, 'metrics-host'), metricsPort);
    stopOnSignal(worker);
    log(`consuming stream ${conn.settings.stream} as ${conn.settings.consumer}`);
    await worker.run();
    log(`stopped after ${worker.stats.messages} messages, ${worker.stats.committed} events stored`);
    await new Promise<void>((resolve) => (metrics ? metrics.close(() => resolve()) : resolve()));
    return 0;
  } finally {
    await conn?.close();
    await store.close();
  }
}

function stopOnSignal(worker: QueueWorker): void {
  const stop = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    log('stopping after the batch in hand');
    worker.stop();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** A small listener: `/metrics` (this worker's counters and the queue's lag) and `/healthz`. */
async function listenMetrics(
  worker: QueueWorker,
  conn: QueueConnection,
  host = '127.0.0.1',
  port = 0,
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    queueStatus(conn, Date.now()).then(
      (q) =>
        res
          .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
          .end(workerMetrics(worker.stats, worker.commitTimes) + lagMetrics(q)),
      () =>
        res
          .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
          .end(workerMetrics(worker.stats, worker.commitTimes)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(new UsageError(`worker: cannot listen on ${host}:${port}: ${e.message}`)),
    );
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as { port: number };
  log(`metrics on http://${host}:${addr.port}/metrics`);
  return server;
}

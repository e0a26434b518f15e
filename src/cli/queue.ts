/** The ingest queue as the commands open it: `--queue` or `queue:`, parsed once, connected, the stream ensured. */
import type { Config } from '../core/config.js';
import { UsageError } from '../core/errors.js';
import { parseQueueUrl, QueueUrlError, shownQueueUrl } from '../core/queue-url.js';
import { connectQueue, ensureConsumer, ensureStream, type QueueConnection } from '../queue/connect.js';
import { str } from './args.js';

/** The queue URL of a command, or null when neither `--queue` nor `queue:` gives one. */
export function queueUrl(values: Record<string, unknown>, config: Config): string | null {
  return str(values, 'queue') ?? config.queue;
}

/**
 * Connects to the queue and (unless `ensure` is false: `tally status` only
 * looks) creates its stream when missing; `name` shows in NATS's connection list.
 */
export async function openQueue(
  command: string,
  url: string,
  name: string,
  ensure = true,
): Promise<QueueConnection> {
  let settings: ReturnType<typeof parseQueueUrl>;
  try {
    settings = parseQueueUrl(url);
  } catch (e) {
    if (e instanceof QueueUrlError)
      throw new UsageError(`${command}: --queue ${shownQueueUrl(url)}: ${e.message}`);
    throw e;
  }
  const conn = await connectQueue(settings, name);
  if (!ensure) return conn;
  const stream = `the stream ${settings.stream} on ${shownQueueUrl(url)}`;
  await ensuring(command, stream, () => ensureStream(conn)).catch(async (e) => {
    await conn.close();
    throw e;
  });
  return conn;
}

/**
 * The workers' consumer on `conn`'s stream, created when missing, tried as the stream is: a
 * cluster that has just created the stream may still be placing it, and answers late.
 */
export function openConsumer(command: string, conn: QueueConnection): Promise<void> {
  const s = conn.settings;
  return ensuring(command, `the consumer ${s.consumer} of the stream ${s.stream}`, () =>
    ensureConsumer(conn),
  );
}

/** `body` (creating or reading `what`) tried as `retrying` tries it, then a UsageError naming `what`. */
async function ensuring(command: string, what: string, body: () => Promise<void>): Promise<void> {
  try {
    await retrying(body);
  } catch (e) {
    throw new UsageError(
      `${command}: cannot create or read ${what}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/** Several processes share one queue only through a shared store: the embedded one is one process's. */
export function needsSharedStore(command: string, storeUrl: string): void {
  if (!/^postgres(ql)?:\/\//i.test(storeUrl))
    throw new UsageError(
      `${command}: a queue needs a shared store: set \`store: postgres://…\` (or --store); the embedded store ` +
        'belongs to one process (docs/deploy.md)',
    );
}

/**
 * A JetStream cluster that is starting or has just lost its leader answers within seconds: `body`
 * tried `attempts` times, `delayMs` apart (20 s by default); the last failure is thrown.
 */
export async function retrying(body: () => Promise<void>, attempts = 20, delayMs = 1_000): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await body();
    } catch (e) {
      if (attempt >= attempts) throw e;
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}

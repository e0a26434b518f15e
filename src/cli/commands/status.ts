/**
 * `tally status`: what an operator checks first (SPEC §8, §10): the store's
 * counters and newest event, and with a queue the stream's waiting messages,
 * their age, and the workers' consumer. The figures are the ones `/metrics`
 * shows on replicas and workers.
 */
import { UsageError } from '../../core/errors.js';
import { shownQueueUrl } from '../../core/queue-url.js';
import { redactSecrets } from '../../core/secrets.js';
import { type QueueStatus, queueStatus } from '../../queue/status.js';
import type { StoreCounters } from '../../store/store.js';
import { COMMON_OPTIONS, parse, str } from '../args.js';
import { withContext } from '../context.js';
import { openQueue, queueUrl } from '../queue.js';

interface StatusReport {
  store: StoreCounters & { url: string; newest_event: string | null; lag_seconds: number | null };
  queue: (QueueStatus & { url: string }) | null;
}

export async function statusCommand(argv: string[]): Promise<number> {
  const { values } = parse('status', argv, {
    ...COMMON_OPTIONS,
    queue: { type: 'string' },
    format: { type: 'string', default: 'text' },
  });
  const report = await withContext(values, async ({ store, config, storeUrl }) => {
    const now = Date.now();
    const [counters, newest] = await Promise.all([store.counters(), store.latestEventTime()]);
    const url = queueUrl(values, config);
    return {
      store: {
        url: redactSecrets(storeUrl.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')),
        ...counters,
        newest_event: newest === null ? null : new Date(newest).toISOString(),
        lag_seconds: newest === null ? null : Math.max(0, (now - newest) / 1000),
      },
      queue: url === null ? null : await readQueue(url, now),
    } satisfies StatusReport;
  });
  process.stdout.write(
    str(values, 'format') === 'json' ? `${JSON.stringify(report, null, 2)}\n` : render(report),
  );
  return 0;
}

async function readQueue(url: string, now: number): Promise<QueueStatus & { url: string }> {
  const conn = await openQueue('status', url, `tally status ${process.pid}`, false);
  try {
    return { url: shownQueueUrl(url), ...(await queueStatus(conn, now)) };
  } catch (e) {
    throw new UsageError(
      `status: cannot read the stream ${conn.settings.stream} on ${shownQueueUrl(url)} (no replica or worker has ` +
        `created it yet, or the cluster has no leader): ${e instanceof Error ? e.message : String(e)}`,
    );
  } finally {
    await conn.close();
  }
}

function render(r: StatusReport): string {
  const s = r.store;
  const lines = [
    `store  ${s.url}`,
    `  ${s.events} events stored, ${s.duplicates} duplicates, ${s.superseded} superseded, ` +
      `${s.rejected} rejected, ${s.ignored} ignored, ${s.batches} batches`,
    `  newest event ${s.newest_event ?? '(none)'}${s.lag_seconds === null ? '' : ` (${s.lag_seconds.toFixed(1)} s ago)`}`,
  ];
  const q = r.queue;
  if (q === null) lines.push('queue  none (tally serve writes to the store itself)');
  else {
    const peers = q.peers.map(
      (p) => `${p.name} ${p.offline ? 'offline' : p.current ? 'current' : 'catching up'}`,
    );
    lines.push(
      `queue  ${q.url} stream ${q.stream} (R${q.replicas}${q.leader ? `, leader ${q.leader}` : ''}${peers.length > 0 ? `; ${peers.join(', ')}` : ''})`,
      `  lag ${q.lagMessages} messages, oldest ${q.lagSeconds.toFixed(1)} s; ${q.bytes} of ${q.maxBytes} bytes (${(q.fill * 100).toFixed(1)}% full)`,
      `  consumer ${q.consumer}: ${q.ackPending} delivered and not acknowledged, ${q.redelivered} redelivered, ` +
        `${q.waitingWorkers} worker fetches waiting`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Prometheus text (format 0.0.4) for the queue: a replica's publishes, a worker's commits, the stream's lag. */
import type { CommitTimes } from '../store/commit-times.js';
import type { PublisherStats } from './publisher.js';
import type { QueueStatus } from './status.js';
import type { WorkerStats } from './worker.js';

type Metric = [name: string, type: 'counter' | 'gauge', help: string, value: number];

function render(metrics: readonly Metric[]): string {
  return metrics
    .map(([name, type, help, v]) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${v}\n`)
    .join('');
}

export function publisherMetrics(s: PublisherStats): string {
  return render([
    [
      'tally_queue_published_requests_total',
      'counter',
      'Requests acknowledged by the ingest stream.',
      s.requests,
    ],
    [
      'tally_queue_published_messages_total',
      'counter',
      'Messages acknowledged by the ingest stream.',
      s.messages,
    ],
    [
      'tally_queue_published_records_total',
      'counter',
      'Events and trace links in published messages.',
      s.records,
    ],
    [
      'tally_queue_publish_duplicates_total',
      'counter',
      'Messages the stream already had (resends in its window).',
      s.duplicates,
    ],
    [
      'tally_queue_full_total',
      'counter',
      'Requests refused with 429: stream full or too many waiting.',
      s.full,
    ],
    [
      'tally_queue_publish_failures_total',
      'counter',
      'Requests refused with 503: NATS did not acknowledge.',
      s.failures,
    ],
  ]);
}

export function workerMetrics(s: WorkerStats, commits: CommitTimes): string {
  const histogram = commits.exposition(
    'tally_worker_commit_duration_seconds',
    'Seconds each store transaction of this worker took.',
  );
  return `${counters(s)}${histogram.join('\n')}\n`;
}

function counters(s: WorkerStats): string {
  return render([
    [
      'tally_worker_messages_total',
      'counter',
      'Messages committed to the store and acknowledged.',
      s.messages,
    ],
    ['tally_worker_events_committed_total', 'counter', 'Events newly stored by this worker.', s.committed],
    [
      'tally_worker_events_duplicate_total',
      'counter',
      'Events this worker found already stored.',
      s.duplicates,
    ],
    [
      'tally_worker_events_superseded_total',
      'counter',
      'Events stored as a new version of a stored one.',
      s.superseded,
    ],
    ['tally_worker_batches_total', 'counter', 'Store transactions committed.', s.batches],
    [
      'tally_worker_redeliveries_total',
      'counter',
      'Messages this worker received more than once.',
      s.redeliveries,
    ],
    [
      'tally_worker_commit_failures_total',
      'counter',
      'Commits that failed; their messages were handed back.',
      s.failures,
    ],
    ['tally_worker_poison_total', 'counter', 'Messages that were not tally messages, set aside.', s.poison],
  ]);
}

export function lagMetrics(q: QueueStatus): string {
  return render([
    ['tally_queue_lag_messages', 'gauge', 'Messages in the stream not yet committed.', q.lagMessages],
    ['tally_queue_lag_seconds', 'gauge', 'Age of the oldest message not yet committed.', q.lagSeconds],
    [
      'tally_queue_ack_pending',
      'gauge',
      'Messages delivered to a worker and not acknowledged yet.',
      q.ackPending,
    ],
    [
      'tally_queue_redelivered',
      'gauge',
      'Messages of the consumer delivered more than once (NATS count).',
      q.redelivered,
    ],
    ['tally_queue_stream_bytes', 'gauge', 'Bytes in the stream.', q.bytes],
    [
      'tally_queue_stream_max_bytes',
      'gauge',
      'The stream size bound; at it replicas answer 429.',
      q.maxBytes,
    ],
  ]);
}

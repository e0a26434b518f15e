/** Prometheus text exposition (format 0.0.4) of the server's counters. */
import type { StoreCounters } from '../store/store.js';

/**
 * How long the embedded server's group commits took, as a Prometheus
 * histogram: a store that stalls its commits (DuckDB checkpointing its
 * write-ahead log blocks every commit meanwhile) shows as commits in the
 * upper buckets, which is what the acknowledgement's tail latency is made of.
 */
export class CommitTimes {
  /** Upper bounds of the buckets, in seconds. */
  static readonly BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
  private readonly inBucket: number[] = CommitTimes.BOUNDS.map(() => 0);
  private count = 0;
  private seconds = 0;

  observe(seconds: number): void {
    const i = CommitTimes.BOUNDS.findIndex((b) => seconds <= b);
    if (i >= 0) this.inBucket[i] = (this.inBucket[i] ?? 0) + 1;
    this.count++;
    this.seconds += seconds;
  }

  /** The histogram's exposition lines: cumulative buckets, then the sum and the count. */
  lines(name: string): string[] {
    let below = 0;
    const buckets = CommitTimes.BOUNDS.map((b, i) => {
      below += this.inBucket[i] ?? 0;
      return `${name}_bucket{le="${b}"} ${below}`;
    });
    return [
      ...buckets,
      `${name}_bucket{le="+Inf"} ${this.count}`,
      `${name}_sum ${this.seconds}`,
      `${name}_count ${this.count}`,
    ];
  }
}

export class HttpCounters {
  private readonly requests = new Map<string, number>();

  count(route: string, status: number): void {
    const k = `${route}\u0000${status}`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
  }

  entries(): Array<{ route: string; status: string; n: number }> {
    return [...this.requests.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, n]) => {
        const [route = '', status = ''] = k.split('\u0000');
        return { route, status, n };
      });
  }
}

function label(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

export function renderMetrics(
  store: StoreCounters,
  lagSeconds: number | null,
  http: HttpCounters,
  commits: CommitTimes | null = null,
): string {
  const out: string[] = [];
  const metric = (name: string, type: string, help: string, lines: string[]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
  };
  metric('tally_events_ingested_total', 'counter', 'Usage events stored.', [
    `tally_events_ingested_total ${store.events}`,
  ]);
  metric('tally_events_duplicate_total', 'counter', 'Events received again and not stored twice.', [
    `tally_events_duplicate_total ${store.duplicates}`,
  ]);
  metric('tally_events_rejected_total', 'counter', 'Invalid records refused or quarantined.', [
    `tally_events_rejected_total ${store.rejected}`,
  ]);
  metric(
    'tally_events_superseded_total',
    'counter',
    'Records that replaced a stored version of the same event.',
    [`tally_events_superseded_total ${store.superseded}`],
  );
  metric(
    'tally_records_ignored_total',
    'counter',
    'Valid records that are not usage: spans that are not AI work.',
    [`tally_records_ignored_total ${store.ignored}`],
  );
  metric('tally_batches_total', 'counter', 'Ingest batches recorded in the audit chain.', [
    `tally_batches_total ${store.batches}`,
  ]);
  if (lagSeconds !== null)
    metric('tally_ingest_lag_seconds', 'gauge', 'Seconds between now and the newest stored event.', [
      `tally_ingest_lag_seconds ${lagSeconds}`,
    ]);
  metric(
    'tally_http_requests_total',
    'counter',
    'HTTP requests by route and status.',
    http
      .entries()
      .map((e) => `tally_http_requests_total{route="${label(e.route)}",status="${e.status}"} ${e.n}`),
  );
  if (commits)
    metric(
      'tally_commit_duration_seconds',
      'histogram',
      'Seconds each group commit of ingested requests took in the store, durable (the embedded server).',
      commits.lines('tally_commit_duration_seconds'),
    );
  return `${out.join('\n')}\n`;
}

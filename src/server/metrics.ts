/** Prometheus text exposition (format 0.0.4) of the server's counters. */
import type { CommitTimes } from '../store/commit-times.js';
import type { StoreCounters } from '../store/store.js';

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
    out.push(
      ...commits.exposition(
        'tally_commit_duration_seconds',
        'Seconds each group commit of ingested requests took in the store, durable (the embedded server).',
      ),
    );
  return `${out.join('\n')}\n`;
}

/**
 * Group commit: requests that arrive while the store is committing wait and
 * are then stored together, in one transaction and one audit batch. A
 * commit costs the same few milliseconds of SQL and fsync whatever its
 * size, so under load this multiplies throughput, while a lone request is
 * still committed at once. Every request is answered only after the commit
 * that holds its events. A group the store refuses is committed again one
 * request at a time, so that one refused request never refuses another.
 */
import type { TraceLink, UsageEvent } from '../core/event.js';
import type { QueuePublisher } from '../queue/publisher.js';
import { CommitTimes } from '../store/commit-times.js';
import type { IngestResult, Store } from '../store/store.js';

/** The commit a request's events went into: several concurrent requests may share one. */
export interface Committed extends IngestResult {
  requests: number;
  /**
   * With a queue (SPEC §10): the events and trace links the stream acknowledged
   * for this request. A worker stores them; stored, duplicates and superseded
   * are then 0 here and counted by the worker.
   */
  queued?: number;
}

/** Where the ingest routes send validated events: the store (GroupWriter) or the queue (QueueWriter). */
export interface EventWriter {
  write(label: string, events: UsageEvent[], links?: TraceLink[]): Promise<Committed>;
}

/** Publishes each request to the ingest stream; resolves once the stream has acknowledged all of it. */
export class QueueWriter implements EventWriter {
  constructor(private readonly publisher: QueuePublisher) {}

  async write(label: string, events: UsageEvent[], links: TraceLink[] = []): Promise<Committed> {
    await this.publisher.publish(label, events, links);
    return {
      batch: null,
      stored: 0,
      duplicates: 0,
      superseded: 0,
      requests: 1,
      queued: events.length + links.length,
    };
  }
}

interface Pending {
  label: string;
  events: UsageEvent[];
  links: TraceLink[];
  resolve(c: Committed): void;
  reject(e: unknown): void;
}

/** Events per commit at most: bounds the latency a big group adds. */
const MAX_GROUP_EVENTS = 20_000;

export class GroupWriter implements EventWriter {
  private queue: Pending[] = [];
  private flushing = false;

  /** `times`: how long each commit took (the server's metrics). */
  constructor(
    private readonly store: Store,
    readonly times: CommitTimes = new CommitTimes(),
  ) {}

  /** Stores the events (and the trace links of spans that are not AI work) in the next group commit. */
  write(label: string, events: UsageEvent[], links: TraceLink[] = []): Promise<Committed> {
    // Written ahead while the commit under way runs, so that the request's own commit holds less.
    this.store.prepareIngest?.(events);
    return new Promise<Committed>((resolve, reject) => {
      this.queue.push({ label, events, links, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const label = (this.queue[0] as Pending).label;
        const group: Pending[] = [];
        let size = 0;
        this.queue = this.queue.filter((p) => {
          if (
            p.label !== label ||
            (group.length > 0 && size + p.events.length + p.links.length > MAX_GROUP_EVENTS)
          )
            return true;
          group.push(p);
          size += p.events.length + p.links.length;
          return false;
        });
        await this.commit(label, group);
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Commits a group; when it fails, each of its requests alone, so that a request the store
   * refuses does not refuse the others (each is answered with its own commit's outcome).
   */
  private async commit(label: string, group: Pending[]): Promise<void> {
    try {
      const chunks = group.map((p) =>
        p.links.length === 0 ? p.events : { events: p.events, links: p.links },
      );
      const result = await this.times.time(() => this.store.ingest(label, chunks));
      for (const p of group) p.resolve({ ...result, requests: group.length });
    } catch (e) {
      if (group.length === 1) (group[0] as Pending).reject(e);
      else for (const p of group) await this.commit(label, [p]);
    }
  }
}

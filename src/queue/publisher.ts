/**
 * The replica's side (SPEC §10): publishes a request's validated events to
 * the stream and resolves only when JetStream has acknowledged every message
 * of it. Never buffers: past `maxInFlight` waiting requests, with the stream
 * full or NATS away, it refuses at once with a QueueBusyError (429 or 503
 * with Retry-After), and the client retries.
 */
import { JetStreamApiError } from '@nats-io/jetstream';
import { QueueBusyError } from '../core/errors.js';
import type { TraceLink, UsageEvent } from '../core/event.js';
import type { QueueConnection } from './connect.js';
import { encodeMessages } from './message.js';

export interface PublisherStats {
  /** Requests whose every message JetStream acknowledged. */
  requests: number;
  messages: number;
  /** Events and trace links in them. */
  records: number;
  /** Messages JetStream had already (a resend within the duplicate window). */
  duplicates: number;
  /** Requests refused: stream full or too many waiting (429). */
  full: number;
  /** Requests refused: NATS did not answer or acknowledge (503). */
  failures: number;
}

/** JetStream's codes for a stream at its limits (bytes, messages, account storage). */
const FULL_CODES = new Set([10077, 10078, 10047, 10027, 10028]);

export interface PublishedRequest {
  messages: number;
  duplicates: number;
}

export class QueuePublisher {
  readonly stats: PublisherStats = {
    requests: 0,
    messages: 0,
    records: 0,
    duplicates: 0,
    full: 0,
    failures: 0,
  };
  private inFlight = 0;

  constructor(
    private readonly conn: QueueConnection,
    /** Requests waiting for JetStream at once; the bound on what a replica holds in memory. */
    private readonly maxInFlight = 512,
  ) {}

  async publish(
    label: string,
    events: readonly UsageEvent[],
    links: readonly TraceLink[],
  ): Promise<PublishedRequest> {
    if (this.inFlight >= this.maxInFlight) {
      this.stats.full++;
      throw new QueueBusyError(
        'queue_full',
        `this replica has ${this.maxInFlight} requests waiting for the queue; retry`,
        1,
      );
    }
    if (!this.conn.connected()) {
      this.stats.failures++;
      throw new QueueBusyError('queue_unavailable', 'the ingest queue (NATS) is not reachable; retry', 2);
    }
    const messages = encodeMessages(label, events, links, this.conn.nc.info?.max_payload ?? 1024 * 1024);
    this.inFlight++;
    try {
      const acks = await Promise.all(
        messages.map((m) => this.conn.js.publish(this.conn.settings.subject, m.data, { msgID: m.id })),
      );
      const duplicates = acks.filter((a) => a.duplicate).length;
      this.stats.requests++;
      this.stats.messages += messages.length;
      this.stats.duplicates += duplicates;
      this.stats.records += messages.reduce((n, m) => n + m.records, 0);
      return { messages: messages.length, duplicates };
    } catch (e) {
      throw this.refusal(e);
    } finally {
      this.inFlight--;
    }
  }

  /** What a failed publish tells the client: full (429) or unavailable (503), counted. */
  private refusal(e: unknown): QueueBusyError {
    if (e instanceof JetStreamApiError && FULL_CODES.has(e.code)) {
      this.stats.full++;
      return new QueueBusyError('queue_full', `the ingest stream is full (${e.message}); retry later`, 5);
    }
    this.stats.failures++;
    const why = e instanceof Error ? e.message : String(e);
    return new QueueBusyError('queue_unavailable', `the ingest queue did not acknowledge (${why}); retry`, 2);
  }
}

/**
 * The connection to NATS and the JetStream stream and consumer tally uses
 * (SPEC §10). Replicas and workers create the stream when it is missing,
 * workers the consumer; an existing one keeps the settings it has.
 */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { UsageError } from '../core/errors.js';
import type { QueueSettings } from '../core/queue-url.js';

export interface QueueConnection {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  settings: QueueSettings;
  /** False between a disconnect and the reconnect: publishes then fail at once instead of buffering. */
  connected(): boolean;
  close(): Promise<void>;
}

const NANOS_PER_MS = 1_000_000;

/** Connects (trying every server of the URL) and follows the connection's state; reconnects forever. */
export async function connectQueue(settings: QueueSettings, name: string): Promise<QueueConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: settings.servers,
      name,
      ...(settings.user === null ? {} : { user: settings.user, pass: settings.pass ?? '' }),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: 5_000,
      pingInterval: 5_000,
    });
  } catch (e) {
    throw new UsageError(
      `cannot reach NATS at ${settings.servers.join(', ')}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  let up = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') up = false;
      else if (s.type === 'reconnect') up = true;
    }
  })();
  // No API check here: a cluster still electing its leader answers later; ensureStream says so.
  const jsm = await jetstreamManager(nc, { timeout: 5_000, checkAPI: false });
  return {
    nc,
    js: jetstream(nc, { timeout: 5_000 }),
    jsm,
    settings,
    connected: () => up && !nc.isClosed(),
    async close() {
      if (!nc.isClosed()) await nc.drain().catch(() => nc.close());
    },
  };
}

/**
 * The stream: one subject, work-queue retention (a message is removed once a
 * worker acknowledges it, so `max_bytes` bounds what is waiting, not what was
 * ever sent), new messages refused when full, file storage, the duplicate window.
 */
export async function ensureStream(conn: QueueConnection): Promise<void> {
  const s = conn.settings;
  if (
    await conn.jsm.streams.info(s.stream).then(
      () => true,
      () => false,
    )
  )
    return;
  await conn.jsm.streams.add({
    name: s.stream,
    subjects: [s.subject],
    num_replicas: s.replicas,
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_bytes: s.maxBytes,
    max_age: s.maxAgeMs * NANOS_PER_MS,
    duplicate_window: Math.min(s.duplicateWindowMs, s.maxAgeMs) * NANOS_PER_MS,
  });
}

/** The workers' durable pull consumer: explicit acks, redelivered after `ack_wait`, never given up on. */
export async function ensureConsumer(conn: QueueConnection): Promise<void> {
  const s = conn.settings;
  if (
    await conn.jsm.consumers.info(s.stream, s.consumer).then(
      () => true,
      () => false,
    )
  )
    return;
  await conn.jsm.consumers.add(s.stream, {
    durable_name: s.consumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: s.ackWaitMs * NANOS_PER_MS,
    max_deliver: -1,
    max_ack_pending: 10_000,
  });
}

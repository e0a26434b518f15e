/**
 * The queue as an operator sees it (`tally status`, the workers' `/metrics`):
 * what waits in the stream, how old the oldest waiting message is, and the
 * consumer's delivered-but-unacknowledged and redelivered counts. With
 * work-queue retention the stream holds exactly what no worker has committed
 * yet, so its first message is the oldest one not yet in the store.
 */
import type { QueueConnection } from './connect.js';

export interface QueueStatus {
  stream: string;
  subject: string;
  replicas: number;
  /** The cluster's current leader for the stream and its peers (null on a single server). */
  leader: string | null;
  peers: Array<{ name: string; current: boolean; offline: boolean }>;
  maxBytes: number;
  bytes: number;
  /** Share of `maxBytes` in use, 0 to 1: at 1 replicas answer 429. */
  fill: number;
  consumer: string;
  /** Messages not yet committed (waiting plus delivered and unacknowledged). */
  lagMessages: number;
  /** Age of the oldest message not yet committed, seconds; 0 when none waits. */
  lagSeconds: number;
  /** Delivered to a worker, not acknowledged yet. */
  ackPending: number;
  /** Messages delivered again (their worker died or took longer than `ack_wait`). */
  redelivered: number;
  /** Workers waiting in a fetch right now. */
  waitingWorkers: number;
}

export async function queueStatus(conn: QueueConnection, now: number): Promise<QueueStatus> {
  const { stream, consumer } = conn.settings;
  const info = await conn.jsm.streams.info(stream);
  const ci = await conn.jsm.consumers.info(stream, consumer).catch(() => null);
  const st = info.state;
  const first = st.messages > 0 ? Date.parse(st.first_ts) : Number.NaN;
  return {
    stream,
    subject: conn.settings.subject,
    replicas: info.config.num_replicas,
    leader: info.cluster?.leader ?? null,
    peers: (info.cluster?.replicas ?? []).map((p) => ({
      name: p.name,
      current: p.current,
      offline: p.offline,
    })),
    maxBytes: info.config.max_bytes,
    bytes: st.bytes,
    fill: info.config.max_bytes > 0 ? st.bytes / info.config.max_bytes : 0,
    consumer,
    lagMessages: st.messages,
    lagSeconds: Number.isNaN(first) ? 0 : Math.max(0, (now - first) / 1000),
    ackPending: ci?.num_ack_pending ?? 0,
    redelivered: ci?.num_redelivered ?? 0,
    waitingWorkers: ci?.num_waiting ?? 0,
  };
}

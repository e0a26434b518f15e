/**
 * The worker's side (SPEC §10): fetches a batch from the durable pull
 * consumer, commits it to the store (one transaction per label, through the
 * Store port, which dedupes by (source, id)), and acknowledges the messages
 * only after their commit. Killed at any point it loses nothing (what is not
 * acknowledged is delivered again) and doubles nothing (what was committed
 * comes back as duplicates).
 */
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import { CommitTimes } from '../store/commit-times.js';
import type { IngestChunk, IngestResult, Store } from '../store/store.js';
import type { QueueConnection } from './connect.js';
import { decodeMessage, type QueuedBatch } from './message.js';

export interface WorkerStats {
  /** Messages committed and acknowledged. */
  messages: number;
  /** Events newly stored, found already stored, and stored as a new version. */
  committed: number;
  duplicates: number;
  superseded: number;
  batches: number;
  /** Messages delivered more than once (a worker died or was too slow before acknowledging). */
  redeliveries: number;
  /** Commits that failed (the store was away): their messages come back after a pause. */
  failures: number;
  /** Messages that are not tally's (not decodable): terminated, never retried. */
  poison: number;
}

export interface WorkerOptions {
  /** Messages per fetch (each holds one request's events, or part of a big one). */
  batch: number;
  /** How long a fetch waits for messages when the stream is empty (at least 1 s, as NATS requires). */
  waitMs: number;
  log?: (line: string) => void;
}

interface Decoded {
  msg: JsMsg;
  batch: QueuedBatch;
}

export class QueueWorker {
  readonly stats: WorkerStats = {
    messages: 0,
    committed: 0,
    duplicates: 0,
    superseded: 0,
    batches: 0,
    redeliveries: 0,
    failures: 0,
    poison: 0,
  };
  /** How long each commit took (its metrics). */
  readonly commitTimes = new CommitTimes();
  private stopping = false;

  constructor(
    private readonly conn: QueueConnection,
    private readonly store: Store,
    private readonly opts: WorkerOptions,
  ) {}

  /** Asks the loop to stop after the batch in hand is committed and acknowledged. */
  stop(): void {
    this.stopping = true;
  }

  /** Consumes until `stop()`. */
  async run(): Promise<void> {
    const consumer = await this.conn.js.consumers.get(this.conn.settings.stream, this.conn.settings.consumer);
    while (!this.stopping) {
      const msgs = await this.fetch(consumer);
      if (msgs.length > 0) await this.handle(msgs);
    }
  }

  private async fetch(consumer: Consumer): Promise<JsMsg[]> {
    const msgs: JsMsg[] = [];
    try {
      const expires = Math.max(1_000, this.opts.waitMs);
      const it = await consumer.fetch({ max_messages: this.opts.batch, expires });
      for await (const m of it) msgs.push(m);
    } catch (e) {
      // NATS away or a leader moving: what was fetched is still ours to commit; the next fetch retries.
      this.opts.log?.(`fetch failed: ${e instanceof Error ? e.message : String(e)}`);
      if (msgs.length === 0) await sleep(250);
    }
    return msgs;
  }

  /** Decodes, commits and acknowledges one fetched batch. */
  private async handle(msgs: JsMsg[]): Promise<void> {
    const decoded: Decoded[] = [];
    for (const msg of msgs) {
      if (msg.info.deliveryCount > 1) this.stats.redeliveries++;
      const batch = decodeMessage(msg.data);
      if (batch === null) {
        this.stats.poison++;
        this.opts.log?.(`message ${msg.seq} is not a tally message: set aside`);
        msg.term();
      } else decoded.push({ msg, batch });
    }
    // While the batch is committed, its messages stay ours (`working`), so a slow commit is not handed to another worker.
    const keepAlive = setInterval(
      () => {
        for (const d of decoded) d.msg.working();
      },
      Math.max(500, this.conn.settings.ackWaitMs / 3),
    );
    try {
      for (const [label, group] of byLabel(decoded)) await this.commit(label, group);
    } finally {
      clearInterval(keepAlive);
    }
    await this.conn.nc.flush().catch(() => undefined);
  }

  /** One transaction for the messages of one label, then their acks; a failed one is handed back after a pause. */
  private async commit(label: string, group: Decoded[]): Promise<void> {
    let result: IngestResult;
    try {
      const chunks: IngestChunk[] = group.map((d) => ({ events: d.batch.events, links: d.batch.links }));
      result = await this.commitTimes.time(() => this.store.ingest(label, chunks));
    } catch (e) {
      this.stats.failures++;
      this.opts.log?.(
        `commit failed, ${group.length} messages handed back: ${e instanceof Error ? e.message : String(e)}`,
      );
      for (const d of group) d.msg.nak(1_000);
      await sleep(1_000);
      return;
    }
    for (const d of group) d.msg.ack();
    this.count(result, group.length);
  }

  private count(result: IngestResult, messages: number): void {
    this.stats.messages += messages;
    this.stats.committed += result.stored;
    this.stats.duplicates += result.duplicates;
    this.stats.superseded += result.superseded;
    this.stats.batches++;
  }
}

function byLabel(decoded: readonly Decoded[]): Map<string, Decoded[]> {
  const groups = new Map<string, Decoded[]>();
  for (const d of decoded) {
    const g = groups.get(d.batch.label);
    if (g) g.push(d);
    else groups.set(d.batch.label, [d]);
  }
  return groups;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

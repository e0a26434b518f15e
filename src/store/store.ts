/**
 * The Store port. Every adapter (duckdb/, later postgres/) implements it and
 * passes the same contract suite (test/store/contract.ts). SQL lives only in
 * the adapters.
 */
import type { UsageEvent } from '../core/event.js';
import type { SelectorTuple, UsageGroup, UsageQuery } from '../core/usage.js';

export interface IngestResult {
  /** Sequence number of the batch recorded, or null when nothing new was stored. */
  batch: number | null;
  stored: number;
  duplicates: number;
}

/** One recorded ingest batch (SPEC §7). */
export interface BatchRecord {
  seq: number;
  /** What was ingested: the format and, for files, the file's base name (information only). */
  label: string;
  count: number;
  /** SHA-256 (hex) of the batch's canonical content. */
  contentSha256: string;
  /** SHA-256 (hex) over the previous batch's chain hash and this batch. */
  chainSha256: string;
  ingestedAt: number;
}

export interface VerifyResult {
  ok: boolean;
  batches: number;
  events: number;
  /** The first batch that no longer matches, with what is wrong. */
  firstBad: { seq: number; reason: string } | null;
  head: string | null;
}

export interface StoreCounters {
  events: number;
  duplicates: number;
  rejected: number;
  batches: number;
}

export interface Store {
  /**
   * Stores the events as one atomic batch: either every new event is stored
   * and the batch recorded in the chain, or nothing is. Events already stored
   * (same source and id, also within the batch) are counted as duplicates.
   */
  ingest(label: string, chunks: AsyncIterable<UsageEvent[]> | Iterable<UsageEvent[]>): Promise<IngestResult>;
  /**
   * Optional bulk path for canonical `jsonl`/`csv` files: the database parses
   * and validates the file itself. Same contract as `ingest`; when any record
   * is invalid nothing is stored and a TallyError `invalid_input` is thrown
   * without locations (run the parser to get them).
   */
  ingestCanonicalFile?(
    path: string,
    format: 'jsonl' | 'csv',
    opts: { label: string; now: number },
  ): Promise<IngestResult>;
  /** Every distinct selector tuple (api_key, service, agent, project) in the events. */
  selectorTuples(): Promise<SelectorTuple[]>;
  /** The usage groups of a window (see core/usage.ts). */
  usageGroups(q: UsageQuery): Promise<UsageGroup[]>;
  /** Adds to the rejected-record counter (records quarantined with --skip-invalid or refused by the server). */
  countRejected(n: number): Promise<void>;
  counters(): Promise<StoreCounters>;
  batches(): Promise<BatchRecord[]>;
  /** The chain hash of the last batch, or null for an empty store. */
  auditHead(): Promise<string | null>;
  /** Recomputes every batch hash and the chain from the stored events. */
  verify(): Promise<VerifyResult>;
  close(): Promise<void>;
}

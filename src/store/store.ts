/**
 * The Store port. Every adapter (duckdb/, later postgres/) implements it and
 * passes the same contract suite (test/store/contract.ts). SQL lives only in
 * the adapters.
 */
import type { Selector } from '../core/config.js';
import type { TraceLink, UsageEvent } from '../core/event.js';
import type { SelectorUsage } from '../core/posture.js';
import type { EvidenceFilter, EvidenceSample, SignalFacts, SignalQuery } from '../core/signals/facts.js';
import type { SelectorTuple, UsageGroup, UsageQuery } from '../core/usage.js';

/** At most this many events share one id across sources in an answer of `eventsById`. */
export const MAX_SOURCES_PER_ID = 100;

export interface IngestResult {
  /** Sequence number of the batch recorded, or null when nothing new was stored. */
  batch: number | null;
  stored: number;
  duplicates: number;
  /**
   * Records that replaced a stored event of the same source and id with
   * different content (a re-fetched usage bucket, a corrected event; SPEC
   * §3.3), or an earlier record of the same input: the log keeps every
   * version, statements use the latest.
   */
  superseded: number;
  /** Trace links newly stored (spans that are not AI work, SPEC §3.2); 0 when none were given. */
  links?: number;
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
  /** Records that replaced a stored version (SPEC §3.3). */
  superseded: number;
  rejected: number;
  /** Records valid but not usage: OTLP spans that are not AI work (SPEC §3.2). */
  ignored: number;
  batches: number;
}

/** A statement frozen with `--issue` (SPEC §5.3). */
export interface IssuedStatement {
  period: string;
  /** 1 for the first issue of a period, then 2, 3, … */
  version: number;
  issuedAt: number;
  contentSha256: string;
  configSha256: string;
  auditHead: string | null;
  /** The statement JSON as issued. */
  body: string;
}

/** Keyset cursor of the drill-down: the last event of the previous page. */
export interface EventKey {
  time: number;
  source: string;
  id: string;
}

export interface EventsPageQuery {
  from: number;
  to: number;
  /** Only this trace. */
  trace?: string | null;
  after?: EventKey | null;
  limit: number;
  /**
   * Only events that `own` selectors match (core/selectors.ts), or that
   * `shared` selectors match in a trace where some span matches `own` (work
   * that may roll up to an invoker).
   */
  match?: { own: Selector[]; shared: Selector[] };
  /** Only events that claim this tenant, or claim none and are in a trace (they may inherit one). */
  tenant?: string;
  /** Only events with this provider / model (null: none). */
  provider?: string | null;
  model?: string | null;
}

/**
 * One span of a trace (an event's or a kept trace link's): what walking up to
 * an invoker or an inherited tenant needs, and whether it carries tokens
 * (core/ai-work.ts: which spans are wrappers).
 */
export type TraceSpan = TraceLink & { usage: boolean };

/**
 * What one step of an ingest hands the store: events, and the trace links of
 * spans that are not AI work (SPEC §3.2). A plain array is events only.
 */
export interface IngestChunk {
  events: UsageEvent[];
  links?: TraceLink[];
}

/** Events of [from, to) for a replay: those matching any of the selectors, or all of them without selectors. */
export interface EventWindowQuery {
  from: number;
  to: number;
  /** Registry selectors: an event matches one when every field the selector names equals the event's. */
  match?: readonly Selector[];
  /**
   * Also return the other spans of the traces of those events that lie within
   * this many milliseconds of the window (spans may repeat in the result).
   */
  traceMargin?: number;
  /** At most this many rows (a bound on what one read may load). */
  limit?: number;
}

/**
 * What one statement reads (SPEC §5.3): every call sees the same committed
 * state of the store, so an ingest that commits meanwhile is either wholly in
 * or wholly out.
 */
export interface StoreSnapshot {
  selectorTuples(): Promise<SelectorTuple[]>;
  usageGroups(q: UsageQuery): Promise<UsageGroup[]>;
  /**
   * The same groups, handed to `each` one by one as they are read and kept
   * nowhere: a month's statement attributes a million groups without holding
   * them all (a group kept until the end cost its copying by the collector).
   */
  eachUsageGroup(q: UsageQuery, each: (g: UsageGroup) => void): Promise<void>;
  auditHead(): Promise<string | null>;
  issuedStatement(period: string): Promise<IssuedStatement | null>;
  latestEventTime(): Promise<number | null>;
}

export interface Store {
  /**
   * Runs `body` against one consistent snapshot of the store (a read
   * transaction of its own); writers are not held up meanwhile.
   */
  snapshot<T>(body: (s: StoreSnapshot) => Promise<T>): Promise<T>;
  /**
   * Stores the events as one atomic batch: either every new event is stored
   * and the batch recorded in the chain, or nothing is. Events already stored
   * (same source and id, also within the batch) are counted as duplicates
   * when identical, and supersede the stored version when different.
   *
   * Trace links (chunks given as `IngestChunk`) are stored in the same batch:
   * a link whose (trace_id, span_id) is already stored, as a link or as an
   * event's span, is left out; the rest are covered by the batch's content
   * hash (so `verify` detects an edited or deleted link) and counted in
   * `links`; every walk up a trace (statement, drill-down, replay) reads
   * them like the spans of events. A batch with links but no new event is
   * still recorded.
   */
  ingest(
    label: string,
    chunks: AsyncIterable<UsageEvent[] | IngestChunk> | Iterable<UsageEvent[] | IngestChunk>,
  ): Promise<IngestResult>;
  /**
   * Optional: does part of `ingest`'s work for a chunk of events before the call (a server's
   * request, while the commit before it is under way). The same events array, passed to `ingest`
   * afterwards, is stored exactly as if this had not been called. Returns whether it did any.
   */
  prepareIngest?(events: readonly UsageEvent[]): boolean;
  /**
   * Optional: reads ahead what the first commit of a process that keeps writing would (`tally serve`),
   * and runs the `rehearsal` events through an ingest that stores nothing (rolled back).
   */
  warmWrites?(rehearsal?: UsageEvent[]): Promise<void>;
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
  /** Every distinct selector tuple (api_key, service, agent, project) in the events and the trace links. */
  selectorTuples(): Promise<SelectorTuple[]>;
  /** The usage groups of a window (see core/usage.ts). */
  usageGroups(q: UsageQuery): Promise<UsageGroup[]>;
  /** Adds to the rejected-record counter (records quarantined with --skip-invalid or refused by the server). */
  countRejected(n: number): Promise<void>;
  /** Adds to the ignored-record counter (spans that are not AI work, SPEC §3.2). */
  countIgnored(n: number): Promise<void>;
  counters(): Promise<StoreCounters>;
  batches(): Promise<BatchRecord[]>;
  /** The chain hash of the last batch, or null for an empty store. */
  auditHead(): Promise<string | null>;
  /** Recomputes every batch hash and the chain from the stored events. */
  verify(): Promise<VerifyResult>;
  /** Freezes a statement; issuing a period again adds a new version (service/issue.ts skips identical ones). */
  issueStatement(s: Omit<IssuedStatement, 'version' | 'issuedAt'>, now: number): Promise<IssuedStatement>;
  /** The latest issued version of a period, or null. */
  issuedStatement(period: string): Promise<IssuedStatement | null>;
  /**
   * A page of the events of [from, to), newest first (time, source, id
   * descending), strictly after `after` in that order; for the server's drill-down.
   */
  eventsPage(q: EventsPageQuery): Promise<UsageEvent[]>;
  /**
   * The live event with this id under `source`, or under every source when
   * `source` is null (ids are unique per source), ordered by source; at most
   * `MAX_SOURCES_PER_ID` rows (`tally explain`).
   */
  eventsById(id: string, source: string | null): Promise<UsageEvent[]>;
  /**
   * The spans of the given traces (every stored event with a span id, and
   * the trace links), to walk a trace tree; with `near`, only the events in
   * that time range (the links are always all read).
   */
  traceSpans(traceIds: readonly string[], near?: { from: number; to: number }): Promise<TraceSpan[]>;
  /** The time of the newest stored event, or null for an empty store. */
  latestEventTime(): Promise<number | null>;
  /** Records that a budget alert is being sent; false when `key` was recorded before (never send twice). */
  claimAlert(key: string, now: number): Promise<boolean>;
  /** Forgets a claimed alert whose delivery failed, so that it is tried again. */
  releaseAlert(key: string): Promise<void>;
  /** The events of a window, in no particular order (replay). */
  eventsInWindow(q: EventWindowQuery): Promise<UsageEvent[]>;
  /** Every stored event of these traces, whatever its time, in no particular order. */
  traceEvents(traceIds: readonly string[]): Promise<UsageEvent[]>;
  /** Event counts per selector tuple and claimed environment in [from, to). */
  selectorUsage(window: { from: number; to: number }): Promise<SelectorUsage[]>;
  /** How many traces the events of the window hold (the sampling units `tally sampling` holds: SPEC §11). */
  samplingTraces(window: { from: number; to: number }): Promise<number>;
  /** The aggregates behind the behavioural signal rules (core/signals/facts.ts). */
  signalFacts(q: SignalQuery): Promise<SignalFacts>;
  /** First and last time, count and the earliest `limit` ids of the events each filter selects. */
  signalEvidence(filters: readonly EvidenceFilter[], limit: number): Promise<EvidenceSample[]>;
  close(): Promise<void>;
}

/** What a read that hands its rows to a visitor (`eachUsageGroup`) hands over, as one array. */
export async function collect<T>(read: (each: (item: T) => void) => Promise<void>): Promise<T[]> {
  const items: T[] = [];
  await read((item) => {
    items.push(item);
  });
  return items;
}

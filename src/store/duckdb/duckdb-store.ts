/**
 * The embedded DuckDB adapter of the Store port (SPEC §7, §10): one file, one
 * connection, operations run one at a time.
 */
import { open, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type {
  DuckDBAppender,
  DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  DuckDBMaterializedResult,
  DuckDBType,
  DuckDBValue,
} from '@duckdb/node-api';
import { LimitError, StoreError, StoreHeldError, TallyError } from '../../core/errors.js';
import {
  ALL_EVENT_FIELDS,
  EVENT_FIELDS,
  RICH_COUNT_FIELDS,
  RICH_FIELDS,
  SAMPLING_FIELDS,
  type TraceLink,
  type UsageEvent,
  unitsText,
} from '../../core/event.js';
import type { SelectorUsage } from '../../core/posture.js';
import type { EvidenceFilter, EvidenceSample, SignalFacts, SignalQuery } from '../../core/signals/facts.js';
import { type SelectorTuple, type UsageGroup, type UsageQuery, varyingPairs } from '../../core/usage.js';
import {
  type BatchContent,
  batchContent,
  ContentHasher,
  chainHash,
  contentFromBuckets,
  contentFromRowTexts,
  GENESIS,
  LINK_FIELDS,
  linkBucketHashesSql,
  linkRowTextsSql,
  RECORDED_BATCHES_SQL,
  RowTextHasher,
  readsBack,
  recordedBatches,
  rowDigest,
  rowHashesSql,
  rowText,
  rowTextsSql,
  supersededCheck,
  verdict,
} from '../audit.js';
import {
  sqlInt as int,
  num,
  type Row,
  rowToEvent,
  rowToSelectorUsage,
  rowToSpan,
  samplingTracesSql,
  storedText,
} from '../rows.js';
import type {
  BatchRecord,
  EventsPageQuery,
  EventWindowQuery,
  IngestChunk,
  IngestResult,
  IssuedStatement,
  Store,
  StoreCounters,
  StoreSnapshot,
  TraceSpan,
  VerifyResult,
} from '../store.js';
import { collect, MAX_SOURCES_PER_ID } from '../store.js';
import { traceSpansSql } from '../window-sql.js';
import { DUCKDB_AUDIT } from './audit.js';
import { type CanonicalFormat, canonicalSelectSql, JSON_KINDS } from './canonical-sql.js';
import {
  appenderTypes,
  appendHeld,
  ChunkRows,
  type ChunkWriter,
  HeldRows,
  type RowSink,
} from './chunk-rows.js';
import { takeContextCensus } from './context-census.js';
import { eventsByIdSql, eventsPageSql, TENANT_PAGE_TABLES, tenantPageSql } from './drilldown-sql.js';
import {
  type KeyScan,
  type KeyScanResult,
  MIN_ASIDE_BYTES,
  scanJsonKeysAside,
  scanJsonKeysHere,
} from './json-key-scan.js';
import { KeyFilter, keyHashesSql } from './key-filter.js';
import { type AsidePolicy, logContent, textContent } from './log-content.js';
import {
  DUCKDB_WINDOW,
  eventsOf,
  nearbySql,
  selectedSql,
  selectorUsageSql,
  traceEventsSql,
} from './replay-sql.js';
import { insertHashingSql, RowTextSink } from './row-text-sink.js';
import {
  ALL_EVENT_COLUMNS_DDL,
  LOG_ROW_ORDER,
  liveEventsViewSql,
  MIGRATIONS,
  TYPED_FIELDS,
} from './schema.js';
import { type KeysMemo, readSignalEvidence, readSignalFacts } from './signals-sql.js';
import { type TupleCensus, takeCensus } from './tuple-census.js';
import { type ChunkDb, readGroups, wantedOwners } from './usage-read.js';
import { groupsCarryUnits, ts, usageGroupsSql, usageSetupParts, windowOf } from './usage-sql.js';
import { keepTable, MemoGate, memoKey, recallTable, WalkMemo } from './walk-memo.js';

/**
 * The DuckDB client, required as the CommonJS package it is: imported from an
 * ES module, Node first reads every file of it for its exports, which took
 * longer than loading it (a cold start: ~0.4 s against ~0.13 s, load ~6).
 */
const duckdb = createRequire(import.meta.url)('@duckdb/node-api') as typeof import('@duckdb/node-api');

export interface DuckDBOptions {
  /** DuckDB settings passed at open, e.g. `memory_limit`, `threads`, `temp_directory`. */
  settings?: Record<string, string>;
  /** Batches up to this many events are hashed in Node from their row texts, larger ones by streaming their row hashes. */
  hashTextsMax?: number;
  /** Batches up to this many events are hashed in Node from their row texts (a server's requests). */
  hashInNodeMax?: number;
  /** A read query running longer is interrupted and fails with a LimitError (the server sets it). */
  readTimeoutMs?: number;
  /** Batches up to this many events check their keys against the in-memory key filter first. */
  keyFilterMax?: number;
  /** The key filter is built at this process's nth batch of at most `keyFilterMax` events. */
  keyFilterAfter?: number;
  /** `verify` hashes the log in windows of whole batches of up to this many events (memory: 32 bytes an event). */
  verifyWindow?: number;
  /** Which windows of `verify` are hashed in a worker thread, and its script (log-content.ts `AsidePolicy`). */
  verifyAside?: AsidePolicy;
  /** A snapshot keeps the trace walk it computed in the store for the next read of the same (walk-memo.ts). */
  keepWalks?: boolean;
}

/** How many stores of this process are open on each database file (walk-memo.ts `MemoGate`). */
const OPEN_FILES = new Map<string, number>();

const KNOWN_FIELDS: ReadonlySet<string> = new Set(ALL_EVENT_FIELDS);
const STAGE = 'tally_stage';
const LINK_STAGE = 'tally_stage_links';
const LINK_COLUMNS_DDL = LINK_FIELDS.map((f) => `${f} VARCHAR`).join(', ');
/** Two rows of the log (or staging) hold the same event: every canonical field equal. */
const SAME_CONTENT = (a: string, b: string) =>
  `(${ALL_EVENT_FIELDS.map((f) => `${a}.${f} IS NOT DISTINCT FROM ${b}.${f}`).join(' AND ')})`;

/**
 * For each key of `tally_repeats`, the row id of a row with its last record in `input` (the
 * input's records in its order, as stored): DuckDB numbers them as they stream
 * (`row_number() OVER ()` keeps the reader's order), only the first `records` of them, the ones
 * the batch was written from. Rows of identical content are the same record: any of them is kept.
 */
function keptByInputSql(input: string, records: number): string {
  return `SELECT max(r.lrow) AS krow FROM tally_repeats r JOIN (
    SELECT * FROM (SELECT *, row_number() OVER () AS input_row FROM (${input})) i
    SEMI JOIN (SELECT DISTINCT source, id FROM tally_repeats) k ON i.source = k.source AND i.id = k.id
    WHERE i.input_row <= ${Math.trunc(records)}
    QUALIFY i.input_row = max(i.input_row) OVER (PARTITION BY i.source, i.id)
  ) last ON r.source = last.source AND r.id = last.id AND ${SAME_CONTENT('r', 'last')}
  GROUP BY r.source, r.id`;
}

/**
 * Rows a batch lost after it was written: repeats within it (`removed`, of which `duplicates` were
 * identical and the rest superseded) and the digests of the rows deleted (`gone`: none deleted,
 * `[]`; not known, null).
 */
interface Removed {
  removed: number;
  duplicates: number;
  superseded: number;
  gone: readonly string[] | null;
}

const NONE_REMOVED: Removed = { removed: 0, duplicates: 0, superseded: 0, gone: [] };

/**
 * The hashes of the keys that occur more than once in batch `seq`. Grouped by the keys' hash, not
 * their texts: ~2.4× faster and ~60 MB less for 10M keys. A repeated key always repeats its hash;
 * a key that only shares one with another (at 10M keys, about one load in a million) is one
 * record of its own, and `keepLastRecords` keeps it as it keeps each repeated key's last.
 */
const repeatedKeyHashesSql = (seq: number) =>
  `SELECT hash(source, id) AS h FROM event_log WHERE batch_seq = ${seq} GROUP BY h HAVING count(*) > 1`;

/** A connection to read from: the store's own, or a snapshot's. */
type Db = ChunkDb;

/**
 * Up to this many events, a batch's row texts are read as bytes and hashed in Node (32 bytes a row
 * kept); above, its row hashes are computed and sorted by DuckDB and streamed (bounded memory).
 */
const HASH_TEXTS_MAX = 2_000_000;
/**
 * Up to this many events, a batch's row texts are read and hashed in Node: for a request of 1,000
 * events the database's grouped, ordered aggregate took most of the commit (37 of ~60 ms of CPU).
 */
const HASH_IN_NODE_MAX = 50_000;

/** `verify` reads the log's row texts on up to this many connections at once (one a DuckDB thread). */
const MAX_READERS = 8;

/**
 * Batches up to this many events check their keys against the in-memory key filter (`key-filter.ts`)
 * before asking SQL whether any was logged before; larger ones ask SQL, whose join is cheap for them.
 */
const KEY_FILTER_MAX = 50_000;
/** The filter is built (one scan of the stored keys) at this process's third small batch: a server, a worker. */
const KEY_FILTER_AFTER = 3;

/** The buffer cap while bulk-loading a file, so that ingesting 10M events stays within 1 GiB of memory. */
const BULK_MEMORY_LIMIT = '512MB';
/**
 * The cap for a file of at most SMALL_BULK_BYTES: under 512MB DuckDB loaded
 * B1's 1M-event file (685 MB) on about one core (10.2–10.7 → 7.3 s end to
 * end, peak 370 → 610 MiB); above it a larger cap costs more memory than
 * 1 GiB allows (3M events: peak 1,186 MiB). Since the rows are sorted into
 * the log's row order (LOG_ROW_ORDER), the sort fills the cap: at 640MB the
 * same file peaked at 918–1,025 MiB; at 576MB 803–842 MiB, ~9 % slower than
 * unsorted at 640MB; at 512MB 20–35 % slower.
 */
const SMALL_BULK_MEMORY_LIMIT = '576MB';
const SMALL_BULK_BYTES = 2 ** 30;

/** The key scan of a JSON lines file of `size` bytes: in a worker thread when it is large enough to be worth one. */
function keyScan(path: string, size: number): KeyScan {
  const job = { path, known: ALL_EVENT_FIELDS, kinds: JSON_KINDS };
  return size >= MIN_ASIDE_BYTES ? scanJsonKeysAside(job) : scanJsonKeysHere(job);
}

/** DuckDB's memory cap while `verify` runs (its superseded check groups keys and spills past it). */
const VERIFY_MEMORY_LIMIT = '256MB';

export class DuckDBStore implements Store {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Snapshots still reading: closing waits for them. */
  private readonly reading = new Set<Promise<unknown>>();
  /** The keys the log may hold (null: not built, or dropped when a batch bypassed it). */
  private keyFilter: KeyFilter | null = null;
  private smallBatches = 0;
  /** The log holds more keys than a filter may (memory cap): SQL alone, for good. */
  private keysBeyondFilter = false;
  /** What a `LinkStage` needs of the store. */
  private readonly stageDb: StageDb = {
    run: (sql) => this.run(sql),
    appenderOf: (table) => this.conn.createAppender(table),
  };
  /** The chain's head as this store last committed it (null: read it from the store). */
  private knownHead: ChainHead | null = null;
  /** The column types of the tables rows are appended to, read once (only a migration changes them, at open). */
  private readonly appendTypes = new Map<string, readonly DuckDBType[]>();
  /** Whether the log's columns are in `LOG_COLUMNS` order (null: not checked yet). */
  private logOrder: boolean | null = null;
  /** Requests' rows written ahead of their commit (`prepareIngest`), by their events. */
  private readonly prepared = new WeakMap<readonly UsageEvent[], PreparedRows>();
  /** Which snapshot may write the walk memo (walk-memo.ts): one at a time, in the file's only store of the process. */
  private readonly memoGate = new MemoGate(() => (OPEN_FILES.get(this.file) ?? 0) === 1);

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly hashTextsMax: number,
    private readonly readTimeoutMs: number | undefined,
    private readonly hashInNodeMax: number,
    private readonly keyFilterUse: { max: number; after: number },
    private readonly verifyWindow: number | undefined,
    private readonly verifyAside: AsidePolicy,
    /** The function that hands row texts to Node's hasher. */
    private readonly sink: RowTextSink,
    private readonly keepWalks: boolean,
    /** The database file's absolute path ('' in memory). */
    private readonly file: string,
  ) {
    if (file !== '') OPEN_FILES.set(file, (OPEN_FILES.get(file) ?? 0) + 1);
  }

  static async open(path: string, opts: DuckDBOptions = {}): Promise<DuckDBStore> {
    let instance: DuckDBInstance;
    try {
      instance = await duckdb.DuckDBInstance.create(path, opts.settings);
    } catch (e) {
      throw heldOrFailed(path, e);
    }
    const conn = await instance.connect();
    const store = new DuckDBStore(
      instance,
      conn,
      opts.hashTextsMax ?? HASH_TEXTS_MAX,
      opts.readTimeoutMs,
      opts.hashInNodeMax ?? HASH_IN_NODE_MAX,
      { max: opts.keyFilterMax ?? KEY_FILTER_MAX, after: opts.keyFilterAfter ?? KEY_FILTER_AFTER },
      opts.verifyWindow,
      opts.verifyAside ?? {},
      // Registered outside any transaction: one rolled back would take the function with it.
      RowTextSink.register(conn),
      opts.keepWalks ?? false,
      path === '' || path === ':memory:' ? '' : resolve(path),
    );
    await store.migrate();
    return store;
  }

  ingest(
    label: string,
    chunks: AsyncIterable<UsageEvent[] | IngestChunk> | Iterable<UsageEvent[] | IngestChunk>,
  ): Promise<IngestResult> {
    return this.serial(() =>
      this.transaction(async () => {
        const direct = Array.isArray(chunks) && (await this.appendsToLog()) ? directBatch(chunks) : null;
        return direct === null ? this.ingestStaged(label, chunks) : this.ingestDirect(label, direct);
      }),
    );
  }

  /**
   * Writes a request's log rows and row hashes ahead of the commit that will store them (a server
   * calls it as a request is queued, while the commit before it is under way): `ingest` then
   * appends them as written, when the events come as one of its chunks and go straight to the log.
   * Does nothing (returns false) until a commit has read the log's column order and types, and
   * for events it cannot write: `ingest` then refuses them as it always does.
   */
  prepareIngest(events: readonly UsageEvent[]): boolean {
    const types = this.appendTypes.get('event_log');
    if (this.logOrder !== true || types === undefined || events.length === 0) return false;
    try {
      this.prepared.set(events, prepareRows(types, events));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Reads what a server's first commit would (the log's column order and types), so that its first
   * requests are written ahead as the later ones are (`prepareIngest`) and their commit does not
   * read the catalog: a server's first requests took 140–250 ms against a median of ~45.
   * With a `rehearsal`, those events then go through the whole of a request's ingest (written
   * ahead, appended, checked, hashed, recorded as a batch) in a transaction that is rolled back:
   * the code of every step has run once before the first request, and nothing is stored.
   */
  warmWrites(rehearsal: UsageEvent[] = []): Promise<void> {
    return this.serial(async () => {
      if (!(await this.appendsToLog())) return;
      if (!this.appendTypes.has('event_log')) {
        const appender = await this.conn.createAppender('event_log');
        try {
          this.typesOf('event_log', appender);
        } finally {
          closeQuietly(appender);
        }
      }
      if (rehearsal.length > 0) await this.rehearse(rehearsal);
    });
  }

  /**
   * A request's ingest of `events`, rolled back (`warmWrites`). The chain's head goes back to what
   * it was. The key filter may keep the events' keys: it only ever answers "maybe logged" for
   * them, and SQL then says they are not.
   */
  private async rehearse(events: UsageEvent[]): Promise<void> {
    const head = this.knownHead;
    this.prepareIngest(events);
    await this.run('BEGIN TRANSACTION');
    try {
      await this.ingestDirect('rehearsal', [{ events }]);
    } finally {
      this.knownHead = head;
      await this.run('ROLLBACK');
    }
  }

  /** Stages every record, then inserts the last of each (source, id) into the log. */
  private async ingestStaged(
    label: string,
    chunks: AsyncIterable<UsageEvent[] | IngestChunk> | Iterable<UsageEvent[] | IngestChunk>,
  ): Promise<IngestResult> {
    await this.run(`CREATE OR REPLACE TEMP TABLE ${STAGE} (${ALL_EVENT_COLUMNS_DDL})`);
    const appender = await this.conn.createAppender(STAGE);
    const links = new LinkStage(this.stageDb);
    let offered = 0;
    try {
      const rows = this.chunkRows(STAGE, appender);
      for await (const chunk of chunks) {
        const events = Array.isArray(chunk) ? chunk : chunk.events;
        for (const e of events) appendEvent(rows, e);
        offered += events.length;
        if (!Array.isArray(chunk)) await links.add(chunk.links);
      }
      rows.flushSync();
      links.flush();
    } finally {
      closeQuietly(appender);
      links.close();
    }
    // Of the records with the same (source, id) in one input, the last is the one stored.
    const hashed = new RowTextHasher(this.hashTextsMax);
    const result = await this.appendBatch(
      label,
      Date.now(),
      (seq) =>
        this.insertRows(
          `SELECT * EXCLUDE (last), ${seq} AS batch_seq FROM (
            SELECT *, row_number() OVER (PARTITION BY source, id ORDER BY rowid DESC) = 1 AS last FROM ${STAGE})
          WHERE last`,
          hashed,
        ),
      { offered, withLinks: links.staged, hashed },
    );
    await this.run(`DROP TABLE ${STAGE}`);
    await links.drop();
    return result;
  }

  /**
   * A batch given as a list whose keys are all distinct (a server's request
   * or group commit): appended straight to the log under its batch number,
   * without a staging table and the copy out of it (measured: ~55 against
   * ~32 ms of store time for 1,000 events). The same rows as `ingestStaged`
   * stores, since it would keep every record of such a batch.
   */
  private async ingestDirect(label: string, batch: IngestChunk[]): Promise<IngestResult> {
    let offered = 0;
    let linked = 0;
    for (const chunk of batch) {
      offered += chunk.events.length;
      linked += chunk.links?.length ?? 0;
    }
    const links = new LinkStage(this.stageDb, linked);
    try {
      for (const chunk of batch) await links.add(chunk.links);
      links.flush();
    } finally {
      links.close();
    }
    const hashed = new RowTextHasher();
    const result = await this.appendBatch(
      label,
      Date.now(),
      async (seq) => {
        const appender = await this.conn.createAppender('event_log');
        try {
          const rows = this.chunkRows('event_log', appender, offered);
          for (const chunk of batch)
            appendLogRows(rows, chunk.events, this.prepared.get(chunk.events), seq, hashed);
          rows.flushSync();
        } finally {
          closeQuietly(appender);
        }
        return offered;
      },
      { offered, withLinks: links.staged, hashed },
    );
    await links.drop();
    return result;
  }

  /**
   * Whether the log's columns are in the order `appendEvent` writes them with a batch number (the
   * canonical fields of the first migration, the batch number, the later ones): checked once.
   */
  private async appendsToLog(): Promise<boolean> {
    if (this.logOrder === null) {
      const rows = await this.rows(
        `SELECT column_name AS c FROM duckdb_columns() WHERE table_name = 'event_log' AND NOT internal ORDER BY column_index`,
      );
      this.logOrder = rows.map((r) => String(r.c)).join(',') === LOG_COLUMNS.join(',');
    }
    return this.logOrder;
  }

  /**
   * Ingests a canonical `jsonl` or `csv` file with DuckDB's own reader. Any
   * invalid record, or a file DuckDB cannot read, rolls everything back and
   * throws a TallyError `invalid_input`; the JS parser then tells where.
   */
  ingestCanonicalFile(
    path: string,
    format: CanonicalFormat,
    opts: { label: string; now: number },
  ): Promise<IngestResult> {
    return this.serial(async () => {
      const columns = format === 'csv' ? await csvHeader(path) : [...ALL_EVENT_FIELDS];
      // DuckDB reads only the columns it is given: every other key, and a text field holding a
      // number, is found by a scan of the file's bytes (in a worker thread for a large file) while
      // the query runs.
      const { size } = await stat(path);
      const scan = format === 'jsonl' ? keyScan(path, size) : null;
      const keys = scan?.result.catch(
        (e: unknown): KeyScanResult => ({ ok: false, line: 0, reason: `cannot read: ${message(e)}` }),
      );
      try {
        return await this.bulkInsert(path, size, format, columns, opts, keys ?? null);
      } finally {
        scan?.stop();
        await keys;
      }
    });
  }

  /** The bulk insert in one transaction, committed only when the key scan (if any) found every key known. */
  private async bulkInsert(
    path: string,
    size: number,
    format: CanonicalFormat,
    columns: readonly string[],
    opts: { label: string; now: number },
    keys: Promise<KeyScanResult> | null,
  ): Promise<IngestResult> {
    const select = canonicalSelectSql(path, format, columns, opts.now);
    // A file of any size loads in bounded memory: DuckDB spills what does not fit.
    const [row] = await this.rows(`SELECT current_setting('memory_limit') AS v`);
    const limit = `SET memory_limit = ${sqlText(String(row?.v))}`;
    const small = size <= SMALL_BULK_BYTES;
    await this.run(`SET memory_limit = '${small ? SMALL_BULK_MEMORY_LIMIT : BULK_MEMORY_LIMIT}'`);
    try {
      return await this.transaction(async () => {
        // A file over 1 GiB holds more rows than the hasher keeps: read back (in SQL) as before.
        const hashed = small ? new RowTextHasher(this.hashTextsMax) : undefined;
        const result = await this.appendBatch(
          opts.label,
          opts.now,
          (seq) => this.insertRows(`SELECT *, ${seq} AS batch_seq FROM (${select})`, hashed),
          {
            hashed,
            inInputOrder: `SELECT ${TYPED_FIELDS} FROM (${select})`,
            // A batch hashed from its row texts (up to two million events) is read back under the store's
            // own cap: under the bulk cap the rows just written came back from disk (twice the time in SQL).
            afterInsert: async (inserted) => {
              if (inserted <= this.hashTextsMax) await this.run(limit);
            },
          },
        ).catch((e: unknown) => {
          // Only the first statement reads the file; its failures are the file's.
          if (e instanceof StoreError && e.query?.includes(select))
            throw invalid(path, format, message(e.cause));
          throw e;
        });
        const scan = await keys;
        if (scan && !scan.ok)
          throw invalid(path, format, `line ${scan.line}: ${scan.reason}${scan.key ? ` "${scan.key}"` : ''}`);
        // A batch that lost rows is written again by its COMMIT: a file over 1 GiB does it under
        // the bulk cap (under the store's, 1.6M events took it to 1.2 GB).
        if (!small && result.duplicates + result.superseded > 0)
          await this.run(`SET memory_limit = '${BULK_MEMORY_LIMIT}'`);
        return result;
      });
    } finally {
      await this.run(limit);
    }
  }

  countIgnored(n: number): Promise<void> {
    return this.serial(async () => {
      await this.run(`UPDATE counters SET value = value + ${int(n)} WHERE name = 'ignored'`);
    });
  }

  countRejected(n: number): Promise<void> {
    return this.serial(async () => {
      await this.run(`UPDATE counters SET value = value + ${int(n)} WHERE name = 'rejected'`);
    });
  }

  counters(): Promise<StoreCounters> {
    return this.serial(async () => {
      const [row] = await this.rows(`
        SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM batches) AS batches,
               (SELECT value FROM counters WHERE name = 'duplicates') AS duplicates,
               (SELECT value FROM counters WHERE name = 'superseded') AS superseded,
               (SELECT value FROM counters WHERE name = 'rejected') AS rejected,
               (SELECT value FROM counters WHERE name = 'ignored') AS ignored`);
      return {
        events: num(row?.events),
        duplicates: num(row?.duplicates),
        superseded: num(row?.superseded),
        rejected: num(row?.rejected),
        ignored: num(row?.ignored),
        batches: num(row?.batches),
      };
    });
  }

  batches(): Promise<BatchRecord[]> {
    return this.serial(async () => {
      const rows = await this.rows(
        `SELECT seq, label, count, content_sha256, chain_sha256, epoch_ms(ingested_at) AS ingested_at FROM batches ORDER BY seq`,
      );
      return rows.map((r) => ({
        seq: num(r.seq),
        label: String(r.label),
        count: num(r.count),
        contentSha256: String(r.content_sha256),
        chainSha256: String(r.chain_sha256),
        ingestedAt: num(r.ingested_at),
      }));
    });
  }

  auditHead(): Promise<string | null> {
    return this.serial(() => this.head());
  }

  /**
   * A read transaction on a connection of its own: DuckDB's MVCC gives it the
   * state committed when it starts, whatever the store's connection commits
   * meanwhile (SPEC §5.3).
   */
  snapshot<T>(body: (s: StoreSnapshot) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError('the store is closed'));
    const ends: Promise<void>[] = [];
    const read = this.read(body, (end) => ends.push(end));
    // Closing waits for the snapshot's end too (its walk being kept after its answer was handed over).
    const ended = () => Promise.all(ends).then(() => undefined);
    const settled = read.then(ended, ended).catch(() => undefined);
    this.reading.add(settled);
    void settled.then(() => this.reading.delete(settled));
    return read;
  }

  /**
   * Runs `body` on a snapshot of its own. Once it answered, the snapshot ends
   * in the background (`onEnd`): it keeps the walk it computed, if it may
   * (walk-memo.ts), while the caller goes on with the answer.
   */
  private async read<T>(
    body: (s: StoreSnapshot) => Promise<T>,
    onEnd: (end: Promise<void>) => void,
  ): Promise<T> {
    let conn: DuckDBConnection;
    try {
      conn = await this.instance.connect();
    } catch (e) {
      throw new StoreError(`cannot read the store: ${message(e)}`, undefined, e);
    }
    const db = this.dbOn(conn);
    let queue: Promise<unknown> = Promise.resolve();
    const serial = <R>(op: () => Promise<R>): Promise<R> => {
      const next = queue.then(op, op);
      queue = next.catch(() => undefined);
      return next;
    };
    // The census of this transaction: the selector tuples first asked for, then the groups' keys.
    let census: TupleCensus | undefined;
    const counted = async () => {
      census ??= await takeCensus(db);
      return census;
    };
    // Read before the snapshot is fixed: a memo written after it began is newer than the snapshot.
    const memo = new WalkMemo(this.memoGate, this.keepWalks ? this.memoGate.generation : null);
    let result: T;
    try {
      await db.run('BEGIN TRANSACTION');
      // DuckDB fixes a transaction's snapshot at its first read.
      await db.rows('SELECT count(*) AS n FROM batches');
      result = await body({
        selectorTuples: () => serial(async () => (await counted()).tuples),
        usageGroups: (q) =>
          serial(async () => {
            const taken = await counted();
            return collect((each) => this.readUsageGroups(db, q, taken, each, memo));
          }),
        eachUsageGroup: (q, each) =>
          serial(async () => this.readUsageGroups(db, q, await counted(), each, memo)),
        auditHead: () => serial(() => readHead(db)),
        issuedStatement: (period) => serial(() => readIssued(db, period)),
        latestEventTime: () => serial(() => readLatestEventTime(db)),
      });
    } catch (e) {
      await queue;
      await db.run('ROLLBACK').catch(() => undefined);
      conn.closeSync();
      throw e;
    }
    await queue;
    onEnd(endRead(db, conn, memo));
    return result;
  }

  verify(): Promise<VerifyResult> {
    return this.serial(() =>
      this.underVerifyLimit(() =>
        this.beside(
          // The links and the superseded markers are read while the log is hashed; the check's
          // answer (or failure) counts only when every batch matches, as `verdict` says.
          async (db) => {
            const links = await this.linkContent('', db);
            const superseded = await supersededCheck((sql) => db.rows(sql)).then(
              (firstBad) => () => firstBad,
              (e: unknown) => () => {
                throw e;
              },
            );
            return { links, superseded };
          },
          async (side) => {
            const actual = await this.withReaders((readers) =>
              logContent(readers, this.sink, this.verifyWindow, this.verifyAside),
            );
            const recorded = recordedBatches(await this.rows(RECORDED_BATCHES_SQL));
            const { links, superseded } = await side;
            return verdict(recorded, actual, async () => superseded(), links);
          },
        ),
      ),
    );
  }

  /**
   * Runs `read` on a connection of its own while `body` runs (given `read`'s promise); the
   * connection is closed once both have ended.
   */
  private async beside<S, T>(
    read: (db: Db) => Promise<S>,
    body: (side: Promise<S>) => Promise<T>,
  ): Promise<T> {
    const conn = await this.instance.connect();
    const side = read(this.dbOn(conn));
    // Handled at once, so that a failure while `body` has not yet awaited it is not unhandled.
    const ended = side.catch(() => undefined);
    try {
      return await body(side);
    } finally {
      await ended;
      conn.closeSync();
    }
  }

  /**
   * Runs `body` with DuckDB's memory capped at `VERIFY_MEMORY_LIMIT` (as the bulk path caps it),
   * then restores the cap. Not on a server's store (opened with a read timeout): the cap is the
   * whole database's, and the server's reads run beside `verify`.
   */
  private async underVerifyLimit<T>(body: () => Promise<T>): Promise<T> {
    if (this.readTimeoutMs !== undefined) return body();
    const [row] = await this.rows(`SELECT current_setting('memory_limit') AS v`);
    await this.run(`SET memory_limit = '${VERIFY_MEMORY_LIMIT}'`);
    try {
      return await body();
    } finally {
      await this.run(`SET memory_limit = ${sqlText(String(row?.v))}`);
    }
  }

  /**
   * Runs `body` with as many connections as DuckDB has threads (at most
   * `MAX_READERS`): this store's own and new ones, closed after.
   */
  private async withReaders<T>(body: (readers: ChunkDb[]) => Promise<T>): Promise<T> {
    const [t] = await this.rows(`SELECT current_setting('threads') AS t`);
    const extra: DuckDBConnection[] = [];
    try {
      for (let i = 1; i < Math.min(MAX_READERS, Math.max(1, num(t?.t))); i++)
        extra.push(await this.instance.connect());
      return await body([this.conn, ...extra].map((conn) => this.dbOn(conn)));
    } finally {
      for (const conn of extra) conn.closeSync();
    }
  }

  /** Resolves once every snapshot begun so far has ended, its walk kept if it kept one. */
  async readsEnded(): Promise<void> {
    await Promise.all(this.reading);
  }

  /** How many trace walks this process's snapshots kept in the store and recalled from it (walk-memo.ts). */
  walkMemo(): { kept: number; recalled: number } {
    return { kept: this.memoGate.kept, recalled: this.memoGate.recalled };
  }

  /** Every distinct selector tuple seen in the events, for resolving identities once per tuple. */
  selectorTuples(): Promise<SelectorTuple[]> {
    return this.serial(async () => (await takeCensus(this.db)).tuples);
  }

  usageGroups(q: UsageQuery): Promise<UsageGroup[]> {
    return this.serial(async () => {
      const census = await takeCensus(this.db);
      return collect((each) => this.readUsageGroups(this.db, q, census, each));
    });
  }

  private readonly db: Db = {
    rows: (sql) => this.rows(sql),
    run: (sql) => this.run(sql),
    chunks: (sql, each) => this.chunks(sql, each),
  };

  /** The reads of another connection to this store's database (a snapshot's, a verify reader's). */
  private dbOn(conn: DuckDBConnection): Db {
    return {
      rows: (sql) => this.rows(sql, conn),
      run: (sql) => this.run(sql, undefined, conn),
      chunks: (sql, each) => this.chunks(sql, each, conn),
    };
  }

  private async readUsageGroups(
    db: Db,
    q: UsageQuery,
    census: TupleCensus,
    each: (g: UsageGroup) => void,
    memo: WalkMemo | null = null,
  ): Promise<void> {
    const { walk, wrappers } = usageSetupParts(q);
    if (memo) await memo.resolve(db, walk, census);
    else for (const sql of walk) await db.run(sql);
    for (const sql of wrappers) await db.run(sql);
    const owners = q.wanted ? await wantedOwners(db, q, census, q.wanted) : null;
    if (owners?.length === 0) return;
    const context = await takeContextCensus(db, windowOf(q));
    const varying = varyingPairs(q, context.pairs);
    const sql = usageGroupsSql(q, census, context, varying, owners);
    await readGroups(db, sql, each, { byDay: q.byDay, units: groupsCarryUnits(q, context) });
  }

  eventsPage(q: EventsPageQuery): Promise<UsageEvent[]> {
    const { tenant } = q;
    if (tenant === undefined)
      return this.readTimed(async () => (await this.rows(eventsPageSql(q))).map(rowToEvent));
    const sql = tenantPageSql({ ...q, tenant });
    return this.readTimed(async () => {
      try {
        for (const s of sql.claims) await this.run(s);
        const [claims] = await this.rows(sql.traced);
        for (const s of sql.rows(claims?.traced === true)) await this.run(s);
        return (await this.rows(sql.page)).map(rowToEvent);
      } finally {
        for (const t of TENANT_PAGE_TABLES) await this.run(`DROP TABLE IF EXISTS ${t}`);
      }
    });
  }

  eventsById(id: string, source: string | null): Promise<UsageEvent[]> {
    return this.readTimed(async () =>
      (await this.rows(eventsByIdSql(id, source, MAX_SOURCES_PER_ID))).map(rowToEvent),
    );
  }

  traceSpans(traceIds: readonly string[], near?: { from: number; to: number }): Promise<TraceSpan[]> {
    if (traceIds.length === 0) return Promise.resolve([]);
    return this.readTimed(async () =>
      (await this.rows(traceSpansSql(DUCKDB_WINDOW, traceIds, near))).map(rowToSpan),
    );
  }

  latestEventTime(): Promise<number | null> {
    return this.serial(() => readLatestEventTime(this.db));
  }

  claimAlert(key: string, now: number): Promise<boolean> {
    return this.serial(
      async () =>
        (await this.run(
          `INSERT INTO alerts_sent VALUES (${sqlText(key)}, epoch_ms(${int(now)}::BIGINT)) ON CONFLICT DO NOTHING`,
        )) === 1,
    );
  }

  releaseAlert(key: string): Promise<void> {
    return this.serial(async () => {
      await this.run(`DELETE FROM alerts_sent WHERE key = ${sqlText(key)}`);
    });
  }

  eventsInWindow(q: EventWindowQuery): Promise<UsageEvent[]> {
    return this.readTimed(async () => {
      const selected = await this.events(selectedSql(q));
      const traces = [...new Set(selected.flatMap((e) => (e.trace_id === null ? [] : [e.trace_id])))];
      if (q.traceMargin === undefined || traces.length === 0) return selected;
      return [...selected, ...(await this.events(nearbySql(q, traces)))];
    });
  }

  traceEvents(traceIds: readonly string[]): Promise<UsageEvent[]> {
    if (traceIds.length === 0) return Promise.resolve([]);
    return this.readTimed(() => this.events(traceEventsSql(traceIds)));
  }

  selectorUsage(window: { from: number; to: number }): Promise<SelectorUsage[]> {
    return this.readTimed(async () => (await this.rows(selectorUsageSql(window))).map(rowToSelectorUsage));
  }

  samplingTraces(window: { from: number; to: number }): Promise<number> {
    return this.readTimed(async () => {
      const [row] = await this.rows(samplingTracesSql({ from: ts(window.from), to: ts(window.to) }));
      return Number(row?.n ?? 0);
    });
  }

  signalFacts(q: SignalQuery): Promise<SignalFacts> {
    return this.readTimed(() =>
      readSignalFacts(
        q,
        (sql) => this.rows(sql),
        (sql) => this.run(sql),
        this.keepWalks ? this.keysMemo : undefined,
      ),
    );
  }

  /** The signals' keys kept between reads on the store's own connection (walk-memo.ts). */
  private readonly keysMemo: KeysMemo = {
    recall: async (statements, table) => {
      const key = await memoKey(this.db, statements);
      if (!(await recallTable(this.db, 'signal_keys', key, table))) return { key };
      this.memoGate.recalled++;
      return { key: null };
    },
    keep: (key, table) => keepTable(this.db, this.memoGate, 'signal_keys', key, table),
  };

  signalEvidence(filters: readonly EvidenceFilter[], limit: number): Promise<EvidenceSample[]> {
    return this.readTimed(() => readSignalEvidence(filters, limit, (sql) => this.rows(sql)));
  }

  issueStatement(st: Omit<IssuedStatement, 'version' | 'issuedAt'>, now: number): Promise<IssuedStatement> {
    return this.serial(() =>
      this.transaction(async () => {
        const [row] = await this.rows(
          `SELECT coalesce(max(version), 0) + 1 AS v FROM issued_statements WHERE period = ${sqlText(st.period)}`,
        );
        const version = num(row?.v);
        await this.run(
          `INSERT INTO issued_statements VALUES (${sqlText(st.period)}, ${version}, epoch_ms(${int(now)}::BIGINT),
             ${sqlText(st.contentSha256)}, ${sqlText(st.configSha256)},
             ${st.auditHead === null ? 'NULL' : sqlText(st.auditHead)}, ${sqlText(st.body)})`,
        );
        return { ...st, version, issuedAt: now };
      }),
    );
  }

  issuedStatement(period: string): Promise<IssuedStatement | null> {
    return this.serial(() => readIssued(this.db, period));
  }

  close(): Promise<void> {
    return this.serial(async () => {
      if (this.closed) return;
      this.closed = true;
      await Promise.all(this.reading);
      this.conn.closeSync();
      this.instance.closeSync();
      if (this.file !== '') OPEN_FILES.set(this.file, (OPEN_FILES.get(this.file) ?? 1) - 1);
    });
  }

  /**
   * Inserts a batch and records it in the chain. `insert` either stores every
   * row it reads (the bulk path: repeats within the batch are then deleted
   * here, the last in input order kept) or, given `offered`, keeps only the
   * last row of each (source, id) as it inserts (`afterInsert` runs once the
   * rows are in). Then each new row whose
   * (source, id) is already live is a duplicate when identical (deleted
   * again) or a new version that supersedes the live one (SPEC §3.3). Stored
   * events are never changed. Last, records the batch and its hashes when
   * anything new was stored.
   */
  private async appendBatch(
    label: string,
    now: number,
    insert: (seq: number) => Promise<number>,
    more: {
      offered?: number;
      withLinks?: boolean;
      afterInsert?: (inserted: number) => Promise<void>;
      /** The rows `insert` hashed as it wrote them (appended with their texts, or `insertHashingSql`). */
      hashed?: RowTextHasher;
      /**
       * The batch's records again, in input order, as the log stores them: `insert` wrote them in
       * the log's order, so a repeated key's last record is found here instead of by row id.
       */
      inInputOrder?: string;
    } = {},
  ): Promise<IngestResult> {
    const { withLinks = false } = more;
    const head = await this.chainHead();
    const seq = head.seq + 1;
    const prev = head.chain;
    const inserted = await insert(seq);
    await more.afterInsert?.(inserted);
    // The rows hashed as written are folded while the database looks for repeats among them; the
    // digests are kept, so that rows deleted afterwards can be taken out of the content.
    const hashed = more.hashed?.complete === true;
    const checking = this.repeatsWithin(seq, inserted, more.offered, {
      inInputOrder: more.inInputOrder,
      hashed,
    });
    const asWritten = hashed ? (more.hashed?.finishKeeping().get(seq) ?? null) : null;
    const within = await checking;
    const prior = await this.priorVersions(seq, inserted - within.removed, head.earlier, hashed);
    const stored = inserted - within.removed - prior.duplicates;
    const gone = within.gone && prior.gone ? [...within.gone, ...prior.gone] : null;
    const duplicates = within.duplicates + prior.duplicates;
    const superseded = within.superseded + prior.superseded;
    const links = withLinks ? await this.insertLinks(seq) : 0;
    if (stored > 0 || links > 0) {
      const where = `WHERE batch_seq = ${seq}`;
      // Rows hashed as written, less those deleted since: their content without reading them back.
      const c =
        stored === 0
          ? undefined
          : asWritten !== null && gone !== null
            ? asWritten.without(gone)
            : (await this.newContent(where, stored)).get(seq);
      if (stored > 0 && c?.count !== stored)
        throw new StoreError(`batch ${seq}: hashed ${c?.count ?? 0} events, stored ${stored}`);
      const l = links > 0 ? (await this.newLinkContent(where, links)).get(seq) : undefined;
      const content = batchContent(c?.content ?? null, l?.content ?? null) ?? '';
      const chain = chainHash(prev, seq, stored, content);
      await this.run(`
        INSERT INTO batches VALUES (${seq}, ${sqlText(label)}, ${stored}, ${sqlText(content)},
          ${sqlText(chain)}, epoch_ms(${int(now)}::BIGINT))`);
      this.knownHead = { seq, chain, earlier: head.earlier || stored > 0 };
    }
    if (duplicates > 0)
      await this.run(`UPDATE counters SET value = value + ${duplicates} WHERE name = 'duplicates'`);
    if (superseded > 0)
      await this.run(`UPDATE counters SET value = value + ${superseded} WHERE name = 'superseded'`);
    const batch = stored > 0 || links > 0 ? seq : null;
    return { batch, stored, duplicates, superseded, ...(withLinks ? { links } : {}) };
  }

  /**
   * Inserts `rows` (the log's columns and `batch_seq`) into the log in its row order
   * (`LOG_ROW_ORDER`; only a batch appended straight to the log, `ingestDirect`, keeps its own).
   * With a hasher, each row's text is hashed as it is written (`insertHashingSql`), so that the
   * batch's content needs no second read of its rows.
   */
  private insertRows(rows: string, hashed?: RowTextHasher): Promise<number> {
    if (hashed === undefined)
      return this.run(`INSERT INTO event_log BY NAME ${rows} ORDER BY ${LOG_ROW_ORDER}`);
    return this.sink.during(hashed, () => this.run(insertHashingSql(rows)));
  }

  /**
   * The chain's head (the last batch's number and chain hash) and whether the log holds any event:
   * read once, then kept as this store's batches commit (it is the file's only writer). A
   * transaction that fails forgets it, so that it is read again.
   */
  private async chainHead(): Promise<ChainHead> {
    if (this.knownHead !== null) return this.knownHead;
    const [last] = await this.rows(`SELECT b.seq, b.chain_sha256, EXISTS (SELECT 1 FROM event_log) AS earlier
      FROM (SELECT 1) LEFT JOIN (SELECT seq, chain_sha256 FROM batches ORDER BY seq DESC LIMIT 1) b ON true`);
    const none = last?.seq === null || last?.seq === undefined;
    return {
      seq: none ? 0 : num(last.seq),
      chain: none ? GENESIS : String(last.chain_sha256),
      earlier: last?.earlier === true,
    };
  }

  /** Stores the staged trace links that are new (one row per span ids, the first seen); returns how many. */
  private insertLinks(seq: number): Promise<number> {
    return this.run(`INSERT OR IGNORE INTO spans
      SELECT ${LINK_FIELDS.join(', ')}, ${seq} AS batch_seq FROM (
        SELECT *, row_number() OVER (PARTITION BY trace_id, span_id ORDER BY rowid) AS n FROM ${LINK_STAGE})
      WHERE n = 1`);
  }

  /** The links content of a batch being stored: in Node when small, as `newContent`. */
  private async newLinkContent(where: string, links: number): Promise<Map<number, BatchContent>> {
    if (links > this.hashInNodeMax) return this.linkContent(where);
    const rows = await this.rows(linkRowTextsSql(DUCKDB_AUDIT, where));
    return contentFromRowTexts(rows.map((r) => ({ seq: num(r.batch_seq), text: String(r.t) })));
  }

  /** The links content hash of each batch that stored trace links. */
  private async linkContent(where = '', db: Db = this.db): Promise<Map<number, BatchContent>> {
    const rows = await db.rows(linkBucketHashesSql(DUCKDB_AUDIT, where));
    return contentFromBuckets(
      rows.map((r) => ({ seq: num(r.batch_seq), bucketHash: String(r.bucket_hash), count: num(r.n) })),
    );
  }

  /**
   * Records of one input with the same (source, id): an identical repeat is
   * a duplicate, a different one an earlier version the last supersedes.
   * `offered`: the records were already reduced to the last as they were
   * inserted (the staging table still holds them all). `inInputOrder`: the
   * input's records in its order, when the batch was not written in it.
   */
  private async repeatsWithin(
    seq: number,
    inserted: number,
    offered: number | undefined,
    opts: { inInputOrder?: string | undefined; hashed: boolean },
  ): Promise<Removed> {
    const batch = `batch_seq = ${seq}`;
    if (offered !== undefined) {
      const repeats = offered - inserted;
      if (repeats === 0) return NONE_REMOVED;
      const [same] = await this.rows(`SELECT count(*) AS n FROM ${STAGE} s JOIN event_log l
        ON l.${batch} AND l.source = s.source AND l.id = s.id AND ${SAME_CONTENT('l', 's')}`);
      const duplicates = num(same?.n) - inserted;
      return { removed: 0, duplicates, superseded: repeats - duplicates, gone: [] };
    }
    const [check] = await this.rows(`SELECT EXISTS (${repeatedKeyHashesSql(seq)}) AS repeated`);
    if (check?.repeated !== true) return NONE_REMOVED;
    try {
      return await this.keepLastRecords(seq, inserted, opts);
    } finally {
      for (const t of ['tally_repeats', 'tally_kept']) await this.run(`DROP TABLE IF EXISTS ${t}`);
    }
  }

  /**
   * Keeps one row of each key repeated in batch `seq`: the input's last
   * record of it. Only the rows of repeated keys are read again
   * (`tally_repeats`). Where the rows were written in input order, the last
   * is the one with the highest row id; otherwise (a file written in the
   * log's order) it is found in `inInputOrder`, the input read again and
   * numbered as it streams, and kept is a row of the key with its content.
   */
  private async keepLastRecords(
    seq: number,
    inserted: number,
    { inInputOrder, hashed }: { inInputOrder?: string | undefined; hashed: boolean },
  ): Promise<Removed> {
    await this.run(`CREATE OR REPLACE TEMP TABLE tally_repeats AS
      SELECT l.*, l.rowid AS lrow FROM event_log l
      SEMI JOIN (${repeatedKeyHashesSql(seq)}) k ON hash(l.source, l.id) = k.h
      WHERE l.batch_seq = ${seq}`);
    const [keys] = await this.rows(
      `SELECT count(DISTINCT (source, id)) AS n, count(*) AS rows FROM tally_repeats`,
    );
    await this.run(
      `CREATE OR REPLACE TEMP TABLE tally_kept AS ${
        inInputOrder === undefined
          ? 'SELECT max(lrow) AS krow FROM tally_repeats GROUP BY source, id'
          : keptByInputSql(inInputOrder, inserted)
      }`,
    );
    const [kept] = await this.rows(`SELECT count(*) AS n FROM tally_kept`);
    if (num(kept?.n) !== num(keys?.n)) {
      const detail = `the last record of ${num(keys?.n) - num(kept?.n)} repeated id(s) was not found when the input was read again: was it changed while it was loaded?`;
      // Given the input's query, the bulk path reports it as the input's fault, naming the file.
      throw new StoreError(`batch ${seq}: ${detail}`, inInputOrder, new Error(detail));
    }
    const [same] = await this.rows(`SELECT count(*) AS n FROM tally_repeats r JOIN tally_repeats k
      ON r.source = k.source AND r.id = k.id AND r.lrow <> k.lrow AND ${SAME_CONTENT('r', 'k')}
      WHERE k.lrow IN (SELECT krow FROM tally_kept)`);
    const dropped = 'SELECT * FROM tally_repeats WHERE lrow NOT IN (SELECT krow FROM tally_kept)';
    const gone = await this.digestsOf(dropped, num(keys?.rows) - num(kept?.n), hashed && inserted);
    const removed = await this.run(`DELETE FROM event_log WHERE batch_seq = ${seq} AND rowid IN (
      SELECT lrow FROM (${dropped}))`);
    const duplicates = num(same?.n);
    return { removed, duplicates, superseded: removed - duplicates, gone };
  }

  /**
   * The row digests (`rowDigest`) of the `n` log rows of `rows` (a query), about to be deleted
   * from a batch of `hashedRows` rows hashed as they were written, so that they can be taken out
   * of its content; null when the batch was not so hashed (`hashedRows` false), when they are
   * more than half its rows (hashing the rest again then costs less), or more than are read as
   * strings (`hashInNodeMax`). The rows are read only when their digests are wanted.
   */
  private async digestsOf(rows: string, n: number, hashedRows: number | false): Promise<string[] | null> {
    if (n === 0) return [];
    if (hashedRows === false || n * 2 > hashedRows || n > this.hashInNodeMax) return null;
    const texts = await this.rows(rowTextsSql(DUCKDB_AUDIT, `(${rows}) gone`));
    return texts.map((r) => rowDigest(String(r.t)));
  }

  /**
   * New rows whose (source, id) is live from an earlier batch: identical
   * ones are duplicates and removed again; different ones supersede the live
   * version, which stays in the log, marked.
   */
  private async priorVersions(
    seq: number,
    rows: number,
    earlier: boolean,
    hashed = false,
  ): Promise<{ duplicates: number; superseded: number; gone: readonly string[] | null }> {
    if (!earlier) {
      this.keyFilter = null;
      return NONE_REMOVED;
    }
    if (!(await this.keysMaybeLogged(seq, rows))) return NONE_REMOVED;
    await this.run(`CREATE OR REPLACE TEMP TABLE tally_prior AS
      SELECT o.source, o.id, o.batch_seq, ${SAME_CONTENT('o', 'n')} AS same
      FROM event_log n JOIN events o ON o.source = n.source AND o.id = n.id
      WHERE n.batch_seq = ${seq} AND o.batch_seq <> ${seq}`);
    const repeated = `WHERE batch_seq = ${seq} AND EXISTS (
      SELECT 1 FROM tally_prior p WHERE p.same AND p.source = event_log.source AND p.id = event_log.id)`;
    const [same] = await this.rows(`SELECT count(*) AS n FROM tally_prior WHERE same`);
    // A semi join, not the delete's correlated EXISTS: read that way, the texts took ~200 MB more.
    const dups = `SELECT n.* FROM event_log n
      SEMI JOIN (SELECT source, id FROM tally_prior WHERE same) p ON p.source = n.source AND p.id = n.id
      WHERE n.batch_seq = ${seq}`;
    const gone = await this.digestsOf(dups, num(same?.n), hashed && rows);
    const duplicates = num(same?.n) === 0 ? 0 : await this.run(`DELETE FROM event_log ${repeated}`);
    const superseded = await this.run(
      `INSERT INTO superseded SELECT source, id, batch_seq, ${seq} FROM tally_prior WHERE NOT same`,
    );
    await this.run(`DROP TABLE tally_prior`);
    if (superseded > 0) {
      const marked = await this.rows(`SELECT DISTINCT batch_seq FROM superseded ORDER BY batch_seq`);
      await this.run(liveEventsViewSql(marked.map((r) => num(r.batch_seq))));
    }
    return { duplicates, superseded, gone };
  }

  /**
   * Whether any key of batch `seq` may have been logged by an earlier batch. A small batch asks the
   * key filter first (and adds its keys to it); most of a server's requests bring only new events,
   * and SQL would scan every stored key to say so. Any other batch drops the filter, since its keys
   * do not pass through it.
   */
  private async keysMaybeLogged(seq: number, rows: number): Promise<boolean> {
    const filter = rows <= this.keyFilterUse.max ? await this.smallBatchFilter(seq) : null;
    if (filter === null) this.keyFilter = null;
    let maybe = filter === null;
    if (filter !== null)
      await this.smallChunks(keyHashesSql(`WHERE batch_seq = ${seq}`), (chunk) => {
        if (filter.addChunk(chunk)) maybe = true;
      });
    if (!maybe) return false;
    // Whether any new key was logged before, read from the key columns alone: the content
    // comparison that follows reads every column.
    const [seen] = await this.rows(`SELECT EXISTS (SELECT 1 FROM event_log o
      JOIN (SELECT source, id FROM event_log WHERE batch_seq = ${seq}) n ON o.source = n.source AND o.id = n.id
      WHERE o.batch_seq <> ${seq}) AS seen`);
    return seen?.seen === true;
  }

  /** The key filter, built from the earlier batches' keys once this process has stored a few small batches. */
  private async smallBatchFilter(seq: number): Promise<KeyFilter | null> {
    if (this.keyFilter?.full) this.keyFilter = null;
    if (this.keyFilter !== null) return this.keyFilter;
    if (this.keysBeyondFilter || ++this.smallBatches < this.keyFilterUse.after) return null;
    const earlier = `WHERE batch_seq <> ${seq}`;
    const [n] = await this.rows(`SELECT count(*) AS n FROM event_log ${earlier}`);
    if (!KeyFilter.fits(num(n?.n))) {
      this.keysBeyondFilter = true;
      return null;
    }
    const filter = new KeyFilter(num(n?.n));
    await this.chunks(keyHashesSql(earlier), (chunk) => {
      filter.addChunk(chunk);
    });
    this.keyFilter = filter;
    return filter;
  }

  /** The content of a batch being stored, hashed where that is cheapest for its size. */
  private async newContent(where: string, stored: number): Promise<Map<number, BatchContent>> {
    if (stored <= this.hashInNodeMax) {
      const rows = await this.rows(rowTextsSql(DUCKDB_AUDIT, 'event_log', where));
      return contentFromRowTexts(rows.map((r) => ({ seq: num(r.batch_seq), text: String(r.t) })));
    }
    return stored <= this.hashTextsMax ? textContent(this.db, this.sink, where) : this.contentHashes(where);
  }

  private async contentHashes(where = ''): Promise<Map<number, BatchContent>> {
    const hasher = new ContentHasher();
    await this.chunks(rowHashesSql(DUCKDB_AUDIT, 'event_log', where), (chunk) => {
      const seqs = chunk.getColumnValues(0);
      const hashes = chunk.getColumnValues(1);
      for (let i = 0; i < hashes.length; i++) hasher.add(Number(seqs[i]), String(hashes[i]));
    });
    return hasher.finish();
  }

  private async migrate(): Promise<void> {
    await this.run(
      `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)`,
    );
    const [row] = await this.rows(`SELECT coalesce(max(version), 0) AS v FROM schema_migrations`);
    for (let v = num(row?.v) + 1; v <= MIGRATIONS.length; v++) {
      await this.transaction(async () => {
        await this.run(MIGRATIONS[v - 1] as string);
        await this.run(`INSERT INTO schema_migrations VALUES (${v}, now()::TIMESTAMP)`);
      });
    }
    // A migration that adds a column to the log makes the view again, so that it has the column.
    if (num(row?.v) < MIGRATIONS.length) {
      const marked = await this.rows(`SELECT DISTINCT batch_seq FROM superseded ORDER BY batch_seq`);
      await this.run(liveEventsViewSql(marked.map((r) => num(r.batch_seq))));
    }
  }

  private head(): Promise<string | null> {
    return readHead(this.db);
  }

  /** Runs `body` in a transaction; on any error rolls back and rethrows the error unchanged. */
  private async transaction<T>(body: () => Promise<T>): Promise<T> {
    await this.run('BEGIN TRANSACTION');
    try {
      let result: T;
      try {
        result = await body();
      } catch (e) {
        await this.run('ROLLBACK');
        throw e;
      }
      await this.run('COMMIT');
      return result;
    } catch (e) {
      // A batch that did not commit left the chain's head where it was: read it again.
      this.knownHead = null;
      throw e;
    }
  }

  /**
   * A read, in turn like every operation, and bounded in time when the store
   * was opened with `readTimeoutMs`: past it the running query is interrupted
   * and the read fails with a LimitError, so no read holds the store for long.
   */
  private readTimed<T>(op: () => Promise<T>): Promise<T> {
    const ms = this.readTimeoutMs;
    if (ms === undefined) return this.serial(op);
    return this.serial(async () => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        this.conn.interrupt();
      }, ms);
      const late = () =>
        new LimitError(
          `the query ran past the server's time bound of ${ms / 1000} s; ask for a shorter window`,
        );
      try {
        const result = await op();
        // Finished just as the bound passed: still past it, and answered alike whatever the timing.
        if (timedOut) throw late();
        return result;
      } catch (e) {
        if (timedOut && !(e instanceof LimitError)) throw late();
        throw e;
      } finally {
        clearTimeout(timer);
      }
    });
  }

  /** Operations share one connection, so they run one after another. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Rows for an appender to `table`, by chunks of up to `rows` (how many will come, when known). */
  private chunkRows(table: string, appender: DuckDBAppender, rows?: number): ChunkRows {
    return new ChunkRows(appender, this.typesOf(table, appender), rows);
  }

  /** The column types of the table `appender` appends to, read from it once and kept. */
  private typesOf(table: string, appender: DuckDBAppender): readonly DuckDBType[] {
    let types = this.appendTypes.get(table);
    if (types === undefined) {
      types = appenderTypes(appender);
      this.appendTypes.set(table, types);
    }
    return types;
  }

  /** Runs a statement; returns the number of rows it changed. */
  private async run(sql: string, values?: DuckDBValue[], conn = this.conn): Promise<number> {
    try {
      const r = await conn.run(sql, values);
      return Number(r.rowsChanged);
    } catch (e) {
      throw new StoreError(`store query failed: ${message(e)}`, sql, e);
    }
  }

  private async events(sql: string): Promise<UsageEvent[]> {
    try {
      return eventsOf(await this.conn.runAndReadAll(sql));
    } catch (e) {
      throw new StoreError(`store query failed: ${message(e)}`, sql, e);
    }
  }

  /** Streams a query's result chunk by chunk (large results, read column by column). */
  private async chunks(sql: string, each: (chunk: DuckDBDataChunk) => void, conn = this.conn): Promise<void> {
    try {
      const result = await conn.stream(sql);
      // The next chunk is asked for before this one is handed over, so that the
      // database computes it on its own thread while JavaScript reads this one.
      let next = result.fetchChunk();
      for (let chunk = await next; chunk && chunk.rowCount > 0; chunk = await next) {
        next = result.fetchChunk();
        try {
          each(chunk);
        } catch (e) {
          await next.catch(() => undefined);
          throw e;
        }
      }
    } catch (e) {
      throw new StoreError(`store query failed: ${message(e)}`, sql, e);
    }
  }

  /**
   * A small result's chunks, computed whole in one call: a stream takes four more round trips to
   * the database's thread (statement, prepare, stream, the last empty chunk), ~1.5 ms of a
   * commit's wall time under load for a request's key hashes.
   */
  private async smallChunks(sql: string, each: (chunk: DuckDBDataChunk) => void): Promise<void> {
    let result: DuckDBMaterializedResult;
    try {
      result = await this.conn.run(sql);
    } catch (e) {
      throw new StoreError(`store query failed: ${message(e)}`, sql, e);
    }
    for (let i = 0; i < result.chunkCount; i++) each(result.getChunk(i));
  }

  private async rows(sql: string, conn = this.conn): Promise<Row[]> {
    try {
      const reader = await conn.runAndReadAll(sql);
      return reader.getRowObjectsJS() as Row[];
    } catch (e) {
      throw new StoreError(`store query failed: ${message(e)}`, sql, e);
    }
  }
}

/** A snapshot's end once it answered: its walk kept if it may, its transaction ended, its connection closed. */
async function endRead(db: Db, conn: DuckDBConnection, memo: WalkMemo): Promise<void> {
  try {
    await keepWalk(db, memo);
  } finally {
    await db.run('ROLLBACK').catch(() => undefined);
    conn.closeSync();
  }
}

/**
 * Keeps the walk the snapshot computed, if it may (walk-memo.ts), by writing
 * it and committing the snapshot's transaction. Never fails the read: without
 * the memo the next read walks again.
 */
async function keepWalk(db: Db, memo: WalkMemo): Promise<void> {
  let wrote: boolean;
  try {
    wrote = await memo.keep(db);
  } catch {
    return;
  }
  if (!wrote) return;
  const committed = await db.run('COMMIT').then(
    () => true,
    () => false,
  );
  memo.settle(committed);
}

async function readHead(db: Db): Promise<string | null> {
  const [row] = await db.rows(`SELECT chain_sha256 FROM batches ORDER BY seq DESC LIMIT 1`);
  return row ? String(row.chain_sha256) : null;
}

async function readLatestEventTime(db: Db): Promise<number | null> {
  const [row] = await db.rows(`SELECT epoch_ms(max(time)) AS t FROM events`);
  return row?.t === null || row?.t === undefined ? null : num(row.t);
}

async function readIssued(db: Db, period: string): Promise<IssuedStatement | null> {
  const [r] = await db.rows(
    `SELECT period, version, epoch_ms(issued_at) AS issued_at, content_sha256, config_sha256, audit_head, body
     FROM issued_statements WHERE period = ${sqlText(period)} ORDER BY version DESC LIMIT 1`,
  );
  if (!r) return null;
  return {
    period: String(r.period),
    version: num(r.version),
    issuedAt: num(r.issued_at),
    contentSha256: String(r.content_sha256),
    configSha256: String(r.config_sha256),
    auditHead: r.audit_head === null ? null : String(r.audit_head),
    body: String(r.body),
  };
}

/** Closing after a failed append must not hide the failure; the transaction is rolled back anyway. */
function closeQuietly(a: DuckDBAppender): void {
  try {
    a.closeSync();
  } catch {
    // the rollback discards whatever the appender held
  }
}

/**
 * The log's columns in table order: the canonical fields of the first migration, the batch number,
 * then the fields later migrations added (a staging table has them all, without the batch number).
 */
const LOG_COLUMNS = [...EVENT_FIELDS, 'batch_seq', ...RICH_FIELDS, ...SAMPLING_FIELDS];
/** Where the batch number stands among them. */
const SEQ_COLUMN = LOG_COLUMNS.indexOf('batch_seq');

/** A request's log rows written ahead (`prepareIngest`): its chunks, batch number 0, and its row hashes. */
interface PreparedRows {
  chunks: DuckDBDataChunk[];
  /** Each row's hash (`rowDigest`), null when a row's text is known only as read back. */
  digests: string[] | null;
}

/**
 * Appends a request's events to the log under batch `seq`, as written ahead (`ready`) or now,
 * and adds their row hashes to `hashed` (which gives up on a row whose text is not known).
 */
function appendLogRows(
  rows: ChunkRows,
  events: readonly UsageEvent[],
  ready: PreparedRows | undefined,
  seq: number,
  hashed: RowTextHasher,
): void {
  if (ready !== undefined) {
    rows.endChunk(); // the rows before these stay before them
    appendHeld(rows.appender, ready.chunks, SEQ_COLUMN, seq);
    if (ready.digests === null) hashed.giveUp();
    else for (const d of ready.digests) hashed.addDigest(seq, d);
    return;
  }
  for (const e of events) {
    const text = appendEvent(rows, e, seq);
    if (text === null) hashed.giveUp();
    else hashed.add(seq, text);
  }
}

function prepareRows(types: readonly DuckDBType[], events: readonly UsageEvent[]): PreparedRows {
  const rows = new HeldRows(types, events.length);
  let digests: string[] | null = [];
  for (const e of events) {
    const text = appendEvent(rows, e, 0);
    if (text === null) digests = null;
    else digests?.push(rowDigest(text));
  }
  return { chunks: rows.chunks(), digests };
}

/**
 * Appends a row in staging order, or, given its batch number, in the log's order; then returns the
 * row's audit text (`rowText`), or null when staging or when a string might not read back as given.
 */
function appendEvent(a: ChunkWriter, e: UsageEvent, seq?: number): string | null {
  const base: (string | null)[] = [];
  for (const f of EVENT_FIELDS) base.push(appendValue(a, f, e[f]));
  if (seq !== undefined) a.appendInteger(seq);
  const rich: (string | null)[] = [];
  for (const f of RICH_COUNT_FIELDS) rich.push(appendCount(a, e[f] ?? 0));
  const units = unitsText(e.units);
  const adjusted = e.adjusted_count ? e.adjusted_count : null;
  appendText(a, units);
  appendText(a, adjusted);
  a.endRow();
  if (seq === undefined) return null;
  rich.push(units);
  const text = rowText(base, rich, adjusted);
  return readsBack(text) ? text : null;
}

/** Appends one canonical field's value; returns its text as stored (a count or time in decimal). */
function appendValue(a: ChunkWriter, f: (typeof EVENT_FIELDS)[number], v: string | number | null) {
  if (v === null) {
    a.appendNull();
    return null;
  }
  if (typeof v === 'number') return f === 'time' ? appendTime(a, v) : appendCount(a, v);
  // The parsers fingerprint secrets already; the store makes sure none slips through.
  const text = storedText(f, v);
  a.appendVarchar(text);
  return text;
}

/** Appends a count; returns it in decimal. A number that is not whole is refused (BigInt's RangeError). */
function appendCount(a: ChunkWriter, v: number): string {
  if (Number.isSafeInteger(v)) {
    a.appendSafeInteger(v);
    return String(v);
  }
  const n = BigInt(v);
  a.appendBigInt(n);
  return n.toString();
}

/** Appends a time given in whole epoch milliseconds (anything else is refused, as by BigInt); returns them in decimal. */
function appendTime(a: ChunkWriter, ms: number): string {
  if (Number.isSafeInteger(ms) && Number.isSafeInteger(ms * 1000)) {
    a.appendSafeInteger(ms * 1000);
    return String(ms);
  }
  const n = BigInt(ms);
  a.appendTimestamp(new duckdb.DuckDBTimestampValue(n * 1000n));
  return n.toString();
}

function appendText(a: ChunkWriter, t: string | null): void {
  if (t === null) a.appendNull();
  else a.appendVarchar(t);
}

/**
 * The chunks of a list as one direct batch, or null when two records share a (source, id): such a
 * batch is staged, so that the last is stored and the others counted as duplicates or versions.
 */
function directBatch(chunks: readonly (UsageEvent[] | IngestChunk)[]): IngestChunk[] | null {
  const batch = chunks.map((c) => (Array.isArray(c) ? { events: c } : c));
  const keys = new Set<string>();
  let n = 0;
  for (const { events } of batch)
    for (const e of events) {
      keys.add(`${e.source.length}:${e.source}${e.id}`);
      if (keys.size !== ++n) return null;
    }
  return batch;
}

/** The last batch's number (0 before any) and chain hash (GENESIS), and whether the log holds any event. */
interface ChainHead {
  seq: number;
  chain: string;
  earlier: boolean;
}

interface StageDb {
  run(sql: string): Promise<number>;
  appenderOf(table: string): Promise<DuckDBAppender>;
}

/** The trace links of an ingest, staged in a temporary table created when the first come (most ingests have none). */
class LinkStage {
  private rows: ChunkRows | null = null;

  /** `expected`: how many links will come, when known (a server's request). */
  constructor(
    private readonly store: StageDb,
    private readonly expected?: number,
  ) {}

  get staged(): boolean {
    return this.rows !== null;
  }

  async add(links: readonly TraceLink[] | undefined): Promise<void> {
    if (!links?.length) return;
    if (this.rows === null) {
      await this.store.run(`CREATE OR REPLACE TEMP TABLE ${LINK_STAGE} (${LINK_COLUMNS_DDL})`);
      this.rows = new ChunkRows(await this.store.appenderOf(LINK_STAGE), undefined, this.expected);
    }
    for (const l of links) appendLink(this.rows, l);
  }

  flush(): void {
    this.rows?.flushSync();
  }

  close(): void {
    if (this.rows) closeQuietly(this.rows.appender);
  }

  async drop(): Promise<void> {
    if (this.rows !== null) await this.store.run(`DROP TABLE ${LINK_STAGE}`);
  }
}

function appendLink(a: RowSink, l: TraceLink): void {
  for (const f of LINK_FIELDS) {
    const v = l[f];
    if (v === null) a.appendNull();
    else
      a.appendVarchar(f === 'trace_id' || f === 'span_id' || f === 'parent_span_id' ? v : storedText(f, v));
  }
  a.endRow();
}

/** The header of a canonical CSV file; a header the bulk reader cannot take as is counts as invalid. */
async function csvHeader(path: string): Promise<string[]> {
  let head: string;
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new StoreError(`cannot read ${path}: ${message(e)}`, undefined, e);
  }
  const end = head.indexOf('\n');
  if (end < 0) throw invalid(path, 'csv', 'no header line');
  const names = head.slice(0, end).replace(/\r$/, '').split(',');
  const seen = new Set<string>();
  for (const n of names) {
    if (!KNOWN_FIELDS.has(n) || seen.has(n))
      throw invalid(path, 'csv', `header column "${n}" is unknown or repeated`);
    seen.add(n);
  }
  return names;
}

function invalid(path: string, format: CanonicalFormat, detail: string): TallyError {
  return new TallyError(
    'invalid_input',
    `invalid input: ${path} is not a valid canonical ${format} file (${detail})`,
  );
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function sqlText(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/**
 * DuckDB lets one process write a file at a time. When `tally serve` (or
 * another command) holds it, say so and what to do instead of a raw lock error.
 */
function heldOrFailed(path: string, e: unknown): TallyError {
  const m = /Conflicting lock is held in (.*?) \(PID (\d+)\)/.exec(message(e));
  if (!m) return new StoreError(`cannot open the store ${path}: ${message(e)}`, undefined, e);
  return new StoreHeldError(
    path,
    Number(m[2]),
    `the store ${path} is held by another process (PID ${m[2]}, ${m[1]}), for example a running \`tally serve\``,
  );
}

/**
 * The PostgreSQL adapter of the Store port (SPEC §7, §10): a shared database
 * that several `tally serve` processes and CLI commands use at once.
 *
 * Concurrency: readers never wait for writers (each read is one statement,
 * or one REPEATABLE READ transaction for a snapshot). Writers stage their
 * events in parallel (COPY into a temporary table), then take one
 * transaction-scoped advisory lock for the short part that must be serial:
 * deciding which events are new against the committed log, numbering the
 * batch and chaining its hash to the previous one. So the audit chain stays
 * one chain, and (source, id) is deduplicated across every writer.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { pushAll } from '../../core/arrays.js';
import { LimitError, StoreError, TallyError, UsageError } from '../../core/errors.js';
import { ALL_EVENT_FIELDS, type TraceLink, type UsageEvent } from '../../core/event.js';
import type { SelectorUsage } from '../../core/posture.js';
import type { EvidenceFilter, EvidenceSample, SignalFacts, SignalQuery } from '../../core/signals/facts.js';
import { signalFacts } from '../../core/signals/sums.js';
import { type SelectorTuple, type UsageGroup, type UsageQuery, varyingPairs } from '../../core/usage.js';
import {
  type AuditDialect,
  type BatchContent,
  batchContent,
  bucketHashesOfSql,
  chainHash,
  contentFromBuckets,
  GENESIS,
  LINK_FIELDS,
  linkBucketHashesSql,
  RECORDED_BATCHES_SQL,
  RowTextHasher,
  recordedBatches,
  rowHashSql,
  supersededCheck,
  verdict,
} from '../audit.js';
import { DistinctKeys } from '../distinct-keys.js';
import {
  num,
  optNum,
  type Row,
  rowToEvent,
  rowToSelectorUsage,
  rowToSignalSum,
  rowToSpan,
  rowToUsageGroup,
  samplingTracesSql,
  sqlInt,
  sqlString,
  str,
  tupleOf,
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
import { COPY_COLUMNS, copyEvent, LINK_COPY_COLUMNS, linkCopyLine } from './copy.js';
import { logContent } from './log-content.js';
import {
  eventsByIdSql,
  eventsInWindowSql,
  eventsPageSql,
  evidenceSql,
  POSTGRES_WINDOW,
  selectorUsageSql,
  signalSumsSql,
  traceEventsSql,
} from './read-sql.js';
import {
  LINK_STAGE_DDL,
  MIGRATIONS,
  monthOf,
  nextMonth,
  partitionName,
  partitionSql,
  STAGE_DDL,
} from './schema.js';
import { modelPairsSql, ms, ts, usageGroupsSql } from './usage-sql.js';

export const PG_AUDIT: AuditDialect = {
  sha256: (text) => `encode(sha256(convert_to(${text}, 'UTF8')), 'hex')`,
  text: (column) => `${column}::text`,
  epochMsText: (column) => `${ms(column)}::text`,
  bytewise: (text) => `${text} COLLATE "C"`,
};

export interface PostgresOptions {
  /** A read query running longer is cancelled and fails with a LimitError (the server sets it). */
  readTimeoutMs?: number;
  /** Refuse a database (or schema) that holds no tally store yet instead of creating one. */
  mustExist?: boolean;
}

/** Queries a connection or the pool can run. */
interface Runner {
  query(sql: string): Promise<pg.QueryResult>;
}

/** What the store reads through: the pool, or one connection inside a transaction. */
interface Db {
  rows(sql: string): Promise<Row[]>;
  run(sql: string): Promise<number>;
}

/** A snapshot's connection: it can also stream a `COPY … TO STDOUT`. */
interface SnapshotDb extends Db {
  copyOut(sql: string): AsyncIterable<Buffer>;
}

const COLUMNS = ALL_EVENT_FIELDS.join(', ');
const SAME_CONTENT = (a: string, b: string) =>
  `(${ALL_EVENT_FIELDS.map((f) => `${a}.${f} IS NOT DISTINCT FROM ${b}.${f}`).join(' AND ')})`;
/** Advisory-lock keys, per schema: two tally stores in one database do not wait for each other. */
const LOCK = (what: string) => `hashtext(current_schema() || ${sqlString(`.tally.${what}`)})`;
/** Batches storing at least this many events refresh their months' planner statistics. */
const ANALYZE_AFTER = 50_000;
/**
 * A snapshot's reads (a statement's usage groups, verify's hashes) sort a
 * month's rows: a 1M-event month's grouping sorts ~240 MB, which spills to
 * disk at the pool's 64 MB; and JIT compiles some 180 functions for it,
 * which costs more than it saves (BENCHMARKS.md, B2-pg).
 */
const SNAPSHOT_SETTINGS = `SET LOCAL work_mem = '256MB'; SET LOCAL jit = off`;
/** Events per COPY write. */
const COPY_CHUNK = 5000;

export class PostgresStore implements Store {
  private closed = false;
  private readonly working = new Set<Promise<unknown>>();
  /** Whether the database stores text as given, so that a row's text known in Node is the stored row's (`hashesAsGiven`). */
  private utf8: Promise<boolean> | null = null;
  private readonly db: Db;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly where: string,
    private readonly readTimeoutMs: number | undefined,
  ) {
    this.db = { rows: (sql) => rows(pool, sql), run: (sql) => run(pool, sql) };
  }

  /** Opens `postgres://…[?schema=name]`, creating the schema and applying the migrations it lacks. */
  static async open(url: string, opts: PostgresOptions = {}): Promise<PostgresStore> {
    const { connectionString, schema, where } = parseUrl(url);
    // Grouping a month sorts and hashes more than PostgreSQL's default 4 MB per operation.
    const options = `-c TimeZone=UTC -c work_mem=64MB${schema ? ` -c search_path=${schema}` : ''}`;
    const pool = new pg.Pool({ connectionString, options, max: 5 });
    // An idle connection that the server drops must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    const store = new PostgresStore(pool, where, opts.readTimeoutMs);
    try {
      await store.migrate(schema, opts.mustExist === true);
    } catch (e) {
      await pool.end().catch(() => undefined);
      const cause = e instanceof StoreError ? e.cause : e;
      if ((cause as { code?: string } | undefined)?.code === '3D000') throw missing(where);
      if (e instanceof TallyError) throw e;
      throw new StoreError(`cannot open the store ${where}: ${message(e)}`, undefined, e);
    }
    return store;
  }

  private async migrate(schema: string | null, mustExist: boolean): Promise<void> {
    await this.withClient(async (c) => {
      if (mustExist) {
        const [found] = await rows(c, `SELECT to_regclass('schema_migrations') IS NOT NULL AS found`);
        if (found?.found !== true) throw missing(this.where);
      }
      // Several processes may open a new database at once: one migrates, the others wait and find it done.
      // The key names the schema itself: before it exists, current_schema() is NULL.
      const lock = schema ? `hashtext(${sqlString(`${schema}.tally.migrate`)})` : LOCK('migrate');
      await run(c, `SELECT pg_advisory_lock(${lock})`);
      try {
        if (schema) await run(c, `CREATE SCHEMA IF NOT EXISTS ${schema}`);
        await run(
          c,
          `CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)`,
        );
        const [row] = await rows(c, `SELECT coalesce(max(version), 0) AS v FROM schema_migrations`);
        for (let v = num(row?.v) + 1; v <= MIGRATIONS.length; v++) {
          await inTransaction(c, async () => {
            await run(c, MIGRATIONS[v - 1] as string);
            await run(c, `INSERT INTO schema_migrations VALUES (${v}, now())`);
          });
        }
        if (num(row?.v) > MIGRATIONS.length)
          throw new UsageError(
            `the store ${this.where} was written by a newer tally (schema version ${num(row?.v)}); upgrade tally`,
          );
      } finally {
        await run(c, `SELECT pg_advisory_unlock(${lock})`);
      }
    });
  }

  ingest(
    label: string,
    chunks: AsyncIterable<UsageEvent[] | IngestChunk> | Iterable<UsageEvent[] | IngestChunk>,
  ): Promise<IngestResult> {
    return this.track(
      this.withClient(async (c) => {
        const { result, months } = await inTransaction(c, async () => {
          await run(c, STAGE_DDL);
          const links: TraceLink[] = [];
          const { offered, months, hashed } = await copyEvents(c, eventsOf(chunks, links));
          const withLinks = links.length > 0;
          if (withLinks) await copyLinks(c, links);
          if (offered === 0 && !withLinks)
            return { result: { batch: null, stored: 0, duplicates: 0, superseded: 0 }, months: [] };
          const staged = await prepare(c, offered, months, (await this.hashesAsGiven(c)) ? hashed : null);
          return this.merge(c, label, Date.now(), staged, withLinks);
        });
        // A large load changes the months' statistics at once; autovacuum would take its time to notice.
        if (result.stored >= ANALYZE_AFTER)
          for (const m of months) await run(c, `ANALYZE ${partitionName(m)}`);
        return result;
      }),
    );
  }

  /**
   * The serial part of an ingest, under the ingest lock: the prepared events
   * against the committed log (an identical stored event is a duplicate, a
   * different one a new version, SPEC §3.3), then the batch and its place in
   * the chain. What does not depend on the log (repeats within the input, row
   * hashes, the content hash when every event is new) was done before the
   * lock, in parallel with other writers.
   */
  private async merge(
    c: pg.PoolClient,
    label: string,
    now: number,
    staged: Staged,
    withLinks: boolean,
  ): Promise<{ result: IngestResult; months: number[] }> {
    await run(c, `SELECT pg_advisory_xact_lock(${LOCK('ingest')})`);
    await this.ensurePartitions(c, staged.months);
    const [last] = await rows(c, `SELECT seq, chain_sha256 FROM batches ORDER BY seq DESC LIMIT 1`);
    const seq = last ? num(last.seq) + 1 : 1;
    const prior = await priorVersions(c, staged.seen, last ? num(last.seq) : 0);
    let source = 'tally_last';
    let events = staged.content;
    if (prior.duplicates > 0) {
      source = 'tally_new';
      await run(
        c,
        `CREATE TEMP TABLE tally_new ON COMMIT DROP AS SELECT * FROM tally_last n WHERE NOT EXISTS (
           SELECT 1 FROM tally_prior p WHERE p.same AND p.source = n.source AND p.id = n.id)`,
      );
      events = await contentOfTable(c, 'tally_new');
    }
    const stored = staged.kept - prior.duplicates;
    if (stored > 0 && events?.count !== stored)
      throw new StoreError(`batch ${seq}: hashed ${events?.count ?? 0} events, stored ${stored}`);
    if (stored > 0) {
      await run(c, `INSERT INTO event_log (${COLUMNS}, batch_seq) SELECT ${COLUMNS}, ${seq} FROM ${source}`);
      if (prior.superseded > 0)
        await run(
          c,
          `INSERT INTO superseded SELECT source, id, batch_seq, ${seq} FROM tally_prior WHERE NOT same`,
        );
    }
    const links = withLinks ? await storeLinks(c, seq) : 0;
    if (stored > 0 || links > 0) {
      const linked =
        links > 0
          ? contentOf(await rows(c, linkBucketHashesSql(PG_AUDIT, `WHERE batch_seq = ${seq}`))).get(seq)
          : undefined;
      const content =
        batchContent(stored > 0 ? (events?.content ?? null) : null, linked?.content ?? null) ?? '';
      const prev = last ? String(last.chain_sha256) : GENESIS;
      await run(
        c,
        `INSERT INTO batches VALUES (${seq}, ${sqlString(label)}, ${stored}, ${sqlString(content)},
           ${sqlString(chainHash(prev, seq, stored, content))}, ${ts(now)})`,
      );
    }
    const duplicates = staged.withinDuplicates + prior.duplicates;
    const superseded = staged.offered - staged.kept - staged.withinDuplicates + prior.superseded;
    await addCounters(c, { duplicates, superseded });
    const batch = stored > 0 || links > 0 ? seq : null;
    return {
      result: { batch, stored, duplicates, superseded, ...(withLinks ? { links } : {}) },
      months: staged.months,
    };
  }

  /**
   * Whether rows hashed in Node as they were staged (copy.ts `copyEvent`) hash as the database
   * will read them back: its text is UTF-8, as the hash's bytes are. Asked once.
   */
  private hashesAsGiven(c: pg.PoolClient): Promise<boolean> {
    this.utf8 ??= rows(c, `SELECT current_setting('server_encoding') AS e`).then(
      ([r]) => String(r?.e).toUpperCase() === 'UTF8',
      () => {
        this.utf8 = null;
        return false;
      },
    );
    return this.utf8;
  }

  /** Creates the monthly partitions that the staged events need and that do not exist yet. */
  private async ensurePartitions(c: pg.PoolClient, months: number[]): Promise<void> {
    if (months.length === 0) return;
    const existing = new Set(
      (
        await rows(
          c,
          `SELECT k.relname FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid
           WHERE i.inhparent = 'event_log'::regclass`,
        )
      ).map((r) => String(r.relname)),
    );
    // Creating a partition locks the whole log briefly: only for a month not seen before.
    for (const m of new Set(months.map(monthOf)))
      if (!existing.has(partitionName(m))) await run(c, partitionSql(m));
  }

  countRejected(n: number): Promise<void> {
    return this.track(addCounter(this.pool, 'rejected', n));
  }

  async countIgnored(n: number): Promise<void> {
    await this.track(
      run(
        this.pool,
        `INSERT INTO counters VALUES ('ignored', ${sqlInt(n)})
         ON CONFLICT (name) DO UPDATE SET value = counters.value + EXCLUDED.value`,
      ),
    );
  }

  async counters(): Promise<StoreCounters> {
    const [row] = await this.db.rows(`
      SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM batches) AS batches,
             (SELECT value FROM counters WHERE name = 'duplicates') AS duplicates,
             (SELECT value FROM counters WHERE name = 'superseded') AS superseded,
             (SELECT value FROM counters WHERE name = 'rejected') AS rejected,
             coalesce((SELECT value FROM counters WHERE name = 'ignored'), 0) AS ignored`);
    return {
      events: num(row?.events),
      duplicates: num(row?.duplicates),
      superseded: num(row?.superseded),
      rejected: num(row?.rejected),
      ignored: num(row?.ignored),
      batches: num(row?.batches),
    };
  }

  async batches(): Promise<BatchRecord[]> {
    const list = await this.db.rows(
      `SELECT seq, label, count, content_sha256, chain_sha256, ${ms('ingested_at')} AS ingested_at FROM batches ORDER BY seq`,
    );
    return list.map((r) => ({
      seq: num(r.seq),
      label: String(r.label),
      count: num(r.count),
      contentSha256: String(r.content_sha256),
      chainSha256: String(r.chain_sha256),
      ingestedAt: num(r.ingested_at),
    }));
  }

  auditHead(): Promise<string | null> {
    return readHead(this.db);
  }

  /** A REPEATABLE READ transaction: every read sees the state committed when it began (SPEC §5.3). */
  snapshot<T>(body: (s: StoreSnapshot) => Promise<T>): Promise<T> {
    return this.track(
      this.inSnapshot((db) =>
        body({
          selectorTuples: () => readSelectorTuples(db),
          usageGroups: (q) => collect((each) => readUsageGroups(db, q, each)),
          eachUsageGroup: (q, each) => readUsageGroups(db, q, each),
          auditHead: () => readHead(db),
          issuedStatement: (period) => readIssued(db, period),
          latestEventTime: () => readLatestEventTime(db),
        }),
      ),
    );
  }

  /** Recomputes every batch from one snapshot, so that writers committing meanwhile do not count. */
  verify(): Promise<VerifyResult> {
    return this.track(
      this.inSnapshot(async (db) => {
        const actual = await logContent(db, PG_AUDIT);
        const links = contentOf(await db.rows(linkBucketHashesSql(PG_AUDIT)));
        const recorded = recordedBatches(await db.rows(RECORDED_BATCHES_SQL));
        return verdict(recorded, actual, () => supersededCheck((sql) => db.rows(sql)), links);
      }),
    );
  }

  selectorTuples(): Promise<SelectorTuple[]> {
    return readSelectorTuples(this.db);
  }

  usageGroups(q: UsageQuery): Promise<UsageGroup[]> {
    return this.inSnapshot((db) => collect((each) => readUsageGroups(db, q, each)));
  }

  eventsPage(q: EventsPageQuery): Promise<UsageEvent[]> {
    return this.readTimed(async (db) => (await db.rows(eventsPageSql(q))).map(rowToEvent));
  }

  eventsById(id: string, source: string | null): Promise<UsageEvent[]> {
    return this.readTimed(async (db) =>
      (await db.rows(eventsByIdSql(id, source, MAX_SOURCES_PER_ID))).map(rowToEvent),
    );
  }

  traceSpans(traceIds: readonly string[], near?: { from: number; to: number }): Promise<TraceSpan[]> {
    if (traceIds.length === 0) return Promise.resolve([]);
    return this.readTimed(async (db) =>
      (await db.rows(traceSpansSql(POSTGRES_WINDOW, traceIds, near))).map(rowToSpan),
    );
  }

  latestEventTime(): Promise<number | null> {
    return readLatestEventTime(this.db);
  }

  async claimAlert(key: string, now: number): Promise<boolean> {
    return (
      (await this.db.run(
        `INSERT INTO alerts_sent VALUES (${sqlString(key)}, ${ts(now)}) ON CONFLICT DO NOTHING`,
      )) === 1
    );
  }

  async releaseAlert(key: string): Promise<void> {
    await this.db.run(`DELETE FROM alerts_sent WHERE key = ${sqlString(key)}`);
  }

  eventsInWindow(q: EventWindowQuery): Promise<UsageEvent[]> {
    return this.readTimed(async (db) => (await db.rows(eventsInWindowSql(q))).map(rowToEvent));
  }

  traceEvents(traceIds: readonly string[]): Promise<UsageEvent[]> {
    if (traceIds.length === 0) return Promise.resolve([]);
    return this.readTimed(async (db) => (await db.rows(traceEventsSql(traceIds))).map(rowToEvent));
  }

  selectorUsage(window: { from: number; to: number }): Promise<SelectorUsage[]> {
    return this.readTimed(async (db) => (await db.rows(selectorUsageSql(window))).map(rowToSelectorUsage));
  }

  samplingTraces(window: { from: number; to: number }): Promise<number> {
    return this.readTimed(async (db) => {
      const [row] = await db.rows(samplingTracesSql({ from: ts(window.from), to: ts(window.to) }));
      return Number(row?.n ?? 0);
    });
  }

  /** The store sums events per hour; core computes the facts (baselines, prices, networks) from the sums. */
  signalFacts(q: SignalQuery): Promise<SignalFacts> {
    return this.readTimed(async (db) =>
      signalFacts((await db.rows(signalSumsSql(q))).map(rowToSignalSum), q),
    );
  }

  signalEvidence(filters: readonly EvidenceFilter[], limit: number): Promise<EvidenceSample[]> {
    if (filters.every((f) => f.tuples.length === 0)) return Promise.resolve([]);
    return this.readTimed(async (db) =>
      (await db.rows(evidenceSql(filters, limit))).map((r) => ({
        key: String(r.k),
        firstSeen: num(r.first_t),
        lastSeen: num(r.last_t),
        events: num(r.events),
        eventIds: Array.isArray(r.ids) ? r.ids.map(String) : [],
      })),
    );
  }

  /** Versions are numbered under a lock, so two processes issuing a period at once get 1 and 2. */
  issueStatement(st: Omit<IssuedStatement, 'version' | 'issuedAt'>, now: number): Promise<IssuedStatement> {
    return this.track(
      this.withClient((c) =>
        inTransaction(c, async () => {
          await run(c, `SELECT pg_advisory_xact_lock(${LOCK('issue')})`);
          const [row] = await rows(
            c,
            `SELECT coalesce(max(version), 0) + 1 AS v FROM issued_statements WHERE period = ${sqlString(st.period)}`,
          );
          const version = num(row?.v);
          await run(
            c,
            `INSERT INTO issued_statements VALUES (${sqlString(st.period)}, ${version}, ${ts(now)},
               ${sqlString(st.contentSha256)}, ${sqlString(st.configSha256)},
               ${st.auditHead === null ? 'NULL' : sqlString(st.auditHead)}, ${sqlString(st.body)})`,
          );
          return { ...st, version, issuedAt: now };
        }),
      ),
    );
  }

  issuedStatement(period: string): Promise<IssuedStatement | null> {
    return readIssued(this.db, period);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.working);
    await this.pool.end();
  }

  /** Keeps `close` waiting until the operation has settled. */
  private track<T>(op: Promise<T>): Promise<T> {
    const settled = op.catch(() => undefined);
    this.working.add(settled);
    void settled.then(() => this.working.delete(settled));
    return op;
  }

  private async withClient<T>(body: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError('the store is closed');
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (e) {
      throw new StoreError(`cannot reach the store ${this.where}: ${message(e)}`, undefined, e);
    }
    let broken = false;
    // A connection the server drops while the client is out of the pool emits 'error' on the client
    // (the pool listens only to idle ones): unheard, it would end the process. The query running,
    // or the next one, fails with it; the client is then let go broken.
    const dropped = () => {
      broken = true;
    };
    c.on('error', dropped);
    try {
      return await body(c);
    } catch (e) {
      broken ||= !(e instanceof TallyError) || e instanceof StoreError;
      throw e;
    } finally {
      c.removeListener('error', dropped);
      c.release(broken);
    }
  }

  private inSnapshot<T>(body: (db: SnapshotDb) => Promise<T>): Promise<T> {
    return this.withClient(async (c) => {
      await run(c, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        await run(c, SNAPSHOT_SETTINGS);
        // The snapshot is fixed by the first query, before the body runs.
        await run(c, 'SELECT 1 FROM batches LIMIT 1');
        return await body({
          rows: (sql) => rows(c, sql),
          run: (sql) => run(c, sql),
          copyOut: (sql) => copyOut(c, sql),
        });
      } finally {
        await c.query('ROLLBACK').catch(() => undefined);
      }
    });
  }

  /**
   * A read bounded in time when the store was opened with `readTimeoutMs`:
   * the server cancels the statement past it, and the read fails with a
   * LimitError.
   */
  private readTimed<T>(body: (db: Db) => Promise<T>): Promise<T> {
    const limit = this.readTimeoutMs;
    if (limit === undefined) return this.track(body(this.db));
    return this.track(
      this.withClient(async (c) => {
        await run(c, 'BEGIN READ ONLY');
        try {
          await run(c, `SET LOCAL statement_timeout = ${Math.max(1, Math.trunc(limit))}`);
          return await body({ rows: (sql) => rows(c, sql), run: (sql) => run(c, sql) });
        } catch (e) {
          if (e instanceof StoreError && (e.cause as { code?: string } | undefined)?.code === '57014')
            throw new LimitError(
              `the query ran past the server's time bound of ${limit / 1000} s; ask for a shorter window`,
            );
          throw e;
        } finally {
          await c.query('ROLLBACK').catch(() => undefined);
        }
      }),
    );
  }
}

/** Splits the store URL: tally's own `schema` parameter, and what the driver gets. */
function parseUrl(url: string): { connectionString: string; schema: string | null; where: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`not a PostgreSQL URL: ${redactUrl(url)}`);
  }
  const schema = u.searchParams.get('schema');
  if (schema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new UsageError(`schema "${schema}" in the store URL: use lower-case letters, digits and _`);
  u.searchParams.delete('schema');
  return { connectionString: u.toString(), schema, where: redactUrl(url) };
}

function missing(where: string): UsageError {
  return new UsageError(
    `no tally store at ${where}: check --store or \`store:\` in tally.yaml, or run \`tally ingest\` first`,
  );
}

/** The URL without its password, for messages. */
function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

async function inTransaction<T>(c: pg.PoolClient, body: () => Promise<T>): Promise<T> {
  await run(c, 'BEGIN');
  let result: T;
  try {
    result = await body();
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
  await run(c, 'COMMIT');
  return result;
}

/** The events of ingest chunks (plain arrays or `IngestChunk`s); their trace links are collected in `links`. */
async function* eventsOf(
  chunks: AsyncIterable<UsageEvent[] | IngestChunk> | Iterable<UsageEvent[] | IngestChunk>,
  links: TraceLink[],
): AsyncGenerator<UsageEvent[]> {
  for await (const chunk of chunks) {
    if (Array.isArray(chunk)) yield chunk;
    else {
      if (chunk.links) pushAll(links, chunk.links);
      yield chunk.events;
    }
  }
}

/** Stages an ingest's trace links. */
async function copyLinks(c: pg.PoolClient, links: readonly TraceLink[]): Promise<void> {
  await run(c, LINK_STAGE_DDL);
  const sql = `COPY tally_stage_links (${LINK_COPY_COLUMNS}) FROM STDIN`;
  async function* lines(): AsyncGenerator<string> {
    for (let i = 0; i < links.length; i += COPY_CHUNK)
      yield links
        .slice(i, i + COPY_CHUNK)
        .map(linkCopyLine)
        .join('');
  }
  try {
    await pipeline(Readable.from(lines()), c.query(copyFrom(sql)));
  } catch (e) {
    if (e instanceof TallyError) throw e;
    throw new StoreError(`store query failed: ${message(e)}`, sql, e);
  }
}

/** Each batch's count and content hash from the rows of a bucket-hash query. */
function contentOf(list: readonly Row[]): Map<number, BatchContent> {
  return contentFromBuckets(
    list.map((r) => ({ seq: num(r.batch_seq), bucketHash: String(r.bucket_hash), count: num(r.n) })),
  );
}

/**
 * Streams the events into the staging table with COPY, noting the months
 * they fall in (so that no pass over the staged rows is needed for it) and
 * hashing each row's text (`hashed`: null when two records share a key, as
 * only the last is kept, or when a row's text is not known). A failure of
 * the input (a bad record found mid-way) aborts the COPY and is rethrown
 * unchanged; the caller's transaction then rolls back.
 */
async function copyEvents(
  c: pg.PoolClient,
  chunks: AsyncIterable<UsageEvent[]> | Iterable<UsageEvent[]>,
): Promise<{ offered: number; months: number[]; hashed: RowTextHasher | null }> {
  let offered = 0;
  // Null once a key repeats or a row's text is not known: the database then hashes the rows it keeps.
  let inNode: { hashed: RowTextHasher; keys: DistinctKeys } | null = {
    hashed: new RowTextHasher(),
    keys: new DistinctKeys(),
  };
  const months = new Set<number>();
  let monthEnd = Number.NEGATIVE_INFINITY;
  let monthStart = Number.POSITIVE_INFINITY;
  let failure: { error: unknown } | null = null;
  async function* lines(): AsyncGenerator<string> {
    try {
      for await (const chunk of chunks) {
        for (let i = 0; i < chunk.length; i += COPY_CHUNK) {
          let text = '';
          for (const e of chunk.slice(i, i + COPY_CHUNK)) {
            const row = copyEvent(e);
            text += row.line;
            if (inNode !== null) {
              if (row.text !== null && inNode.keys.add(e.source, e.id)) inNode.hashed.add(0, row.text);
              else inNode = null;
            }
            if (e.time < monthStart || e.time >= monthEnd) {
              monthStart = monthOf(e.time);
              monthEnd = nextMonth(monthStart);
              months.add(monthStart);
            }
          }
          offered += Math.min(COPY_CHUNK, chunk.length - i);
          yield text;
        }
      }
    } catch (e) {
      failure = { error: e };
      throw e;
    }
  }
  const sql = `COPY tally_stage (${COPY_COLUMNS}) FROM STDIN`;
  try {
    await pipeline(Readable.from(lines()), c.query(copyFrom(sql)));
  } catch (e) {
    const f = failure as { error: unknown } | null;
    if (f) throw f.error;
    throw new StoreError(`store query failed: ${message(e)}`, sql, e);
  }
  return { offered, months: [...months], hashed: inNode?.hashed ?? null };
}

/** An ingest's events as prepared before the lock. */
interface Staged {
  offered: number;
  /** Events left once each (source, id) of the input keeps its last record. */
  kept: number;
  /** Earlier records of the input identical to the one kept. */
  withinDuplicates: number;
  /** Count and content hash of the kept events (as if every one is new); undefined when none. */
  content: BatchContent | undefined;
  /** The months (their first instants) that the events fall in. */
  months: number[];
  /**
   * The last batch committed when the kept events were compared with the
   * log (their live versions up to it are in `tally_prior`); null: no event
   * kept, nothing to compare.
   */
  seen: number | null;
}

/**
 * What an ingest can do before it takes the lock, in parallel with other
 * writers: keep the last record of each (source, id) of the input (SPEC
 * §3.3) in `tally_last`, and the content hash of those events
 * (src/store/audit.ts). `hashed`: the rows' content, hashed in Node as they
 * were staged, every key distinct; the staged rows are then kept as they are.
 */
async function prepare(
  c: pg.PoolClient,
  offered: number,
  months: number[],
  hashed: RowTextHasher | null,
): Promise<Staged> {
  const [head] = await rows(c, `SELECT coalesce(max(seq), 0) AS seq FROM batches`);
  const seen = num(head?.seq);
  const { kept, withinDuplicates, content } =
    hashed !== null ? await keepAll(c, offered, hashed) : await keepLast(c, offered);
  if (kept > 0 && seen > 0)
    await findPrior(c, `o.batch_seq <= ${seen}`, 'CREATE TEMP TABLE tally_prior ON COMMIT DROP AS');
  return { offered, kept, withinDuplicates, content, months, seen: kept > 0 ? seen : null };
}

type Kept = Pick<Staged, 'kept' | 'withinDuplicates' | 'content'>;

/** Every key distinct and the rows hashed in Node: the staged rows are `tally_last` as they are. */
async function keepAll(c: pg.PoolClient, offered: number, hashed: RowTextHasher): Promise<Kept> {
  await run(c, 'ALTER TABLE tally_stage RENAME TO tally_last');
  return { kept: offered, withinDuplicates: 0, content: offered > 0 ? hashed.finish().get(0) : undefined };
}

/** The last record of each key into `tally_last`, hashed by the database. */
async function keepLast(c: pg.PoolClient, offered: number): Promise<Kept> {
  const kept = await run(
    c,
    `CREATE TEMP TABLE tally_last ON COMMIT DROP AS
     SELECT ${COLUMNS}, ord FROM (SELECT DISTINCT ON (source, id) * FROM tally_stage ORDER BY source, id, ord DESC) l`,
  );
  let withinDuplicates = 0;
  if (kept < offered) {
    const [same] = await rows(
      c,
      `SELECT count(*) AS n FROM tally_stage s JOIN tally_last l
         ON l.source = s.source AND l.id = s.id AND l.ord <> s.ord AND ${SAME_CONTENT('s', 'l')}`,
    );
    withinDuplicates = num(same?.n);
  }
  return { kept, withinDuplicates, content: kept > 0 ? await contentOfTable(c, 'tally_last') : undefined };
}

/** The live stored versions of the kept events, of the batches `where` selects, into `tally_prior`. */
function findPrior(c: pg.PoolClient, where: string, into: string): Promise<number> {
  return run(
    c,
    `${into} SELECT o.source, o.id, o.batch_seq, ${SAME_CONTENT('o', 'n')} AS same
     FROM tally_last n JOIN events o ON o.source = n.source AND o.id = n.id WHERE ${where}`,
  );
}

/** Count and content hash of the events of a prepared table. */
async function contentOfTable(c: pg.PoolClient, table: string): Promise<BatchContent | undefined> {
  const hashes = `SELECT 0 AS batch_seq, ${rowHashSql(PG_AUDIT)} AS h FROM ${table}`;
  return contentOf(await rows(c, bucketHashesOfSql(PG_AUDIT, hashes))).get(0);
}

/** Stores the staged trace links; a link whose span ids are stored already (the first one stored stays) is left out. */
function storeLinks(c: pg.PoolClient, seq: number): Promise<number> {
  return run(
    c,
    `INSERT INTO spans SELECT ${LINK_FIELDS.join(', ')}, ${seq} FROM (
       SELECT DISTINCT ON (trace_id, span_id) * FROM tally_stage_links ORDER BY trace_id, span_id, ord) l
     ON CONFLICT (trace_id, span_id) DO NOTHING`,
  );
}

/**
 * The kept rows whose (source, id) is live in the log (`tally_prior`):
 * identical ones are duplicates, different ones supersede the live version,
 * which stays in the log, marked. Under the lock: `prepare` compared them
 * with the batches up to `seen`; the batches committed since are compared
 * now, and a version they replaced is no longer the live one.
 */
async function priorVersions(
  c: pg.PoolClient,
  seen: number | null,
  last: number,
): Promise<{ duplicates: number; superseded: number }> {
  if (seen === null || last === 0) return { duplicates: 0, superseded: 0 };
  if (seen === 0) await findPrior(c, 'true', 'CREATE TEMP TABLE tally_prior ON COMMIT DROP AS');
  else if (last > seen) {
    const newer = await findPrior(c, `o.batch_seq > ${seen}`, 'INSERT INTO tally_prior');
    if (newer > 0)
      await run(
        c,
        `DELETE FROM tally_prior p WHERE p.batch_seq <= ${seen} AND EXISTS (
           SELECT 1 FROM tally_prior q WHERE q.source = p.source AND q.id = p.id AND q.batch_seq > ${seen})`,
      );
  }
  const [r] = await rows(
    c,
    `SELECT count(*) FILTER (WHERE same) AS d, count(*) FILTER (WHERE NOT same) AS s FROM tally_prior`,
  );
  return { duplicates: num(r?.d), superseded: num(r?.s) };
}

async function addCounters(r: Runner, add: { duplicates: number; superseded: number }): Promise<void> {
  const changed = Object.entries(add).filter(([, n]) => n !== 0);
  if (changed.length === 0) return;
  await run(
    r,
    `UPDATE counters SET value = value + CASE name ${changed.map(([k, n]) => `WHEN ${sqlString(k)} THEN ${sqlInt(n)}`).join(' ')} END
     WHERE name IN (${changed.map(([k]) => sqlString(k)).join(', ')})`,
  );
}

async function addCounter(r: Runner, name: string, n: number): Promise<void> {
  if (n !== 0)
    await run(r, `UPDATE counters SET value = value + ${sqlInt(n)} WHERE name = ${sqlString(name)}`);
}

async function readSelectorTuples(db: Db): Promise<SelectorTuple[]> {
  return (
    await db.rows(`SELECT DISTINCT api_key, service, agent, project FROM events
      UNION SELECT DISTINCT api_key, service, agent, project FROM spans`)
  ).map((r) => tupleOf(r));
}

/**
 * The usage groups of a window, on a snapshot's connection. PostgreSQL
 * expects nearly a group per event (it multiplies the columns' distinct
 * counts) and so sorts the month's rows on the 24 keys; hashing them is half
 * the time (a 1M-event month: 36 s against 18 s, ~385 MB; BENCHMARKS.md,
 * B2-pg), so the sort is ruled out for this query's transaction. Groups come
 * in no particular order either way.
 */
async function readUsageGroups(db: Db, q: UsageQuery, each: (g: UsageGroup) => void): Promise<void> {
  await db.run('SET LOCAL enable_sort = off');
  const pairs = (await db.rows(modelPairsSql(q))).map((r) => ({
    provider: str(r.provider),
    model: str(r.model),
  }));
  const groups = (await db.rows(usageGroupsSql(q, varyingPairs(q, pairs)))).map(rowToUsageGroup);
  // By day, day by day (UsageQuery.byDay): a stable sort here, as the session's sorts are off.
  if (q.byDay) groups.sort((a, b) => (a.day ?? 0) - (b.day ?? 0));
  for (const g of groups) each(g);
}

async function readHead(db: Db): Promise<string | null> {
  const [row] = await db.rows(`SELECT chain_sha256 FROM batches ORDER BY seq DESC LIMIT 1`);
  return row ? String(row.chain_sha256) : null;
}

async function readLatestEventTime(db: Db): Promise<number | null> {
  const [row] = await db.rows(`SELECT ${ms('max(time)')} AS t FROM events`);
  return optNum(row?.t);
}

async function readIssued(db: Db, period: string): Promise<IssuedStatement | null> {
  const [r] = await db.rows(
    `SELECT period, version, ${ms('issued_at')} AS issued_at, content_sha256, config_sha256, audit_head, body
     FROM issued_statements WHERE period = ${sqlString(period)} ORDER BY version DESC LIMIT 1`,
  );
  if (!r) return null;
  return {
    period: String(r.period),
    version: num(r.version),
    issuedAt: num(r.issued_at),
    contentSha256: String(r.content_sha256),
    configSha256: String(r.config_sha256),
    auditHead: str(r.audit_head),
    body: String(r.body),
  };
}

async function rows(r: Runner, sql: string): Promise<Row[]> {
  try {
    return (await r.query(sql)).rows as Row[];
  } catch (e) {
    throw new StoreError(`store query failed: ${message(e)}`, sql, e);
  }
}

/** The output of a `COPY … TO STDOUT`, chunk by chunk; a failure names the statement. */
async function* copyOut(c: pg.PoolClient, sql: string): AsyncGenerator<Buffer> {
  const stream = c.query(copyTo(sql));
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (e) {
    throw new StoreError(`store query failed: ${message(e)}`, sql, e);
  } finally {
    stream.destroy();
  }
}

/** Runs a statement; returns the number of rows it changed (or created, for CREATE TABLE AS). */
async function run(r: Runner, sql: string): Promise<number> {
  try {
    return (await r.query(sql)).rowCount ?? 0;
  } catch (e) {
    throw new StoreError(`store query failed: ${message(e)}`, sql, e);
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

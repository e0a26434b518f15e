/**
 * The trace walk of a usage query kept in the store between reads, so that a
 * statement or signals run again on an unchanged store (the month's rerun
 * after a correction of the configuration) recalls the walk instead of
 * walking ~1.6M spans again (docs/decisions.md, "The walk kept between
 * reads").
 *
 * The walk (usage-sql.ts `usageSetupParts`: `tally_needs`, `tally_spans`,
 * `tally_resolved`) is a function of the stored events and spans and of its
 * own SQL text, which holds the window and every selector tuple that is
 * shared or can pay. So the memo's key is a hash of that text and of what
 * the walk read: the batches (count, last number, chain head), the rows of
 * the log, the spans and the superseded markers, the schema, DuckDB's
 * version and its `hash` of a fixed text (the walk's nodes are DuckDB
 * hashes). A statement whose walk reads the same gets the same rows; any
 * batch stored, any marker, any change to the shared or paying tuples or the
 * window, gives another key and a walk computed afresh. A correction that
 * changes owners, teams, prices or policy leaves the walk's key as it was.
 *
 * One walk is kept (the last one computed), in `tally_memo_walk`, with its
 * key, row count and a hash of its rows in `tally_memo`; a recalled walk
 * whose rows do not match that count and hash is computed afresh. The paying
 * ancestor's selector tuple is kept as its hash, and read back from the
 * snapshot's census (tuple-census.ts), which lists every stored tuple: half
 * the bytes to write. A census where two tuples share a hash keeps no memo.
 *
 * A snapshot writes the memo at its end, after every read, and commits it;
 * `MemoGate` lets one snapshot of the process write at a time, and none whose
 * snapshot is older than the last memo written (DuckDB refuses a change to a
 * table that another transaction changed since it began).
 */
import { createHash } from 'node:crypto';
import { type TupleCensus, tupleHashSql } from './tuple-census.js';
import type { ChunkDb } from './usage-read.js';

/** The memo's index: one row per kept result (`name`), with its key and a check of its rows. */
export const MEMO_TABLE = 'tally_memo';
const NAME = 'walk';
/** The kept copy of a result kept under `name`. */
const keptTable = (name: string) => `tally_memo_${name}`;
/** The walk's rows, as `tally_resolved` holds them but for the paying tuple. */
const WALK_TABLE = keptTable(NAME);

/** Everything besides the walk's SQL that its result depends on: one row. */
const VERSION_SQL = `SELECT (SELECT count(*) FROM batches) AS batches, (SELECT max(seq) FROM batches) AS seq,
  (SELECT chain_sha256 FROM batches ORDER BY seq DESC LIMIT 1) AS head,
  (SELECT count(*) FROM event_log) AS log, (SELECT count(*) FROM spans) AS spans,
  (SELECT count(*) FROM superseded) AS superseded, (SELECT max(version) FROM schema_migrations) AS schema,
  (SELECT library_version FROM pragma_version()) AS duckdb, hash('tally walk memo')::VARCHAR AS probe`;

/** `tally_resolved`'s rows as kept: the paying tuple as its hash (`tupleHashSql`). */
const KEEP_SQL = `SELECT node, up, payer_found, CASE WHEN payer_found THEN ${tupleHashSql('p_')} END AS payer_h,
  tenant_found FROM temp.tally_resolved`;

/** `tally_resolved` from the memo, each paying tuple read from the census by its hash. */
const RECALL_SQL = `CREATE OR REPLACE TEMP TABLE tally_resolved AS
  SELECT m.node, m.up, m.payer_found, c.api_key AS p_api_key, c.service AS p_service, c.agent AS p_agent,
         c.project AS p_project, m.tenant_found
  FROM ${WALK_TABLE} m LEFT JOIN tally_census c ON c.h = m.payer_h`;

/** Rows of the recalled walk whose paying tuple the census lacks (none, unless the memo is not this store's). */
const UNMATCHED_SQL = `SELECT count(*) AS n FROM ${WALK_TABLE} m
  WHERE m.payer_h IS NOT NULL AND m.payer_h NOT IN (SELECT h FROM tally_census)`;

/**
 * Who may write the memo: one snapshot of the process at a time, begun after
 * the last memo was written (`generation`, read before the snapshot's first read).
 */
export class MemoGate {
  #generation = 0;
  #busy = false;

  /**
   * `sole`: whether this store is the only one of the process open on its
   * file. Two DuckDB instances on one file in one process (a test that runs
   * the CLI beside an open store) each write their own log: a memo written
   * by one beside the other left a log DuckDB could not replay. Only a sole
   * instance writes.
   */
  constructor(private readonly sole: () => boolean = () => true) {}
  /** Walks recalled by this process's snapshots (what the tests watch). */
  recalled = 0;

  get generation(): number {
    return this.#generation;
  }

  /** Walks this process kept: each memo committed. */
  get kept(): number {
    return this.#generation;
  }

  /** Whether a snapshot begun at generation `since` may write now; if so it must `release`. */
  claim(since: number): boolean {
    if (this.#busy || this.#generation !== since || !this.sole()) return false;
    this.#busy = true;
    return true;
  }

  /** The end of a claim; `kept`: the memo was committed. */
  release(kept: boolean): void {
    this.#busy = false;
    if (kept) this.#generation++;
  }
}

/** One snapshot's use of the memo: recall or compute each walk, and keep the last computed at the end. */
export class WalkMemo {
  /** The key of the walk that `tally_resolved` holds as computed here, to be kept (null: none, or recalled). */
  #pending: string | null = null;

  constructor(
    private readonly gate: MemoGate,
    /** The gate's generation when the snapshot began; null: this snapshot keeps nothing. */
    private readonly since: number | null,
  ) {}

  /**
   * Fills `tally_resolved`: recalled when kept for the same key, else by
   * running `walk` (its statements). `census`: the snapshot's, taken already.
   */
  async resolve(db: ChunkDb, walk: readonly string[], census: TupleCensus): Promise<void> {
    const usable = census.collisions.length === 0;
    const key = usable ? await memoKey(db, walk) : null;
    if (key !== null && (await recall(db, key))) {
      this.#pending = null;
      this.gate.recalled++;
      return;
    }
    for (const sql of walk) await db.run(sql);
    this.#pending = key;
  }

  /**
   * Writes the walk computed last, if any and if the gate allows, within the
   * snapshot's transaction; returns whether it wrote (the transaction must then
   * commit, and `settle` be told how that went). A write that fails leaves the
   * transaction to be rolled back.
   */
  async keep(db: ChunkDb): Promise<boolean> {
    const key = this.#pending;
    if (key === null || this.since === null || !this.gate.claim(this.since)) return false;
    try {
      await writeKept(db, NAME, key, KEEP_SQL);
      return true;
    } catch (e) {
      this.gate.release(false);
      throw e;
    }
  }

  /** After `keep` wrote: whether the transaction committed. */
  settle(committed: boolean): void {
    this.gate.release(committed);
  }
}

/** The key of a result computed by `statements` from the store: a hash of them and of the store's state. */
export async function memoKey(db: ChunkDb, statements: readonly string[]): Promise<string> {
  const [version] = await db.rows(VERSION_SQL);
  const hash = createHash('sha256');
  hash.update(JSON.stringify(version, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  for (const sql of statements) hash.update(`\u0000${sql}`);
  return hash.digest('hex');
}

/** Fills `tally_resolved` from the memo when it holds the walk of `key`, with the rows it was written with. */
async function recall(db: ChunkDb, key: string): Promise<boolean> {
  if (!(await keptRowsMatch(db, NAME, key, WALK_TABLE))) return false;
  const [unmatched] = await db.rows(UNMATCHED_SQL);
  if (Number(unmatched?.n ?? 0) > 0) return false;
  await db.run(RECALL_SQL);
  return true;
}

/** Whether `table` holds the rows kept under `name` for `key`: its index row there, their count and hash. */
async function keptRowsMatch(db: ChunkDb, name: string, key: string, table: string): Promise<boolean> {
  const [present] = await db.rows(`SELECT count(*) AS n FROM duckdb_tables()
    WHERE NOT temporary AND table_name IN ('${MEMO_TABLE}', '${table}') AND database_name = current_database()`);
  if (Number(present?.n ?? 0) < 2) return false;
  const [entry] = await db.rows(
    `SELECT rows, rows_hash FROM ${MEMO_TABLE} WHERE name = '${name}' AND key = '${key}'`,
  );
  if (entry === undefined) return false;
  const [check] = await db.rows(rowsCheckSql(table));
  return Number(check?.n) === Number(entry.rows) && String(check?.h) === String(entry.rows_hash);
}

/** The row count and a hash of every row of `table`, whatever its columns. */
const rowsCheckSql = (table: string) =>
  `SELECT count(*) AS n, coalesce(sum(hash(m)::HUGEINT), 0)::VARCHAR AS h FROM ${table} m`;

/**
 * Fills the temporary `table` with the rows kept under `name` for `key`
 * (`keepTable`), after checking their count and hash; false when none are
 * kept for that key or they do not match.
 */
export async function recallTable(db: ChunkDb, name: string, key: string, table: string): Promise<boolean> {
  if (!(await keptRowsMatch(db, name, key, keptTable(name)))) return false;
  await db.run(`CREATE OR REPLACE TEMP TABLE ${table} AS SELECT * FROM ${keptTable(name)}`);
  return true;
}

/**
 * Keeps the rows of the temporary `table` under `name` for `key`, in a
 * transaction of its own on `db` (a connection in no transaction), if the
 * gate lets it write now. Never fails: without the memo the next read
 * computes the table again.
 */
export async function keepTable(
  db: ChunkDb,
  gate: MemoGate,
  name: string,
  key: string,
  table: string,
): Promise<void> {
  if (!gate.claim(gate.generation)) return;
  let kept = false;
  try {
    await db.run('BEGIN TRANSACTION');
    await writeKept(db, name, key, `SELECT * FROM temp.${table}`);
    await db.run('COMMIT');
    kept = true;
  } catch {
    await db.run('ROLLBACK').catch(() => undefined);
  } finally {
    gate.release(kept);
  }
}

/** Writes the rows of `select` as the result kept under `name` for `key`, with their index row (count and hash). */
async function writeKept(db: ChunkDb, name: string, key: string, select: string): Promise<void> {
  await db.run(`CREATE OR REPLACE TABLE ${keptTable(name)} AS ${select}`);
  const [check] = await db.rows(rowsCheckSql(keptTable(name)));
  await db.run(`CREATE TABLE IF NOT EXISTS ${MEMO_TABLE} (name VARCHAR NOT NULL, key VARCHAR NOT NULL,
    rows BIGINT NOT NULL, rows_hash VARCHAR NOT NULL)`);
  await db.run(`DELETE FROM ${MEMO_TABLE} WHERE name = '${name}'`);
  await db.run(
    `INSERT INTO ${MEMO_TABLE} VALUES ('${name}', '${key}', ${Number(check?.n ?? 0)}, '${String(check?.h)}')`,
  );
}

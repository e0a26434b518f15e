/**
 * Versioned migrations, applied in order at open. A migration is never edited
 * once released; a schema change is a new entry at the end.
 *
 * Events carry no PRIMARY KEY on (source, id): DuckDB keeps such a key in an
 * ART index that made a 1M-event insert about 27% slower when measured
 * (6.2 s against 4.9 s) and that grows with the table. Uniqueness is
 * enforced by ingest instead (an anti-join against the stored events inside
 * the ingest transaction, the only writer), and the store never updates or
 * deletes stored events.
 */
import { SELECTOR_FIELDS } from '../../core/config.js';
import { ALL_EVENT_FIELDS, EVENT_FIELDS, type UsageEvent } from '../../core/event.js';
import { COUNT_COLUMNS } from '../rows.js';

/** The SQL type of each canonical field: time in UTC with millisecond values, counts exact, the rest text. */
export function columnType(field: keyof UsageEvent): string {
  if (field === 'time') return 'TIMESTAMP';
  return COUNT_COLUMNS.has(field) ? 'BIGINT' : 'VARCHAR';
}

/** The columns of the first migration: never changes (new fields are added by later migrations). */
export const EVENT_COLUMNS_DDL = EVENT_FIELDS.map((f) => `${f} ${columnType(f)}`).join(', ');

/** Every canonical field as a column: the staging table of an ingest. */
export const ALL_EVENT_COLUMNS_DDL = ALL_EVENT_FIELDS.map((f) => `${f} ${columnType(f)}`).join(', ');

/**
 * The order a file's batch is written to the log in: by day, then by the
 * selectors that bind an event to its identity. DuckDB keeps each column's
 * minimum and maximum per stretch of rows and skips the stretches a filter
 * rules out, so an identity's events, written together within each day, are
 * found without decoding every row of the log (a replay's signal scope on
 * the benchmark month: 260–320 → ~70 ms). Order within a batch carries no
 * meaning to a read (each orders what it returns) or to a batch's content
 * hash (it sorts its row hashes); the bulk path, which keeps a repeated
 * key's last record in the file, finds it by reading the file again.
 * A server's small batches are appended as they come (sorting them would
 * cluster nothing).
 */
export const LOG_ROW_ORDER = `date_trunc('day', time), ${SELECTOR_FIELDS.join(', ')}`;

/** Every canonical field cast to its column's type: a query's values as the log stores them. */
export const TYPED_FIELDS = ALL_EVENT_FIELDS.map((f) => `CAST(${f} AS ${columnType(f)}) AS ${f}`).join(', ');

/**
 * The append-only log is `event_log`; `events` is the view of the live
 * events: every logged event that no later version superseded (SPEC §3.3).
 * Every read (statements, signals, replay, drill-down) goes through the
 * view; only ingest, the audit and the drill-down of a tenant (which reads
 * the log by row id, leaving out `SUPERSEDED_ROWS`) read the log. The view
 * is rewritten
 * whenever a batch gains superseded versions: only the rows of those
 * batches are checked against the markers, so a store where nothing was
 * ever superseded reads the log as fast as before (measured: an anti-join
 * over every row doubled the time of a grouping scan).
 */
export function liveEventsViewSql(markedBatches: readonly number[]): string {
  if (markedBatches.length === 0) return `CREATE OR REPLACE VIEW events AS SELECT * FROM event_log`;
  const list = markedBatches.map((b) => String(Math.trunc(b))).join(', ');
  return `CREATE OR REPLACE VIEW events AS
  SELECT * FROM event_log WHERE batch_seq NOT IN (${list})
  UNION ALL
  SELECT l.* FROM event_log l
  WHERE l.batch_seq IN (${list}) AND ${liveRowSql('l')}`;
}

/** Whether the log row `l` is live: no marker names its version (the view's rule, for reads of the log by row id). */
export function liveRowSql(l: string): string {
  return `NOT EXISTS (SELECT 1 FROM superseded s
    WHERE s.batch_seq = ${l}.batch_seq AND s.source = ${l}.source AND s.id = ${l}.id)`;
}

/**
 * The row ids of the log rows that are not live (a marker names their
 * version): the rows the view leaves out, for reads of the log by row id.
 * Markers name few batches, so zone maps on `batch_seq` skip most of the log.
 */
export const SUPERSEDED_ROWS = `SELECT l.rowid AS r FROM event_log l
  SEMI JOIN superseded s ON s.batch_seq = l.batch_seq AND s.source = l.source AND s.id = l.id`;

export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE events (${EVENT_COLUMNS_DDL}, batch_seq INTEGER NOT NULL);
   CREATE TABLE batches (seq INTEGER NOT NULL, label VARCHAR NOT NULL, count BIGINT NOT NULL,
     content_sha256 VARCHAR NOT NULL, chain_sha256 VARCHAR NOT NULL, ingested_at TIMESTAMP NOT NULL);
   CREATE TABLE counters (name VARCHAR PRIMARY KEY, value BIGINT NOT NULL);
   INSERT INTO counters VALUES ('duplicates', 0), ('rejected', 0);`,
  `CREATE TABLE issued_statements (period VARCHAR NOT NULL, version INTEGER NOT NULL, issued_at TIMESTAMP NOT NULL,
     content_sha256 VARCHAR NOT NULL, config_sha256 VARCHAR NOT NULL, audit_head VARCHAR, body VARCHAR NOT NULL);`,
  `CREATE TABLE alerts_sent (key VARCHAR PRIMARY KEY, sent_at TIMESTAMP NOT NULL);`,
  // Richer usage (SPEC §3) and restatable events (§3.3): the log keeps every
  // version, `superseded` names the versions a later batch replaced.
  `ALTER TABLE events RENAME TO event_log;
   ALTER TABLE event_log ADD COLUMN cache_write_1h_tokens BIGINT DEFAULT 0;
   ALTER TABLE event_log ADD COLUMN input_audio_tokens BIGINT DEFAULT 0;
   ALTER TABLE event_log ADD COLUMN output_audio_tokens BIGINT DEFAULT 0;
   ALTER TABLE event_log ADD COLUMN units VARCHAR;
   CREATE TABLE superseded (source VARCHAR NOT NULL, id VARCHAR NOT NULL, batch_seq INTEGER NOT NULL,
     by_seq INTEGER NOT NULL);
   ${liveEventsViewSql([])};
   INSERT INTO counters VALUES ('superseded', 0);`,
  // Trace links (SPEC §3.2): spans that are not AI work keep their ids and
  // selectors for the walk up a trace. One row per (trace_id, span_id), the
  // first stored; the batch that stored it hashes it (audit.ts).
  `CREATE TABLE spans (trace_id VARCHAR NOT NULL, span_id VARCHAR NOT NULL, parent_span_id VARCHAR,
     tenant VARCHAR, api_key VARCHAR, service VARCHAR, agent VARCHAR, project VARCHAR,
     batch_seq INTEGER NOT NULL, PRIMARY KEY (trace_id, span_id));
   INSERT INTO counters VALUES ('ignored', 0);`,
  // Sampled telemetry (SPEC §11): the adjusted count as exact text, NULL for an unsampled event.
  `ALTER TABLE event_log ADD COLUMN adjusted_count VARCHAR;`,
];

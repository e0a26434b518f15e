/**
 * The PostgreSQL schema: versioned migrations applied in order at open (a
 * migration is never edited once released; a change is a new entry at the
 * end), and the monthly partitions of the event log.
 *
 * The log is partitioned by month on `time`: a month's statement reads one
 * or two partitions, and an old month can be detached or archived whole.
 * There is no unique key on (source, id): the log keeps every version of an
 * event (SPEC §3.3), and a key across partitions would have to include
 * `time`. Ingest decides what is new under one lock (see postgres-store.ts);
 * the index on (source, id) makes that decision a lookup per event.
 */
import { ALL_EVENT_FIELDS, type EventField, SAMPLING_FIELDS } from '../../core/event.js';
import { LINK_FIELDS } from '../audit.js';
import { COUNT_COLUMNS, sqlString } from '../rows.js';

/** The SQL type of each canonical field: time in UTC, counts exact, the rest text. */
export function pgColumnType(field: EventField): string {
  if (field === 'time') return 'timestamptz';
  return COUNT_COLUMNS.has(field) ? 'bigint' : 'text';
}

/** The columns of the first migration: never changes (later fields are added by later migrations). */
const FIRST_FIELDS = ALL_EVENT_FIELDS.filter((f) => !(SAMPLING_FIELDS as readonly string[]).includes(f));
const COLUMNS_DDL = FIRST_FIELDS.map(
  (f) => `${f} ${pgColumnType(f)}${f === 'id' || f === 'source' || f === 'time' ? ' NOT NULL' : ''}`,
).join(', ');

/** The staging table of one ingest: every canonical field and the input order. */
export const STAGE_DDL = `CREATE TEMP TABLE tally_stage (${ALL_EVENT_FIELDS.map((f) => `${f} ${pgColumnType(f)}`).join(', ')}, ord bigserial) ON COMMIT DROP`;

export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE event_log (${COLUMNS_DDL}, batch_seq integer NOT NULL) PARTITION BY RANGE (time);
   CREATE INDEX event_log_source_id ON event_log (source, id);
   CREATE INDEX event_log_trace ON event_log (trace_id) WHERE trace_id IS NOT NULL;
   CREATE TABLE batches (seq integer PRIMARY KEY, label text NOT NULL, count bigint NOT NULL,
     content_sha256 text NOT NULL, chain_sha256 text NOT NULL, ingested_at timestamptz NOT NULL);
   CREATE TABLE counters (name text PRIMARY KEY, value bigint NOT NULL);
   INSERT INTO counters VALUES ('duplicates', 0), ('rejected', 0), ('superseded', 0);
   CREATE TABLE issued_statements (period text NOT NULL, version integer NOT NULL, issued_at timestamptz NOT NULL,
     content_sha256 text NOT NULL, config_sha256 text NOT NULL, audit_head text, body text NOT NULL,
     PRIMARY KEY (period, version));
   CREATE TABLE alerts_sent (key text PRIMARY KEY, sent_at timestamptz NOT NULL);
   CREATE TABLE superseded (source text NOT NULL, id text NOT NULL, batch_seq integer NOT NULL,
     by_seq integer NOT NULL);
   CREATE INDEX superseded_version ON superseded (source, id, batch_seq);
   CREATE VIEW events AS SELECT * FROM event_log l WHERE NOT EXISTS (SELECT 1 FROM superseded s
     WHERE s.source = l.source AND s.id = l.id AND s.batch_seq = l.batch_seq);`,
  // Trace links: spans that are not AI work keep their ids and selectors for
  // the walk up a trace. One row per (trace_id, span_id), the first stored;
  // the batch that stored it hashes it (../audit.ts).
  `CREATE TABLE spans (trace_id text NOT NULL, span_id text NOT NULL, parent_span_id text,
     tenant text, api_key text, service text, agent text, project text,
     batch_seq integer NOT NULL, PRIMARY KEY (trace_id, span_id));
   CREATE INDEX spans_batch ON spans (batch_seq);
   INSERT INTO counters VALUES ('ignored', 0) ON CONFLICT DO NOTHING;`,
  // Sampled telemetry (SPEC §11): the adjusted count as exact text, NULL for an unsampled event.
  // The view reads l.*, so it is made again to carry the new column.
  `ALTER TABLE event_log ADD COLUMN adjusted_count text;
   CREATE OR REPLACE VIEW events AS SELECT * FROM event_log l WHERE NOT EXISTS (SELECT 1 FROM superseded s
     WHERE s.source = l.source AND s.id = l.id AND s.batch_seq = l.batch_seq);`,
  // The events of the batches committed since a writer looked (ingest checks
  // against the log before it takes the lock, then only those under it).
  `CREATE INDEX event_log_batch ON event_log (batch_seq);`,
];

/** The staging table of an ingest's trace links. */
export const LINK_STAGE_DDL = `CREATE TEMP TABLE tally_stage_links (${LINK_FIELDS.map((f) => `${f} text`).join(', ')}, ord bigserial) ON COMMIT DROP`;

/** The name of the partition of the month starting at `monthStart` (epoch ms, UTC): `event_log_2026_10`. */
export function partitionName(monthStart: number): string {
  const start = new Date(monthStart);
  const y = start.getUTCFullYear();
  return `event_log_${y < 0 ? 'm' : ''}${String(Math.abs(y)).padStart(4, '0')}_${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The partition of the month starting at `monthStart`. */
export function partitionSql(monthStart: number): string {
  const start = new Date(monthStart);
  const end = new Date(nextMonth(monthStart));
  return `CREATE TABLE IF NOT EXISTS ${partitionName(monthStart)} PARTITION OF event_log
    FOR VALUES FROM (${sqlString(start.toISOString())}) TO (${sqlString(end.toISOString())})`;
}

/** Start of the UTC month of `t`. */
export function monthOf(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Start of the UTC month after the one starting at `monthStart`. */
export function nextMonth(monthStart: number): number {
  const d = new Date(monthStart);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

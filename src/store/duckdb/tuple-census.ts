/**
 * The census of selector tuples: every distinct (api_key, service, agent,
 * project) of the stored events and trace links, in a temporary table
 * `tally_census` with each tuple's 64-bit hash. The usage groups are keyed
 * by that hash instead of the four texts (usage-sql.ts `tupleKeySql`): a
 * month's grouping spent a quarter of its time comparing the texts. The
 * census says which hashes two tuples share (`collisions`); a group of such
 * a tuple keeps its values in its key too, so two tuples never share a group.
 */
import type { SelectorTuple } from '../../core/usage.js';
import { tupleOf } from '../rows.js';
import { fieldsHashSql, sharedHashesSql } from './hash-key.js';
import type { ChunkDb } from './usage-read.js';

/** What a census found: the tuples, and the hashes shared by two or more of them (decimal text). */
export interface TupleCensus {
  tuples: SelectorTuple[];
  collisions: readonly string[];
}

/** The fields of a selector tuple, in the order its hash and values take them. */
export const TUPLE_FIELDS = ['api_key', 'service', 'agent', 'project'] as const;

/** The hash of the tuple in the columns named `prefix` + field. */
export const tupleHashSql = (prefix: string) => fieldsHashSql(TUPLE_FIELDS, prefix);

/** Counts the tuples into `tally_census` (in the caller's transaction), with the hashes they share. */
export async function takeCensus(db: Pick<ChunkDb, 'rows' | 'run'>): Promise<TupleCensus> {
  await db.run(`CREATE OR REPLACE TEMP TABLE tally_census AS
    SELECT ${tupleHashSql('')} AS h, * FROM (
      SELECT DISTINCT api_key, service, agent, project FROM events
      UNION SELECT DISTINCT api_key, service, agent, project FROM spans)`);
  const shared = await db.rows(sharedHashesSql('SELECT h FROM tally_census'));
  const tuples = await db.rows(`SELECT ${TUPLE_FIELDS.join(', ')} FROM tally_census`);
  return { tuples: tuples.map((r) => tupleOf(r)), collisions: shared.map((r) => String(r.h)) };
}

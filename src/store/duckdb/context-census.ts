/**
 * The census of event contexts: every distinct (environment, provider,
 * model, operation, tool, data source, units) of a window's events, in a
 * temporary table `tally_ctx` with each context's 64-bit hash and whether
 * any of its events is sampled. The usage groups are keyed by that hash
 * instead of the seven values and joined back to them once grouped
 * (usage-sql.ts `usageGroupsSql`): comparing the seven texts was about a
 * fifth of a month's grouping. As with the selector tuples' census
 * (tuple-census.ts), a hash that two contexts share is listed, and a group
 * of such a context keeps the values in its key too. The census also gives
 * the window's (provider, model) pairs, which the grouping's price bands read.
 */
import type { ModelPair } from '../../core/usage.js';
import { str } from '../rows.js';
import { fieldsHashSql, sharedHashesSql } from './hash-key.js';
import type { ChunkDb } from './usage-read.js';

/** The fields of an event's context, in the order the groups' rest of the key has them. */
export const CONTEXT_FIELDS = [
  'environment',
  'provider',
  'model',
  'operation',
  'tool',
  'data_source',
  'units',
] as const;

/** What a context census found: the window's model pairs, and the hashes two contexts share (decimal text). */
export interface ContextCensus {
  pairs: (ModelPair & { sampled: boolean })[];
  collisions: readonly string[];
}

/** Counts the contexts of the events that `where` selects into `tally_ctx` (in the caller's transaction). */
export async function takeContextCensus(
  db: Pick<ChunkDb, 'rows' | 'run'>,
  where: string,
): Promise<ContextCensus> {
  await db.run(`CREATE OR REPLACE TEMP TABLE tally_ctx AS
    SELECT ${fieldsHashSql(CONTEXT_FIELDS, '')} AS h, * FROM (
      SELECT ${CONTEXT_FIELDS.join(', ')}, bool_or(adjusted_count IS NOT NULL) AS sampled
      FROM events WHERE ${where} GROUP BY ALL)`);
  const shared = await db.rows(sharedHashesSql('SELECT h FROM tally_ctx'));
  const pairs = await db.rows(
    `SELECT provider, model, bool_or(sampled) AS sampled FROM tally_ctx GROUP BY provider, model`,
  );
  return {
    pairs: pairs.map((r) => ({
      provider: str(r.provider),
      model: str(r.model),
      sampled: r.sampled === true,
    })),
    collisions: shared.map((r) => String(r.h)),
  };
}

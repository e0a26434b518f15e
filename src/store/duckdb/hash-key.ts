/**
 * Keys made of a 64-bit hash of several text columns, for groupings and
 * joins that would otherwise compare the texts (the selector tuples'
 * census, tuple-census.ts; the event contexts', context-census.ts; the
 * signals' names, signals-sql.ts). A hash is exact only where no two
 * distinct values share it: each user lists the hashes that are shared
 * (`sharedHashesSql`), and a key of such a hash carries its values too.
 */

/** DuckDB's hash of `fields` in the columns named `prefix` + field. */
export const fieldsHashSql = (fields: readonly string[], prefix: string) =>
  `hash(${fields.map((f) => prefix + f).join(', ')})`;

/** The values of `fields` as one list, compared where hashes are shared. */
export const fieldsValuesSql = (fields: readonly string[], prefix: string) =>
  `[${fields.map((f) => prefix + f).join(', ')}]`;

/** The hashes (column `h` of `select`) that two or more of its rows share, as decimal text (column `h`). */
export const sharedHashesSql = (select: string) =>
  `SELECT h::VARCHAR AS h FROM (${select}) GROUP BY h HAVING count(*) > 1`;

/**
 * A key of `fields` (columns `prefix` + field): `<name>_h`, their hash, and
 * `<name>_x`, their values where the hash is one of `shared` (NULL elsewhere).
 * Listing a hash that no two values share would change nothing but the speed.
 */
export function hashKeySql(
  fields: readonly string[],
  prefix: string,
  name: string,
  shared: readonly string[],
): string {
  const h = fieldsHashSql(fields, prefix);
  const x =
    shared.length === 0
      ? 'NULL::VARCHAR[]'
      : `CASE WHEN ${h} IN (${shared.map((c) => `${BigInt(c)}::UBIGINT`).join(', ')}) THEN ${fieldsValuesSql(fields, prefix)} END`;
  return `${h} AS ${name}_h, ${x} AS ${name}_x`;
}

/** Whether the census row `c` (its hash `h` and its `fields`) is the one the key `<name>_h`, `<name>_x` of row `g` names. */
export const hashKeyMatchSql = (fields: readonly string[], c: string, g: string, name: string) =>
  `${c}.h = ${g}.${name}_h AND (${g}.${name}_x IS NULL OR ${g}.${name}_x IS NOT DISTINCT FROM ${fieldsValuesSql(fields, `${c}.`)})`;

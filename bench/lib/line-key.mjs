// The lookup tables of B2's reference query, for DuckDB (b2-statement) and
// PostgreSQL (b2-pg-statement) alike: what a hand-written query needs to group
// a month by the statement's line key, worked out in JavaScript before the
// timing. Each bench writes them as VALUES with its own column types.
import { categoryOf } from '../../dist/core/category.js';
import { NO_USAGE } from '../../dist/core/pricing.js';

/** A value as an SQL literal (NULL for none). */
export const sqlValue = (v) =>
  v === null || v === undefined ? 'NULL' : `'${String(v).replaceAll("'", "''")}'`;

/** Each selector tuple with its owner at `at`: the rows of `owner_map`, as literals. */
export function ownerRows(registry, at, tuples) {
  return tuples.map((t) => {
    const r = registry.resolve(t);
    const owner = r.kind === 'identity' ? registry.owner(r.identity, at) : null;
    const chain = owner?.ok ? owner.chain : null;
    const env = r.kind === 'identity' ? r.identity.environment : null;
    const row = [
      t.api_key,
      t.service,
      t.agent,
      t.project,
      chain?.costCenter,
      chain?.team,
      chain?.application,
      env,
    ];
    return `(${[...row, chain ? 'attributed' : 'unattributed'].map(sqlValue).join(', ')})`;
  });
}

/** Each operation with and without tokens, and its category: the rows of `categories`. */
export function categoryRows(operations) {
  return operations.flatMap((op) =>
    [true, false].map((h) => `(${sqlValue(op)}, ${h}, ${sqlValue(categoryOf(op, h))})`),
  );
}

/** Each (provider, model) with its input and output price per token at `at`: the rows of `rates`, `type` their SQL type. */
export function rateRows(prices, at, models, type) {
  const per = (m, tokens) => {
    const quote = prices.price({ ...NO_USAGE, time: at, provider: m.provider, model: m.model, ...tokens });
    return `${quote.priced ? (Number(quote.tokenCost) / 1e12 / 1e6).toFixed(15) : '0'}::${type}`;
  };
  return models.map(
    (m) =>
      `(${sqlValue(m.provider)}, ${sqlValue(m.model)}, ${per(m, { input_tokens: 1_000_000 })}, ${per(m, { output_tokens: 1_000_000 })})`,
  );
}

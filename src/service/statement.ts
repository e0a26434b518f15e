/**
 * Computing a statement: the use case that wires the store's usage groups to
 * attribution, pricing and allocation. Shared by the CLI, the server and the
 * demo; recomputed from the stored events and the configuration every time,
 * so a corrected configuration needs no re-ingestion.
 */
import { allocatePool, type PoolShare } from '../core/allocation.js';
import { Attributor, type Charge } from '../core/attribution.js';
import type { Config } from '../core/config.js';
import { PriceBook } from '../core/pricing.js';
import { Registry } from '../core/registry.js';
import { buildStatement, type Level, type Statement } from '../core/statement.js';
import type { SelectorTuple } from '../core/usage.js';
import type { Store } from '../store/store.js';

export interface Computed {
  statement: Statement;
  charges: Charge[];
  shares: PoolShare[];
  registry: Registry;
  prices: PriceBook;
}

export interface ComputeOptions {
  level?: Level;
  /** Split charges by UTC day (FOCUS rows). */
  byDay?: boolean;
}

export async function computeStatement(
  store: Store,
  config: Config,
  window: { start: number; end: number },
  opts: ComputeOptions = {},
): Promise<Computed> {
  const registry = new Registry(config);
  const prices = new PriceBook(config.prices);
  const tuples = await store.selectorTuples();
  const sharedTuples: SelectorTuple[] = [];
  const payerTuples: SelectorTuple[] = [];
  for (const t of tuples) {
    const r = registry.resolve(t);
    if (r.kind !== 'identity') continue;
    if (r.identity.shared) sharedTuples.push(t);
    else payerTuples.push(t);
  }
  const groups = await store.usageGroups({
    from: window.start,
    to: window.end,
    boundaries: [...new Set([...registry.boundaries(), ...prices.boundaries()])].sort((a, b) => a - b),
    sharedTuples: config.policy.workflowRollup === 'invoker' ? sharedTuples : [],
    payerTuples,
    byDay: opts.byDay ?? false,
    tierThresholds: prices.tierThresholds(),
    timeOfDayCuts: prices.timeOfDayCuts(),
    varies: (provider, model) => prices.varies(provider, model),
  });
  const attributor = new Attributor(registry, prices, config.policy);
  const charges = groups.map((g) => attributor.attribute(g));
  const shares = config.sharedPools.flatMap((p) => allocatePool(p, charges, registry, window.end));
  const statement = buildStatement(
    charges,
    shares,
    {
      period: window,
      currency: config.currency,
      inputs: {
        config_sha256: config.sha256,
        catalog_version: prices.catalogVersion,
        events: charges.reduce((n, c) => n + c.events, 0),
        audit_head: await store.auditHead(),
      },
    },
    opts.level ?? 'line',
  );
  return { statement, charges, shares, registry, prices };
}

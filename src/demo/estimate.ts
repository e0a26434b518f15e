/**
 * Rough list prices, used only to size the demo's budgets and pools and to
 * fill LiteLLM's own `spend` column (which tally keeps for reconciliation but
 * never uses as a price). Integer nano-dollars per token keep the sums exact.
 */
const NANO_PER_TOKEN: Record<string, [input: number, output: number, cacheRead: number, cacheWrite: number]> =
  {
    'gpt-4o': [2500, 10000, 1250, 2500],
    'gpt-4o-mini': [150, 600, 75, 150],
    'gpt-4.1': [2000, 8000, 500, 2000],
    'o3-mini': [1100, 4400, 550, 1100],
    o1: [15000, 60000, 7500, 15000],
    'text-embedding-3-small': [20, 0, 20, 20],
    'text-embedding-3-large': [130, 0, 130, 130],
    'claude-sonnet-4-5': [3000, 15000, 300, 3750],
    'claude-haiku-4-5': [1000, 5000, 100, 1250],
    'claude-3-5-haiku': [800, 4000, 80, 1000],
    'claude-opus-4-1': [15000, 75000, 1500, 18750],
  };

export const UNIT_NANO = { web_search: 10_000_000, retrieval: 400_000, invoke_agent: 2_000_000 };

const byPrefix = Object.keys(NANO_PER_TOKEN).sort((a, b) => b.length - a.length);

/** Estimated list cost in nano-dollars; 0 for a model without a price. */
export function estimateNano(
  model: string,
  input: number,
  output: number,
  cacheRead: number,
  cacheWrite: number,
): number {
  const key = byPrefix.find((k) => model.startsWith(k));
  const p = key ? NANO_PER_TOKEN[key] : undefined;
  if (!p) return 0;
  return (input - cacheRead - cacheWrite) * p[0] + output * p[1] + cacheRead * p[2] + cacheWrite * p[3];
}

/** Whole dollars, rounded up, never below 1. */
export function dollarsCeil(nano: number): number {
  return Math.max(1, Math.ceil(nano / 1e9));
}

// B4: pricing throughput. Prices 1M synthetic events (a realistic mix of
// catalog models with cache and reasoning tokens) with PriceBook.price and with
// @pydantic/genai-prices' calcPrice, one call per event, in the same process,
// and checks that both give the same amount for every event.
// Target: PriceBook at least 20× the events per second of calcPrice, 0 mismatches.
import { calcPrice } from '@pydantic/genai-prices';
import { PriceBook } from '../dist/core/pricing.js';

const N = Number(process.env.B4_EVENTS ?? 1_000_000);
const start = Date.UTC(2026, 9, 1);
const month = 31 * 24 * 3600 * 1000;

// Deterministic PRNG (mulberry32) so every run prices the same events.
let seed = 0x7a11;
function rand() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const logNormal = (median, spread) =>
  Math.round(median * Math.exp(spread * (rand() + rand() + rand() - 1.5)));

// weight, provider, model, operation, input median, output median, cache share, reasoning
const MIX = [
  [30, 'openai', 'gpt-4o', 'chat', 1500, 300, 0.3, false],
  [18, 'openai', 'gpt-4o-mini', 'chat', 1200, 250, 0.2, false],
  [10, 'openai', 'text-embedding-3-small', 'embeddings', 400, 0, 0, false],
  [4, 'openai', 'o3-mini', 'chat', 2000, 1500, 0.2, true],
  [13, 'anthropic', 'claude-sonnet-4-20250514', 'chat', 6000, 600, 0.6, false],
  [8, 'anthropic', 'claude-3-5-haiku-20241022', 'chat', 2000, 300, 0.4, false],
  [7, 'google', 'gemini-2.5-flash', 'chat', 3000, 400, 0.3, true],
  [3, 'google', 'gemini-2.5-pro', 'chat', 90000, 2000, 0.3, true],
  [4, 'aws.bedrock', 'anthropic.claude-3-5-haiku-20241022-v1:0', 'chat', 1500, 200, 0, false],
  [3, 'azure', 'gpt-4o-mini', 'chat', 1000, 200, 0.1, false],
];
const totalWeight = MIX.reduce((s, m) => s + m[0], 0);

function makeEvent() {
  let pick = rand() * totalWeight;
  let m = MIX[0];
  for (const row of MIX) {
    pick -= row[0];
    if (pick < 0) {
      m = row;
      break;
    }
  }
  const [, provider, model, operation, inMedian, outMedian, cacheShare, reasoning] = m;
  const input = Math.max(1, logNormal(inMedian, 1.2));
  const cached = rand() < 0.5 ? Math.floor(input * cacheShare * rand()) : 0;
  const cacheWrite = provider === 'anthropic' && rand() < 0.2 ? Math.floor((input - cached) * 0.5) : 0;
  const visible = outMedian === 0 ? 0 : Math.max(1, logNormal(outMedian, 1));
  const reasoningTokens = reasoning ? logNormal(outMedian, 1) : 0;
  return {
    time: start + Math.floor(rand() * month),
    provider,
    model,
    operation,
    input_tokens: input,
    output_tokens: visible + reasoningTokens,
    cache_read_tokens: cached,
    cache_write_tokens: cacheWrite,
    reasoning_tokens: reasoningTokens,
    requests: 1,
    tool: null,
    data_source: null,
  };
}

const events = Array.from({ length: N }, makeEvent);
// calcPrice's own inputs, built outside the timed loop.
const usages = events.map((e) => ({
  input_tokens: e.input_tokens,
  output_tokens: e.output_tokens,
  cache_read_tokens: e.cache_read_tokens,
  cache_write_tokens: e.cache_write_tokens,
  output_reasoning_tokens: e.reasoning_tokens,
}));
const stamps = events.map((e) => new Date(e.time));

const book = new PriceBook({ models: [], discounts: [], units: [] });
// Results go to typed arrays, not retained objects, so that neither loop pays
// for promoting a million results to the old generation.
const ours = new BigInt64Array(N);
const oursPriced = new Uint8Array(N);
const theirs = new Float64Array(N);
const theirsPriced = new Uint8Array(N);

function runOurs(n = N) {
  for (let i = 0; i < n; i++) {
    const q = book.price(events[i]);
    ours[i] = q.cost;
    oursPriced[i] = q.priced ? 1 : 0;
  }
}
function runTheirs(n = N) {
  for (let i = 0; i < n; i++) {
    const e = events[i];
    const r = calcPrice(usages[i], e.model, { providerId: e.provider, timestamp: stamps[i] });
    theirs[i] = r === null ? 0 : r.total_price;
    theirsPriced[i] = r === null ? 0 : 1;
  }
}

function time(fn) {
  globalThis.gc?.();
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

// Warm both paths on the same events first (calcPrice on a tenth: it is slow).
time(() => runOurs());
time(() => runTheirs(Math.ceil(N / 10)));
const oursSeconds = time(() => runOurs());
const theirsSeconds = time(() => runTheirs());

let compared = 0;
let mismatches = 0;
let onlyOne = 0;
const examples = [];
for (let i = 0; i < N; i++) {
  if (oursPriced[i] === 0 || theirsPriced[i] === 0) {
    if (oursPriced[i] !== theirsPriced[i]) onlyOne++;
    continue;
  }
  compared++;
  // Ours is exact; calcPrice sums doubles. "Identical" = equal up to the
  // double's own rounding (and our rounding at the 12th decimal).
  const a = Number(ours[i]) / 1e12;
  if (Math.abs(a - theirs[i]) > 1e-12 + 1e-12 * Math.abs(theirs[i])) {
    mismatches++;
    if (examples.length < 3) examples.push({ event: events[i], ours: a, calcPrice: theirs[i] });
  }
}

const oursRate = N / oursSeconds;
const theirsRate = N / theirsSeconds;
const ratio = oursRate / theirsRate;
if (examples.length > 0) console.error('mismatches, e.g.', JSON.stringify(examples, null, 1));
console.log(
  JSON.stringify({
    name: 'B4 pricing',
    target: 'PriceBook.price ≥ 20× calcPrice per event; amounts identical (0 mismatches)',
    figures: {
      events: N,
      pricebook_events_per_s: Math.round(oursRate),
      calcprice_events_per_s: Math.round(theirsRate),
      ratio: Number(ratio.toFixed(1)),
      compared,
      mismatches,
      priced_by_one_only: onlyOne,
    },
    pass: ratio >= 20 && mismatches === 0 && onlyOne === 0 && compared === N,
  }),
);

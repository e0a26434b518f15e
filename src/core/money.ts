/**
 * Exact money. An amount is a bigint count of pico-units (10^-12) of the
 * statement currency, so every price in the catalog (at most six decimals per
 * million tokens) prices a single token exactly, and sums never drift.
 */
export type Money = bigint;

export const SCALE = 12;
export const ONE: Money = 10n ** BigInt(SCALE);
export const CENT: Money = 10n ** BigInt(SCALE - 2);
export const ZERO: Money = 0n;

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/** Parses a decimal string or a safe integer/finite decimal number literal into Money. */
export function parseMoney(value: string | number): Money {
  const text = typeof value === 'number' ? numberToPlainString(value) : value.trim();
  const m = DECIMAL.exec(text);
  if (!m) throw new RangeError(`not a decimal amount: ${JSON.stringify(value)}`);
  const [, sign, whole = '0', frac = ''] = m;
  if (frac.length > SCALE && /[1-9]/.test(frac.slice(SCALE))) {
    throw new RangeError(`more than ${SCALE} decimal places: ${text}`);
  }
  const units = BigInt(whole) * ONE + BigInt(frac.slice(0, SCALE).padEnd(SCALE, '0') || '0');
  return sign ? -units : units;
}

/**
 * A number from YAML or JSON is turned into its shortest decimal text, which
 * is what the author wrote (2.5 stays 2.5), never its binary expansion.
 */
function numberToPlainString(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite amount: ${n}`);
  const s = String(n);
  if (!/e/i.test(s)) return s;
  const [mant = '', expText = '0'] = s.toLowerCase().split('e');
  const exp = Number(expText);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '');
  const [intPart = '', fracPart = ''] = digits.split('.');
  const all = intPart + fracPart;
  const point = intPart.length + exp;
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${all}`;
  else if (point >= all.length) out = all + '0'.repeat(point - all.length);
  else out = `${all.slice(0, point)}.${all.slice(point)}`;
  return neg ? `-${out}` : out;
}

/** Formats with all 12 decimals trimmed of trailing zeros, keeping at least `minPlaces`. */
export function formatMoney(m: Money, minPlaces = 2): string {
  if (m === 0n && minPlaces === 2) return '0.00';
  const neg = m < 0n;
  const abs = neg ? -m : m;
  const whole = abs / ONE;
  const frac = trimZeros((abs - whole * ONE).toString().padStart(SCALE, '0'), minPlaces);
  const text = frac.length > 0 ? `${whole}.${frac}` : `${whole}`;
  return neg ? `-${text}` : text;
}

/** `digits` without its trailing zeros, but at least `minLength` long (padded with zeros). */
function trimZeros(digits: string, minLength: number): string {
  let end = digits.length;
  while (end > minLength && digits.charCodeAt(end - 1) === 48) end--;
  return end < minLength ? digits.padEnd(minLength, '0') : digits.slice(0, end);
}

/**
 * Formats an amount kept in units of 10^-(12+extraDigits) (a price per token
 * scaled to stay an integer) exactly, trailing zeros trimmed, at least two decimals.
 */
export function formatScaled(value: bigint, extraDigits: number): string {
  if (extraDigits === 0) return formatMoney(value);
  const unit = 10n ** BigInt(extraDigits);
  const neg = value < 0n;
  const abs = neg ? -value : value;
  const head = formatMoney(abs / unit, SCALE);
  const tail = (abs % unit).toString().padStart(extraDigits, '0');
  const text = `${head}${tail}`.replace(/0+$/, '');
  const [whole = '0', frac = ''] = text.split('.');
  const out = `${whole}.${frac.padEnd(2, '0')}`;
  return neg ? `-${out}` : out;
}

/** 10^(12 − places): the money units in one step of `places` decimals, computed once per `places`. */
const STEPS: Money[] = Array.from({ length: SCALE + 1 }, (_, places) => 10n ** BigInt(SCALE - places));

function stepOf(places: number): Money {
  return STEPS[places] ?? 10n ** BigInt(SCALE - places);
}

/** Formats with exactly `places` decimals, rounding half away from zero. */
export function formatFixed(m: Money, places: number): string {
  if (m === 0n && places === 2) return '0.00';
  const rounded = roundTo(m, places);
  const neg = rounded < 0n;
  const steps = (neg ? -rounded : rounded) / stepOf(places);
  let text = steps.toString();
  if (places > 0) {
    text = text.padStart(places + 1, '0');
    text = `${text.slice(0, -places)}.${text.slice(-places)}`;
  }
  return neg ? `-${text}` : text;
}

/** Rounds to `places` decimals, half away from zero. */
export function roundTo(m: Money, places: number): Money {
  const unit = stepOf(places);
  const neg = m < 0n;
  const abs = neg ? -m : m;
  const q = (abs + unit / 2n) / unit;
  return neg ? -(q * unit) : q * unit;
}

/** m × numerator / denominator, rounded half away from zero at the 12th decimal. */
export function mulDiv(m: Money, numerator: bigint, denominator: bigint): Money {
  if (denominator === 0n) throw new RangeError('division by zero');
  const p = m * numerator;
  const neg = p < 0n !== denominator < 0n;
  const a = p < 0n ? -p : p;
  const d = denominator < 0n ? -denominator : denominator;
  const q = (a + d / 2n) / d;
  return neg ? -q : q;
}

export function sum(values: Iterable<Money>): Money {
  let total = 0n;
  for (const v of values) total += v;
  return total;
}

/**
 * Splits `total` into parts proportional to `weights` in steps of `unit`
 * (a cent by default). Each part gets its floor share; the units left over go
 * one at a time to the largest remainders, ties to the earlier index, so the
 * parts always add up to `total` exactly. Callers sort by consumer id first
 * to get the spec's tie-break.
 */
export function allocateLargestRemainder(
  total: Money,
  weights: readonly bigint[],
  unit: Money = CENT,
): Money[] {
  if (weights.length === 0) return [];
  if (weights.some((w) => w < 0n)) throw new RangeError('negative weight');
  const weightSum = weights.reduce((a, b) => a + b, 0n);
  if (weightSum === 0n) throw new RangeError('weights sum to zero');
  const neg = total < 0n;
  const abs = neg ? -total : total;
  const units = abs / unit;
  const rest = abs - units * unit; // below one unit: given to the largest share whole
  const parts = weights.map((w) => (units * w) / weightSum);
  const remainders = weights.map((w, i) => ({ i, r: (units * w) % weightSum }));
  let left = units - parts.reduce((a, b) => a + b, 0n);
  remainders.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (let k = 0; left > 0n; k++, left--) {
    const slot = remainders[k % remainders.length];
    if (!slot) break;
    parts[slot.i] = (parts[slot.i] ?? 0n) + 1n;
  }
  const out = parts.map((p) => p * unit);
  if (rest !== 0n) {
    let biggest = 0;
    for (let i = 1; i < weights.length; i++) {
      if ((weights[i] ?? 0n) > (weights[biggest] ?? 0n)) biggest = i;
    }
    out[biggest] = (out[biggest] ?? 0n) + rest;
  }
  return neg ? out.map((p) => -p) : out;
}

/**
 * Rounds each amount to cents so that the rounded parts add up to the rounded
 * total (largest remainder), or to `total` (whole cents) when given: a parent
 * already rounded is split over its children, each of them then its floor or
 * ceiling as long as `total` is within a cent of their exact sum.
 */
export function roundToCentsLargestRemainder(
  amounts: readonly Money[],
  total: Money = roundTo(sum(amounts), 2),
): Money[] {
  const floors = amounts.map((a) => floorTo(a, CENT));
  let left = (total - sum(floors)) / CENT;
  const order = amounts
    .map((a, i) => ({ i, r: a - (floors[i] ?? 0n) }))
    .sort((x, y) => (x.r === y.r ? x.i - y.i : x.r > y.r ? -1 : 1));
  const out = [...floors];
  for (let k = 0; left > 0n; k++, left--) {
    const slot = order[k % order.length];
    if (!slot) break;
    out[slot.i] = (out[slot.i] ?? 0n) + CENT;
  }
  for (let k = order.length - 1; left < 0n; k--, left++) {
    const slot = order[((k % order.length) + order.length) % order.length];
    if (!slot) break;
    out[slot.i] = (out[slot.i] ?? 0n) - CENT;
  }
  return out;
}

function floorTo(m: Money, unit: Money): Money {
  const q = m / unit;
  return (m < 0n && m % unit !== 0n ? q - 1n : q) * unit;
}

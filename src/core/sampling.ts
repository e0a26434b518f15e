/**
 * Sampled telemetry (SPEC §11): adjusted counts as exact rationals, the
 * OpenTelemetry `tracestate` threshold, and the Horvitz–Thompson estimate of
 * a sum with its variance (docs/sampling.md).
 *
 * An adjusted count is kept as text, exactly: a decimal (`"10"`, `"1.25"`)
 * where it has one, else `"p/q"` in lowest terms. OpenTelemetry's adjusted
 * count 2^56 / (2^56 − th) is seldom a finite decimal.
 */
import { type Money, mulDiv } from './money.js';

/** A positive rational, in lowest terms. */
export interface Rational {
  n: bigint;
  d: bigint;
}

export const ONE_RATIONAL: Rational = { n: 1n, d: 1n };

/** Whether `w` is 1: an unsampled event's weight, which weighs nothing. */
export const isOne = (w: Rational) => w.n === 1n && w.d === 1n;
/** How a `SampleUnits` key ends for the weight 1 (`addSample`). */
const ONE_SUFFIX = '\u00001/1';

const TWO_56 = 1n << 56n;

function gcd(a: bigint, b: bigint): bigint {
  let [x, y] = [a < 0n ? -a : a, b < 0n ? -b : b];
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

export function rational(n: bigint, d: bigint): Rational {
  const g = gcd(n, d);
  return { n: n / g, d: d / g };
}

/** The text a rational is stored as: a decimal when its denominator is 2^a·5^b, else `p/q`. */
export function rationalText(r: Rational): string {
  let d = r.d;
  let places = 0;
  while (d % 10n === 0n) {
    d /= 10n;
    places++;
  }
  let scale = 1n;
  while (d % 2n === 0n || d % 5n === 0n) {
    const f = d % 2n === 0n ? 5n : 2n;
    d = (d * f) / 10n;
    scale *= f;
    places++;
  }
  if (d !== 1n) return `${r.n}/${r.d}`;
  const digits = (r.n * scale).toString().padStart(places + 1, '0');
  if (places === 0) return digits;
  const whole = digits.slice(0, -places);
  const frac = digits.slice(-places).replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : whole;
}

/** Parses stored text (decimal or `p/q`); null when it is not one. */
export function parseRational(text: string): Rational | null {
  const frac = /^([0-9]{1,40})\/([0-9]{1,40})$/.exec(text);
  if (frac) {
    const d = BigInt(frac[2] as string);
    return d === 0n ? null : rational(BigInt(frac[1] as string), d);
  }
  const dec = /^([0-9]{1,40})(?:\.([0-9]{1,40}))?$/.exec(text);
  if (!dec) return null;
  const f = dec[2] ?? '';
  return rational(BigInt(`${dec[1]}${f}`), 10n ** BigInt(f.length));
}

/**
 * A canonical `adjusted_count` (a decimal ≥ 1, or an exact fraction `p/q` ≥ 1) as stored: normalised, and
 * null for exactly 1 (an unsampled event, stored as if the field were absent).
 * Throws RangeError with the reason.
 */
export function adjustedCountOf(text: string): string | null {
  // A decimal, or the exact fraction `p/q` that tally writes for a `tracestate` threshold (so that events round-trip).
  const shape = /^[0-9]{1,15}(\.[0-9]{1,40})?$/.test(text) || /^[0-9]{1,40}\/[0-9]{1,40}$/.test(text);
  const r = shape ? parseRational(text) : null;
  if (r === null)
    throw new RangeError(`must be a decimal number ≥ 1 (or a fraction p/q), got "${text.slice(0, 40)}"`);
  if (r.n < r.d) throw new RangeError(`must be ≥ 1 (an event stands for at least itself), got ${text}`);
  return r.n === r.d ? null : rationalText(r);
}

/** The weight of an event: its adjusted count, 1 when absent. */
export function weightOf(adjusted: string | null | undefined): Rational {
  if (!adjusted) return ONE_RATIONAL;
  const r = parseRational(adjusted);
  if (r === null || r.n < r.d) throw new RangeError(`not an adjusted count: ${adjusted}`);
  return r;
}

/** `m` × `w`, to the money unit (half away from zero, as mulDiv rounds). */
export function weigh(m: Money, w: Rational): Money {
  return isOne(w) ? m : mulDiv(m, w.n, w.d);
}

/**
 * The OpenTelemetry sampling fields of a W3C `tracestate` (SPEC §11):
 * `th` (rejection threshold, 1–14 lower-case hex digits, padded with
 * trailing zeros to 56 bits) and `rv` (explicit randomness, exactly 14 hex
 * digits). Returns the adjusted count as stored (null when unsampled or the
 * tracestate has no threshold). Throws RangeError naming the sub-key.
 *
 * `traceId` supplies the randomness when `rv` is absent (its last 56 bits,
 * W3C Trace Context Level 2). A span kept by a consistent sampler has
 * randomness ≥ threshold; one below it was not sampled at that threshold,
 * and the spec tells samplers to erase such a threshold, so tally refuses it.
 */
export function adjustedCountFromTraceState(traceState: string, traceId: string): string | null {
  const ot = otValue(traceState);
  if (ot === null) return null;
  const kv = new Map<string, string>();
  for (const part of ot.split(';')) {
    const i = part.indexOf(':');
    if (i <= 0) throw new RangeError(`ot: "${part.slice(0, 40)}" is not key:value`);
    const k = part.slice(0, i);
    if (kv.has(k)) throw new RangeError(`ot: ${k} appears twice`);
    kv.set(k, part.slice(i + 1));
  }
  const th = kv.get('th');
  const rv = kv.get('rv');
  if (rv !== undefined && !/^[0-9a-f]{14}$/.test(rv))
    throw new RangeError(`ot.rv must be 14 lower-case hex digits, got "${rv.slice(0, 40)}"`);
  if (th === undefined) return null;
  if (!/^[0-9a-f]{1,14}$/.test(th))
    throw new RangeError(`ot.th must be 1 to 14 lower-case hex digits, got "${th.slice(0, 40)}"`);
  const threshold = BigInt(`0x${th.padEnd(14, '0')}`);
  const randomness = BigInt(`0x${rv ?? traceId.slice(-14)}`);
  if (randomness < threshold)
    throw new RangeError(
      `ot.th ${th} is inconsistent with the span's randomness (${rv === undefined ? 'trace id' : 'rv'} ${
        rv ?? traceId.slice(-14)
      } < threshold): a consistent sampler would not have kept it`,
    );
  if (threshold === 0n) return null;
  return rationalText(rational(TWO_56, TWO_56 - threshold));
}

/** The value of the `ot` member of a W3C tracestate, or null. */
function otValue(traceState: string): string | null {
  let found: string | null = null;
  for (const member of traceState.split(',')) {
    const m = member.trim();
    if (m === '') continue;
    const eq = m.indexOf('=');
    if (eq <= 0) throw new RangeError(`"${m.slice(0, 40)}" is not a tracestate member (key=value)`);
    if (m.slice(0, eq) !== 'ot') continue;
    if (found !== null) throw new RangeError('the ot member appears twice');
    found = m.slice(eq + 1);
  }
  return found;
}

/** The threshold (hex, trailing zeros cut) an SDK writes for sampling probability `p` (0 < p ≤ 1). */
export function thresholdFor(p: Rational): string {
  const t = TWO_56 - (TWO_56 * p.n) / p.d;
  if (t === 0n) return '0';
  return t.toString(16).padStart(14, '0').replace(/0+$/, '');
}

// ---------------------------------------------------------------------------
// The estimate's variance (docs/sampling.md)

/**
 * How the store names a sampling unit (SPEC §11): `trace:` and the trace id,
 * or `event:` and the source and id of an event without a trace. An event
 * unit is one event, so all of it is in one usage group; a trace unit may be
 * spread over many.
 */
export const TRACE_UNIT = 'trace:';
export const EVENT_UNIT = 'event:';

/** Whether a unit (or a `SampleUnits` key) is one event, whole in the group that carries it. */
export function isEventUnit(unit: string): boolean {
  return unit.startsWith(EVENT_UNIT);
}

/**
 * The sampled part of a line: per sampling unit (a trace, or an event
 * sampled on its own) its weight and its observed (unweighted) cost.
 * Variance is summed over units, because a unit is kept or dropped whole.
 */
export type SampleUnits = Map<string, { w: Rational; y: Money }>;

export function addSample(into: SampleUnits, unit: string, w: Rational, y: Money): void {
  // The weight of an unsampled event written once: two bigints in decimal per group cost a month's plan seconds.
  const key = isOne(w) ? `${unit}${ONE_SUFFIX}` : `${unit}\u0000${w.n}/${w.d}`;
  const u = into.get(key);
  if (u) u.y += y;
  else into.set(key, { w, y });
}

/** Adds `from`'s units to `into` (a new map when there is none yet); returns `into`. */
export function mergeSamples(into: SampleUnits | undefined, from: SampleUnits): SampleUnits {
  const out: SampleUnits = into ?? new Map();
  for (const [k, u] of from) {
    const v = out.get(k);
    if (v) v.y += u.y;
    else out.set(k, { w: u.w, y: u.y });
  }
  return out;
}

/**
 * The Horvitz–Thompson variance estimate of the weighted sum, Σ (w² − w)·y²
 * over the sampled units, in money units squared (floored per term).
 */
export function varianceOf(units: SampleUnits): bigint {
  let v = 0n;
  for (const { w, y } of units.values()) v += (y * y * (w.n * w.n - w.n * w.d)) / (w.d * w.d);
  return v;
}

/** The observed (unweighted) cost of the sampled units. */
export function observedOf(units: SampleUnits): Money {
  let s = 0n;
  for (const { y } of units.values()) s += y;
  return s;
}

export function isqrt(v: bigint): bigint {
  if (v < 2n) return v;
  // A double's square root is the start; far above 2^53 it is off by more than steps of one can walk.
  const f = Math.sqrt(Number(v));
  let x =
    Number.isFinite(f) && f >= 1 ? BigInt(Math.floor(f)) : 1n << BigInt(Math.ceil(v.toString(2).length / 2));
  // One Newton step lands at or above ⌊√v⌋; from there each step goes down until it stops.
  x = (x + v / x) >> 1n;
  for (let y = (x + v / x) >> 1n; y < x; y = (x + v / x) >> 1n) x = y;
  while (x * x > v) x--;
  while ((x + 1n) * (x + 1n) <= v) x++;
  return x;
}

/**
 * The third cumulant of the weighted sum, estimated from the sample:
 * Σ w(w − 1)(w − 2)·y³ over the sampled units (money units cubed, floored
 * per term). Costs are skewed (a few long prompts), and so is the estimate.
 */
export function thirdCumulantOf(units: SampleUnits): bigint {
  let k = 0n;
  for (const { w, y } of units.values())
    k += (y * y * y * w.n * (w.n - w.d) * (w.n - 2n * w.d)) / (w.d * w.d * w.d);
  return k;
}

/**
 * The 95 % interval of an estimated amount (docs/sampling.md): estimate ±
 * 1.96 standard errors, moved up by Johnson's skewness correction
 * (2z² + 1)/6 · κ₃ / V (with few sampled traces and skewed costs the plain
 * interval misses high totals too often), and never below what was observed (the unsampled part
 * plus the sampled events themselves: that spend certainly happened).
 */
export function interval95(estimate: Money, units: SampleUnits): [Money, Money] {
  const v = varianceOf(units);
  const half = (isqrt(v) * tQuantile975(units.size) + 999_999n) / 1_000_000n;
  // (2z² + 1) / 6 at z = 1.96: the Cornish–Fisher term of the studentized sum (Johnson 1978).
  const shift = v === 0n ? 0n : (thirdCumulantOf(units) * 14472n) / (10000n * v);
  const floor = estimate - sampledEstimate(units) + observedOf(units);
  const low = estimate + shift - half;
  return [low > floor ? low : floor, estimate + shift + half];
}

/**
 * Student's t 97.5 % quantile for `n` sampled units (n − 1 degrees of
 * freedom: the variance is estimated from them), in millionths, by the
 * Cornish–Fisher expansion around z = 1.96 (within 0.1 % from 5 units on).
 */
export function tQuantile975(n: number): bigint {
  const df = Math.max(n - 1, 1);
  const z = 1.959964;
  const t = z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
  return BigInt(Math.round(t * 1_000_000));
}

/** Σ w·y over the units: the sampled part of the estimate. */
export function sampledEstimate(units: SampleUnits): Money {
  let s = 0n;
  for (const { w, y } of units.values()) s += weigh(y, w);
  return s;
}

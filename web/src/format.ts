/**
 * Display formatting. Amounts arrive as exact decimal strings and are rounded
 * with the same bigint arithmetic as the engine, so a displayed total is the
 * API's total to the cent; `Number()` is used only to plot.
 */
import {
  formatFixed,
  type Money,
  parseMoney,
  roundToCentsLargestRemainder,
  sum,
} from '../../src/core/money.js';

export { parseMoney, sum };

function group(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function symbol(currency: string): string {
  return currency === 'USD' ? '$' : `${currency} `;
}

/** `1234.565` → `$1,234.57` (half away from zero). */
export function cents(amount: string | Money, currency = 'USD'): string {
  return centsOf(typeof amount === 'string' ? parseMoney(amount) : amount, currency);
}

function centsOf(m: Money, currency: string): string {
  const fixed = formatFixed(m, 2);
  const neg = fixed.startsWith('-');
  const [whole = '0', frac = '00'] = fixed.replace('-', '').split('.');
  return `${neg ? '−' : ''}${symbol(currency)}${group(whole)}.${frac}`;
}

/** A change with its sign: `+$1.23`, `−$0.05`. */
export function signedCents(amount: string, currency = 'USD'): string {
  const m = parseMoney(amount);
  return m > 0n ? `+${cents(m, currency)}` : cents(m, currency);
}

/** Per-event costs are fractions of a cent: show up to six decimals, at least two. */
export function precise(amount: string | null, currency = 'USD'): string {
  if (amount === null) return 'unpriced';
  const fixed = formatFixed(parseMoney(amount), 6).replace(/(\.\d\d\d*?)0+$/, '$1');
  const neg = fixed.startsWith('-');
  const [whole = '0', frac = '00'] = fixed.replace('-', '').split('.');
  return `${neg ? '−' : ''}${symbol(currency)}${group(whole)}.${frac}`;
}

/**
 * Rounds a column of amounts to cents so that the rounded rows add up to the
 * rounded total, as on an invoice (SPEC §4.8).
 */
export function centsColumn(amounts: readonly string[], currency = 'USD'): string[] {
  return roundToCentsLargestRemainder(amounts.map(parseMoney)).map((m) => centsOf(m, currency));
}

export function total(amounts: readonly string[]): Money {
  return sum(amounts.map(parseMoney));
}

export function percent(ratio: number | null): string {
  return ratio === null ? '—' : `${(ratio * 100).toFixed(1)} %`;
}

export function count(n: number): string {
  return group(String(n));
}

/** Times are shown in UTC, like every window in tally. */
export function utc(iso: string): string {
  return iso.replace('T', ' ').replace(/(:\d\d)(\.\d+)?Z$/, '$1 UTC');
}

/** A change in per cent as the API gives it (`-3.1`): `+5.2 %`, `−3.1 %`; `new` when there was nothing before. */
export function change(p: string | null): string {
  if (p === null) return 'new';
  return p.startsWith('-') ? `−${p.slice(1)} %` : `+${p} %`;
}

/** A part of a whole in per cent with one decimal, from exact amounts. */
export function share(part: string, whole: string): string {
  const w = parseMoney(whole);
  if (w === 0n) return '—';
  const tenths = (parseMoney(part) * 2000n + w) / (2n * w);
  return `${tenths / 10n}.${(tenths < 0n ? -tenths : tenths) % 10n} %`;
}

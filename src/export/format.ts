/** Display forms shared by the human-readable writers; machine formats keep every decimal. */
import { formatFixed, mulDiv, ONE } from '../core/money.js';
import type { Totals } from '../core/statement.js';

export function cents(m: bigint): string {
  return formatFixed(m, 2);
}

/** Coverage as a percentage to two places, computed from the exact parts; "n/a" without direct cost. */
export function coveragePercent(t: Totals): string {
  if (t.coverage.direct === 0n) return 'n/a';
  return `${formatFixed(mulDiv(100n * ONE, t.coverage.attributed, t.coverage.direct), 2)} %`;
}

/**
 * The widest cell of each column over `rows` (the head among them), for a
 * terminal table. A loop, not `Math.max(...cells)`: a month's table has more
 * rows than a call's arguments may hold (core/arrays.ts).
 */
export function columnWidths(rows: readonly (readonly string[])[]): number[] {
  const widths: number[] = [];
  for (const r of rows) for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length);
  return widths;
}

/** A difference to the cent with its sign: "+1.23", "-0.05", "0.00". */
export function signedCents(m: bigint): string {
  const text = formatFixed(m, 2);
  return m > 0n && text !== '0.00' ? `+${text}` : text;
}

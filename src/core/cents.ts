/**
 * Cents, computed once (SPEC §4.8). Every output that shows cents (table,
 * CSV, HTML, the dashboard, budgets) shows these; JSON and FOCUS carry the
 * exact amounts beside them.
 *
 * The rounding is nested: the statement's total effective cost is rounded to
 * the cent, then split over the status, reason, cost center, team and
 * application at each step down by largest remainder, down to the lines. So
 * every roll-up level is a sum of the cents below it, each within a cent of its
 * exact amount, and the rounded lines add up to the rounded total at every
 * level. The tenant level cuts across teams, so it is rounded again, tenant by
 * tenant, within each group of lines with the same status, reason and kind
 * (billed in full or not, usage or pool), each group keeping the cents the
 * organisation's tree gave it: so its totals of every column are the same.
 *
 * The other columns follow from the effective cents of a line, so that no
 * line ever shows two cents for the same money: a usage line's direct cost is
 * its effective cost, a pool line's shared cost is; billed is the effective
 * cents when the line is billed in full, 0 when it is not billed, and never
 * above the effective cents. List cost is the effective cents plus the
 * discount (list − effective) rounded like effective cost in its own tree, so
 * a line without a discount shows the same list and effective cents.
 */
import type { Amounts, LineKey } from './attribution.js';
import { type Money, roundTo, roundToCentsLargestRemainder } from './money.js';

/** The money columns of a line, in whole cents (multiples of 10^10 pico-units). */
export interface LineCents {
  direct_cost: Money;
  shared_cost: Money;
  effective_cost: Money;
  list_cost: Money;
  billed_cost: Money;
}

export const CENT_COLUMNS = [
  'direct_cost',
  'shared_cost',
  'effective_cost',
  'list_cost',
  'billed_cost',
] as const satisfies readonly (keyof LineCents)[];

export function zeroCents(): LineCents {
  return { direct_cost: 0n, shared_cost: 0n, effective_cost: 0n, list_cost: 0n, billed_cost: 0n };
}

export function addCents(into: LineCents, c: LineCents): void {
  for (const f of CENT_COLUMNS) into[f] += c[f];
}

type Keyed = LineKey & Amounts;

/** Where a line sits in the organisation's tree: status, reason, cost center, team, application, the rest of the key. */
export function orgPath(l: LineKey): string[] {
  return [
    l.status,
    l.reason ?? '',
    l.cost_center ?? '',
    l.team ?? '',
    l.application ?? '',
    [l.tenant, l.environment, l.category, l.pool].map((v) => v ?? '').join('\u0000'),
  ];
}

/** Where a line sits in the tenant tree: status, reason, tenant, the rest. */
export function tenantPath(l: LineKey): string[] {
  return [
    l.status,
    l.reason ?? '',
    l.tenant ?? '',
    [l.cost_center, l.team, l.application, l.environment, l.category, l.pool]
      .map((v) => v ?? '')
      .join('\u0000'),
  ];
}

/** The cents of each line (same order), rounded in the tree that `path` gives. */
export function centsOfLines(lines: readonly Keyed[], path: (l: LineKey) => string[]): LineCents[] {
  const paths = lines.map(path);
  const all = lines.map((_, i) => i);
  const total = (f: (l: Keyed) => Money) =>
    roundTo(
      lines.reduce((a, l) => a + f(l), 0n),
      2,
    );
  const tree = splitTree(paths, [all]);
  const effective = tree(
    lines.map((l) => l.effective_cost),
    [total((l) => l.effective_cost)],
  );
  const discount = tree(
    lines.map((l) => l.list_cost - l.effective_cost),
    [total((l) => l.list_cost - l.effective_cost)],
  );
  return lines.map((l, i) => derive(l, effective[i] ?? 0n, discount[i] ?? 0n));
}

/**
 * The cents of lines that have them, rounded again in another tree (the
 * tenant level): within each group of the same status, reason and kind, the
 * group's cents are kept and split anew along `path`.
 */
export function recentLines(
  lines: readonly (Keyed & { cents: LineCents })[],
  path: (l: LineKey) => string[],
): LineCents[] {
  const groups = new Map<string, number[]>();
  lines.forEach((l, i) => {
    const k = [l.status, l.reason ?? '', kindOf(l)].join('\u0000');
    const g = groups.get(k);
    if (g) g.push(i);
    else groups.set(k, [i]);
  });
  const sorted = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
  const target = (g: number[], f: (c: LineCents) => Money) => g.reduce((a, i) => a + f(lines[i]!.cents), 0n);
  const paths = lines.map(path);
  const tree = splitTree(paths, sorted);
  const effective = tree(
    lines.map((l) => l.effective_cost),
    sorted.map((g) => target(g, (c) => c.effective_cost)),
  );
  const discount = tree(
    lines.map((l) => l.list_cost - l.effective_cost),
    sorted.map((g) => target(g, (c) => c.list_cost - c.effective_cost)),
  );
  return lines.map((l, i) => derive(l, effective[i] ?? 0n, discount[i] ?? 0n));
}

/** What decides a line's other columns from its effective cents: billed in full, not or in part; usage or pool. */
function kindOf(l: Amounts): string {
  const billed = l.billed_cost === l.effective_cost ? 'full' : l.billed_cost === 0n ? 'none' : 'part';
  const shared = l.shared_cost === 0n ? 'usage' : l.direct_cost === 0n ? 'pool' : 'both';
  return `${billed}/${shared}`;
}

/** Direct, shared, billed and list cents from a line's effective cents (and its discount's). */
function derive(l: Amounts, effective: Money, discount: Money): LineCents {
  let direct: Money;
  if (l.shared_cost === 0n) direct = effective;
  else if (l.direct_cost === 0n) direct = 0n;
  else direct = clamp(roundTo(l.direct_cost, 2), effective);
  let billed: Money;
  if (l.billed_cost === l.effective_cost) billed = effective;
  else if (l.billed_cost === 0n) billed = 0n;
  else billed = clamp(roundTo(l.billed_cost, 2), effective);
  return {
    direct_cost: direct,
    shared_cost: effective - direct,
    effective_cost: effective,
    list_cost: effective + discount,
    billed_cost: billed,
  };
}

/** Between 0 and `top` (either way round for negative amounts). */
function clamp(v: Money, top: Money): Money {
  const lo = top < 0n ? top : 0n;
  const hi = top < 0n ? 0n : top;
  return v < lo ? lo : v > hi ? hi : v;
}

/** A group of lines split along the paths: a line, or the parts in the order they are rounded. */
type Split = number | Split[];

/**
 * Rounds amounts to cents top-down: each of the given groups to its cents,
 * then the subgroups at every depth of the paths, by largest remainder,
 * subgroups in key order. The splits depend only on the paths, so they are
 * made once and return a function that rounds any amounts of the same lines
 * (effective cost, discount) to the groups' cents.
 */
function splitTree(
  paths: readonly string[][],
  groups: readonly (readonly number[])[],
): (amounts: readonly Money[], cents: readonly Money[]) => Money[] {
  const tops = groups.map((g) => (g.length > 0 ? split(g, 0) : null));
  return (amounts, cents) => {
    const out: Money[] = amounts.map(() => 0n);
    const sums = new Map<Split[], Money[]>();
    const sumOf = (s: Split): Money => {
      if (typeof s === 'number') return amounts[s] ?? 0n;
      const parts = s.map(sumOf);
      sums.set(s, parts);
      return parts.reduce((a, b) => a + b, 0n);
    };
    const give = (s: Split, target: Money): void => {
      if (typeof s === 'number') {
        out[s] = target;
        return;
      }
      const shares = roundToCentsLargestRemainder(sums.get(s) as Money[], target);
      s.forEach((part, j) => {
        give(part, shares[j] ?? 0n);
      });
    };
    tops.forEach((top, i) => {
      if (top === null) return;
      sumOf(top);
      give(top, cents[i] ?? 0n);
    });
    return out;
  };

  function split(members: readonly number[], depth: number): Split {
    if (members.length === 1 && depth >= (paths[members[0] as number]?.length ?? 0))
      return members[0] as number;
    const byKey = new Map<string, number[]>();
    for (const i of members) {
      const k = paths[i]?.[depth] ?? String(i);
      const g = byKey.get(k);
      if (g) g.push(i);
      else byKey.set(k, [i]);
    }
    // Past the last step of the path, lines with the same path are told apart by position.
    const atLeaf = members.every((i) => depth >= (paths[i]?.length ?? 0));
    if (atLeaf) return members.map((i) => split([i], Number.POSITIVE_INFINITY));
    const keys = [...byKey.keys()].sort();
    return keys.map((k) => split(byKey.get(k) as number[], depth + 1));
  }
}

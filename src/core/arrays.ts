/**
 * What `push(...items)`, `Math.min(...values)` and `Math.max(...values)` do,
 * for any number of items. Spreading an array into a call passes each
 * element as an argument on the stack, and V8 throws a RangeError ("Maximum
 * call stack size exceeded") past ~120k of them: a month has more statement
 * lines, bill rows, charges and events than that. `src` spreads no array
 * into a call (test/core/arrays.test.ts reads it).
 */

/** Appends every item to `into`, in order; returns `into`. */
export function pushAll<T>(into: T[], items: Iterable<T>): T[] {
  for (const item of items) into.push(item);
  return into;
}

/** The smallest value (Infinity when there is none, NaN when one is NaN), as `Math.min(...values)`. */
export function minOf(values: Iterable<number>): number {
  let min = Number.POSITIVE_INFINITY;
  for (const v of values) min = Math.min(min, v);
  return min;
}

/** The largest value (-Infinity when there is none, NaN when one is NaN), as `Math.max(...values)`. */
export function maxOf(values: Iterable<number>): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) max = Math.max(max, v);
  return max;
}

/**
 * How a registry selector meets the values telemetry carried (SPEC §2, §3.1),
 * the one rule that attribution, replay, posture and signals share:
 * - `api_key` of 64 hex digits (a key's SHA-256, as LiteLLM shows it)
 *   matches that value exactly; 16 to 63 hex digits match a 64-hex value
 *   that starts with them (and a value equal to them, as older stores kept
 *   16); any other value (a provider's key id, `key_…`) matches exactly.
 *   Hex is compared in lower case: the configuration and ingestion both
 *   lowercase a hash.
 * - `service`, `agent` and `project` match exactly.
 * A store that compares in its own query language takes the comparisons from
 * `selectorComparisons` and only translates them.
 */
import type { Selector } from './config.js';
import { SELECTOR_FIELDS } from './config.js';
import type { SelectorTuple } from './usage.js';

export const MIN_KEY_PREFIX_DIGITS = 16;
export const KEY_HASH_DIGITS = 64;

const HEX = /^[0-9a-fA-F]+$/;
const KEY_HASH = /^[0-9a-f]{64}$/;

/** A hex value of 16–64 digits, lowercased; any other `api_key` value as it is. */
export function normalizeApiKey(value: string): string {
  return value.length >= MIN_KEY_PREFIX_DIGITS && value.length <= KEY_HASH_DIGITS && HEX.test(value)
    ? value.toLowerCase()
    : value;
}

/** A key hash as telemetry carries it, lowercased (SPEC §3.1); any other value as it is. */
export function normalizeKeyHash(value: string): string {
  return value.length === KEY_HASH_DIGITS && HEX.test(value) ? value.toLowerCase() : value;
}

/** Whether an `api_key` selector value is a hash prefix (16 to 63 hex digits). */
export function isKeyPrefix(value: string): boolean {
  return value.length >= MIN_KEY_PREFIX_DIGITS && value.length < KEY_HASH_DIGITS && HEX.test(value);
}

/** Whether a value is a key hash as telemetry carries it (64 lowercase hex digits). */
export function isKeyHash(value: string): boolean {
  return KEY_HASH.test(value);
}

/** One field's comparison: `equals` the value, or a 64-hex value that `starts_with` it. */
export interface FieldComparison {
  field: (typeof SELECTOR_FIELDS)[number];
  op: 'equals' | 'key_prefix';
  value: string;
}

/** The comparisons a selector stands for; an event matches when all hold. */
export function selectorComparisons(s: Selector): FieldComparison[] {
  const out: FieldComparison[] = [];
  for (const field of SELECTOR_FIELDS) {
    const value = s[field];
    if (value === undefined) continue;
    const op = field === 'api_key' && isKeyPrefix(value) ? 'key_prefix' : 'equals';
    out.push({ field, op, value });
  }
  return out;
}

/** Whether one comparison holds for a value (null never matches). */
export function comparisonHolds(c: FieldComparison, have: string | null): boolean {
  if (have === null) return false;
  if (have === c.value) return true;
  return c.op === 'key_prefix' && isKeyHash(have) && have.startsWith(c.value);
}

/** The number of fields of a selector when it matches the tuple, else 0 (SPEC §4.1 ranks by it). */
export function selectorScore(s: Selector, t: SelectorTuple): number {
  const comparisons = selectorComparisons(s);
  for (const c of comparisons) if (!comparisonHolds(c, t[c.field])) return 0;
  return comparisons.length;
}

/**
 * Whether any of `tuples` matches a selector (score above 0), for many
 * selectors against one set of tuples: a selector of exact values is one
 * lookup among the tuples' values of its fields; one with a key prefix is
 * compared with the tuples whose `api_key` starts with the prefix's first
 * MIN_KEY_PREFIX_DIGITS digits (the only ones it can match).
 */
export function anyTupleMatches(tuples: readonly SelectorTuple[]): (s: Selector) => boolean {
  const byFields = new Map<string, Set<string>>();
  let byKeyStart: Map<string, SelectorTuple[]> | null = null;
  const keyed = (prefix: string): readonly SelectorTuple[] => {
    if (byKeyStart === null) {
      byKeyStart = new Map();
      for (const t of tuples) {
        // a prefix matches a value equal to it or a key hash that starts with it: either starts as it does
        if (t.api_key === null || t.api_key.length < MIN_KEY_PREFIX_DIGITS) continue;
        const start = t.api_key.slice(0, MIN_KEY_PREFIX_DIGITS);
        const list = byKeyStart.get(start);
        if (list) list.push(t);
        else byKeyStart.set(start, [t]);
      }
    }
    return byKeyStart.get(prefix.slice(0, MIN_KEY_PREFIX_DIGITS)) ?? [];
  };
  return (s) => {
    const comparisons = selectorComparisons(s);
    if (comparisons.length === 0) return false;
    const prefix = comparisons.find((c) => c.op === 'key_prefix');
    if (prefix) return keyed(prefix.value).some((t) => selectorScore(s, t) > 0);
    const fields = comparisons.map((c) => c.field);
    const shape = fields.join(',');
    let values = byFields.get(shape);
    if (!values) {
      values = new Set();
      for (const t of tuples)
        if (fields.every((f) => t[f] !== null)) values.add(JSON.stringify(fields.map((f) => t[f])));
      byFields.set(shape, values);
    }
    return values.has(JSON.stringify(comparisons.map((c) => c.value)));
  };
}

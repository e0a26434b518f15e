/**
 * Usage-report buckets (SPEC §3.3): a bucket is identified by its format,
 * start, width and group key, never by when it was fetched. Providers cut
 * buckets at the query's edges: OpenAI's first bucket starts at the query's
 * `start_time` and the current one ends early, while the same bucket fetched
 * later is whole. Both must get the same identity, so that the later fetch
 * supersedes the earlier one instead of adding to it.
 *
 * The reports do not say their width (`bucket_width` is a query parameter),
 * so it is inferred: the smallest of the widths the APIs offer (1m, 1h, 1d)
 * whose UTC-aligned slot holds the bucket; on a page, the largest such width
 * among its buckets, since a page has one width (a partial first bucket of a
 * daily page may fit within an hour). A bucket that fits no aligned slot
 * keeps its own start and end.
 */
import { redactSecrets } from '../core/secrets.js';

const WIDTHS_MS = [60_000, 3_600_000, 86_400_000] as const;

/** The smallest standard width whose aligned slot holds [start, end), or null. */
export function fittingWidth(start: number, end: number): number | null {
  if (!(end > start)) return null;
  for (const w of WIDTHS_MS) if (Math.floor(start / w) === Math.floor((end - 1) / w)) return w;
  return null;
}

/** The width of a page's buckets: the largest fitting width among them (null when none fits). */
export function pageWidth(spans: ReadonlyArray<{ start: number; end: number }>): number | null {
  let width: number | null = null;
  for (const s of spans) {
    const w = fittingWidth(s.start, s.end);
    if (w !== null && (width === null || w > width)) width = w;
  }
  return width;
}

/**
 * The bucket's slot: the aligned start and end of the slot of `width` that
 * holds it, or its own start and end when it fits none.
 */
export function bucketSlot(start: number, end: number, width: number | null): { start: number; end: number } {
  const w = width ?? fittingWidth(start, end);
  if (w === null || !(end > start)) return { start, end };
  const slot = Math.floor(start / w) * w;
  if (end > slot + w) return { start, end };
  return { start: slot, end: slot + w };
}

/** An event id from parts, each redacted first so that no raw key lands inside an id. */
export function bucketId(parts: ReadonlyArray<string>): string {
  return parts.map((p) => (p === '' ? p : redactSecrets(p))).join('|');
}

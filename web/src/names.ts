/**
 * Display names from tally.yaml (GET /v1/names). Views show the name and keep
 * the id on hover (`title`) and in `data-id`, where tests and CSV read it.
 */
import { h } from './dom.js';

export type OrgLevel = 'cost_center' | 'team' | 'application' | 'tenant';
export type Names = Record<OrgLevel, Record<string, string>>;

export const NO_NAMES: Names = { cost_center: {}, team: {}, application: {}, tenant: {} };

export function isOrgLevel(d: string): d is OrgLevel {
  return d === 'cost_center' || d === 'team' || d === 'application' || d === 'tenant';
}

/** The name of an id, the id itself when it has none. */
export function nameOf(names: Names, level: string, id: string): string {
  return isOrgLevel(level) ? (names[level][id] ?? id) : id;
}

/** A name with its id on hover, or `none` (a dash) when there is no id; a link when `href` is given. */
export function named(
  names: Names,
  level: string,
  id: string | null,
  href?: string,
  none = '—',
): HTMLElement | string {
  if (id === null || id === '') return none;
  const attrs = { title: id, 'data-id': id, class: 'named' };
  const text = nameOf(names, level, id);
  return href ? h('a', { ...attrs, href }, text) : h('span', attrs, text);
}

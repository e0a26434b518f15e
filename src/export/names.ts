/** Display names of the registry's org units, for the writers that show more than ids. */
import type { Config, PoolLevel } from '../core/config.js';

export type Names = Record<PoolLevel, ReadonlyMap<string, string>>;

export function namesOf(config: Config): Names {
  const byId = (xs: readonly { id: string; name: string }[]) => new Map(xs.map((x) => [x.id, x.name]));
  return {
    cost_center: byId(config.costCenters),
    team: byId(config.teams),
    application: byId(config.applications),
    tenant: byId(config.tenants),
  };
}

/** The name of an org unit, its id when it has none. */
export function nameOf(names: Names | undefined, level: PoolLevel, id: string): string {
  return names?.[level].get(id) ?? id;
}

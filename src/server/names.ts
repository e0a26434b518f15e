/**
 * Display names from tally.yaml for the dashboard (ids stay the keys). A team
 * token gets the names of what can appear on its own lines: its team, the
 * team's cost centers, the applications it has owned and the tenants their
 * identities may act for.
 */
import type { Config } from '../core/config.js';
import { namesOf } from '../export/names.js';

type NameMap = Record<string, string>;

export function namesJson(config: Config, team: string | null): Record<string, NameMap> {
  const names = namesOf(config);
  const pick = (level: keyof typeof names, keep: (id: string) => boolean): NameMap =>
    Object.fromEntries([...names[level]].filter(([id]) => keep(id)));
  if (team === null) {
    const all = () => true;
    return {
      cost_center: pick('cost_center', all),
      team: pick('team', all),
      application: pick('application', all),
      tenant: pick('tenant', all),
    };
  }
  const apps = new Set(
    config.applications.filter((a) => a.owner.some((o) => o.team === team)).map((a) => a.id),
  );
  const costCenters = new Set(config.teams.find((t) => t.id === team)?.costCenter.map((c) => c.costCenter));
  const tenants = config.identities
    .filter((i) => i.application !== null && apps.has(i.application))
    .flatMap((i) => i.tenants ?? []);
  const anyTenant = tenants.includes('*');
  return {
    cost_center: pick('cost_center', (id) => costCenters.has(id)),
    team: pick('team', (id) => id === team),
    application: pick('application', (id) => apps.has(id)),
    tenant: pick('tenant', (id) => anyTenant || tenants.includes(id)),
  };
}

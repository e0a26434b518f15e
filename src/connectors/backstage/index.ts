/**
 * `tally import backstage`: read a catalog, map it against the previous
 * include, check that the result is a valid configuration, and write it.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import YAML from 'yaml';
import { parseConfig } from '../../core/config-schema.js';
import { type CatalogProblem, catalogFiles, readCatalog } from './entities.js';
import { type ImportResult, type Include, importCatalog } from './map.js';

export { formatCatalogProblem } from './entities.js';

export interface BackstageImport {
  paths: readonly string[];
  out: string;
  date: string;
  costCenters?: Record<string, string>;
  knownCostCenters?: ReadonlySet<string>;
}

/** Ids the main configuration defines itself, which the include may refer to. */
export interface Known {
  costCenters: ReadonlySet<string>;
  tenants: ReadonlySet<string>;
}

export async function planImport(
  opts: BackstageImport,
): Promise<ImportResult & { files: number; entities: number }> {
  const files = await catalogFiles(opts.paths);
  const { entities, problems } = await readCatalog(files);
  const previous = existsSync(opts.out) ? toInclude(YAML.parse(await readFile(opts.out, 'utf8'))) : null;
  const result = importCatalog(entities, previous, {
    date: opts.date,
    costCenters: opts.costCenters,
    knownCostCenters: opts.knownCostCenters,
  });
  return {
    ...result,
    problems: [...problems, ...result.problems],
    files: files.length,
    entities: entities.length,
  };
}

/** Throws the configuration's own error when the include would not validate. */
export function checkInclude(include: Include, known: Known): void {
  const costCenters = [...include.cost_centers, ...[...known.costCenters].map((id) => ({ id }))];
  const tenants = [...known.tenants].map((id) => ({ id }));
  parseConfig({ ...include, cost_centers: costCenters, tenants }, { sha256: 'backstage-import' });
}

export async function writeInclude(out: string, include: Include): Promise<void> {
  const header =
    '# Written by `tally import backstage` from the Backstage catalog: edit the catalog, not this file.\n' +
    '# Include it from tally.yaml with `include: [<this file>]`. Re-running the import only appends:\n' +
    '# owner changes are dated, entities gone from the catalog are retired, never deleted.\n';
  const body = YAML.stringify(include, { lineWidth: 0 });
  await writeFile(`${out}.tmp`, header + body);
  await rename(`${out}.tmp`, out);
}

function toInclude(v: unknown): Include {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Partial<Include>;
  return {
    cost_centers: o.cost_centers ?? [],
    teams: o.teams ?? [],
    applications: o.applications ?? [],
    identities: o.identities ?? [],
  };
}

export type { CatalogProblem };

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import {
  checkInclude,
  formatCatalogProblem,
  type Known,
  planImport,
  writeInclude,
} from '../../connectors/backstage/index.js';
import { UsageError } from '../../core/errors.js';
import { checkOut, parse, str } from '../args.js';

export async function importCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('import', argv, {
    config: { type: 'string' },
    out: { type: 'string', default: 'backstage.yaml' },
    'cost-centers': { type: 'string' },
    date: { type: 'string' },
    'skip-invalid': { type: 'boolean', default: false },
  });
  const [source, ...paths] = positionals;
  if (source !== 'backstage')
    throw new UsageError('import: the one source is `backstage`: tally import backstage FILE|DIR…');
  if (paths.length === 0) throw new UsageError('import backstage: name at least one catalog file or folder');
  const out = path.resolve(str(values, 'out') ?? 'backstage.yaml');
  checkOut('import', out);
  const date = importDate(str(values, 'date'));
  const known = await knownIds(path.resolve(str(values, 'config') ?? 'tally.yaml'));
  const costCenters = await mapping(str(values, 'cost-centers'));

  const plan = await planImport({ paths, out, date, costCenters, knownCostCenters: known.costCenters }).catch(
    (e: Error) => {
      throw new UsageError(`import backstage: ${e.message}`);
    },
  );
  for (const p of plan.problems) process.stderr.write(`tally: ${formatCatalogProblem(p)}\n`);
  if (plan.problems.length > 0 && values['skip-invalid'] !== true) {
    process.stderr.write(
      `tally: ${plan.problems.length} problem(s); nothing written (--skip-invalid writes the valid entities)\n`,
    );
    return 2;
  }
  checkInclude(plan.include, known);
  await writeInclude(out, plan.include);
  const summary = plan.changes.length === 0 ? ['no changes'] : plan.changes;
  process.stdout.write(
    `${summary.join('\n')}\nwrote ${out}: ${plan.entities} entities from ${plan.files} file(s), ${plan.problems.length} skipped\n`,
  );
  return 0;
}

function importDate(value: string | undefined): string {
  if (value === undefined) return new Date().toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)))
    throw new UsageError(`import: --date must be YYYY-MM-DD, got '${value}'`);
  return value;
}

/**
 * The cost centers and tenants the main configuration defines in its own file:
 * the include refers to them and does not repeat them.
 */
async function knownIds(configPath: string): Promise<Known> {
  if (!existsSync(configPath)) return { costCenters: new Set(), tenants: new Set() };
  type Raw = { cost_centers?: { id?: unknown }[]; tenants?: { id?: unknown }[] } | null;
  const raw = YAML.parse(await readFile(configPath, 'utf8')) as Raw;
  const ids = (list: { id?: unknown }[] | undefined) => new Set((list ?? []).map((c) => String(c?.id)));
  return { costCenters: ids(raw?.cost_centers), tenants: ids(raw?.tenants) };
}

async function mapping(file: string | undefined): Promise<Record<string, string> | undefined> {
  if (file === undefined) return undefined;
  const raw: unknown = YAML.parse(await readFile(file, 'utf8'));
  if (typeof raw !== 'object' || raw === null || Object.values(raw).some((v) => typeof v !== 'string'))
    throw new UsageError(`import: --cost-centers ${file} must map group names to cost center ids`);
  return raw as Record<string, string>;
}

/**
 * Backstage catalog entities (`catalog-info.yaml`, several YAML documents per
 * file) read into a small typed form, each with where it came from, and every
 * problem named by file, document and path. Only what the import needs is
 * read; unknown fields are left alone, as Backstage itself does.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';

export const KINDS = [
  'Group',
  'User',
  'System',
  'Component',
  'Resource',
  'API',
  'Domain',
  'Location',
] as const;
export type Kind = (typeof KINDS)[number];

export interface EntityRef {
  kind: string;
  namespace: string;
  name: string;
}

export interface Entity {
  kind: Kind;
  namespace: string;
  name: string;
  title: string | null;
  annotations: Record<string, string>;
  /** spec.owner, spec.system, spec.parent as written. */
  owner: string | null;
  system: string | null;
  parent: string | null;
  /** spec.type and spec.lifecycle. */
  type: string | null;
  lifecycle: string | null;
  where: Where;
}

export interface Where {
  file: string;
  /** 0-based index of the YAML document in the file. */
  document: number;
}

export interface CatalogProblem extends Where {
  /** A path into the document, e.g. `metadata.name`. */
  field: string;
  reason: string;
}

export function formatCatalogProblem(p: CatalogProblem): string {
  return `${p.file}, document ${p.document}, ${p.field}: ${p.reason}`;
}

/** Backstage's rule for names and namespaces: 1–63 characters, [a-zA-Z0-9] runs joined by `-`, `_` or `.`. */
const NAME = /^[a-zA-Z0-9]+(?:[-_.][a-zA-Z0-9]+)*$/;

export function validName(name: string): boolean {
  return name.length >= 1 && name.length <= 63 && NAME.test(name);
}

/** `[kind:][namespace/]name`, with the kind and namespace a reference implies when omitted. */
export function parseRef(ref: string, defaultKind: string, defaultNamespace = 'default'): EntityRef | null {
  const m = /^(?:([^:/]+):)?(?:([^:/]+)\/)?([^:/]+)$/.exec(ref.trim());
  if (!m?.[3]) return null;
  return {
    kind: (m[1] ?? defaultKind).toLowerCase(),
    namespace: (m[2] ?? defaultNamespace).toLowerCase(),
    name: m[3].toLowerCase(),
  };
}

export function refKey(r: EntityRef): string {
  return `${r.kind}:${r.namespace}/${r.name}`;
}

export function entityKey(e: Pick<Entity, 'kind' | 'namespace' | 'name'>): string {
  return refKey({
    kind: e.kind.toLowerCase(),
    namespace: e.namespace.toLowerCase(),
    name: e.name.toLowerCase(),
  });
}

/** The YAML files named, folders searched for `*.yaml`/`*.yml` in name order. */
export async function catalogFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => null);
    if (s === null) throw new Error(`${p}: no such file or folder`);
    if (!s.isDirectory()) {
      out.push(p);
      continue;
    }
    const names = (await readdir(p, { recursive: true })).map(String).sort();
    for (const n of names) if (/\.ya?ml$/i.test(n)) out.push(path.join(p, n));
  }
  return out;
}

export async function readCatalog(
  files: readonly string[],
): Promise<{ entities: Entity[]; problems: CatalogProblem[] }> {
  const entities: Entity[] = [];
  const problems: CatalogProblem[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    YAML.parseAllDocuments(text).forEach((doc, document) => {
      const where = { file, document };
      if (doc.errors.length > 0) {
        problems.push({ ...where, field: '(document)', reason: `not valid YAML: ${doc.errors[0]?.message}` });
        return;
      }
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) return;
      const e = toEntity(value, where, problems);
      if (e) entities.push(e);
    });
  }
  return { entities, problems };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function toEntity(v: unknown, where: Where, problems: CatalogProblem[]): Entity | null {
  const bad = (field: string, reason: string) => {
    problems.push({ ...where, field, reason });
    return null;
  };
  if (!isObj(v)) return bad('(document)', 'an entity must be a mapping');
  if (typeof v.apiVersion !== 'string' || !/^backstage\.io\/v1(alpha1|beta1)$/.test(v.apiVersion))
    return bad('apiVersion', `must be backstage.io/v1alpha1 or v1beta1, got ${JSON.stringify(v.apiVersion)}`);
  const kind = KINDS.find((k) => k === v.kind);
  if (!kind) return bad('kind', `unknown kind ${JSON.stringify(v.kind)} (one of ${KINDS.join(', ')})`);
  if (!isObj(v.metadata)) return bad('metadata', 'is required');
  const { name, namespace = 'default', annotations = {}, title = null } = v.metadata;
  if (typeof name !== 'string' || !validName(name))
    return bad(
      'metadata.name',
      `${JSON.stringify(name)} is not a valid entity name (1-63 of a-z, 0-9, -, _, .)`,
    );
  if (typeof namespace !== 'string' || !validName(namespace))
    return bad('metadata.namespace', `${JSON.stringify(namespace)} is not a valid namespace`);
  if (!isObj(annotations) || Object.values(annotations).some((a) => typeof a !== 'string'))
    return bad('metadata.annotations', 'must map names to strings');
  const spec = isObj(v.spec) ? v.spec : {};
  const text = (key: string): string | null => {
    const s = spec[key];
    return typeof s === 'string' && s.trim() !== '' ? s.trim() : null;
  };
  return {
    kind,
    namespace,
    name,
    title: typeof title === 'string' ? title : null,
    annotations: annotations as Record<string, string>,
    owner: text('owner'),
    system: text('system'),
    parent: text('parent'),
    type: text('type'),
    lifecycle: text('lifecycle'),
    where,
  };
}

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { type DemoFiles, generateDemo } from '../../src/demo/index.js';

const made: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `tally-${prefix}-`));
  made.push(dir);
  return dir;
}

/** Removes every directory `tempDir` made in this test file. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export async function demo(events: number, seed = 42): Promise<DemoFiles> {
  return generateDemo({ dir: tempDir('demo'), events, month: '2026-10', seed });
}

export type Attrs = Record<string, string | string[]>;

export interface Span {
  file: number;
  service: string;
  resource: Attrs;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  status: { code?: number; message?: string };
  attrs: Attrs;
}

function plain(list: Array<{ key: string; value: Record<string, unknown> }>): Attrs {
  const out: Attrs = {};
  for (const { key, value } of list) {
    const v = value.stringValue ?? value.intValue;
    if (typeof v === 'string') out[key] = v;
    else {
      const arr = value.arrayValue as { values: Array<{ stringValue: string }> };
      out[key] = arr.values.map((x) => x.stringValue);
    }
  }
  return out;
}

/** Every span of the demo's OTLP files, in file order, with flattened attributes. */
export function otlpSpans(files: DemoFiles): Span[] {
  const spans: Span[] = [];
  files.files
    .filter((f) => f.format === 'otlp')
    .forEach((f, file) => {
      const doc = JSON.parse(readFileSync(f.path, 'utf8')) as {
        resourceSpans: Array<{
          resource: { attributes: Array<{ key: string; value: Record<string, unknown> }> };
          scopeSpans: Array<{ spans: Array<Omit<Span, 'file' | 'service' | 'resource' | 'attrs'>> }>;
        }>;
      };
      for (const rs of doc.resourceSpans) {
        const resource = plain(rs.resource.attributes);
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            spans.push({
              ...s,
              file,
              service: String(resource['service.name']),
              resource,
              attrs: plain(s.attributes),
            });
          }
        }
      }
    });
  return spans;
}

export interface YamlIdentity {
  id: string;
  kind: string;
  application: string;
  environment: string;
  shared?: boolean;
  tenants?: string[];
  models?: string[];
  match: Array<Record<string, string>>;
  lifecycle: Array<{ at: string; event: string }>;
}

export function readYaml(file: string): Record<string, unknown> & { identities: YamlIdentity[] } {
  return parse(readFileSync(file, 'utf8'));
}

/** The simple globs of `models:` allowlists. */
export function globMatch(glob: string, value: string): boolean {
  const re = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return re.test(value);
}

// The reference docs stay true to the schemas, every relative link resolves,
// and nothing users read points to a document the repository does not ship.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSchema } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && ext.test(d.name))
    .map((d) => path.relative(ROOT, path.join(d.parentPath, d.name)));
}

const USER_DOCS = ['README.md', 'CHANGELOG.md', ...files('docs', /\.md$/)];

/** GitHub's anchors of a Markdown file's headings. */
function headings(file: string): string[] {
  return [...read(file).matchAll(/^#+ (.*)$/gm)].map(([, h]) =>
    (h as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-'),
  );
}

/** Every property name of a schema, at any depth. */
function keys(schema: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) for (const s of schema) keys(s, out);
  else if (schema !== null && typeof schema === 'object') {
    const props = (schema as { properties?: Record<string, unknown> }).properties;
    for (const k of Object.keys(props ?? {})) out.add(k);
    for (const v of Object.values(schema)) keys(v, out);
  }
  return out;
}

/** Every string value of an `enum` or `const`, at any depth. */
function values(schema: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) for (const s of schema) values(s, out);
  else if (schema !== null && typeof schema === 'object') {
    const s = schema as { enum?: unknown[]; const?: unknown };
    for (const v of [...(s.enum ?? []), s.const]) if (typeof v === 'string' && v !== '') out.add(v);
    for (const v of Object.values(schema)) values(v, out);
  }
  return out;
}

type Statement = {
  $defs: { status: { enum: string[] } };
  properties: { lines: { items: { properties: { reason: { enum: unknown[] } } } } };
};

describe('the reference docs', () => {
  it.each([
    ['configuration.md', 'tally-config'],
    ['canonical-event.md', 'canonical-event'],
    ['statement.md', 'statement'],
  ] as const)('%s documents every key and value of its schema', (doc, name) => {
    const text = read(`docs/reference/${doc}`);
    const schema = loadSchema(name);
    for (const k of keys(schema)) expect(text, `${doc} names \`${k}\``).toContain(`\`${k}\``);
    for (const v of values(schema)) expect(text, `${doc} names \`${v}\``).toContain(`\`${v}\``);
  });

  it('reasons.md explains every reason code and status a statement can carry, and every signal', () => {
    const text = read('docs/reference/reasons.md');
    const statement = loadSchema('statement') as Statement;
    const reasons = (statement.properties.lines.items.properties.reason.enum as unknown[]).filter(
      (r: unknown) => r !== null,
    );
    expect(reasons.length).toBe(11);
    for (const r of [...reasons, ...statement.$defs.status.enum])
      expect(text).toMatch(new RegExp(`^\\| \`${r}\` \\|`, 'm'));
    for (let i = 1; i <= 14; i++)
      expect(text).toMatch(new RegExp(`^\\| S${String(i).padStart(2, '0')} \\|`, 'm'));
  });

  it('has no relative link that leads nowhere, nor to a heading that does not exist', () => {
    for (const file of USER_DOCS) {
      for (const [, target, anchor] of read(file).matchAll(/\]\(([^)#\s]*)(?:#([^)\s]*))?\)/g)) {
        if (/^[a-z]+:/.test(target as string)) continue;
        const resolved = path.resolve(ROOT, path.dirname(file), (target as string) || path.basename(file));
        expect(existsSync(resolved), `${file} → ${target}`).toBe(true);
        if (anchor && resolved.endsWith('.md'))
          expect(headings(path.relative(ROOT, resolved)), `${file} → ${target}#${anchor}`).toContain(anchor);
      }
    }
  });

  it('README links the reference', () => {
    const readme = read('README.md');
    for (const page of ['configuration', 'canonical-event', 'statement', 'reasons'])
      expect(readme).toContain(`docs/reference/${page}.md`);
    expect(readme).toContain('docs/focus.md');
  });
});

describe('user-facing text', () => {
  const NOT_SHIPPED = /SPEC\b|SPEC\.md|\bthe contract\b/;

  it('in README and docs points to no specification the repository does not ship', () => {
    for (const file of USER_DOCS.filter((f) => f !== 'CHANGELOG.md'))
      for (const [i, line] of read(file).split('\n').entries())
        expect(line, `${file}:${i + 1}`).not.toMatch(NOT_SHIPPED);
  });

  it('in the strings of src/ and the dashboard (messages, help, the OpenAPI description) names no SPEC section', () => {
    for (const file of [...files('src', /\.ts$/), ...files('web/src', /\.ts$/), 'web/index.html']) {
      const code = read(file)
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '')
        .replace(/\s\/\/ .*$/gm, '');
      for (const [i, line] of code.split('\n').entries())
        expect(line, `${file} (line ${i + 1} without comments)`).not.toMatch(NOT_SHIPPED);
    }
  });

  it('in the OpenAPI document and tally init points to the shipped reference', async () => {
    const { openApiDocument } = await import('../../src/server/openapi.js');
    const doc = JSON.stringify(openApiDocument([], '0'));
    expect(doc).not.toMatch(NOT_SHIPPED);
    expect(doc).toContain('docs/reference/');
  });
});

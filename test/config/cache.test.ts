import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { cacheDir, codeId, KEEP_ENTRIES, loadConfigCached, moduleClosure } from '../../src/config/cache.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';

function tempDir(files: Record<string, string> = {}): string {
  const d = mkdtempSync(path.join(tmpdir(), 'tally-cache-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(d, name), text);
  return d;
}

/** A registry of `n` identities in block style: about 150 bytes an identity. */
function registry(n: number, currency = 'USD'): string {
  const lines = [
    `currency: ${currency}`,
    'include: [teams.yaml]',
    'applications:',
    '  - id: app-1',
    '    owner: team-1',
    'identities:',
  ];
  for (let i = 0; i < n; i++)
    lines.push(
      `  - id: nhi-${i}`,
      '    kind: service_account',
      '    application: app-1',
      '    environment: production',
      '    match:',
      `      - service: svc-${i}`,
    );
  return `${lines.join('\n')}\n`;
}
const TEAMS =
  'cost_centers:\n  - id: cc-1\n    name: One\nteams:\n  - id: team-1\n    name: One\n    cost_center: cc-1\n';

const entries = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.v8'));

/** Rewrites the one entry in `dir` with another currency: a load that returns it read the entry. */
function tamper(dir: string, currency: string): void {
  const [name] = entries(dir);
  const file = path.join(dir, name as string);
  const entry = v8.deserialize(readFileSync(file));
  entry.config.currency = currency;
  writeFileSync(file, v8.serialize(entry));
}

describe('the configuration cache', () => {
  it('keeps a large valid configuration and reads it back while the files and the code are unchanged', async () => {
    const conf = tempDir({ 'tally.yaml': registry(2000), 'teams.yaml': TEAMS });
    const dir = tempDir();
    const file = path.join(conf, 'tally.yaml');
    const first = await loadConfigCached(file, { dir, code: 'code-a' });
    expect(first).toEqual(await loadConfig(file));
    expect(entries(dir)).toHaveLength(1);
    const again = await loadConfigCached(file, { dir, code: 'code-a' });
    expect(again).toEqual(first);

    tamper(dir, 'XKEPT');
    expect((await loadConfigCached(file, { dir, code: 'code-a' })).config.currency).toBe('XKEPT');
    // Another code: read again, and the entry replaced.
    expect((await loadConfigCached(file, { dir, code: 'code-b' })).config.currency).toBe('USD');
    tamper(dir, 'XKEPT');
    expect((await loadConfigCached(file, { dir, code: 'code-b' })).config.currency).toBe('XKEPT');
  });

  it('reads the files again when the main file or an include changes', async () => {
    const conf = tempDir({ 'tally.yaml': registry(2000), 'teams.yaml': TEAMS });
    const dir = tempDir();
    const file = path.join(conf, 'tally.yaml');
    await loadConfigCached(file, { dir, code: 'c' });
    tamper(dir, 'XKEPT');
    writeFileSync(file, registry(2000, 'EUR'));
    expect((await loadConfigCached(file, { dir, code: 'c' })).config.currency).toBe('EUR');

    tamper(dir, 'XKEPT');
    writeFileSync(path.join(conf, 'teams.yaml'), TEAMS.replace('name: One\n    cost', 'name: Uno\n    cost'));
    const changed = await loadConfigCached(file, { dir, code: 'c' });
    expect(changed.config.currency).toBe('EUR');
    expect(changed.config.teams[0]?.name).toBe('Uno');

    // An include removed: the loader's own error, not the entry.
    rmSync(path.join(conf, 'teams.yaml'));
    await expect(loadConfigCached(file, { dir, code: 'c' })).rejects.toThrow(/teams\.yaml: file not found/);
  });

  it('keeps no invalid configuration, no small one, and none without a directory', async () => {
    const dir = tempDir();
    const bad = tempDir({
      'tally.yaml': `${registry(2000)}  - id: nhi-0\n    kind: service_account\n    application: app-1\n`,
      'teams.yaml': TEAMS,
    });
    await expect(loadConfigCached(path.join(bad, 'tally.yaml'), { dir, code: 'c' })).rejects.toBeInstanceOf(
      ConfigError,
    );
    const small = tempDir({ 'tally.yaml': registry(3), 'teams.yaml': TEAMS });
    const file = path.join(small, 'tally.yaml');
    expect((await loadConfigCached(file, { dir, code: 'c' })).config.identities).toHaveLength(3);
    expect(entries(dir)).toHaveLength(0);
    await loadConfigCached(file, { dir, code: 'c', keepFromBytes: 0 });
    expect(entries(dir)).toHaveLength(1);
    expect((await loadConfigCached(file, { dir: null })).config.identities).toHaveLength(3);
  });

  it('reads past an entry it cannot read, and loads where it cannot write', async () => {
    const conf = tempDir({ 'tally.yaml': registry(2000), 'teams.yaml': TEAMS });
    const file = path.join(conf, 'tally.yaml');
    const dir = tempDir();
    await loadConfigCached(file, { dir, code: 'c' });
    const [name] = entries(dir);
    writeFileSync(path.join(dir, name as string), 'not an entry');
    expect((await loadConfigCached(file, { dir, code: 'c' })).config.identities).toHaveLength(2000);
    // Written anew.
    expect((await loadConfigCached(file, { dir, code: 'c' })).config.identities).toHaveLength(2000);
    expect(v8.deserialize(readFileSync(path.join(dir, name as string))).code).toBe('c');

    const blocked = path.join(tempDir(), 'a-file');
    writeFileSync(blocked, '');
    expect((await loadConfigCached(file, { dir: blocked, code: 'c' })).config.identities).toHaveLength(2000);
    expect(readdirSync(path.dirname(blocked))).toEqual(['a-file']);
  });

  it('reads no entry that another user could have written', async () => {
    const conf = tempDir({ 'tally.yaml': registry(2000), 'teams.yaml': TEAMS });
    const file = path.join(conf, 'tally.yaml');
    const dir = tempDir();
    await loadConfigCached(file, { dir, code: 'c' });
    const entry = path.join(dir, entries(dir)[0] as string);
    expect(statSync(entry).mode & 0o777).toBe(0o600);
    tamper(dir, 'XKEPT');
    expect((await loadConfigCached(file, { dir, code: 'c' })).config.currency).toBe('XKEPT');
    tamper(dir, 'XKEPT');
    chmodSync(entry, 0o666);
    expect((await loadConfigCached(file, { dir, code: 'c' })).config.currency).toBe('USD');
    if (process.getuid?.() === 0) {
      tamper(dir, 'XKEPT');
      chmodSync(entry, 0o600);
      chownSync(entry, 4242, 4242);
      expect((await loadConfigCached(file, { dir, code: 'c' })).config.currency).toBe('USD');
    }
  });

  it(`keeps the ${KEEP_ENTRIES} most recent entries`, async () => {
    const dir = tempDir();
    for (let i = 0; i < KEEP_ENTRIES + 3; i++) {
      const conf = tempDir({ 'tally.yaml': registry(3), 'teams.yaml': TEAMS });
      await loadConfigCached(path.join(conf, 'tally.yaml'), { dir, code: 'c', keepFromBytes: 0 });
    }
    expect(entries(dir)).toHaveLength(KEEP_ENTRIES);
  });

  it('is where TALLY_CACHE_DIR says, or under XDG_CACHE_HOME, or off', () => {
    expect(cacheDir({ TALLY_CACHE_DIR: '/x/y' })).toBe('/x/y');
    expect(cacheDir({ TALLY_CACHE_DIR: 'off' })).toBeNull();
    expect(cacheDir({ TALLY_CACHE_DIR: '' })).toBeNull();
    expect(cacheDir({ XDG_CACHE_HOME: '/c' })).toBe(path.join('/c', 'tally'));
  });
});

describe("the loader's code identity", () => {
  it('covers every module the loader reaches by a relative import', () => {
    const names = moduleClosure(path.resolve('src/config/load.ts')).map((f) => path.relative('src', f));
    expect(names).toEqual(
      expect.arrayContaining([
        path.join('config', 'load.ts'),
        path.join('config', 'block-yaml.ts'),
        path.join('config', 'yaml-tree.ts'),
        path.join('core', 'config-schema.ts'),
        path.join('core', 'money.ts'),
      ]),
    );
  });

  it('changes when any module of the closure changes, statically or dynamically imported', () => {
    const d = tempDir({
      'a.js': "import { b } from './b.js';\nexport const a = b;\n",
      'b.js': "export const b = 1;\nexport const later = () => import('./c.js');\n",
      'c.js': 'export const c = 1;\n',
      'unrelated.js': 'export const u = 1;\n',
    });
    const entry = path.join(d, 'a.js');
    const before = codeId(entry);
    expect(codeId(entry)).toBe(before);
    writeFileSync(path.join(d, 'unrelated.js'), 'export const u = 2;\n');
    expect(codeId(entry)).toBe(before);
    writeFileSync(path.join(d, 'c.js'), 'export const c = 2;\n');
    const afterC = codeId(entry);
    expect(afterC).not.toBe(before);
    writeFileSync(
      path.join(d, 'b.js'),
      "export const b = 2;\nexport const later = () => import('./c.js');\n",
    );
    expect(codeId(entry)).not.toBe(afterC);
    expect(existsSync(path.join(d, 'c.js'))).toBe(true);
  });
});

/**
 * A large configuration kept parsed between commands. Reading a registry of
 * thousands of identities takes a command 200–300 ms; reading its parsed
 * form back takes about 25. An entry is used only when the bytes of every
 * file the configuration was read from (the main file, then its includes, in
 * the order read: `Config.sha256`) and the code that reads them are those it
 * was made from, so a command's configuration is always what `loadConfig`
 * gives. Invalid configurations are never kept; any entry that cannot be read
 * is read past. Small files are not kept: they parse in less time than the
 * check takes. docs/reference/configuration.md, "Large registries are kept parsed".
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import type { Config } from '../core/config.js';

/** Bumped when an entry's shape changes. */
const FORMAT = 1;
/** Files under this many bytes in all are read each time. */
export const KEEP_FROM_BYTES = 128 * 1024;
/** Entries kept in the directory, the most recently written. */
export const KEEP_ENTRIES = 16;

interface Entry {
  format: number;
  code: string;
  file: string;
  /** In the order read, as `config.sha256` hashes their bytes. */
  files: string[];
  config: Config;
}

export interface CacheOptions {
  /** Where entries are kept; null: none kept (`cacheDir` reads the environment). */
  dir: string | null;
  /** The code an entry must come from (default: `codeId` of the loader this process runs). */
  code?: string;
  keepFromBytes?: number;
}

/**
 * `TALLY_CACHE_DIR`, when set (empty or `off`: no cache); else `tally` under
 * `XDG_CACHE_HOME` or `~/.cache`.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const set = env.TALLY_CACHE_DIR;
  if (set !== undefined) return set === '' || set === 'off' ? null : path.resolve(set);
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'tally');
}

/** `loadConfig` of a file on disk, through the cache in `opts.dir`. */
export async function loadConfigCached(
  file: string,
  opts: CacheOptions = { dir: cacheDir() },
): Promise<{ config: Config; files: string[] }> {
  const abs = path.resolve(file);
  // The loader and the schema are loaded only when the files are read.
  const load = async () => (await import('./load.js')).loadConfig(abs);
  if (opts.dir === null) return load();
  const entryFile = path.join(opts.dir, `config-${sha256(abs).slice(0, 16)}.v8`);
  // The loader's code is read only where there is an entry to check or to write (not for a small file).
  const code = () => opts.code ?? loaderCodeId();
  const kept = readEntry(entryFile, abs, code);
  if (kept !== null) return { config: kept.config, files: kept.files };
  const loaded = await load();
  if (totalBytes(loaded.files) >= (opts.keepFromBytes ?? KEEP_FROM_BYTES)) {
    const c = code();
    if (c !== null) writeEntry(opts.dir, entryFile, { format: FORMAT, code: c, file: abs, ...loaded });
  }
  return loaded;
}

/** The entry, when it was made by this code from the files as they are now. */
function readEntry(entryFile: string, file: string, code: () => string | null): Entry | null {
  let entry: Entry;
  try {
    const bytes = readOwned(entryFile);
    if (bytes === null) return null;
    entry = v8.deserialize(bytes) as Entry;
  } catch {
    return null; // none yet, or unreadable: read the files
  }
  if (entry?.format !== FORMAT || entry.file !== file || entry.code !== code()) return null;
  const hash = createHash('sha256');
  try {
    for (const f of entry.files) hash.update(readFileSync(f));
  } catch {
    return null; // an include is gone: the loader says so
  }
  return hash.digest('hex') === entry.config.sha256 ? entry : null;
}

/** The file's bytes, unless another user could have written it. */
function readOwned(file: string): Buffer | null {
  const fd = openSync(file, 'r');
  try {
    return ownedAlone(fstatSync(fd)) ? readFileSync(fd) : null;
  } finally {
    closeSync(fd);
  }
}

/**
 * An entry another user could have written is not read: it decides the
 * configuration (tokens, owners), and the folder may be a shared one.
 */
function ownedAlone(st: Stats): boolean {
  const uid = process.getuid?.();
  return (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
}

/** Written whole under another name and renamed, so a reader never sees half an entry; failures are ignored. */
function writeEntry(dir: string, entryFile: string, entry: Entry): void {
  const tmp = `${entryFile}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(tmp, v8.serialize(entry), { mode: 0o600 });
    renameSync(tmp, entryFile);
    prune(dir);
  } catch {
    // A read-only or full disk, or no directory there: the next command parses again.
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing was written
    }
  }
}

/** Keeps the most recently written entries. */
function prune(dir: string): void {
  const entries = readdirSync(dir)
    .filter((f) => f.startsWith('config-') && f.endsWith('.v8'))
    .map((f) => ({ f, t: statSync(path.join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { f } of entries.slice(KEEP_ENTRIES)) rmSync(path.join(dir, f), { force: true });
}

/** The files' bytes in all; 0 when one is gone already (then nothing is kept). */
function totalBytes(files: readonly string[]): number {
  let n = 0;
  try {
    for (const f of files) n += statSync(f).size;
  } catch {
    return 0;
  }
  return n;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

const LOADER = fileURLToPath(new URL('./load.js', import.meta.url));
let loaderCode: string | null | undefined;

/** `codeId` of the loader this process runs, computed once. */
function loaderCodeId(): string | null {
  if (loaderCode === undefined) {
    try {
      loaderCode = codeId(LOADER);
    } catch {
      loaderCode = null; // its modules are not files to read (a bundle): nothing is kept
    }
  }
  return loaderCode;
}

/**
 * What identifies the code that turns files into a configuration: the
 * source of every module the loader imports, through its relative imports,
 * the `yaml` package's version and V8's (the entry's serialisation).
 */
export function codeId(entry: string): string {
  const hash = createHash('sha256').update(`${FORMAT} ${process.versions.v8} yaml@${yamlVersion()}`);
  const root = path.dirname(entry);
  for (const file of moduleClosure(entry))
    hash.update(`\n${path.relative(root, file)}\n`).update(readFileSync(file));
  return hash.digest('hex');
}

/**
 * A module and every module it imports by a relative path (`from './x.js'`,
 * `import('./x.js')`), in the order met. Run from TypeScript sources, a
 * `.js` import names the `.ts` file beside it.
 */
export function moduleClosure(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/\bfrom\s*['"](\.[^'"]+)['"]|\bimport\s*\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? (m[2] as string);
      visit(sourceOf(path.resolve(path.dirname(file), spec)));
    }
  };
  visit(sourceOf(entry));
  return [...seen];
}

function sourceOf(file: string): string {
  if (existsSync(file) || !file.endsWith('.js')) return file;
  return `${file.slice(0, -3)}.ts`;
}

function yamlVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    return String((require('yaml/package.json') as { version: string }).version);
  } catch {
    return 'none';
  }
}

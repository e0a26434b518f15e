// Runs the tally CLI as a user would (`node bin/tally.js …`) under
// /usr/bin/time -v, and returns its wall time and peak resident memory.
// The commands keep a large configuration parsed between runs
// (src/config/cache.ts) in a folder of the benchmarks' own, emptied when a
// benchmark starts: its first command parses the configuration, the later
// ones read it back, as a user's second command does.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONFIG_CACHE = path.join(os.tmpdir(), 'tally-bench', 'config-cache');
rmSync(CONFIG_CACHE, { recursive: true, force: true });
process.env.TALLY_CACHE_DIR = CONFIG_CACHE;

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'tally.js');

export function runCli(args) {
  const t0 = performance.now();
  const run = spawnSync('/usr/bin/time', ['-v', process.execPath, bin, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const ms = performance.now() - t0;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(run.stderr ?? '');
  if (run.status !== 0) throw new Error(`tally ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  const cpu = ['User', 'System'].map((k) =>
    Number(new RegExp(`${k} time \\(seconds\\): ([\\d.]+)`).exec(run.stderr ?? '')?.[1] ?? Number.NaN),
  );
  const cpuS = Math.round((cpu[0] + cpu[1]) * 100) / 100;
  return { ms, cpuS, peakRssMiB: rss ? Math.round(Number(rss[1]) / 1024) : null, stdout: run.stdout };
}

/** The 1-minute load average, as a figure to read the times by. */
export function load() {
  return os.loadavg()[0].toFixed(1);
}

/** A check's answer as a figure: `yes`, `NO`, or `none` when there was nothing to check against. */
export const yesNo = (b, none) => (b === null ? none : b ? 'yes' : 'NO');

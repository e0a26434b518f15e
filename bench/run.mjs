// Runs every benchmark in bench/ (files named b*.bench.mjs), in order, each in
// its own process so that one's memory does not weigh on the next, and writes
// their figures into BENCHMARKS.md. Benchmarks import the built code (dist/).
// `npm run bench -- b1` runs only the benchmarks whose file name contains b1.
// B3 (a ~7 GB file) runs only when named: `npm run bench -- b3`.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => /^b.*\.bench\.mjs$/.test(f))
  .filter((f) => (only.length === 0 ? !f.startsWith('b3-') : only.some((o) => f.includes(o))))
  .sort();

const results = [];
for (const file of files) {
  process.stderr.write(`bench: ${file}\n`);
  const run = spawnSync(
    process.execPath,
    ['--expose-gc', '--max-old-space-size=8192', path.join(here, file)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    },
  );
  const lines = (run.stdout ?? '').trim().split('\n');
  const last = lines.at(-1) ?? '';
  try {
    results.push({ file, ...JSON.parse(last) });
  } catch {
    results.push({ file, name: file, failed: `exit ${run.status}`, figures: {} });
  }
}

const md = path.join(here, '..', 'BENCHMARKS.md');
const header = '<!-- bench:results -->';
const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
const stamp = `Run ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}.`;
const fresh = results.map((r) => {
  const figures = Object.entries(r.figures ?? {})
    .map(([k, v]) => `${k}: ${v}`)
    .join('<br>');
  const verdict = r.failed ? `failed (${r.failed})` : r.pass ? 'met' : 'NOT met';
  return `| ${r.name} | ${r.target ?? ''} | ${figures} | ${verdict} |`;
});
// A partial run (`npm run bench -- b2`) keeps the earlier rows of the benchmarks it did not run.
const previous = (() => {
  try {
    const old = readFileSync(path.join(here, '..', 'BENCHMARKS.md'), 'utf8');
    const block = old.slice(old.indexOf('<!-- bench:results -->'), old.indexOf('<!-- bench:end -->'));
    return block.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| benchmark'));
  } catch {
    return [];
  }
})();
const names = new Set(results.map((r) => r.name));
const rows = [...previous.filter((l) => !names.has(l.split('|')[1]?.trim())), ...fresh].sort();
const table = [
  header,
  '',
  stamp,
  '',
  '| benchmark | target | figures | target met |',
  '|---|---|---|---|',
  ...rows,
  '',
].join('\n');
let text = '';
try {
  text = readFileSync(md, 'utf8');
} catch {
  text = `# Benchmarks\n\n${header}\n<!-- bench:end -->\n`;
}
const at = text.indexOf(header);
const end = text.indexOf('<!-- bench:end -->');
const next =
  at >= 0 && end > at
    ? `${text.slice(0, at)}${table}${text.slice(end)}`
    : `${text}\n${table}<!-- bench:end -->\n`;
writeFileSync(md, next);
for (const r of results) console.log(JSON.stringify(r));

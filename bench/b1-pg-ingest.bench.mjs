// B1-pg: `tally ingest` of a month of canonical JSONL into PostgreSQL, as a
// user runs it (`tally ingest FILE --store postgres://…`, end to end in its
// own process, with its peak RSS): parsed, validated, fingerprinted,
// deduplicated against the log, stored in the month's partition and
// hash-chained. Reference in the same run: PostgreSQL's own COPY of the same
// rows (the same 27 canonical columns and types, as COPY text prepared
// beforehand, not timed) from the client into a fresh unindexed table. Then
// `tally verify` over the stored month. The month: bench/lib/pg-month.mjs
// (1M events by default); the database: tally_pg_bench, a fresh schema per
// run, dropped after.

import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, renameSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { ALL_EVENT_FIELDS } from '../dist/core/event.js';
import { pgColumnType } from '../dist/store/postgres/schema.js';
import { load, runCli } from './lib/cli.mjs';
import { pgBench, pgBenchUrl, pgMonthFile } from './lib/pg-month.mjs';

const seconds = (ms) => Math.round(ms) / 1000;
const cell = (v) => {
  if (v === null || v === undefined) return '\\N';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]);
};

/**
 * The month's rows as COPY text in the canonical column order (made once, beside the JSONL, under
 * a name keyed by this writer's code and the columns, so a changed writer never reuses an older text).
 */
async function copyText(jsonl) {
  const writer = createHash('sha256').update(`${copyText}\n${cell}\n${ALL_EVENT_FIELDS.join(',')}`);
  const file = `${jsonl}.${writer.digest('hex').slice(0, 12)}.copy.tsv`;
  if (existsSync(file)) return file;
  const out = createWriteStream(`${file}.part`);
  for await (const line of createInterface({ input: createReadStream(jsonl), crlfDelay: Infinity })) {
    if (!line) continue;
    const e = JSON.parse(line);
    if (!out.write(`${ALL_EVENT_FIELDS.map((f) => cell(e[f])).join('\t')}\n`)) await once(out, 'drain');
  }
  await new Promise((resolve) => out.end(resolve));
  renameSync(`${file}.part`, file);
  return file;
}

async function main() {
  const loadBefore = load();
  const { jsonl, configPath, events, tag } = await pgMonthFile();
  const tsv = await copyText(jsonl);
  const run = randomBytes(4).toString('hex');
  const schema = `b1_${run}`;
  const { store } = await pgBenchUrl(schema);
  try {
    // the reference: COPY of the same rows into a fresh table of the same columns
    const copyMs = await pgBench(async (c) => {
      await c.query(`CREATE SCHEMA ref_${run}`);
      await c.query(
        `CREATE TABLE ref_${run}.events (${ALL_EVENT_FIELDS.map((f) => `${f} ${pgColumnType(f)}`).join(', ')})`,
      );
      const t = performance.now();
      await pipeline(
        createReadStream(tsv),
        c.query(copyFrom(`COPY ref_${run}.events (${ALL_EVENT_FIELDS.join(', ')}) FROM STDIN`)),
      );
      return performance.now() - t;
    });
    // what a user runs
    const ingest = runCli(['ingest', jsonl, '--store', store, '--config', configPath]);
    const stored = /: (\d+) stored/.exec(ingest.stdout)?.[1];
    if (Number(stored) !== events) throw new Error(`stored ${stored} of ${events}: ${ingest.stdout}`);
    const verify = runCli(['verify', '--store', store, '--config', configPath]);
    if (!/^ok: /.test(verify.stdout)) throw new Error(`verify: ${verify.stdout}`);
    const ratio = copyMs / ingest.ms;
    console.log(
      JSON.stringify({
        name: 'B1-pg ingest into PostgreSQL',
        target: '`tally ingest --store postgres://…` ≥ 0.5× PostgreSQL COPY of the same rows (time ratio)',
        figures: {
          data: `${events} canonical events (${tag}), ${Math.round(statSync(jsonl).size / 2 ** 20)} MB JSONL`,
          'tally ingest s': seconds(ingest.ms),
          'tally ingest events/s': Math.round(events / (ingest.ms / 1000)),
          'tally ingest CPU s (user+sys, the tally process only)': ingest.cpuS,
          'peak RSS MiB': ingest.peakRssMiB,
          'COPY of the same rows s (reference)': seconds(copyMs),
          'COPY ÷ tally': ratio.toFixed(2),
          'tally verify s': seconds(verify.ms),
          'load average before / after': `${loadBefore} / ${load()}`,
        },
        pass: ratio >= 0.5,
      }),
    );
  } finally {
    await pgBench(async (c) => {
      await c.query(`DROP SCHEMA IF EXISTS ref_${run} CASCADE`);
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    });
  }
}

await main();

// B1: bulk ingest of a canonical JSON lines file. 1M events with every field
// present, generated once into the temp directory and reused under a name
// keyed by the generator's own code (`generatorTag`), so that a changed
// generator never times a file an earlier one wrote. Compares
// DuckDB's own load of the same file (CREATE TABLE AS SELECT * FROM
// read_json) with tally's validated, fingerprinted, deduplicated and
// hash-chained ingest, both into fresh database files, then times verify.
// tally is timed as a user runs it: `tally ingest` and `tally verify`, each a
// process of its own, with peak RSS; the reference runs before and after.
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { openStore } from '../dist/store/open.js';
import { load, runCli } from './lib/cli.mjs';

const BASE = Date.UTC(2026, 9, 1);

/** One canonical event with every field set; every 100th carries a raw key that must be fingerprinted. */
export function eventLine(i) {
  const err = i % 50 === 0;
  return JSON.stringify({
    id: `evt-${i.toString().padStart(10, '0')}`,
    source: 'gateway-eu-west-1-production',
    time: new Date(BASE + (i % 2_500_000) * 997).toISOString(),
    provider: 'openai',
    model: 'gpt-4o-2024-08-06',
    operation: 'chat',
    input_tokens: 1200 + (i % 5000),
    output_tokens: 300 + (i % 700),
    cache_read_tokens: i % 200,
    cache_write_tokens: i % 13,
    reasoning_tokens: i % 17,
    requests: 1,
    tool: 'web_search',
    data_source: 'kb-main-vector-index',
    api_key:
      i % 100 === 0
        ? `sk-proj-${'a'.repeat(20)}${i}`
        : `88dc28d0f030c5${(i % 97).toString(16).padStart(2, '0')}`,
    service: 'support-bot-frontend',
    agent: 'research-agent-v2',
    project: 'proj_9f8e7d6c5b4a3210',
    tenant: `tenant-${i % 50}`,
    environment: 'production',
    trace_id: `4bf92f3577b34da6a3ce929d${(i >>> 4).toString(16).padStart(8, '0')}`,
    span_id: i.toString(16).padStart(16, '0'),
    parent_span_id: i % 16 === 0 ? null : (i - (i % 16)).toString(16).padStart(16, '0'),
    status: err ? 'error' : 'ok',
    error_type: err ? 'rate_limit_exceeded' : null,
    client_address: `10.1.${i % 256}.${(i >> 8) % 256}`,
    reported_cost: `0.00${(i % 9973).toString().padStart(4, '0')}125`,
  });
}

/** Writes n events to file in blocks, so that memory stays flat whatever n is. */
export function generate(file, n) {
  const fd = openSync(file, 'w');
  try {
    for (let i = 0; i < n; i += 10_000) {
      const lines = [];
      for (let j = i; j < Math.min(n, i + 10_000); j++) lines.push(eventLine(j));
      writeSync(fd, `${lines.join('\n')}\n`);
    }
  } finally {
    closeSync(fd);
  }
}

/** The generator's code and the event count, hashed (12 hex digits): the cached file's name. */
export function generatorTag(n) {
  const code = `${eventLine}\n${generate}\n${BASE}\n${n}`;
  return createHash('sha256').update(code).digest('hex').slice(0, 12);
}

const seconds = (ms) => Math.round(ms) / 1000;

/** DuckDB's own load of the file into a fresh database file: the reference. */
async function duckdbLoad(file, db) {
  const instance = await DuckDBInstance.create(db);
  const conn = await instance.connect();
  const t = performance.now();
  await conn.run(`CREATE TABLE t AS SELECT * FROM read_json('${file}', format = 'newline_delimited')`);
  const ms = performance.now() - t;
  conn.closeSync();
  instance.closeSync();
  return ms;
}

async function main() {
  const n = 1_000_000;
  const file = path.join(os.tmpdir(), `tally-b1-${n}-${generatorTag(n)}.jsonl`);
  if (!existsSync(file)) {
    const t = performance.now();
    generate(file, n);
    process.stderr.write(`generated ${file} in ${seconds(performance.now() - t)} s\n`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tally-b1-'));
  try {
    const loadBefore = load();
    const duckdbMs = await duckdbLoad(file, path.join(dir, 'duckdb.duckdb'));
    // What a user runs: `tally ingest FILE` and `tally verify`, each its own process.
    const config = path.join(dir, 'tally.yaml');
    writeFileSync(config, `store: ${path.join(dir, 'tally.duckdb')}\n`);
    const ingest = runCli(['ingest', file, '--config', config, '--report', 'json']);
    const report = JSON.parse(ingest.stdout);
    if (report[0]?.stored !== n) throw new Error(`stored ${report[0]?.stored} of ${n}`);
    const verify = runCli(['verify', '--config', config, '--format', 'json']);
    if (!JSON.parse(verify.stdout).ok) throw new Error(`verify failed: ${verify.stdout}`);
    // The reference again, so that a change of load during the run shows.
    const duckdbAfterMs = await duckdbLoad(file, path.join(dir, 'duckdb2.duckdb'));

    // Inner timings beside them: the store's bulk path and verify, in this process.
    const store = await openStore(path.join(dir, 'inner.duckdb'));
    let t = performance.now();
    await store.ingestCanonicalFile(file, 'jsonl', { label: 'jsonl:b1', now: Date.now() });
    const innerIngestMs = performance.now() - t;
    t = performance.now();
    await store.verify();
    const innerVerifyMs = performance.now() - t;
    await store.close();

    const reference = Math.min(duckdbMs, duckdbAfterMs);
    const ratio = reference / ingest.ms;
    const verifyRate = n / (verify.ms / 1000);
    console.log(
      JSON.stringify({
        name: 'B1 canonical ingest',
        target: 'duckdb/tally time ratio >= 0.5; verify >= 1M events/s',
        figures: {
          events: n,
          file_mb: Math.round(statSync(file).size / 2 ** 20),
          duckdb_read_json_s: `${seconds(duckdbMs)} before, ${seconds(duckdbAfterMs)} after`,
          'tally ingest s (CLI)': seconds(ingest.ms),
          'tally ingest peak RSS MiB': ingest.peakRssMiB,
          ratio: Math.round(ratio * 100) / 100,
          tally_events_per_s: Math.round(n / (ingest.ms / 1000)),
          'tally verify s (CLI)': seconds(verify.ms),
          'tally verify peak RSS MiB': verify.peakRssMiB,
          verify_events_per_s: Math.round(verifyRate),
          'inner: ingestCanonicalFile s / verify s': `${seconds(innerIngestMs)} / ${seconds(innerVerifyMs)}`,
          'load average before / after': `${loadBefore} / ${load()}`,
        },
        pass: ratio >= 0.5 && verifyRate >= 1_000_000,
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();

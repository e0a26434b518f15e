// B2's check of the month's statement against a recorded one (bench/lib/recorded-statement.mjs),
// held to the JSON `tally statement` writes: a small month made by the benchmarks' generator and
// ingested as the benchmarks ingest it, in two store files whose configurations differ only in
// their `store:` line, recorded from one and matched by the other; other events find no record,
// an amount changed in the text fails it, another configuration finds none.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchesRecord, record, statementFacts } from '../../bench/lib/recorded-statement.mjs';
import { writeCanonicalJsonl } from '../../src/demo/index.js';
import { openStore } from '../../src/store/open.js';
import { runCli } from '../security/cli.js';

const NOW = Date.UTC(2026, 10, 15);
let dir: string;
let records: string;

/** A store file beside its configuration, named by `name`, holding the month's events. */
async function monthCopy(name: string, from: string, configYaml: string): Promise<Month> {
  const store = path.join(dir, `${name}.duckdb`);
  await copyFile(from, store);
  const config = path.join(dir, `${name}.yaml`);
  await writeFile(config, configYaml.replace(/^store:.*$/m, `store: ${store}`));
  return { store, config };
}

interface Month {
  store: string;
  config: string;
}

const yamlOf = (m: Month) => readFile(m.config, 'utf8');

/** A canonical JSON lines file ingested into the store file `store` as the benchmarks ingest it (bulk, fixed time). */
async function ingestInto(store: string, file: string, label: string): Promise<void> {
  const s = await openStore(store);
  try {
    if (!s.ingestCanonicalFile) throw new Error('the embedded store ingests canonical files in bulk');
    await s.ingestCanonicalFile(file, 'jsonl', { label, now: NOW });
  } finally {
    await s.close();
  }
}

async function statementOf({ config }: Month): Promise<string> {
  const out = path.join(dir, `${path.basename(config)}.json`);
  const run = await runCli(
    ['statement', '--config', config, '--period', '2026-10', '--format', 'json', '--out', out],
    null,
  );
  expect(run.code, run.stderr).toBe(0);
  return readFile(out, 'utf8');
}

let first: Month;
let second: Month;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-recorded-'));
  records = path.join(dir, 'records.json');
  await writeFile(records, '[]\n');
  const jsonl = path.join(dir, 'month.jsonl');
  const { configYaml } = await writeCanonicalJsonl(jsonl, {
    events: 3000,
    identities: 40,
    applications: 6,
    tenants: 12,
    agentShare: 0.2,
    month: '2026-10',
    seed: 7,
  });
  const made = path.join(dir, 'made.duckdb');
  await ingestInto(made, jsonl, 'bench');
  first = await monthCopy('first', made, configYaml);
  second = await monthCopy('second', made, configYaml);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the month's recorded statement", () => {
  it('is matched by the same events and configuration in another store file, and nothing else', async () => {
    const json = await statementOf(first);
    const other = await statementOf(second);
    expect(other).not.toBe(json); // the configuration's hash names the store's path
    expect(matchesRecord(json, await yamlOf(first), records)).toBeNull();
    record(json, await yamlOf(first), 'test', 'this test', records);

    expect(matchesRecord(other, await yamlOf(second), records)).toBe(true);
    // One amount of one line changed in the text: the same events and configuration, another statement.
    const facts = statementFacts(json);
    expect(facts.lines).toBeGreaterThan(10);
    const changed = other.replace(
      /("direct_cost": ")(\d+\.\d*[1-9])(")/,
      (_, a, v: string, b) => `${a}${v}1${b}`,
    );
    expect(changed).not.toBe(other);
    expect(matchesRecord(changed, await yamlOf(second), records)).toBe(false);
    // Another configuration (one more team) has no record.
    const otherConfig = (await yamlOf(second)).replace(
      /^teams:\n/m,
      'teams:\n  - { id: team-extra, name: Extra, cost_center: cc-0001 }\n',
    );
    expect(otherConfig).not.toBe(await yamlOf(second));
    expect(matchesRecord(other, otherConfig, records)).toBeNull();
  });

  it('finds none for a month with one more batch of events', async () => {
    const extra = path.join(dir, 'extra.jsonl');
    await writeFile(
      extra,
      `${JSON.stringify({ id: 'extra-1', source: 'test', time: '2026-10-10T00:00:00Z', provider: 'openai', model: 'gpt-4o-mini', operation: 'chat', input_tokens: 10, output_tokens: 5, api_key: 'k-extra' })}\n`,
    );
    await ingestInto(second.store, extra, 'extra');
    expect(matchesRecord(await statementOf(second), await yamlOf(second), records)).toBeNull();
  });
});

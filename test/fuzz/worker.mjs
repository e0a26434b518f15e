// The fuzz target, run in a worker thread from the built code (dist/): the
// test thread can terminate it when an input hangs it, and a crash of Node or
// DuckDB shows as the worker's exit instead of taking the test runner down.
// Each message is one input; the reply says how it ended and whether the
// store changed although the input was rejected.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import YAML from 'yaml';

const dist = workerData.dist;
const { parseStream } = await import(path.join(dist, 'ingest/index.js'));
const { ingestFile } = await import(path.join(dist, 'service/ingest.js'));
const { openStore } = await import(path.join(dist, 'store/open.js'));
const { createApp } = await import(path.join(dist, 'server/app.js'));
const { parseConfig } = await import(path.join(dist, 'core/config-schema.js'));
const { TallyError } = await import(path.join(dist, 'core/errors.js'));

export const INGEST_TOKEN = 'fuzz-ingest-token-0123456789';
const NOW = Date.UTC(2026, 10, 5);
const dir = mkdtempSync(path.join(os.tmpdir(), 'tally-fuzz-'));
const sha = (s) => createHash('sha256').update(s).digest('hex');
const config = parseConfig(
  YAML.parse(`
currency: USD
cost_centers: [{ id: cc-a, name: A }]
teams: [{ id: team-a, name: A, cost_center: cc-a }]
applications: [{ id: app-a, name: A, owner: [{ team: team-a, from: 2026-01-01 }] }]
identities:
  - { id: nhi-a, kind: api_key, application: app-a, environment: production, match: [{ service: svc-a }] }
access:
  - { token_sha256: "${sha(INGEST_TOKEN)}", role: ingest }
`),
  { sha256: 'fuzz' },
);
const store = await openStore(path.join(dir, 'tally.duckdb'));
// Rate limit off (0): the fuzzer sends thousands of requests on a fixed clock.
const app = createApp({
  store,
  config,
  webDir: dir,
  now: () => NOW,
  limits: { rate: { perSecond: 0, burst: 0 } },
});
let files = 0;

/** What the store holds: a rejected input must leave it exactly so. */
async function state() {
  const c = await store.counters();
  return `${c.events}/${c.batches}/${await store.auditHead()}`;
}

/** The raw key planted in the corpus (test/fuzz/corpus.ts): it must never come back out. */
const PLANTED = /sk-proj-0123456789abcdefghij/;

/** Whether an error is a clean input error: a TallyError whose message has no stack frame. */
function clean(err) {
  return err instanceof TallyError && !/\n\s+at /.test(err.message);
}

/** A clean error that shows the planted raw key, even inside a longer text, is a leak. */
let secretShown = 0;
function leaked(err) {
  if (!PLANTED.test(err.message)) return false;
  secretShown++;
  return true;
}

function describe(err) {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

async function* chunks(bytes, size) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function parse(input) {
  try {
    for await (const _ of parseStream(chunks(input.bytes, input.chunk), input.format, {
      file: 'fuzz',
      now: NOW,
      skipInvalid: input.skipInvalid,
    }));
    return { outcome: 'ok' };
  } catch (err) {
    if (!clean(err)) return { outcome: 'crash', detail: describe(err) };
    return leaked(err)
      ? { outcome: 'leak', detail: `raw key in: ${err.message.slice(0, 300)}` }
      : { outcome: 'input_error' };
  }
}

/** The CLI's path: a file through detection, the bulk path for canonical files, the parser, the store. */
async function ingest(input) {
  const file = path.join(dir, `input-${files++}`);
  writeFileSync(file, input.bytes);
  const before = await state();
  try {
    await ingestFile(store, file, { format: input.format, skipInvalid: input.skipInvalid, now: NOW });
    return { outcome: 'ok' };
  } catch (err) {
    const changed = (await state()) !== before;
    if (!clean(err)) return { outcome: 'crash', detail: describe(err) };
    if (leaked(err)) return { outcome: 'leak', detail: `raw key in: ${err.message.slice(0, 300)}` };
    return changed
      ? { outcome: 'leak', detail: 'the store changed although the input was rejected' }
      : { outcome: 'input_error' };
  }
}

async function http(input) {
  const before = await state();
  const headers = { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': input.contentType };
  if (input.gzip) headers['content-encoding'] = 'gzip';
  const res = await app.fetch(
    new Request(`http://localhost${input.path}`, { method: 'POST', headers, body: input.bytes }),
  );
  const text = Buffer.from(await res.arrayBuffer()).toString('latin1');
  if (res.status >= 500 || res.status < 200)
    return { outcome: 'crash', detail: `HTTP ${res.status}: ${text.slice(0, 300)}` };
  if (/\n\s+at |node_modules|\/dist\//.test(text))
    return { outcome: 'crash', detail: `stack in reply: ${text.slice(0, 300)}` };
  if (PLANTED.test(text) && leaked(new Error(text)))
    return { outcome: 'leak', detail: `raw key in the reply: ${text.slice(0, 300)}` };
  if (res.status >= 400 && (await state()) !== before)
    return { outcome: 'leak', detail: `HTTP ${res.status} but the store changed` };
  return { outcome: res.status >= 400 ? 'input_error' : 'ok' };
}

const TARGETS = { parse, ingest, http };

parentPort.on('message', async (msg) => {
  const started = performance.now();
  let reply;
  try {
    reply = await TARGETS[msg.target]({ ...msg, bytes: Buffer.from(msg.bytes) });
  } catch (err) {
    reply = { outcome: 'crash', detail: describe(err) };
  }
  parentPort.postMessage({ id: msg.id, ms: performance.now() - started, secretShown, ...reply });
});
parentPort.postMessage({ ready: true, enforceSecrets: true });

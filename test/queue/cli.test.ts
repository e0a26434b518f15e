// The queue's commands as a user runs them (built code): what they refuse and what `tally status` prints.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQueueUrl } from '../../src/core/queue-url.js';
import { connectQueue, ensureStream } from '../../src/queue/connect.js';
import { openStore } from '../../src/store/open.js';
import { ROOT } from '../server/child.js';
import { configYaml } from '../server/helpers.js';
import { POSTGRES } from '../store/adapters.js';

const STREAM = `TALLY_TEST_CLI_${randomBytes(4).toString('hex').toUpperCase()}`;
const QUEUE = `nats://127.0.0.1:4222?stream=${STREAM}`;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-queue-cli-'));
}, 120_000);

afterAll(async () => {
  const conn = await connectQueue(parseQueueUrl(QUEUE), 'tally test cleanup');
  await conn.jsm.streams.delete(STREAM).catch(() => undefined);
  await conn.close();
  await rm(dir, { recursive: true, force: true });
});

async function tally(
  args: string[],
  yaml: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = path.join(dir, `${randomBytes(4).toString('hex')}.yaml`);
  await writeFile(file, yaml);
  return promisify(execFile)(process.execPath, [path.join(ROOT, 'bin/tally.js'), ...args, '--config', file], {
    encoding: 'utf8',
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

const withStore = (store: string, queue: string) =>
  configYaml().replace(
    'store: ./tally.duckdb',
    `store: ${JSON.stringify(store)}\nqueue: ${JSON.stringify(queue)}`,
  );

describe('queue commands', () => {
  it('refuse a queue URL with a wrong parameter in tally.yaml, naming the key (exit 2)', async () => {
    const r = await tally(
      ['status'],
      withStore(path.join(dir, 'x.duckdb'), 'nats://127.0.0.1:4222?replicas=9'),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/queue: replicas must be 1 to 5/);
  });

  it('refuse a worker on the embedded store: a queue needs a shared one (exit 2)', async () => {
    const r = await tally(['worker'], withStore(path.join(dir, 'w.duckdb'), QUEUE));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a queue needs a shared store: set `store: postgres:\/\/…`/);
  });

  it('tally status prints the store and the queue, as text and as JSON', async () => {
    const store = POSTGRES.url('');
    const yaml = withStore(store, QUEUE);
    // The stream and the store exist once a replica or worker has started, as in a deployment.
    const conn = await connectQueue(parseQueueUrl(QUEUE), 'tally test');
    await ensureStream(conn);
    await conn.close();
    await (await openStore(store)).close();
    const text = await tally(['status'], yaml);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(`queue  nats://127.0.0.1:4222\\?stream=${STREAM} stream ${STREAM} \\(R1\\)`),
    );
    expect(text.stdout).toMatch(/lag 0 messages, oldest 0\.0 s/);
    expect(text.stdout).toMatch(/0 events stored/);
    const json = JSON.parse((await tally(['status', '--format', 'json'], yaml)).stdout);
    expect(json.queue).toMatchObject({ stream: STREAM, lagMessages: 0, replicas: 1 });
    expect(json.store).toMatchObject({ events: 0, batches: 0 });
  });
});

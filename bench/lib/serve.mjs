// Running `tally serve` (or `tally worker`) as its own process for the server
// benchmarks, and the canonical request body their load generators post.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'tally.js');

/** A loopback port nobody listens on. */
export async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** Starts `tally ARGS…` and resolves with the child once its standard error matches `ready`. */
export function startTally(args, ready) {
  // TALLY_BENCH_NODE_ARGS: node flags for the child, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the server.
  const flags = (process.env.TALLY_BENCH_NODE_ARGS ?? '').split(' ').filter((f) => f !== '');
  const child = spawn(process.execPath, [...flags, bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      if (ready.test(err)) resolve(child);
    });
    child.on('exit', () => reject(new Error(`${args[0]} exited: ${err}`)));
  });
}

/** `tally serve --config FILE` on a free port, without rate limits: its child and base URL. */
export async function serve(configFile) {
  const port = await freePort();
  const child = await startTally(
    ['serve', '--config', configFile, '--port', String(port), '--rate-limit', '0'],
    /listening on/,
  );
  return { child, base: `http://127.0.0.1:${port}` };
}

/**
 * The `n`th body of `batch` canonical events (a JSON array), spread over the
 * `services` and over the hour before `now`; ids differ between bodies.
 */
export function eventsBody(n, batch, services, now) {
  const parts = [];
  for (let i = 0; i < batch; i++) {
    const t = new Date(now - 3_600_000 + ((n * batch + i) % 3_000_000)).toISOString();
    parts.push(
      `{"id":"b${n}-${i}","source":"bench","time":"${t}","provider":"openai","model":"gpt-4o","operation":"chat","input_tokens":${1000 + i},"output_tokens":${200 + (i % 50)},"service":"${services[i % services.length]}"}`,
    );
  }
  return `[${parts.join(',')}]`;
}

/**
 * The month's configuration (`configPath`) served from `storePath` with one access token of `role`,
 * written as tally.yaml in a new temporary folder: the folder (to remove) and the file.
 */
export function servedConfig(configPath, storePath, token, role) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tally-bench-serve-'));
  const yaml = path.join(dir, 'tally.yaml');
  const access = `access:\n  - { token_sha256: "${createHash('sha256').update(token).digest('hex')}", role: ${role} }\n`;
  writeFileSync(
    yaml,
    readFileSync(configPath, 'utf8')
      .replace(/^store:.*$/m, `store: ${storePath}`)
      .replace(/^access:.*$/m, access),
  );
  return { dir, yaml };
}

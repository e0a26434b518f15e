// `tally serve` as a child process of the test, from the built code.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configYaml } from './helpers.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export async function configDir(extra = ''): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-serve-'));
  await writeFile(path.join(dir, 'tally.yaml'), configYaml(extra));
  return dir;
}

export interface Served {
  child: ChildProcess;
  base: string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
}

/** Starts `tally serve` and waits until it listens. */
export async function startServe(dir: string, port: number, args: string[] = []): Promise<Served> {
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin/tally.js'),
      'serve',
      '--config',
      path.join(dir, 'tally.yaml'),
      '--port',
      String(port),
      ...args,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tally serve did not start: ${err}`)), 30_000);
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`tally serve exited: ${err}`));
    });
  });
  return { child, base: `http://127.0.0.1:${port}`, exited };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (`node bin/tally.js ARGS…`) with no server or token from the environment unless given. */
export function runTally(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'bin/tally.js'), ...args],
      { env: { ...process.env, TALLY_SERVER: '', TALLY_TOKEN: '', ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

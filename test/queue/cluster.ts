// Processes for the queue's fault test: a JetStream cluster of nats-server
// nodes on loopback ports (temporary store dirs), and `tally worker` children.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { freePort, ROOT } from '../server/child.js';

export const NATS_SERVER = [
  '/usr/sbin/nats-server',
  '/usr/bin/nats-server',
  '/usr/local/bin/nats-server',
].find((p) => existsSync(p));

export interface Proc {
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Everything it wrote to standard error. */
  log: () => string;
}

/** Spawns and resolves once standard error shows `ready`. */
export function spawnUntil(cmd: string, args: string[], ready: RegExp, what: string): Promise<Proc> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${err}`)), 30_000);
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (ready.test(err)) {
        clearTimeout(timer);
        resolve({ child, exited, log: () => err });
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`${what} exited: ${err}`));
    });
  });
}

export interface NatsNode {
  name: string;
  port: number;
  proc: Proc | null;
  start(): Promise<void>;
  kill(): Promise<void>;
}

/** Three (or n) nodes clustered on loopback, each with its own JetStream store dir under `dir`. */
export async function natsCluster(dir: string, n: number): Promise<NatsNode[]> {
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
  const routes = await Promise.all(Array.from({ length: n }, () => freePort()));
  return ports.map((port, i) => {
    const others = routes.filter((_, j) => j !== i).map((r) => `nats://127.0.0.1:${r}`);
    const args = [
      '-a',
      '127.0.0.1',
      '-p',
      String(port),
      '-n',
      `n${i}`,
      '-js',
      '-sd',
      path.join(dir, `n${i}`),
      '--cluster_name',
      'tally-fault',
      '--cluster',
      `nats://127.0.0.1:${routes[i]}`,
      '--routes',
      others.join(','),
    ];
    const node: NatsNode = {
      name: `n${i}`,
      port,
      proc: null,
      async start() {
        node.proc = await spawnUntil(NATS_SERVER as string, args, /Server is ready/, `nats-server n${i}`);
      },
      async kill() {
        node.proc?.child.kill('SIGKILL');
        await node.proc?.exited;
        node.proc = null;
      },
    };
    return node;
  });
}

/** `tally worker` from the built code, resolved once it consumes. */
export function startWorker(configFile: string): Promise<Proc> {
  return spawnUntil(
    process.execPath,
    [
      path.join(ROOT, 'bin/tally.js'),
      'worker',
      '--config',
      configFile,
      '--batch',
      '50',
      '--metrics-port',
      '0',
    ],
    /consuming stream/,
    'tally worker',
  );
}

// The CLI as a child process, from dist/ (built once before the tests: test/setup/build.ts).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../server/child.js';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `tally ARGS` from dist/, killing it after `timeoutMs`. */
export function runCli(args: string[], stdin: Buffer | null, timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/tally.js'), ...args], {
      stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (stdin) {
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(stdin);
    }
  });
}

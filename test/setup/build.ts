/**
 * Global setup: compiles src/ to dist/ once, before any test file runs. The
 * tests that start `tally` as a child process (a server, a worker, the CLI)
 * run it from dist/. Each of those files used to compile in its own
 * `beforeAll`, while files in other workers were starting the CLI: a module
 * being rewritten was read half-written, and a command exited 1 with no
 * output (a flaky failure under load).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export default function setup(): void {
  try {
    execFileSync(
      process.execPath,
      [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: ROOT,
        stdio: 'ignore',
      },
    );
  } catch {
    // Type errors still emit; a missing entry point fails the tests that need it.
  }
}

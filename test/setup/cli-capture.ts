// What a command line test sees: a fresh temporary folder per test, and
// everything written to standard output and error while the test runs.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, vi } from 'vitest';

export interface CliCapture {
  /** This test's temporary folder, removed after it. */
  dir: string;
  /** Standard output written so far in this test. */
  out: string;
  /** Standard error written so far in this test. */
  err: string;
}

/** Registers the hooks in the calling file or `describe`; `prepare` runs after the folder is made. */
export function captureCli(prefix: string, prepare?: (dir: string) => Promise<void>): CliCapture {
  const cli: CliCapture = { dir: '', out: '', err: '' };
  beforeEach(async () => {
    cli.dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    cli.out = '';
    cli.err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      cli.out += String(s);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      cli.err += String(s);
      return true;
    });
    await prepare?.(cli.dir);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(cli.dir, { recursive: true, force: true });
  });
  return cli;
}

import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Commands run by the tests keep large configurations here, not in the user's cache folder.
    env: { TALLY_CACHE_DIR: path.join(os.tmpdir(), 'tally-test-config-cache') },
    globalSetup: ['test/setup/build.ts', 'test/setup/postgres.ts'],
  },
});

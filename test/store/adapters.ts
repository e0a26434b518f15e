/**
 * The store adapters every contract test runs against, and what each lacks.
 * A test of a feature an adapter lacks is skipped by name, with the reason,
 * never passed silently.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { inject } from 'vitest';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';

/** Features an adapter may lack. */
export type Feature = 'bulkCanonicalFile' | 'traceLinks';

export interface Adapter {
  name: 'duckdb' | 'postgres';
  /** The store URL of a fresh, empty store; `dir` is the test's temporary directory. */
  url(dir: string): string;
  /** Features this adapter lacks, with why. */
  lacks: Partial<Record<Feature, string>>;
}

export const DUCKDB: Adapter = {
  name: 'duckdb',
  url: (dir) => path.join(dir, 'tally.duckdb'),
  lacks: {},
};

export const POSTGRES: Adapter = {
  name: 'postgres',
  url: () => `${inject('pgUrl')}?schema=t_${randomBytes(6).toString('hex')}`,
  lacks: {
    bulkCanonicalFile:
      'PostgreSQL has no reader for canonical files: such files go through the parser and the event path',
    traceLinks: 'trace links (spans that are not AI work) are not stored by the PostgreSQL adapter yet',
  },
};

export const ADAPTERS: readonly Adapter[] = [DUCKDB, POSTGRES];

export function openFresh(adapter: Adapter, dir: string): Promise<Store> {
  return openStore(adapter.url(dir));
}

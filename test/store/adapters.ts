/**
 * The store adapters every contract test runs against, and what each lacks.
 * A test of a feature an adapter lacks is skipped by name, with the reason,
 * never passed silently.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
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
  },
};

export const ADAPTERS: readonly Adapter[] = [DUCKDB, POSTGRES];

export function openFresh(adapter: Adapter, dir: string): Promise<Store> {
  return openStore(adapter.url(dir));
}

/** A connection of its own to a PostgreSQL store's schema (its URL's `schema`), as a DBA (or an attacker) would open one. */
export async function schemaClient(url: string): Promise<pg.Client> {
  const u = new URL(url);
  const schema = u.searchParams.get('schema');
  u.searchParams.delete('schema');
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  await c.query(`SET search_path TO ${schema}`);
  return c;
}

/**
 * Opens the store named by `store:` or `--store`: a file path or a
 * `duckdb:PATH` URL opens the embedded DuckDB store.
 */
import { UsageError } from '../core/errors.js';
import { DuckDBStore } from './duckdb/duckdb-store.js';
import type { Store } from './store.js';

export async function openStore(url: string): Promise<Store> {
  if (/^postgres(ql)?:\/\//i.test(url)) throw new UsageError('PostgreSQL store not available yet');
  const path = url.startsWith('duckdb:') ? url.slice('duckdb:'.length) : url;
  if (path === '') throw new UsageError('the store path is empty');
  return DuckDBStore.open(path);
}

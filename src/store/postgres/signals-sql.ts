import { StoreError } from '../../core/errors.js';
import type { SignalFacts, SignalQuery } from '../../core/signals/facts.js';
import type { Row } from '../rows.js';

export async function readSignalFacts(
  _q: SignalQuery,
  _rows: (sql: string) => Promise<Row[]>,
): Promise<SignalFacts> {
  throw new StoreError('signals are not available on the PostgreSQL store yet');
}

/**
 * Which (source, id) keys the event log may hold, kept in memory so that a
 * small batch (a server's request) does not scan every stored key to learn
 * that its events are new. A Bloom filter over DuckDB's 64-bit `hash(source,
 * id)`: it answers "maybe" for every key it was given and "no" for almost all
 * others, so a "no" for every key of a batch proves that none was logged
 * before; on any "maybe" the store asks SQL, which decides duplicates and
 * versions as always (the filter never decides, it only skips a scan).
 *
 * It is exact only while this process is the only writer, which DuckDB's
 * file lock guarantees, and while every stored key passed through `add`:
 * the store adds a small batch's keys before it commits (a rollback leaves
 * only extra "maybe"s) and drops the filter whenever a batch is stored
 * another way. 32 bits and 11 probes per key: about one "maybe" in 750,000
 * keys that were never added, so about one request of 1,000 events in 750
 * runs the SQL check for nothing.
 */
import type { DuckDBDataChunk } from '@duckdb/node-api';

const BITS_PER_KEY = 32;
const PROBES = 11;
const MIN_BITS = 2 ** 20;

/** The key hash of each event-log row matched by `where`, as two 32-bit halves (hi, lo). */
export function keyHashesSql(where: string): string {
  return `SELECT (h >> 32)::UINTEGER AS hi, (h & 4294967295::UBIGINT)::UINTEGER AS lo
FROM (SELECT hash(source, id) AS h FROM event_log ${where})`;
}

export class KeyFilter {
  private readonly bits: Uint32Array;
  private readonly mask: number;
  private keys = 0;

  /** A filter sized for `expected` keys (and half as many again before it is full). */
  constructor(expected: number) {
    let m = MIN_BITS;
    while (m < expected * 1.5 * BITS_PER_KEY && m < 2 ** 32) m *= 2;
    this.bits = new Uint32Array(m / 32);
    this.mask = m - 1;
  }

  /** More keys than it was sized for: a "maybe" would come too often. */
  get full(): boolean {
    return this.keys * BITS_PER_KEY > this.mask + 1;
  }

  /** Adds the keys of a chunk of `keyHashesSql`; returns whether any was (maybe) there already. */
  addChunk(chunk: DuckDBDataChunk): boolean {
    const hi = chunk.getColumnVector(0);
    const lo = chunk.getColumnVector(1);
    let seen = false;
    for (let i = 0; i < chunk.rowCount; i++)
      if (this.add(hi.getItem(i) as number, lo.getItem(i) as number)) seen = true;
    return seen;
  }

  private add(hi: number, lo: number): boolean {
    const step = (hi | 1) >>> 0;
    let present = true;
    for (let p = 0; p < PROBES; p++) {
      const bit = ((lo + Math.imul(p, step)) >>> 0) & this.mask;
      const word = bit >>> 5;
      const flag = 1 << (bit & 31);
      if (((this.bits[word] as number) & flag) === 0) {
        present = false;
        this.bits[word] = (this.bits[word] as number) | flag;
      }
    }
    this.keys++;
    return present;
  }
}

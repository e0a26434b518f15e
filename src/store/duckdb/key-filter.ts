/**
 * Which (source, id) keys the event log may hold, kept in memory so that a
 * small batch (a server's request) does not scan every stored key to learn
 * that its events are new. A Bloom filter over DuckDB's 64-bit `hash(source,
 * id)`: it answers "maybe" for every key it was given and "no" for almost all
 * others, so a "no" for every key of a batch proves that none was logged
 * before; on any "maybe" the store asks SQL, which decides duplicates and
 * versions as always (the filter never decides, it only skips a scan).
 *
 * Its "no" holds only while this store is the file's only writer (DuckDB's
 * file lock keeps other processes out; within a process, two instances on
 * one file would corrupt it anyway), and while every stored key passed
 * through `add`:
 * the store adds a small batch's keys before it commits (a rollback leaves
 * only extra "maybe"s) and drops the filter whenever a batch is stored
 * another way.
 *
 * A blocked filter: each key sets 8 bits within one 512-bit block (one cache
 * line), so that building it over millions of stored keys costs one memory
 * access per key rather than eight (measured: ~0.25 µs of CPU per key, 6M
 * keys in ~1.7 s under load, against ~0.24 s for one SQL scan of 6M keys).
 * 32 to 64 bits per key: a key never added gets a "maybe" about 3 times in a
 * million just after a build and 56 times in a million when the filter is
 * full (measured), so at most about one request of 1,000 new events in 18
 * runs the SQL check for nothing. Full, it is built again, larger.
 */
import type { DuckDBDataChunk } from '@duckdb/node-api';

const BITS_PER_KEY = 32;
const PROBES = 8;
const BLOCK_WORDS = 16;
/**
 * 4 MiB: a filter holds at least 1,048,576 keys before it is full, so that a store growing from
 * empty under a server's load is not scanned again at 16k, 32k, … keys (each build holds the
 * requests waiting behind its commit: 100–250 ms at 260k–530k keys, measured under load).
 */
const MIN_BLOCKS = 2 ** 16;
/** 128 MiB: a log of more than ~22M keys when the filter would be built is checked by SQL alone. */
const MAX_BLOCKS = 2 ** 21;

/** The key hash of each event-log row matched by `where`, as two 32-bit halves (hi, lo). */
export function keyHashesSql(where: string): string {
  return `SELECT (h >> 32)::UINTEGER AS hi, (h & 4294967295::UBIGINT)::UINTEGER AS lo
FROM (SELECT hash(source, id) AS h FROM event_log ${where})`;
}

export class KeyFilter {
  /** Whether a filter for `expected` keys stays within the memory cap. */
  static fits(expected: number): boolean {
    return expected * 1.5 * BITS_PER_KEY <= MAX_BLOCKS * BLOCK_WORDS * 32;
  }

  private readonly words: Uint32Array;
  private readonly blockMask: number;
  private keys = 0;

  /** A filter sized for `expected` keys (and half as many again before it is full). */
  constructor(expected: number) {
    let blocks = MIN_BLOCKS;
    while (blocks * BLOCK_WORDS * 32 < expected * 1.5 * BITS_PER_KEY && blocks < MAX_BLOCKS) blocks *= 2;
    this.words = new Uint32Array(blocks * BLOCK_WORDS);
    this.blockMask = blocks - 1;
  }

  /** More keys than it was sized for: a "maybe" would come too often. */
  get full(): boolean {
    return this.keys * BITS_PER_KEY > this.words.length * 32;
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
    const base = (hi & this.blockMask) * BLOCK_WORDS;
    // Each probe's bit: the top 9 bits of a 32-bit mix (murmur3's finaliser) of both halves.
    let state = lo ^ Math.imul(hi, 0x85ebca6b);
    let present = true;
    for (let p = 0; p < PROBES; p++) {
      state = (state + 0x9e3779b9) | 0;
      let z = Math.imul(state ^ (state >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      const bit = (z ^ (z >>> 16)) >>> 23;
      const word = base + (bit >>> 5);
      const flag = 1 << (bit & 31);
      if (((this.words[word] as number) & flag) === 0) {
        present = false;
        this.words[word] = (this.words[word] as number) | flag;
      }
    }
    this.keys++;
    return present;
  }
}

// verify's row hashes in a worker thread: the same contents as on this thread, and a failed worker stops the hashing.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketHash, contentOfBuckets, packedDigests, RowTextHasher } from '../../src/store/audit.js';
import { AsideHasher } from '../../src/store/duckdb/row-hash-aside.js';

// The worker runs the built code (dist/, compiled before the tests).
const WORKER = pathToFileURL(path.join(import.meta.dirname, '../../dist/store/duckdb/row-hash-worker.js'));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-aside-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** `texts` packed as the row-text function packs a chunk. */
function packed(texts: string[]) {
  const parts = texts.map((t) => Buffer.from(t, 'utf8'));
  const ends = new Uint32Array(parts.length);
  let total = 0;
  for (const [i, p] of parts.entries()) {
    total += p.length;
    ends[i] = total;
  }
  return { bytes: new Uint8Array(Buffer.concat(parts)), ends };
}

describe('AsideHasher', () => {
  it('gives every batch the count and content hash RowTextHasher gives, whatever the chunks', async () => {
    // A large batch (split into buckets), small ones, rows of batches interleaved, UTF-8 texts.
    const rows = Array.from({ length: 12_000 }, (_, i) => ({
      seq: i % 7 === 0 ? 3 + (i % 5) : 1,
      text: `row ${i}\u001ftenant-é-${i % 13}\u001f${'x'.repeat(i % 40)}`,
    }));
    const here = new RowTextHasher();
    for (const r of rows) here.add(r.seq, r.text);
    const aside = AsideHasher.start(WORKER);
    expect(aside).not.toBeNull();
    for (let from = 0; from < rows.length; from += 997) {
      const chunk = rows.slice(from, from + 997);
      aside?.take(
        Int32Array.from(chunk, (r) => r.seq),
        packed(chunk.map((r) => r.text)),
      );
    }
    const contents = await aside?.finish();
    expect(contents).toEqual(here.finish());
    expect(contents?.get(1)?.count).toBe(rows.filter((r) => r.seq === 1).length);
  });

  it('gives the same contents when the calling thread hashes chunks while the worker is behind', async () => {
    const rows = Array.from({ length: 9_000 }, (_, i) => ({
      seq: i % 11 === 0 ? 5 : 2,
      text: `r${i}\u001fé${'y'.repeat(i % 29)}`,
    }));
    const here = new RowTextHasher();
    for (const r of rows) here.add(r.seq, r.text);
    // 0: every chunk is hashed by the caller; 2: the worker takes some, the caller the rest.
    for (const maxInFlight of [0, 2]) {
      const aside = AsideHasher.start(WORKER, maxInFlight);
      for (let from = 0; from < rows.length; from += 301) {
        const chunk = rows.slice(from, from + 301);
        aside?.take(
          Int32Array.from(chunk, (r) => r.seq),
          packed(chunk.map((r) => r.text)),
        );
      }
      expect(aside?.hashedHere).toBeGreaterThan(0);
      expect(await aside?.finish()).toEqual(here.finish());
      here.finish(); // let go; refilled below for the next round
      for (const r of rows) here.add(r.seq, r.text);
    }
  });

  it('takes digests packed as it takes the rows they hash', () => {
    const texts = ['a', 'bé', 'ccc', 'dddd', 'e', 'f'];
    const seqs = Int32Array.of(1, 1, 2, 1, 3, 3);
    const { bytes, ends } = packed(texts);
    const rowsPacked = new RowTextHasher();
    rowsPacked.addPacked(seqs, bytes, ends);
    const digests = new RowTextHasher();
    digests.addDigests(seqs, packedDigests(bytes, ends));
    expect(digests.finish()).toEqual(rowsPacked.finish());
    const limited = new RowTextHasher(5);
    limited.addDigests(seqs, packedDigests(bytes, ends));
    expect(limited.complete).toBe(false);
  });

  it('a large batch whose upper buckets are hashed elsewhere keeps its content hash', () => {
    const fill = (h: RowTextHasher) => {
      for (let i = 0; i < 9_000; i++) h.add(i < 5_000 ? 2 : 4, `r${i}`);
      for (let i = 0; i < 10; i++) h.add(3, `small ${i}`);
    };
    const whole = new RowTextHasher();
    fill(whole);
    const split = new RowTextHasher();
    fill(split);
    const taken = split.takeBuckets(100);
    expect([...taken.keys()]).toEqual([2]); // 5,000 rows are split into buckets; 4,000 and 10 are not
    const parts = split.finishBuckets();
    for (const [seq, buckets] of taken)
      for (const [i, b] of buckets.entries()) (parts.get(seq)?.hashes as string[])[100 + i] = bucketHash(b);
    const contents = new Map(
      [...parts].map(([seq, p]) => [seq, { count: p.count, content: contentOfBuckets(p.hashes) }]),
    );
    expect(contents).toEqual(whole.finish());
  });

  it('takes packed rows as it takes them one by one, and past its limit gives up', () => {
    const texts = ['a', 'bé', 'ccc', 'dddd', 'e'];
    const seqs = Int32Array.of(1, 1, 2, 1, 3);
    const one = new RowTextHasher();
    for (const [i, t] of texts.entries()) one.add(seqs[i] as number, t);
    const packedRows = new RowTextHasher();
    const { bytes, ends } = packed(texts);
    packedRows.addPacked(seqs, bytes, ends);
    expect(packedRows.finish()).toEqual(one.finish());
    const limited = new RowTextHasher(4);
    limited.addPacked(seqs, bytes, ends);
    expect(limited.complete).toBe(false);
  });

  it('stops taking rows once its worker failed', async () => {
    // A worker that fails on its first chunk and takes no more.
    const script = path.join(dir, 'failing.mjs');
    await writeFile(
      script,
      "import { parentPort, workerData } from 'node:worker_threads';\nconst shared = new Int32Array(workerData);\nparentPort.on('message', () => { Atomics.store(shared, 1, 1); Atomics.notify(shared, 0); });\n",
    );
    const aside = AsideHasher.start(pathToFileURL(script));
    const take = () => {
      // Past the chunks it lets wait (those of texts, then those it hashed itself), it waits and sees the failure.
      for (let i = 0; i < 1_000; i++) aside?.take(Int32Array.of(1), packed(['a row']));
    };
    expect(take).toThrow(/hashing the row texts failed/);
    await aside?.stop();
  });

  it('without the built worker, leaves the hashing to the caller', () => {
    expect(AsideHasher.start(pathToFileURL(path.join(dir, 'none.js')))).toBeNull();
  });
});

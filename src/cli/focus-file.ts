/**
 * A month's FOCUS CSV made a day at a time: each day's usage rows are
 * written to a temporary file as soon as the day is summed (`FocusUsage`
 * with a `done` sink, fed by a store handing over groups day by day), and the
 * document is that file's bytes followed by the last day's rows and the pool
 * rows. Only one day's rows are ever in memory; a month's 4M rows held at
 * once made garbage collection half of the export's time.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PoolShare } from '../core/allocation.js';
import {
  FOCUS_CSV_HEADER,
  type FocusMeta,
  focusCsvRecords,
  focusRowChunks,
  type UsageRow,
} from '../export/focus.js';
import type { Chunk } from './output.js';

const READ_BYTES = 4 << 20;

export class FocusCsvFile {
  readonly #dir = mkdtempSync(path.join(os.tmpdir(), 'tally-focus-'));
  #fd: number | null;

  constructor(private readonly meta: FocusMeta) {
    this.#fd = openSync(path.join(this.#dir, 'focus.csv'), 'w');
    writeSync(this.#fd, FOCUS_CSV_HEADER);
  }

  /** Writes a day's usage rows. */
  write(rows: readonly UsageRow[]): void {
    if (this.#fd === null) throw new RangeError('FOCUS file: written after it was read');
    for (const chunk of focusRowChunks(rows, [], this.meta)) writeSync(this.#fd, focusCsvRecords(chunk));
  }

  /** The document: the file, then `rows` and the pool rows of `shares`; the file is removed once read. */
  *document(rows: readonly UsageRow[], shares: readonly PoolShare[]): Generator<Chunk> {
    try {
      this.#close();
      const fd = openSync(path.join(this.#dir, 'focus.csv'), 'r');
      try {
        for (;;) {
          const buffer = new Uint8Array(READ_BYTES);
          const n = readSync(fd, buffer, 0, READ_BYTES, null);
          if (n === 0) break;
          yield buffer.subarray(0, n);
        }
      } finally {
        closeSync(fd);
      }
      for (const chunk of focusRowChunks(rows, shares, this.meta)) yield focusCsvRecords(chunk);
    } finally {
      this.discard();
    }
  }

  /** Removes the file (when the document is not read: a failed statement). */
  discard(): void {
    this.#close();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}

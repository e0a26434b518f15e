import { type FileHandle, mkdir, open } from 'node:fs/promises';
import path from 'node:path';

const CHUNK = 4 << 20;

/**
 * Appends text to a file through a 4 MB buffer, so that a generator of any
 * size keeps flat memory. Text is encoded into the buffer as it comes (no
 * long string is ever built), and the next chunk fills while the previous
 * one is being written.
 */
export class FileSink {
  private buf = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  private pending: Promise<unknown> = Promise.resolve();

  private constructor(private readonly handle: FileHandle) {}

  static async create(file: string): Promise<FileSink> {
    await mkdir(path.dirname(file), { recursive: true });
    return new FileSink(await open(file, 'w'));
  }

  /** Buffers `text`; call `maybeFlush` at convenient points to hand full chunks to the disk. */
  write(text: string): void {
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit.
    if (this.used + text.length * 3 > this.buf.length) {
      if (text.length * 3 > CHUNK) {
        this.handOff();
        this.pending = this.pending.then(() => this.handle.write(text));
        return;
      }
      this.handOff();
    }
    this.used += this.buf.write(text, this.used);
  }

  async maybeFlush(): Promise<void> {
    if (this.used >= CHUNK / 2) {
      await this.pending;
      this.handOff();
    }
  }

  private handOff(): void {
    if (this.used === 0) return;
    const data = this.buf.subarray(0, this.used);
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.used = 0;
    this.pending = this.pending.then(() => this.handle.write(data));
  }

  async close(): Promise<void> {
    this.handOff();
    await this.pending;
    await this.handle.close();
  }
}

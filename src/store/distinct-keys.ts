/**
 * Whether every (source, id) key of an input is distinct, told in bounded
 * memory: each key is kept as a 64-bit hash of its text in an open-addressing
 * table (8 bytes a key, at most half full), instead of as a string in a Set
 * (about 280 bytes a key when measured: 1M keys took 280 MB more).
 *
 * Two different keys with the same 64-bit hash are reported as a repeat: the
 * caller then lets the database decide (it deduplicates by the keys
 * themselves), so a collision costs time, never a wrong answer. Among a
 * million keys one is about as likely as three in a hundred million.
 */
export class DistinctKeys {
  private hi = new Uint32Array(1 << 12);
  private lo = new Uint32Array(1 << 12);
  private used = new Uint8Array(1 << 12);
  private size = 0;

  /** Adds a key; false when it (or a key of the same hash) was added before. */
  add(source: string, id: string): boolean {
    const h1 = mix(hashText(hashText(0x811c9dc5, source), id, 0x01000193));
    const h2 = mix(hashText(hashText(0x9747b28c, id), source, 0x5bd1e995));
    if (this.size * 2 >= this.used.length) this.grow();
    return this.place(h1, h2);
  }

  private place(h1: number, h2: number): boolean {
    const mask = this.used.length - 1;
    for (let at = h1 & mask; ; at = (at + 1) & mask) {
      if (this.used[at] === 0) {
        this.used[at] = 1;
        this.hi[at] = h1;
        this.lo[at] = h2;
        this.size++;
        return true;
      }
      if (this.hi[at] === h1 && this.lo[at] === h2) return false;
    }
  }

  private grow(): void {
    const { hi, lo, used } = this;
    this.hi = new Uint32Array(used.length * 2);
    this.lo = new Uint32Array(used.length * 2);
    this.used = new Uint8Array(used.length * 2);
    this.size = 0;
    for (let i = 0; i < used.length; i++) if (used[i] === 1) this.place(hi[i] as number, lo[i] as number);
  }
}

/** FNV-style: each UTF-16 unit folded into a 32-bit state; a separator unit between the two texts. */
function hashText(state: number, text: string, prime = 0x01000193): number {
  let h = Math.imul(state ^ 0xffff, prime);
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), prime);
  return h;
}

/** murmur3's finaliser: spreads every bit of the state over the result. */
function mix(h: number): number {
  let z = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

import { createHash } from 'node:crypto';

/**
 * The user_ids seen so far in a file, to flag duplicates, in 12 bytes per row: a 64-bit
 * fingerprint (first 8 bytes of SHA-1) and the line number, in an open-addressing table of typed
 * arrays. 100,000 rows take ~2.4 MB instead of a Map of strings' ~10 MB; two different ids share
 * a fingerprint with odds of about n²/2⁶⁵ (1 in 10⁹ for a million rows).
 */
export class SeenUserIds {
  #hi: Uint32Array;
  #lo: Uint32Array;
  /** 0 = empty slot (input lines start at 1). */
  #line: Uint32Array;
  #size = 0;

  constructor(capacity = 1024) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.#hi = new Uint32Array(slots);
    this.#lo = new Uint32Array(slots);
    this.#line = new Uint32Array(slots);
  }

  get size(): number {
    return this.#size;
  }

  /** Record `userId` first seen on `line`; returns the earlier line if it was seen before. */
  firstLine(userId: string, line: number): number | undefined {
    const digest = createHash('sha1').update(userId, 'utf8').digest();
    const hi = digest.readUInt32BE(0);
    const lo = digest.readUInt32BE(4);
    const found = this.#find(hi, lo);
    if (this.#line[found] !== 0) return this.#line[found];
    this.#hi[found] = hi;
    this.#lo[found] = lo;
    this.#line[found] = line;
    this.#size++;
    if (this.#size * 2 > this.#line.length) this.#grow();
    return undefined;
  }

  #find(hi: number, lo: number): number {
    const mask = this.#line.length - 1;
    for (let slot = lo & mask; ; slot = (slot + 1) & mask) {
      if (this.#line[slot] === 0 || (this.#hi[slot] === hi && this.#lo[slot] === lo)) return slot;
    }
  }

  #grow(): void {
    const [hi, lo, line] = [this.#hi, this.#lo, this.#line];
    this.#hi = new Uint32Array(hi.length * 2);
    this.#lo = new Uint32Array(lo.length * 2);
    this.#line = new Uint32Array(line.length * 2);
    for (let slot = 0; slot < line.length; slot++) {
      if (line[slot] === 0) continue;
      const found = this.#find(hi[slot]!, lo[slot]!);
      this.#hi[found] = hi[slot]!;
      this.#lo[found] = lo[slot]!;
      this.#line[found] = line[slot]!;
    }
  }
}

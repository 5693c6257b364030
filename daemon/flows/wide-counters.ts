/**
 * Per-direction flow counters (packets, bytes) in 32 bits each, exact at any size: what goes past
 * 2^32 is carried in a map that holds only the rare counters that ever got there (a months-long
 * gigabit flow). Half the memory of a Float64Array for a table of 100,000 flows.
 */
const WORD = 4294967296;

export class WideCounters {
  private readonly low: Uint32Array;
  private readonly high = new Map<number, number>();

  constructor(n: number) {
    this.low = new Uint32Array(n);
  }

  get(k: number): number {
    const l = this.low[k];
    return this.high.size === 0 ? l : l + (this.high.get(k) ?? 0) * WORD;
  }

  /** Adds a non-negative integer. */
  add(k: number, v: number): void {
    const s = this.low[k] + v;
    if (s < WORD) {
      this.low[k] = s;
      return;
    }
    const carry = Math.floor(s / WORD);
    this.low[k] = s - carry * WORD;
    this.high.set(k, (this.high.get(k) ?? 0) + carry);
  }

  set(k: number, v: number): void {
    this.clear(k);
    this.add(k, v);
  }

  clear(k: number): void {
    this.low[k] = 0;
    if (this.high.size !== 0) this.high.delete(k);
  }
}

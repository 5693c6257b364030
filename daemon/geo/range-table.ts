/**
 * Address ranges with one value each, searched in place: only the start of each range is kept,
 * a range runs until the next start, and a value of 0 marks a gap (no data). IPv4 keys are the
 * address; IPv6 keys are the upper 64 bits (hi, lo), the granularity of routing and registry
 * data. Stored little-endian as `u32 count, u32 width (1|2), u32 valueBytes (2|4),
 * starts[count*width], values[count]` (padded to 4 bytes).
 */

export class RangeTable {
  private constructor(
    readonly width: 1 | 2,
    private readonly starts: Uint32Array,
    private readonly values: Uint16Array | Uint32Array,
  ) {}

  get size(): number {
    return this.values.length;
  }

  static fromBuffer(buf: Buffer): RangeTable {
    // Typed arrays need 4-byte alignment; a Buffer from a pool may not have it.
    const b = buf.byteOffset % 4 === 0 ? buf : Buffer.from(buf);
    const n = b.readUInt32LE(0);
    const w = b.readUInt32LE(4);
    const vb = b.readUInt32LE(8);
    if ((w !== 1 && w !== 2) || (vb !== 2 && vb !== 4) || b.length !== 12 + 4 * n * w + pad4(n * vb)) throw new Error('range table: bad header or size');
    const starts = new Uint32Array(b.buffer, b.byteOffset + 12, n * w);
    const at = b.byteOffset + 12 + 4 * n * w;
    return new RangeTable(w, starts, vb === 2 ? new Uint16Array(b.buffer, at, n) : new Uint32Array(b.buffer, at, n));
  }

  /**
   * Builds a table from inclusive ranges sorted by start. Where ranges overlap the more
   * specific one wins inside its span and the enclosing one resumes after it (the source data
   * has such nested entries); gaps get a 0 entry; adjacent equal values are merged.
   */
  static build(width: 1 | 2, valueBytes: 2 | 4, rows: Iterable<{ start: number[]; end: number[]; value: number }>): Buffer {
    const s: number[][] = [];
    const v: number[] = [];
    const push = (start: number[], value: number) => {
      const n = v.length;
      if (n > 0 && compare(s[n - 1], start) === 0) {
        v[n - 1] = value; // an empty segment: the new value starts at the same key
        if (n > 1 && v[n - 2] === value) {
          s.pop();
          v.pop();
        }
        return;
      }
      if (n > 0 && v[n - 1] === value) return;
      s.push(start);
      v.push(value);
    };
    const sorted = [...rows].map((r) => ({ start: r.start.slice(0, width).map((x) => x >>> 0), end: r.end.slice(0, width).map((x) => x >>> 0), value: r.value }));
    // Start ascending, then the widest first, so that nested ranges come after their parent.
    sorted.sort((a, b) => compare(a.start, b.start) || compare(b.end, a.end));
    const stack: { end: number[]; value: number }[] = [];
    const close = (upTo: number[] | null) => {
      while (stack.length > 0 && (upTo === null || compare(stack[stack.length - 1].end, upTo) < 0)) {
        const t = stack.pop()!;
        while (stack.length > 0 && compare(stack[stack.length - 1].end, t.end) <= 0) stack.pop();
        if (t.end.every((x) => x === 0xffffffff)) continue;
        push(successor(t.end), stack.length > 0 ? stack[stack.length - 1].value : 0);
      }
    };
    for (const r of sorted) {
      close(r.start);
      if (v.length === 0 && r.start.some((x) => x !== 0)) push(r.start.map(() => 0), 0);
      push(r.start, r.value);
      stack.push({ end: r.end, value: r.value });
    }
    close(null);
    const n = v.length;
    const out = Buffer.alloc(12 + 4 * n * width + pad4(n * valueBytes));
    out.writeUInt32LE(n, 0);
    out.writeUInt32LE(width, 4);
    out.writeUInt32LE(valueBytes, 8);
    let o = 12;
    for (const k of s) for (const x of k) o = out.writeUInt32LE(x >>> 0, o);
    for (const x of v) o = valueBytes === 2 ? out.writeUInt16LE(x, o) : out.writeUInt32LE(x >>> 0, o);
    return out;
  }

  /** The value of the range holding the key, or -1. */
  find(hi: number, lo = 0): number {
    const best = lastAtMost(this.starts, this.values.length, this.width, hi, lo);
    const v = best < 0 ? 0 : this.values[best];
    return v === 0 ? -1 : v;
  }
}

/**
 * The index of the last of `count` sorted keys (one or two words each) that is ≤ (hi, lo),
 * or -1: the search of every range table, in memory or paged.
 */
export function lastAtMost(keys: Uint32Array, count: number, width: 1 | 2, hi: number, lo: number): number {
  let a = 0;
  let b = count - 1;
  let best = -1;
  while (a <= b) {
    const m = (a + b) >> 1;
    const h = keys[m * width];
    if (h < hi || (h === hi && (width === 1 || keys[m * width + 1] <= lo))) {
      best = m;
      a = m + 1;
    } else b = m - 1;
  }
  return best;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/** key + 1, wrapping to all zeroes at the top of the space. */
function successor(k: number[]): number[] {
  const out = k.map((x) => x >>> 0);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] === 0xffffffff) out[i] = 0;
    else {
      out[i]++;
      break;
    }
  }
  return out;
}

/**
 * AS number → organisation name, stored as `u32 count, asns[count] (sorted), offsets[count+1],
 * UTF-8 text`, searched in place (no object per AS).
 */
export class OrgNames {
  private constructor(
    private readonly asns: Uint32Array,
    private readonly offsets: Uint32Array,
    private readonly text: Buffer,
  ) {}

  static build(names: Map<number, string>): Buffer {
    const asns = [...names.keys()].sort((a, b) => a - b);
    const blobs = asns.map((a) => Buffer.from(names.get(a) ?? '', 'utf8'));
    const n = asns.length;
    const head = Buffer.alloc(4 + 4 * n + 4 * (n + 1));
    head.writeUInt32LE(n, 0);
    let o = 4;
    for (const a of asns) o = head.writeUInt32LE(a, o);
    let at = 0;
    for (const b of blobs) {
      o = head.writeUInt32LE(at, o);
      at += b.length;
    }
    head.writeUInt32LE(at, o);
    return Buffer.concat([head, ...blobs]);
  }

  static fromBuffer(buf: Buffer): OrgNames {
    const b = buf.byteOffset % 4 === 0 ? buf : Buffer.from(buf);
    const n = b.readUInt32LE(0);
    const textAt = 4 + 8 * n + 4;
    if (b.length < textAt) throw new Error('org names: truncated');
    return new OrgNames(new Uint32Array(b.buffer, b.byteOffset + 4, n), new Uint32Array(b.buffer, b.byteOffset + 4 + 4 * n, n + 1), b.subarray(textAt));
  }

  get(asn: number): string | null {
    const m = indexOfAsn(this.asns, asn);
    return m < 0 ? null : this.text.toString('utf8', this.offsets[m], this.offsets[m + 1]) || null;
  }
}

/** Where an AS number is in the sorted list, or -1. */
export function indexOfAsn(asns: Uint32Array, asn: number): number {
  let lo = 0;
  let hi = asns.length - 1;
  while (lo <= hi) {
    const m = (lo + hi) >> 1;
    if (asns[m] === asn) return m;
    if (asns[m] < asn) lo = m + 1;
    else hi = m - 1;
  }
  return -1;
}

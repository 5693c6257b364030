/**
 * The address tables read from their files on demand, for the daemon: a router keeps ~13 MB of
 * country and AS data on flash, and a lookup happens once per new remote address (geo.ts caches
 * answers), so holding it all in RAM buys nothing. In memory stay the first key of every block
 * of BLOCK ranges (the "fences"); a lookup reads one block of keys and one value with pread —
 * the layout of MaxMind's mmap reader, without mmap (Node has none). The file formats are those
 * of range-table.ts and org-names.ts; answers are the same (tested against the in-memory tables).
 */
import fs from 'node:fs';
import { indexOfAsn } from './org-names.js';
import { lastAtMost } from './range-table.js';

/** Ranges per block read at each lookup: 128 keys = 512 or 1,024 bytes, one page. */
const BLOCK = 128;

function readExactly(fd: number, buf: Buffer, length: number, position: number, file: string): void {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n === 0) throw new Error(`${file}: truncated`);
    done += n;
  }
}

export class PagedRangeTable {
  private readonly scratch: Buffer;
  private readonly keys: Uint32Array;

  private constructor(
    private readonly fd: number,
    private readonly file: string,
    readonly width: 1 | 2,
    readonly size: number,
    private readonly valueBytes: 2 | 4,
    private readonly fences: Uint32Array,
  ) {
    this.scratch = Buffer.alloc(BLOCK * 4 * width);
    this.keys = new Uint32Array(this.scratch.buffer, this.scratch.byteOffset, BLOCK * width);
  }

  static open(file: string): PagedRangeTable {
    const fd = fs.openSync(file, 'r');
    try {
      const head = Buffer.alloc(12);
      readExactly(fd, head, 12, 0, file);
      const n = head.readUInt32LE(0);
      const w = head.readUInt32LE(4);
      const vb = head.readUInt32LE(8);
      const size = fs.fstatSync(fd).size;
      if ((w !== 1 && w !== 2) || (vb !== 2 && vb !== 4) || size !== 12 + 4 * n * w + ((n * vb + 3) & ~3)) throw new Error(`${file}: range table: bad header or size`);
      const blocks = Math.ceil(n / BLOCK);
      const fences = new Uint32Array(blocks * w);
      const one = Buffer.alloc(4 * w);
      for (let k = 0; k < blocks; k++) {
        readExactly(fd, one, 4 * w, 12 + k * BLOCK * 4 * w, file);
        for (let i = 0; i < w; i++) fences[k * w + i] = one.readUInt32LE(4 * i);
      }
      return new PagedRangeTable(fd, file, w as 1 | 2, n, vb as 2 | 4, fences);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** The value of the range holding the key, or -1 (as RangeTable.find). */
  find(hi: number, lo = 0): number {
    const w = this.width;
    // The last block whose first key is ≤ the key, then the range within it.
    const block = lastAtMost(this.fences, this.fences.length / w, w, hi, lo);
    if (block < 0) return -1;
    const first = block * BLOCK;
    const count = Math.min(BLOCK, this.size - first);
    readExactly(this.fd, this.scratch, count * 4 * w, 12 + first * 4 * w, this.file);
    const best = lastAtMost(this.keys, count, w, hi, lo);
    const at = 12 + 4 * this.size * w + (first + best) * this.valueBytes;
    readExactly(this.fd, this.scratch, this.valueBytes, at, this.file);
    const v = this.valueBytes === 2 ? this.scratch.readUInt16LE(0) : this.scratch.readUInt32LE(0);
    return v === 0 ? -1 : v;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** AS number → organisation (org-names.ts's file): numbers and offsets in memory, names read. */
export class PagedOrgNames {
  private readonly scratch: Buffer;

  private constructor(
    private readonly fd: number,
    private readonly file: string,
    private readonly asns: Uint32Array,
    private readonly offsets: Uint32Array,
    private readonly textAt: number,
  ) {
    let longest = 1;
    for (let i = 0; i < asns.length; i++) longest = Math.max(longest, offsets[i + 1] - offsets[i]);
    this.scratch = Buffer.alloc(longest);
  }

  static open(file: string): PagedOrgNames {
    const fd = fs.openSync(file, 'r');
    try {
      const head = Buffer.alloc(4);
      readExactly(fd, head, 4, 0, file);
      const n = head.readUInt32LE(0);
      const textAt = 4 + 8 * n + 4;
      const size = fs.fstatSync(fd).size;
      if (size < textAt) throw new Error(`${file}: org names: truncated`);
      // Read straight into the arrays (little-endian, as the in-memory tables assume).
      const asns = new Uint32Array(n);
      const offsets = new Uint32Array(n + 1);
      readExactly(fd, Buffer.from(asns.buffer), 4 * n, 4, file);
      readExactly(fd, Buffer.from(offsets.buffer), 4 * (n + 1), 4 + 4 * n, file);
      if (textAt + offsets[n] !== size) throw new Error(`${file}: org names: bad size`);
      return new PagedOrgNames(fd, file, asns, offsets, textAt);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  get(asn: number): string | null {
    const m = indexOfAsn(this.asns, asn);
    if (m < 0) return null;
    const len = this.offsets[m + 1] - this.offsets[m];
    if (len === 0) return null;
    readExactly(this.fd, this.scratch, len, this.textAt + this.offsets[m], this.file);
    return this.scratch.toString('utf8', 0, len);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/**
 * Flow records' JSON texts, held outside the heap until the report is written: flows end out of
 * id order and the report lists them in id order, after a head known only at the end, so they
 * must wait somewhere. In a temporary file (removed from its folder at once, so nothing is left
 * behind even on a crash), not as millions of strings that the garbage collector keeps marking.
 * Where no temporary file can be made, the texts stay in memory: the output is the same.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BLOCK = 1 << 20;

export class FlowSpill {
  private fd: number | null = null;
  private readonly memory: string[] = [];
  private readonly out = Buffer.allocUnsafe(BLOCK);
  private used = 0;
  /** Bytes in the file (written and buffered). */
  private size = 0;
  private ids = new Float64Array(1024);
  private offsets = new Float64Array(1024);
  private lengths = new Uint32Array(1024);
  count = 0;

  constructor(dir: string = os.tmpdir()) {
    try {
      const folder = fs.mkdtempSync(path.join(dir, 'vigie-flows-'));
      try {
        const file = path.join(folder, 'flows.json');
        this.fd = fs.openSync(file, 'wx+', 0o600);
        fs.unlinkSync(file);
      } finally {
        fs.rmdirSync(folder);
      }
    } catch {
      if (this.fd !== null) fs.closeSync(this.fd);
      this.fd = null;
    }
  }

  /** Whether the texts go to a file (false: kept in memory). */
  get spilled(): boolean {
    return this.fd !== null;
  }

  add(id: number, text: string): void {
    if (this.count === this.ids.length) this.grow();
    const i = this.count++;
    this.ids[i] = id;
    if (this.fd === null) {
      this.memory.push(text);
      return;
    }
    let n = Buffer.byteLength(text, 'utf8');
    if (n > this.out.length - this.used) this.flush();
    if (n > this.out.length) n = fs.writeSync(this.fd, text, this.size, 'utf8');
    else this.used += this.out.write(text, this.used, 'utf8');
    this.offsets[i] = this.size;
    this.lengths[i] = n;
    this.size += n;
  }

  /** The texts in id order (ties in the order they came). */
  *texts(): Generator<string> {
    const order = Array.from({ length: this.count }, (_, i) => i).sort((a, b) => this.ids[a] - this.ids[b] || a - b);
    if (this.fd === null) {
      for (const i of order) yield this.memory[i];
      return;
    }
    this.flush();
    // Each run of texts that lie one after the other in the file, in id order, is read with one
    // call (flows end roughly in id order); reading ahead blindly would read the file many times.
    const block = Buffer.allocUnsafe(BLOCK);
    for (let r = 0; r < order.length; ) {
      const first = order[r];
      const base = this.offsets[first];
      if (this.lengths[first] > BLOCK) {
        const big = Buffer.allocUnsafe(this.lengths[first]);
        readFully(this.fd, big, big.length, base);
        yield big.toString('utf8');
        r++;
        continue;
      }
      let n = 1;
      let size = this.lengths[first];
      while (r + n < order.length) {
        const next = order[r + n];
        if (this.offsets[next] !== base + size || size + this.lengths[next] > BLOCK) break;
        size += this.lengths[next];
        n++;
      }
      readFully(this.fd, block, size, base);
      for (let k = 0; k < n; k++) {
        const i = order[r + k];
        const at = this.offsets[i] - base;
        yield block.toString('utf8', at, at + this.lengths[i]);
      }
      r += n;
    }
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private flush(): void {
    if (this.fd === null || this.used === 0) return;
    let done = 0;
    while (done < this.used) done += fs.writeSync(this.fd, this.out, done, this.used - done, this.size - this.used + done);
    this.used = 0;
  }

  private grow(): void {
    const n = this.ids.length * 2;
    const ids = new Float64Array(n);
    ids.set(this.ids);
    this.ids = ids;
    const offsets = new Float64Array(n);
    offsets.set(this.offsets);
    this.offsets = offsets;
    const lengths = new Uint32Array(n);
    lengths.set(this.lengths);
    this.lengths = lengths;
  }
}

function readFully(fd: number, buf: Buffer, len: number, at: number): number {
  let got = 0;
  while (got < len) {
    const n = fs.readSync(fd, buf, got, len - got, at + got);
    if (n === 0) throw new Error('the temporary file of flow records ended early');
    got += n;
  }
  return got;
}

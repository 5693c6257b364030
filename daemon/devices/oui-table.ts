/**
 * A compact form of the IEEE registry for routers: `PREFIX<TAB>ORGANISATION` lines sorted by
 * prefix, addresses dropped (about 1.6 MB instead of 5.6 MB of JSON), built from the `oui-data`
 * package at build time (build-assets). Lookups binary-search the UTF-8 bytes through an index of
 * line starts, so no object per prefix is ever made.
 */
import fs from 'node:fs';

export function buildOuiTable(raw: Record<string, string>): string {
  const rows: string[] = [];
  for (const [prefix, entry] of Object.entries(raw)) {
    const nl = entry.indexOf('\n');
    const name = (nl < 0 ? entry : entry.slice(0, nl)).trim().replace(/[\t\n\r]/g, ' ');
    rows.push(`${prefix.toUpperCase()}\t${name}`);
  }
  rows.sort();
  return `${rows.join('\n')}\n`;
}

export class OuiTable {
  private readonly starts: Int32Array;
  /** UTF-8 bytes: half the memory of the same text as a JS string (non-Latin-1 names make it UTF-16). */
  private readonly text: Buffer;

  constructor(text: string | Buffer) {
    const t = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    this.text = t;
    let n = 0;
    for (let i = t.indexOf(10); i >= 0; i = t.indexOf(10, i + 1)) n++;
    this.starts = new Int32Array(n);
    let at = 0;
    for (let k = 0; k < n; k++) {
      this.starts[k] = at;
      at = t.indexOf(10, at) + 1;
    }
  }

  /** The organisation of one prefix (6, 7 or 9 upper-case hex digits), or undefined. */
  get(prefix: string): string | undefined {
    const t = this.text;
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.starts[mid];
      // Lines sort by their whole text: "PREFIX\t..." orders as PREFIX\t does (\t sorts first).
      let cmp = 0;
      for (let i = 0; ; i++) {
        const want = i < prefix.length ? prefix.charCodeAt(i) : 9;
        const have = t[s + i];
        if (have !== want) {
          cmp = have < want ? -1 : 1;
          break;
        }
        if (want === 9) break;
      }
      if (cmp === 0) {
        const tab = s + prefix.length;
        return t.toString('utf8', tab + 1, t.indexOf(10, tab));
      }
      if (cmp < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }
}

/** Bytes per block read at a lookup (about 80 registry lines): a page. */
const BLOCK = 4096;

/**
 * The same table read from its file on demand, for the daemon: a lookup happens once per new MAC
 * (oui.ts caches answers), so the 1.6 MB stay on flash. In memory: the first prefix and the file
 * offset of each block of whole lines (~400 of them); a lookup reads one block with pread. Answers
 * are those of OuiTable (tested on every prefix of the registry).
 */
export class PagedOuiTable {
  private readonly scratch: Buffer;

  private constructor(
    private readonly fd: number,
    private readonly file: string,
    private readonly fences: string[],
    private readonly offsets: number[],
  ) {
    let widest = 0;
    for (let k = 0; k + 1 < offsets.length; k++) widest = Math.max(widest, offsets[k + 1] - offsets[k]);
    this.scratch = Buffer.alloc(widest);
  }

  static open(file: string): PagedOuiTable {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      // Small reads only: a 1.6 MB buffer, even freed at once, would stay in the process's heap.
      const win = Buffer.alloc(512);
      const at = (pos: number) => fs.readSync(fd, win, 0, Math.min(win.length, size - pos), pos);
      if (size === 0 || (at(size - 1), win[0] !== 10)) throw new Error(`${file}: OUI table: empty or cut`);
      const fences: string[] = [];
      const offsets: number[] = [];
      // Each block starts at the first line that starts at or after a multiple of BLOCK.
      for (let pos = 0; pos < size; pos += BLOCK) {
        let start = 0;
        if (pos > 0) {
          const n = at(pos - 1);
          const nl = win.subarray(0, n).indexOf(10);
          if (nl < 0) throw new Error(`${file}: OUI table: line too long near byte ${pos}`);
          start = pos + nl;
          if (start >= size) break;
          if (offsets.length > 0 && offsets[offsets.length - 1] === start) continue;
        }
        const n = at(start);
        const tab = win.subarray(0, n).indexOf(9);
        const nl = win.subarray(0, n).indexOf(10);
        if (tab < 0 || (nl >= 0 && tab > nl)) throw new Error(`${file}: OUI table: line without a tab at byte ${start}`);
        fences.push(win.toString('latin1', 0, tab));
        offsets.push(start);
      }
      offsets.push(size);
      return new PagedOuiTable(fd, file, fences, offsets);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** The organisation of one prefix (6, 7 or 9 upper-case hex digits), or undefined. */
  get(prefix: string): string | undefined {
    // Lines sort as their prefixes do as strings (the tab sorts before every hex digit).
    let lo = 0;
    let hi = this.fences.length - 1;
    let k = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.fences[mid] <= prefix) {
        k = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (k < 0) return undefined;
    const len = this.offsets[k + 1] - this.offsets[k];
    const buf = this.scratch;
    let done = 0;
    while (done < len) {
      const n = fs.readSync(this.fd, buf, done, len - done, this.offsets[k] + done);
      if (n === 0) throw new Error(`${this.file}: truncated`);
      done += n;
    }
    for (let at = 0; at < len; ) {
      const nl = buf.indexOf(10, at);
      let i = 0;
      while (i < prefix.length && buf[at + i] === prefix.charCodeAt(i)) i++;
      if (i === prefix.length && buf[at + i] === 9) return buf.toString('utf8', at + i + 1, nl);
      at = nl + 1;
    }
    return undefined;
  }
}

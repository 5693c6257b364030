/**
 * A compact form of the IEEE registry for routers: `PREFIX<TAB>ORGANISATION` lines sorted by
 * prefix, addresses dropped (about 1.6 MB instead of 5.6 MB of JSON), built from the `oui-data`
 * package at build time (build-assets). Lookups binary-search the UTF-8 bytes through an index of
 * line starts, so no object per prefix is ever made.
 */

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

/**
 * A compact form of the IEEE registry for routers: `PREFIX<TAB>ORGANISATION` lines sorted by
 * prefix, addresses dropped (about 1.6 MB instead of 5.6 MB of JSON), built from the `oui-data`
 * package at build time (build-assets). Lookups binary-search the text through an index of line
 * starts, so no object per prefix is ever made.
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

  constructor(private readonly text: string) {
    let n = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
    this.starts = new Int32Array(n);
    let at = 0;
    for (let k = 0; k < n; k++) {
      this.starts[k] = at;
      at = text.indexOf('\n', at) + 1;
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
      const tab = t.indexOf('\t', s);
      const key = t.slice(s, tab);
      if (key === prefix) return t.slice(tab + 1, t.indexOf('\n', tab));
      // Lines sort by their whole text: "PREFIX\t..." orders as PREFIX does, since \t sorts first.
      if (`${key}\t` < `${prefix}\t`) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }
}

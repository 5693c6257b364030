/**
 * A compact form of the IEEE registry for routers: `PREFIX<TAB>ORGANISATION` lines, addresses
 * dropped (about 2 MB instead of 5.6 MB of JSON), built from the `oui-data` package at build time
 * (build-assets). Lookups search the text itself: a home has a few dozen devices, so building
 * a map of 54,000 prefixes would cost more than it saves.
 */

export function buildOuiTable(raw: Record<string, string>): string {
  const rows: string[] = [];
  for (const [prefix, entry] of Object.entries(raw)) {
    const nl = entry.indexOf('\n');
    const name = (nl < 0 ? entry : entry.slice(0, nl)).trim().replace(/[\t\n\r]/g, ' ');
    rows.push(`${prefix}\t${name}`);
  }
  return `\n${rows.join('\n')}\n`;
}

/** The organisation of one prefix (6, 7 or 9 hex digits, upper case), or undefined. */
export function lookupOuiTable(text: string, prefix: string): string | undefined {
  const at = text.indexOf(`\n${prefix}\t`);
  if (at < 0) return undefined;
  const start = at + prefix.length + 2;
  return text.slice(start, text.indexOf('\n', start));
}

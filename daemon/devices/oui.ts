/**
 * Vendor of a MAC address from the IEEE registries (MA-L, MA-M, MA-S) as packaged by `oui-data`;
 * the longest assignment wins. A locally administered address (the U/L bit, IEEE 802 §8.2) is
 * randomised and has no vendor.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOuiTable, OuiTable, PagedOuiTable } from './oui-table.js';

let table: OuiTable | PagedOuiTable | null = null;
const cache = new Map<string, string | null>();

/**
 * The registry, opened on the first lookup: the compact table the build writes beside this module,
 * read block by block from its file, else (a source checkout before `npm run build`) the package's
 * JSON, compacted in memory here.
 */
function registry(): OuiTable | PagedOuiTable {
  if (table !== null) return table;
  const compact = path.join(path.dirname(fileURLToPath(import.meta.url)), 'oui-table.txt');
  if (existsSync(compact)) table = PagedOuiTable.open(compact);
  else {
    const require = createRequire(import.meta.url);
    table = new OuiTable(buildOuiTable(JSON.parse(readFileSync(require.resolve('oui-data'), 'utf8')) as Record<string, string>));
  }
  return table;
}

export function isRandomized(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 0x02) !== 0;
}

/** The organisation name (first line of the registry entry), or null. */
export function ouiVendor(mac: string): string | null {
  if (isRandomized(mac)) return null;
  const hex = mac.replace(/:/g, '').toUpperCase();
  const known = cache.get(hex);
  if (known !== undefined) return known;
  const t = registry();
  const found = t.get(hex.slice(0, 9)) ?? t.get(hex.slice(0, 7)) ?? t.get(hex.slice(0, 6));
  // Prefixes subdivided into MA-M/MA-S blocks are listed under the registration authority itself.
  const result = found && found !== 'IEEE Registration Authority' ? found : null;
  if (cache.size < 4096) cache.set(hex, result);
  return result;
}


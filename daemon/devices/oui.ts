/**
 * Vendor of a MAC address from the IEEE registries (MA-L, MA-M, MA-S) as packaged by `oui-data`;
 * the longest assignment wins. A locally administered address (the U/L bit, IEEE 802 §8.2) is
 * randomised and has no vendor.
 */
import { createRequire } from 'node:module';

let table: Record<string, string> | null = null;

function registry(): Record<string, string> {
  // 5.6 MB of JSON: loaded on the first lookup only.
  table ??= createRequire(import.meta.url)('oui-data') as Record<string, string>;
  return table;
}

export function isRandomized(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 0x02) !== 0;
}

/** The organisation name (first line of the registry entry), or null. */
export function ouiVendor(mac: string): string | null {
  if (isRandomized(mac)) return null;
  const hex = mac.replace(/:/g, '').toUpperCase();
  const t = registry();
  const entry = t[hex.slice(0, 9)] ?? t[hex.slice(0, 7)] ?? t[hex.slice(0, 6)];
  if (!entry) return null;
  const name = entry.split('\n')[0].trim();
  // Prefixes subdivided into MA-M/MA-S blocks belong to the registration authority itself.
  return name === 'IEEE Registration Authority' ? null : name;
}

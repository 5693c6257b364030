// Numbers, times and names as a person reads them. Country names come from the browser's own
// CLDR data (Intl.DisplayNames): nothing to download.
const SEV = ['info', 'low', 'medium', 'high', 'critical'];
export function severityRank(s: string | null | undefined): number {
  return s ? SEV.indexOf(s) : -1;
}

export function bytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '–';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

let regions: Intl.DisplayNames | null = null;
export function countryName(code: string | null | undefined): string {
  if (!code || code === 'unknown') return 'Unknown';
  if (code === 'other') return 'Other';
  try {
    regions ??= new Intl.DisplayNames(['en'], { type: 'region' });
    return regions.of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

export const CATEGORY_LABEL: Record<string, string> = {
  camera: 'Camera',
  baby_monitor: 'Baby monitor',
  doorbell: 'Doorbell',
  speaker: 'Speaker / assistant',
  toy: 'Connected toy',
  tv: 'TV / streamer',
  plug_or_light: 'Plug / light',
  hub: 'Smart-home hub',
  printer: 'Printer',
  nas: 'Storage (NAS)',
  phone: 'Phone',
  computer: 'Computer',
  console: 'Game console',
  network: 'Network equipment',
  unknown: 'Unknown',
};
export const CATEGORIES = Object.keys(CATEGORY_LABEL);

export function categoryLabel(c: string): string {
  return CATEGORY_LABEL[c] ?? c;
}

export function deviceName(d: { label: string | null; mac: string | null; id: string; record?: { hostname: string | null } | null }): string {
  return d.label ?? d.record?.hostname ?? d.mac ?? d.id;
}

export function deviceKey(d: { mac: string | null; id: string }): string {
  return d.mac ?? d.id;
}

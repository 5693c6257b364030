// Numbers, times and names as a person reads them. Country names come from the browser's own
// CLDR data (Intl.DisplayNames): nothing to download.
import { CATEGORIES as MODEL_CATEGORIES, type Category, deviceName as modelDeviceName } from '../../../daemon/model/device';

// Severities, categories and the device-name rule are the daemon's own (daemon/model/): one copy.
export { severityRank } from '../../../daemon/model/severity';

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

export const CATEGORY_LABEL: Record<Category, string> = {
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
  sensor: 'Sensor / meter',
  lock: 'Lock',
  thermostat: 'Thermostat / climate',
  appliance: 'Appliance',
  health: 'Health / wearable',
  tablet: 'Tablet',
  vehicle_charger: 'Vehicle charger',
  unknown: 'Unknown',
};
export const CATEGORIES: readonly string[] = MODEL_CATEGORIES;

export function categoryLabel(c: string): string {
  return CATEGORY_LABEL[c as Category] ?? c;
}

/** A device's name, by the model's rule: a device view (its host name in `record`) or an alert's device. */
export function deviceName(d: { label: string | null; mac: string | null; id: string; hostname?: string | null; record?: { hostname: string | null } | null }): string {
  return modelDeviceName({ label: d.label, hostname: d.hostname ?? d.record?.hostname ?? null, mac: d.mac, id: d.id });
}

export function deviceKey(d: { mac: string | null; id: string }): string {
  return d.mac ?? d.id;
}

/** Zone names as the pages write them (the values are the plan's: trusted, iot, …). */
export const ZONE_LABEL: Record<string, string> = { trusted: 'Trusted', iot: 'IoT', 'local-only': 'Local only', quarantine: 'Quarantine', blocked: 'Blocked' };

export function zoneLabel(z: string): string {
  return ZONE_LABEL[z] ?? z;
}

/** Who decided a device's zone, and the policy's advice when the decision differs from it. */
export function zoneSource(d: { zone: string; advised: string; source: string; rule: string | null }): string {
  if (d.source === 'user') return d.zone === d.advised ? 'Chosen by the household, as the policy advises' : `Chosen by the household; the policy advises ${zoneLabel(d.advised)}`;
  if (d.source === 'safeguard') return `Kept trusted by a safeguard${d.advised !== 'trusted' ? `; the policy advises ${zoneLabel(d.advised)}` : ''}`;
  return d.rule ? `Advised by the policy (rule ${d.rule})` : 'No policy rule matched: unchanged';
}

/** A device's learning state, in the plan's words. */
export function profileText(p: { state: string; learningUntil: string | null; changes: number }): string {
  if (p.state === 'learning') return p.learningUntil ? `learning until ${dateTime(p.learningUntil)}` : 'learning until the end of the capture';
  if (p.state === 'frozen') return `frozen, ${p.changes === 0 ? 'nothing new since' : `${p.changes} new ${p.changes === 1 ? 'thing' : 'things'} seen since (shown, not allowed)`}`;
  return 'nothing learnt (no profile)';
}

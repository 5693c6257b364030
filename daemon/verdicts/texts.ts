/**
 * What an alert's texts say about its device and destination: the values of the template
 * placeholders (template.ts) and the title a rule gives an alert.
 */
import type { Alert, AlertDestination } from './alert.js';
import { matches, type Situation } from './condition.js';
import { countryName } from './country-names.js';
import type { AlertRule } from './rules.js';
import { render, type Values } from './template.js';

/** The categories of daemon/devices/rules.ts as words in a sentence ("the device is a camera"). */
const CATEGORY_WORDS: Record<string, string> = {
  camera: 'camera',
  baby_monitor: 'baby monitor',
  doorbell: 'doorbell',
  speaker: 'speaker',
  toy: 'connected toy',
  tv: 'TV',
  plug_or_light: 'smart plug or light',
  hub: 'smart-home hub',
  printer: 'printer',
  nas: 'NAS',
  phone: 'phone',
  computer: 'computer',
  console: 'game console',
  network: 'network device',
  sensor: 'sensor',
  lock: 'smart lock',
  thermostat: 'thermostat',
  appliance: 'connected appliance',
  health: 'health device',
  tablet: 'tablet',
  vehicle_charger: 'vehicle charger',
};

/** A category in words; null for `unknown` (nothing to say). */
export function categoryWords(c: string): string | null {
  if (c === 'unknown') return null;
  return CATEGORY_WORDS[c] ?? c.replace(/_/g, ' ');
}

type DeviceNaming = Pick<Alert['device'], 'id' | 'mac' | 'ip' | 'vendor' | 'hostname' | 'label'>;

/**
 * The name a person knows the device by: the household's label, else the name it gives itself
 * (DHCP, mDNS), else its vendor and MAC ("Dahua 3c:ef:8c:5a:10:01"), else its MAC or address.
 */
export function deviceName(d: DeviceNaming): string {
  if (d.label) return d.label;
  if (d.hostname) return d.hostname;
  const addr = d.mac ?? d.ip;
  if (d.vendor && addr) return `${d.vendor} ${addr}`;
  return addr ?? d.id;
}

/** The placeholders' values for an alert of this device and destination. */
export function alertValues(d: Alert['device'], dest: AlertDestination | null): Values {
  return {
    device: deviceName(d),
    destination: dest ? (dest.hostname ?? dest.ip) : null,
    port: dest ? String(dest.port) : null,
    country: dest?.country ? countryName(dest.country) : null,
    platform: dest?.platform?.name ?? null,
    category: categoryWords(d.category),
  };
}

/** The first title variant whose condition holds; `titles.length` for the plain title. */
export function variantOf(rule: AlertRule, s: Situation): number {
  const i = (rule.titles ?? []).findIndex((v) => matches(v.when, s));
  return i < 0 ? (rule.titles?.length ?? 0) : i;
}

/** The title of a variant (an index past the variants, or a rule that changed, is the plain one). */
export function titleOf(rule: AlertRule, variant: number, v: Values): string {
  return render(rule.titles?.[variant]?.title ?? rule.title, v);
}

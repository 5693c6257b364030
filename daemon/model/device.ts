/**
 * Devices as every stage and the dashboard see them: the categories, what the household says
 * about a device, the inventory record (analysis.schema.json#/$defs/device) and the one rule
 * that names a device for a person.
 */
import type { Zone } from './plan.js';

/** What a device is; `unknown` until the device rules (rules/devices) say otherwise. */
export const CATEGORIES = [
  'camera', 'baby_monitor', 'doorbell', 'speaker', 'toy', 'tv', 'plug_or_light', 'hub', 'printer', 'nas', 'phone', 'computer', 'console', 'network',
  'sensor', 'lock', 'thermostat', 'appliance', 'health', 'tablet', 'vehicle_charger', 'unknown',
] as const;
export type Category = (typeof CATEGORIES)[number];

export function isCategory(c: unknown): c is Category {
  return typeof c === 'string' && (CATEGORIES as readonly string[]).includes(c);
}

/**
 * Categories that are people's own devices: Vigie keeps their counters and alerts but not where
 * they go, unless the household opts in (README, "Privacy").
 */
export const PERSONAL_CATEGORIES: ReadonlySet<string> = new Set(['phone', 'computer', 'tablet']);

/**
 * What kind of signal a device rule reads, for the calibration (docs/identification.md): how
 * often signals of each class name the right device decides their weights.
 */
export type SignalClass = 'self-described' | 'host-name' | 'service' | 'mac' | 'dhcp' | 'cloud' | 'client' | 'behaviour';

/** What the user said about a device (config `devices:` or the dashboard): always beats what the rules infer. */
export interface DeviceOverride {
  label?: string;
  category?: Category;
  /** The segmentation zone the household chose: beats the zone policy. */
  zone?: Zone;
}

/** One device rule that matched, and what it points at. */
export interface Evidence {
  observation: string;
  rule: string;
  category: Category | null;
  vendor: string | null;
  weight: number;
  signal: SignalClass;
  source: string;
}

/** A category the evidence also points at, which the one named beat (or tied). */
export interface Conflict {
  category: Category;
  score: number;
  rules: string[];
}

/** A device of the inventory, as `vigie analyze --json`, the store and the API give it. */
export interface DeviceRecord {
  id: string;
  mac: string | null;
  randomizedMac: boolean | null;
  ips: { ip: string; firstSeen: string; lastSeen: string; source: string }[];
  vendor: string | null;
  model: string | null;
  hostname: string | null;
  label: string | null;
  category: string;
  categorySource: 'rules' | 'user' | null;
  confidence: number;
  evidence: Evidence[];
  module: string | null;
  conflicts: Conflict[];
  observations: {
    hostnames: { name: string; source: string }[];
    dhcpVendorClass: string | null;
    dhcpParams: number[] | null;
    mdnsServices: string[];
    mdnsModels: string[];
    ssdpServers: string[];
    ssdpTypes: string[];
    domains: string[];
    protocols: string[];
    mqttTopics: string[];
    ja4: string[];
    mdnsOffers: { service: string; instances: string[]; txt: string[] }[];
    mdnsBrowses: string[];
    homekitModels: string[];
    upnp: Record<string, string[]>;
    wsdTypes: string[];
    wsdScopes: string[];
    kasaModels: string[];
    kasaTypes: string[];
    coapPaths: string[];
    userAgents: string[];
  };
  firstSeen: string;
  lastSeen: string;
  stats: { flows: number; packetsUp: number; packetsDown: number; bytesUp: number; bytesDown: number };
}

/** What a device can be named from: a record, an alert's device, a dashboard view. */
export interface Nameable {
  label: string | null;
  hostname?: string | null;
  mac: string | null;
  id: string;
  vendor?: string | null;
}

/**
 * The name a person reads for a device, the same in the dashboard, the terminal, the exports and
 * the plans: the household's label, else the host name the device gave itself (DHCP, mDNS), else
 * its MAC address, else its id. `vendor` qualifies a bare MAC with its maker ("Espressif
 * aa:bb:…") where the name stands alone without the vendor beside it (a plan's device list).
 */
export function deviceName(d: Nameable, opts: { vendor?: boolean } = {}): string {
  const name = d.label ?? d.hostname ?? null;
  if (name !== null) return name;
  if (opts.vendor && d.vendor && d.mac) return `${d.vendor} ${d.mac}`;
  return d.mac ?? d.id;
}

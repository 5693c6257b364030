/**
 * The store's document: what the daemon keeps of each device, alert, mute, setting, hourly
 * traffic, destination and profile (store.schema.json says the same for the file on disk).
 * Apart from store.ts so that traffic.ts and store.ts share it without importing each other.
 */
import type { Alert, Mute } from '../model/alert.js';
import type { Category, DeviceRecord } from '../model/device.js';
import type { Zone } from '../model/plan.js';
import type { DeviceProfile } from '../model/profile.js';

/** What the household said about a device, and the last picture of it the daemon had. */
export interface StoredDevice {
  mac: string;
  label?: string | null;
  category?: Category | null;
  /** A phone, computer or anything marked personal: counters and alerts, no destinations. */
  personal?: boolean | null;
  /** The household opted in to keep destinations of a personal device. */
  history?: boolean;
  /** The segmentation zone the household chose (null: the policy's advice). */
  zone?: Zone | null;
  firstSeen: string;
  lastSeen: string;
  record?: DeviceRecord | null;
}

/** Bytes up and down in one hour, by country, organisation and app (capped, rest in "other"). */
export interface HourBucket {
  hour: string;
  up: number;
  down: number;
  by?: { country: Record<string, [number, number]>; org: Record<string, [number, number]>; app: Record<string, [number, number]> };
}

/** Where a device sends data: one entry per host name (or address) and port. */
export interface Destination {
  key: string;
  ip: string;
  port: number;
  hostname: string | null;
  country: string | null;
  org: string | null;
  app: string | null;
  encrypted: boolean | null;
  up: number;
  down: number;
  flows: number;
  firstSeen: string;
  lastSeen: string;
}

export interface StoredMute extends Mute {
  id: string;
  created: string;
}

export interface Retention {
  alertDays: number;
  maxAlerts: number;
  aggregateDays: number;
  deviceDays: number;
}

export const DEFAULT_RETENTION: Retention = { alertDays: 90, maxAlerts: 2000, aggregateDays: 30, deviceDays: 365 };

/** Settings changed from the dashboard: they beat the config file's. */
export interface StoredSettings {
  homeCountry?: string | null;
  trustedCountries?: string[] | null;
  retention?: Partial<Retention>;
}

export interface StoreData {
  schema: number;
  created: string;
  devices: Record<string, StoredDevice>;
  alerts: Alert[];
  /** Acknowledged alerts: id → when. */
  acks: Record<string, string>;
  mutes: StoredMute[];
  settings: StoredSettings;
  aggregates: Record<string, HourBucket[]>;
  destinations: Record<string, Destination[]>;
  /** What each device was seen doing (segmentation's input), by MAC. */
  profiles: Record<string, DeviceProfile>;
  /** The last plan applied from the daemon: when, its digest, confirmed or not. */
  segment?: { applied?: AppliedPlan | null };
}

export interface AppliedPlan {
  at: string;
  digest: string;
  confirmed: string | null;
  devices: number;
}


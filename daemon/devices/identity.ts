/**
 * Who a device is, in short (MAC, address, vendor, name, category), for alerts and live
 * updates: the classification is cached on the device until its facts change.
 */
import type { DeviceOverride } from '../model/device.js';
import { classify, type Classification } from './classify.js';
import { type Device, DeviceTable, deviceKey } from './device-table.js';
import { DeviceFacts } from './facts.js';
import { isRandomized, ouiVendor } from './oui.js';
import type { DeviceKnowledge } from './rules.js';

export interface DeviceIdentity {
  id: string;
  mac: string | null;
  /** The address seen most recently. */
  ip: string | null;
  vendor: string | null;
  model: string | null;
  hostname: string | null;
  label: string | null;
  category: string;
  randomizedMac: boolean | null;
}

const EMPTY = new DeviceFacts();
const cache = new WeakMap<Device, { version: number; rules: DeviceKnowledge; c: Classification; ts: number }>();

/**
 * The device's category and the evidence for it, cached until its facts change. `now` (capture
 * time, seconds) lets a hot path accept a result up to a second old while facts keep arriving:
 * judging every protocol message must not reclassify the device each time. Whoever needs the
 * latest (reports, the verdicts' refresh) leaves it out.
 */
export function classification(d: Device, rules: DeviceKnowledge, now?: number): Classification {
  const facts = d.facts ?? EMPTY;
  const hit = cache.get(d);
  if (hit && hit.rules === rules && d.facts !== null && (hit.version === facts.version || (now !== undefined && now >= hit.ts && now - hit.ts < 1))) return hit.c;
  const mac = DeviceTable.macText(d);
  const c = classify(rules, { mac, ouiVendor: mac ? ouiVendor(mac) : null, randomized: mac ? isRandomized(mac) : false }, facts);
  if (d.facts) cache.set(d, { version: facts.version, rules, c, ts: now ?? hit?.ts ?? -Infinity });
  return c;
}

/** The name the device gives itself: DHCP first (what the household set), then mDNS, SSDP. */
export function ownName(f: DeviceFacts | null): string | null {
  if (!f) return null;
  const names = [...f.hostnames];
  return (names.find(([, s]) => s === 'dhcp') ?? names.find(([, s]) => s === 'dhcp-fqdn') ?? names[0])?.[0] ?? null;
}

/**
 * The last identity of a device with one address, while its classification, the household's
 * word and its facts are the same: the verdicts ask for it at every judgement of every flow.
 * With several addresses the choice below follows their times, so it is made afresh.
 */
const identities = new WeakMap<Device, { c: Classification; o: DeviceOverride | undefined; ip: unknown; version: number; id: DeviceIdentity }>();

export function identify(d: Device, rules: DeviceKnowledge, overrides: Record<string, DeviceOverride>, now?: number): DeviceIdentity {
  const mac = DeviceTable.macText(d);
  const c = classification(d, rules, now);
  const o = mac ? overrides[mac] : undefined;
  const only = d.ips.size === 1 ? d.ips.values().next().value : undefined;
  const version = d.facts?.version ?? -1;
  const hit = identities.get(d);
  if (only !== undefined && hit && hit.c === c && hit.o === o && hit.ip === only && hit.version === version) return hit.id;
  // The address a person recognises: IPv4 first, then global IPv6, link-local last.
  let ip: string | null = null;
  let best = -1;
  let last = -Infinity;
  for (const a of d.ips.values()) {
    const rank = !a.ip.includes(':') ? 2 : /^fe[89ab]/i.test(a.ip) ? 0 : 1;
    if (rank > best || (rank === best && a.lastSeen > last)) {
      best = rank;
      last = a.lastSeen;
      ip = a.ip;
    }
  }
  const id: DeviceIdentity = Object.freeze({
    id: deviceKey(d),
    mac,
    ip,
    vendor: c.vendor,
    model: c.model,
    hostname: ownName(d.facts),
    label: o?.label ?? null,
    category: o?.category ?? c.category,
    randomizedMac: mac ? isRandomized(mac) : null,
  });
  if (only !== undefined) identities.set(d, { c, o, ip: only, version, id });
  return id;
}

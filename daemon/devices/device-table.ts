/**
 * The LAN devices seen so far, one per MAC address (or per address on link types that carry no
 * MAC). Bounded: past `maxDevices` the device seen least recently is forgotten and counted. The
 * later stages (vendor, host names, category) hang their facts on these records.
 */
import { formatMac } from '../decode/address.js';

export interface DeviceAddress {
  ip: string;
  firstSeen: number;
  lastSeen: number;
  /** How the binding was learned: a flow, ARP, ... */
  source: string;
}

export interface Device {
  id: number;
  /** 48-bit MAC as a number, -1 when the link type carries none. */
  mac: number;
  ips: Map<string, DeviceAddress>;
  firstSeen: number;
  lastSeen: number;
  /** Totals of the flows that ended so far (live flows are added when reporting). */
  flows: number;
  packetsUp: number;
  packetsDown: number;
  bytesUp: number;
  bytesDown: number;
}

export class DeviceTable {
  private readonly byMac = new Map<number, Device>();
  private readonly byIp = new Map<string, Device>();
  private readonly byId = new Map<number, Device>();
  private nextId = 1;
  evicted = 0;

  constructor(readonly maxDevices = 200) {}

  get size(): number {
    return this.byId.size;
  }

  get(id: number): Device | undefined {
    return this.byId.get(id);
  }

  all(): Device[] {
    return [...this.byId.values()];
  }

  /** The device of a MAC (or, without one, of an address), created on first sight. */
  lookup(mac: number, ip: string, ts: number): Device {
    let d = mac >= 0 ? this.byMac.get(mac) : this.byIp.get(ip);
    if (!d) {
      if (this.byId.size >= this.maxDevices) this.evictOldest();
      d = { id: this.nextId++, mac, ips: new Map(), firstSeen: ts, lastSeen: ts, flows: 0, packetsUp: 0, packetsDown: 0, bytesUp: 0, bytesDown: 0 };
      this.byId.set(d.id, d);
      if (mac >= 0) this.byMac.set(mac, d);
      else this.byIp.set(ip, d);
    }
    if (ts > d.lastSeen) d.lastSeen = ts;
    if (ts < d.firstSeen) d.firstSeen = ts;
    return d;
  }

  /** Records that `ip` was used by the device at time ts. */
  bind(d: Device, ip: string, ts: number, source: string): void {
    const a = d.ips.get(ip);
    if (a) {
      if (ts > a.lastSeen) a.lastSeen = ts;
      if (ts < a.firstSeen) a.firstSeen = ts;
    } else d.ips.set(ip, { ip, firstSeen: ts, lastSeen: ts, source });
  }

  private evictOldest(): void {
    let oldest: Device | undefined;
    for (const d of this.byId.values()) if (!oldest || d.lastSeen < oldest.lastSeen) oldest = d;
    if (!oldest) return;
    this.byId.delete(oldest.id);
    if (oldest.mac >= 0) this.byMac.delete(oldest.mac);
    else for (const ip of oldest.ips.keys()) this.byIp.delete(ip);
    this.evicted++;
  }

  static macText(d: Device): string | null {
    return d.mac >= 0 ? formatMac(d.mac) : null;
  }
}

/** The device's id in reports: its MAC, or `ip:ADDRESS` on link types without MACs. */
export function deviceKey(d: Device): string {
  if (d.mac >= 0) return formatMac(d.mac);
  const first = d.ips.keys().next();
  return `ip:${first.done ? d.id : first.value}`;
}

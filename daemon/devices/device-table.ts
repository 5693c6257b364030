/**
 * The LAN devices seen so far, one per MAC address (or per address on link types that carry no
 * MAC). Bounded: past `maxDevices` the device seen least recently is forgotten and counted
 * (`evicted`: vigie_devices_evicted_total in /metrics, `bounds.devices` in /api/status). The
 * later stages (vendor, host names, category) hang their facts on these records.
 */
import { formatMac } from '../decode/address.js';
import { DeviceFacts } from './facts.js';

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
  /** Observations for the classifier, created on the first one. */
  facts: DeviceFacts | null;
}

export function factsOf(d: Device): DeviceFacts {
  return (d.facts ??= new DeviceFacts());
}

export class DeviceTable {
  private readonly byMac = new Map<number, Device>();
  /** Devices keyed by address, for link types without MACs. */
  private readonly byIp = new Map<string, Device>();
  /** The device each address was last bound to (ARP, flows), whatever the link type. */
  private readonly lastHolder = new Map<string, Device>();
  private readonly byId = new Map<number, Device>();
  /** Ids of address-keyed devices merged into a MAC-keyed one. */
  private readonly merged = new Map<number, number>();
  private nextId = 1;
  evicted = 0;

  constructor(readonly maxDevices = 200) {}

  get size(): number {
    return this.byId.size;
  }

  get(id: number): Device | undefined {
    return this.byId.get(this.merged.get(id) ?? id);
  }

  /**
   * `ip` turned out to belong to `mac`: a device known so far only by that address becomes (or
   * merges into) the device of that MAC.
   */
  learnMac(ip: string, mac: number, ts: number): Device {
    const byAddr = this.byIp.get(ip);
    const byMac = this.byMac.get(mac);
    if (byAddr && byAddr.mac < 0) {
      this.byIp.delete(ip);
      if (!byMac) {
        byAddr.mac = mac;
        this.byMac.set(mac, byAddr);
        return byAddr;
      }
      for (const a of byAddr.ips.values()) {
        this.bind(byMac, a.ip, a.firstSeen, a.source);
        this.bind(byMac, a.ip, a.lastSeen, a.source);
      }
      byMac.flows += byAddr.flows;
      byMac.packetsUp += byAddr.packetsUp;
      byMac.packetsDown += byAddr.packetsDown;
      byMac.bytesUp += byAddr.bytesUp;
      byMac.bytesDown += byAddr.bytesDown;
      if (byAddr.facts && !byMac.facts) byMac.facts = byAddr.facts;
      byMac.firstSeen = Math.min(byMac.firstSeen, byAddr.firstSeen);
      byMac.lastSeen = Math.max(byMac.lastSeen, byAddr.lastSeen);
      this.byId.delete(byAddr.id);
      this.merged.set(byAddr.id, byMac.id);
      return byMac;
    }
    const d = this.lookup(mac, ip, ts);
    this.bind(d, ip, ts, 'flow');
    return d;
  }

  all(): Device[] {
    return [...this.byId.values()];
  }

  /** The device of a MAC (or, without one, of an address), created on first sight. */
  lookup(mac: number, ip: string, ts: number): Device {
    // Without a MAC in this packet (the far side of a Linux cooked capture), an address already
    // bound to a device names it.
    let d = mac >= 0 ? this.byMac.get(mac) : (this.lastHolder.get(ip) ?? this.byIp.get(ip));
    if (!d) {
      if (this.byId.size >= this.maxDevices) this.evictOldest();
      d = { id: this.nextId++, mac, ips: new Map(), firstSeen: ts, lastSeen: ts, flows: 0, packetsUp: 0, packetsDown: 0, bytesUp: 0, bytesDown: 0, facts: null };
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
    this.lastHolder.set(ip, d);
  }

  private evictOldest(): void {
    let oldest: Device | undefined;
    for (const d of this.byId.values()) if (!oldest || d.lastSeen < oldest.lastSeen) oldest = d;
    if (!oldest) return;
    this.byId.delete(oldest.id);
    if (oldest.mac >= 0) this.byMac.delete(oldest.mac);
    else for (const ip of oldest.ips.keys()) this.byIp.delete(ip);
    for (const ip of oldest.ips.keys()) if (this.lastHolder.get(ip) === oldest) this.lastHolder.delete(ip);
    this.evicted++;
  }

  /** The device with this report key (a MAC in lower case, or `ip:ADDRESS`). */
  byKey(key: string): Device | undefined {
    // On the path of every ended flow (the inventory looks its device up): parsed by hand, no
    // regular expression or string made (a flood of 16,000 evicted flows a second goes this way).
    const mac = macKey(key);
    if (mac >= 0) return this.byMac.get(mac);
    for (const d of this.byId.values()) if (deviceKey(d) === key) return d;
    return undefined;
  }

  static macText(d: Device): string | null {
    return d.mac >= 0 ? formatMac(d.mac) : null;
  }
}

/** A MAC in lower case ("aa:bb:cc:dd:ee:ff") as a 48-bit number; -1 for anything else. */
export function macKey(key: string): number {
  if (key.length !== 17) return -1;
  let v = 0;
  for (let i = 0; i < 17; i++) {
    const c = key.charCodeAt(i);
    if (i % 3 === 2) {
      if (c !== 58) return -1;
      continue;
    }
    const h = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

/** The device's id in reports: its MAC, or `ip:ADDRESS` on link types without MACs. */
export function deviceKey(d: Device): string {
  if (d.mac >= 0) return formatMac(d.mac);
  const first = d.ips.keys().next();
  return `ip:${first.done ? d.id : first.value}`;
}

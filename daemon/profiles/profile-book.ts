/**
 * The profile stage: every ended flow of a LAN device adds to what the device legitimately does
 * (daemon/model/profile.ts). A profile learns for a window (the whole capture offline, seven days
 * in the daemon by default), then freezes: what it sees afterwards is still recorded, marked as
 * not learned, so the household sees the change instead of it silently joining an allow-list.
 * Bounded per device (PROFILE_LIMITS); what the bounds cut is counted.
 */
import { type DeviceProfile, PROFILE_LIMITS, type ProfileDestination, type ProfilePeer } from '../model/profile.js';
import type { FlowRecord } from '../report/types.js';
import { registrableDomain } from './domain.js';

export interface ProfilePlace {
  country: string | null;
  org: string | null;
}

export interface ProfileBookOptions {
  /** Seconds a new profile learns; null: until freezeAll() (offline, the whole capture). */
  learningSeconds: number | null;
  /** Country and organisation of an internet address. */
  place: (ip: string) => ProfilePlace;
  /** Devices whose destinations are not kept (personal devices): only volumes count. */
  keepsDetail?: (mac: string) => boolean;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** Router services every device may use whatever its zone: not learnt as peers. */
const ROUTER_PORTS = new Set([53, 67, 68, 123, 546, 547, 5353]);

function transport(p: string): ProfileDestination['proto'] {
  return p === 'tcp' || p === 'udp' ? p : p === 'icmp' || p === 'icmpv6' ? 'icmp' : 'other';
}

function later(a: string, b: string): string {
  return a > b ? a : b;
}

function earlier(a: string, b: string): string {
  return a < b ? a : b;
}

function isGroupAddress(ip: string): boolean {
  if (ip.includes(':')) return /^ff/i.test(ip);
  // Dotted quad as the flow record writes it: the first octet and whether the last is 255, read
  // without splitting (this runs for every ended flow).
  const dot = ip.indexOf('.');
  const first = Number(ip.slice(0, dot));
  return first >= 224 || ip.endsWith('.255') || ip === '0.0.0.0';
}

export class ProfileBook {
  readonly profiles = new Map<string, DeviceProfile>();

  constructor(private readonly opts: ProfileBookOptions) {}

  /** Profiles kept by the store (the daemon restarting). */
  restore(list: Iterable<DeviceProfile>): void {
    for (const p of list) this.profiles.set(p.mac, p);
  }

  get(mac: string): DeviceProfile | undefined {
    return this.profiles.get(mac);
  }

  /** Adds an ended flow to the profiles of the LAN devices at its ends. */
  add(r: FlowRecord): void {
    if (r.lanSide === 'both') {
      this.addPeer(r, 'orig');
      this.addPeer(r, 'resp');
      return;
    }
    if (!r.internet || !r.device || !MAC.test(r.device) || !r.deviceSide) return;
    const p = this.profile(r.device, r.firstSeen);
    const mine = r.deviceSide === 'orig' ? r.counters.orig : r.counters.resp;
    const theirs = r.deviceSide === 'orig' ? r.counters.resp : r.counters.orig;
    this.count(p, r, mine.bytes, theirs.bytes);
    if (this.opts.keepsDetail && !this.opts.keepsDetail(p.mac)) return;
    const remote = r.deviceSide === 'orig' ? r.resp : r.orig;
    const local = r.deviceSide === 'orig' ? r.orig : r.resp;
    const initiator = r.deviceSide === 'orig' ? 'device' : 'remote';
    const proto = transport(r.proto);
    // A flow the remote end opened is keyed by the device's own port (a port forward or P2P).
    const port = proto === 'icmp' || proto === 'other' ? 0 : initiator === 'device' ? remote.port : local.port;
    const host = r.hostname ? r.hostname.toLowerCase() : null;
    let d = p.destinations.find((x) => x.port === port && x.proto === proto && x.initiator === initiator && (host ? x.host === host : x.host === null && x.addresses[0] === remote.ip));
    if (!d) {
      if (p.destinations.length >= PROFILE_LIMITS.destinations) {
        p.dropped.destinations++;
        return;
      }
      const place = this.opts.place(remote.ip);
      d = {
        host,
        domain: host ? registrableDomain(host) : null,
        addresses: [],
        proto,
        port,
        initiator,
        app: r.app,
        country: place.country,
        org: place.org,
        encrypted: r.encrypted,
        up: 0,
        down: 0,
        flows: 0,
        firstSeen: r.firstSeen,
        lastSeen: r.lastSeen,
        learned: p.state === 'learning',
      };
      if (!d.learned) p.changes++;
      p.destinations.push(d);
    }
    if (!d.addresses.includes(remote.ip)) {
      if (d.addresses.length < PROFILE_LIMITS.addressesPerDestination) d.addresses.push(remote.ip);
      else p.dropped.addresses++;
    }
    d.app ??= r.app;
    if (r.encrypted !== null) d.encrypted = d.encrypted === null ? r.encrypted : d.encrypted && r.encrypted;
    d.up += mine.bytes;
    d.down += theirs.bytes;
    d.flows++;
    d.firstSeen = earlier(d.firstSeen, r.firstSeen);
    d.lastSeen = later(d.lastSeen, r.lastSeen);
  }

  /** A LAN flow seen from one of its ends: `orig` opened it (direction out), `resp` answered (in). */
  private addPeer(r: FlowRecord, side: 'orig' | 'resp'): void {
    const me = side === 'orig' ? r.orig : r.resp;
    const other = side === 'orig' ? r.resp : r.orig;
    if (!me.mac || !MAC.test(me.mac) || isGroupAddress(other.ip) || isGroupAddress(me.ip)) return;
    const proto = transport(r.proto);
    const port = proto === 'tcp' || proto === 'udp' ? r.resp.port : 0;
    if (ROUTER_PORTS.has(port) && proto !== 'tcp') return;
    if (port === 53) return;
    const p = this.profile(me.mac, r.firstSeen);
    const mine = side === 'orig' ? r.counters.orig : r.counters.resp;
    const theirs = side === 'orig' ? r.counters.resp : r.counters.orig;
    this.count(p, r, mine.bytes, theirs.bytes);
    // A personal device's own peers are history too; the other end still records it as its peer.
    if (this.opts.keepsDetail && !this.opts.keepsDetail(p.mac)) return;
    const direction = side === 'orig' ? 'out' : 'in';
    const mac = other.mac && MAC.test(other.mac) ? other.mac : null;
    let x: ProfilePeer | undefined = p.peers.find((q) => q.direction === direction && q.port === port && q.proto === proto && (mac ? q.mac === mac : q.mac === null && q.ip === other.ip));
    if (!x) {
      if (p.peers.length >= PROFILE_LIMITS.peers) {
        p.dropped.peers++;
        return;
      }
      x = { mac, ip: other.ip, direction, proto, port, app: r.app, up: 0, down: 0, flows: 0, firstSeen: r.firstSeen, lastSeen: r.lastSeen, learned: p.state === 'learning' };
      if (!x.learned) p.changes++;
      p.peers.push(x);
    }
    x.app ??= r.app;
    x.up += mine.bytes;
    x.down += theirs.bytes;
    x.flows++;
    x.firstSeen = earlier(x.firstSeen, r.firstSeen);
    x.lastSeen = later(x.lastSeen, r.lastSeen);
  }

  private count(p: DeviceProfile, r: FlowRecord, up: number, down: number): void {
    p.volumes.up += up;
    p.volumes.down += down;
    p.volumes.flows++;
    p.firstSeen = earlier(p.firstSeen, r.firstSeen);
    p.lastSeen = later(p.lastSeen, r.lastSeen);
    this.expire(p, r.lastSeen);
  }

  private profile(mac: string, at: string): DeviceProfile {
    let p = this.profiles.get(mac);
    if (!p) {
      const until = this.opts.learningSeconds === null ? null : new Date(Date.parse(at) + this.opts.learningSeconds * 1000).toISOString();
      p = {
        mac,
        state: 'learning',
        learningSince: at,
        learningUntil: until,
        frozenAt: null,
        destinations: [],
        peers: [],
        changes: 0,
        dropped: { destinations: 0, peers: 0, addresses: 0 },
        volumes: { up: 0, down: 0, flows: 0 },
        firstSeen: at,
        lastSeen: at,
      };
      this.profiles.set(mac, p);
    }
    return p;
  }

  /** Freezes a profile whose window has passed (`now`: ISO time of the data, not the wall clock). */
  private expire(p: DeviceProfile, now: string): void {
    if (p.state === 'learning' && p.learningUntil !== null && now >= p.learningUntil) {
      p.state = 'frozen';
      p.frozenAt = p.learningUntil;
    }
  }

  /** Freezes every profile whose window has passed by `now` (the daemon's clock). */
  tick(now: Date): void {
    const iso = now.toISOString();
    for (const p of this.profiles.values()) this.expire(p, iso);
  }

  /** The end of a capture: everything seen was the learning window. */
  freezeAll(at: string): void {
    for (const p of this.profiles.values()) {
      if (p.state === 'frozen') continue;
      p.state = 'frozen';
      p.frozenAt = at;
      p.learningUntil = at;
    }
  }

  /**
   * The household re-opens learning: what was seen since freezing becomes learned, and a new
   * window starts now.
   */
  reopen(mac: string, now: Date): DeviceProfile | undefined {
    const p = this.profiles.get(mac);
    if (!p) return undefined;
    for (const d of p.destinations) d.learned = true;
    for (const x of p.peers) x.learned = true;
    p.changes = 0;
    p.state = 'learning';
    p.frozenAt = null;
    p.learningSince = now.toISOString();
    p.learningUntil = this.opts.learningSeconds === null ? null : new Date(now.getTime() + this.opts.learningSeconds * 1000).toISOString();
    return p;
  }

  /** Freezes now, at the household's request. */
  freeze(mac: string, now: Date): DeviceProfile | undefined {
    const p = this.profiles.get(mac);
    if (!p || p.state === 'frozen') return p;
    p.state = 'frozen';
    p.frozenAt = now.toISOString();
    p.learningUntil = p.frozenAt;
    return p;
  }

  /** Forgets what a personal device's profile held beyond its volumes (privacy opt-out). */
  forgetDetail(mac: string): void {
    const p = this.profiles.get(mac);
    if (!p) return;
    p.destinations = [];
    p.peers = [];
    p.changes = 0;
  }

  all(): DeviceProfile[] {
    return [...this.profiles.values()].sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  }
}

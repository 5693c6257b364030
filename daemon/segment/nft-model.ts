/**
 * What the nftables output of a plan holds, before any text: the sets and verdict maps with
 * their elements, and the restricted devices with the names of their sets and chains. nft.ts
 * renders it, nft-diff.ts compares it with what a router has loaded, and countNftElements()
 * reports its size. Everything a plan says is validated here: a plan is a file a user may edit,
 * and its strings end up in nft and dnsmasq syntax.
 *
 * Names are derived from the MAC (`d3cef8c5a1001_v4`, chain `dev_3cef8c5a1001`) rather than
 * from the device's position in the plan: a device keeps its set names when others come and go,
 * so the dry run compares like with like and dnsmasq lines written for an earlier plan still
 * point at the right sets.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { InputError } from '../capture/errors.js';
import type { PlanDevice, SegmentationPlan, Zone } from '../model/plan.js';
import { ZONES } from '../model/plan.js';

/** Hard bounds, whatever a plan's limits say: they keep a hand-edited plan from making a ruleset a small router cannot hold. */
export const NFT_BOUNDS = {
  devices: 1024,
  /** Per device and family: the addresses a device is known by (the destination maps). */
  ipsPerDevice: 8,
  /** Per LAN peer and family. */
  ipsPerPeer: 4,
  hostsPerDevice: 1024,
  addressesPerDevice: 4096,
  lanPeersPerDevice: 256,
  /** All elements of all sets and maps together. */
  elements: 65536,
} as const;

export type RestrictedZone = Exclude<Zone, 'trusted'>;
export const RESTRICTED_ZONES = ZONES.filter((z): z is RestrictedZone => z !== 'trusted');

export type NftFamily = 'inet' | 'bridge';
export type NftKeyType = 'ether_addr' | 'ipv4_addr' | 'ipv6_addr';

export interface NftSetModel {
  family: NftFamily;
  name: string;
  type: NftKeyType;
  size: number;
  /** Elements, canonical (lower-case MACs, compressed IPv6) and sorted. */
  elements: string[];
  /** What it is for, in a few words (a comment in the file, a label in the dry run). */
  purpose: string;
  /** dnsmasq adds to it at resolution time: the dry run says so for elements it would drop. */
  dynamic: boolean;
}

export interface NftMapModel {
  family: NftFamily;
  name: string;
  type: NftKeyType;
  size: number;
  /** key → chain it jumps to, sorted by key. */
  elements: [string, string][];
  purpose: string;
}

export interface NftDeviceModel {
  mac: string;
  /** The MAC without colons: the suffix of its sets' and chains' names. */
  id: string;
  /** Safe to put in a comment (sanitised). */
  label: string;
  zone: RestrictedZone;
  /** Its own addresses (destination maps), canonical. */
  ips4: string[];
  ips6: string[];
  /** Host names it may resolve (iot only), canonical, at most the plan's hostsPerDevice. */
  hosts: string[];
  /** Sets of names shared by too many devices for one dnsmasq line (see NftDnsmasqLine). */
  shared: { v4: string; v6: string }[];
  /** Its sets' names: allow-lists for iot, LAN peers for all but blocked. */
  sets: {
    allow4?: string;
    allow6?: string;
    lan4?: string;
    lan6?: string;
    lanMac?: string;
  };
}

/**
 * One dnsmasq nftset line: a name and the sets its addresses go to. dnsmasq uses one line per
 * name (the longest matching domain wins; a second line for the same name is ignored, measured
 * with dnsmasq 2.90) and reads lines of at most about 1,000 characters. A name shared by more
 * devices than fit gets sets of its own (`n<hash>_v4`, `_v6`) that each of those devices'
 * chains also accepts; the others keep one lookup per packet in their own sets.
 */
export interface NftDnsmasqLine {
  host: string;
  /** `4#inet#vigie#set` / `6#inet#vigie#set` entries. */
  sets: string[];
  /** The devices it serves, by MAC. */
  devices: string[];
}

export const DNSMASQ_LINE_MAX = 1000;

export interface NftModel {
  lanInterfaces: string[];
  devices: NftDeviceModel[];
  sets: NftSetModel[];
  maps: NftMapModel[];
  /** What the caps of this module cut beyond the plan's own cuts. */
  cut: { hosts: number; addresses: number; lanPeers: number; ips: number };
  elements: number;
  dnsmasq: NftDnsmasqLine[];
}

export interface NftOptions {
  /**
   * dnsmasq fills the allow-lists at resolution time (renderDnsmasq): their size leaves room for
   * that, twice the learned bound. Without it the sets hold what was learned and nothing more.
   * Default true.
   */
  dnsmasq?: boolean;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const IFNAME = /^[A-Za-z0-9_.:@-]{1,15}$/;
/** The schema's host-name pattern: nothing that could end a dnsmasq `/domain/` field or a line. */
const HOST = /^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$/;

function bad(reason: string): never {
  throw new InputError('plan', reason);
}

/**
 * Text that may stand in an nft comment (`# …` or `comment "…"`) or a dnsmasq comment: no
 * control or format characters (a newline would end the comment and make the rest a command, a
 * bidirectional override would hide what follows), no quote or backslash (nft's quoted strings
 * have no escapes), at most 64 characters and 120 bytes (nft's comment limit is 128 bytes);
 * longer for `#` lines, which have no limit.
 */
export function sanitizeComment(s: string, maxChars = 64): string {
  let out = String(s)
    .replace(/[\p{C}\p{Zl}\p{Zp}"\\]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = [...out];
  if (chars.length > maxChars) out = chars.slice(0, maxChars - 1).join('') + '…';
  while (maxChars <= 64 && Buffer.byteLength(out) > 120) out = [...out].slice(0, -2).join('') + '…';
  return out === '' ? '(unnamed)' : out;
}

/** IPv6 in the form nft prints (compressed, lower case); null when not an address. */
export function canonicalIPv6(s: string): string | null {
  if (s.includes('%') || !net.isIPv6(s)) return null;
  const lower = s.toLowerCase();
  // An embedded IPv4 tail (::ffff:192.0.2.1) is printed that way by nft too: keep it.
  if (lower.includes('.')) return lower;
  return new URL(`http://[${lower}]/`).hostname.slice(1, -1);
}

export function canonicalIPv4(s: string): string | null {
  return net.isIPv4(s) ? s : null;
}

/** fe80::/10 is never routed: useless in the inet sets, which only see routed traffic. */
function isLinkLocal6(ip: string): boolean {
  return /^fe[89ab][0-9a-f]:/.test(ip);
}

function splitAddresses(list: string[], what: string): { v4: string[]; v6: string[] } {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const a of list) {
    if (typeof a !== 'string') bad(`${what}: ${JSON.stringify(a)} is not an address`);
    const x4 = canonicalIPv4(a);
    if (x4) {
      v4.push(x4);
      continue;
    }
    const x6 = canonicalIPv6(a);
    if (x6) v6.push(x6);
    else bad(`${what}: ${JSON.stringify(a)} is not an IPv4 or IPv6 address`);
  }
  return { v4, v6 };
}

function uniqueSorted(xs: Iterable<string>): string[] {
  return [...new Set(xs)].sort();
}

function limit(plan: SegmentationPlan, key: 'hostsPerDevice' | 'addressesPerDevice' | 'lanPeersPerDevice'): number {
  const v = plan.limits?.[key];
  if (!Number.isInteger(v) || v < 1) bad(`limits.${key} must be a positive integer (found ${JSON.stringify(v)})`);
  if (v > NFT_BOUNDS[key]) bad(`limits.${key} is ${v}: at most ${NFT_BOUNDS[key]} on a router`);
  return v;
}

function validateDevice(d: PlanDevice, i: number): string {
  const where = `devices[${i}]`;
  if (typeof d?.mac !== 'string' || !MAC.test(d.mac.toLowerCase())) bad(`${where}.mac: ${JSON.stringify(d?.mac)} is not a MAC address like 3c:ef:8c:5a:10:01`);
  const mac = d.mac.toLowerCase();
  if (!(ZONES as readonly string[]).includes(d.zone)) bad(`${where} (${mac}): unknown zone ${JSON.stringify(d.zone)} (one of ${ZONES.join(', ')})`);
  if (!Array.isArray(d.ips) || !Array.isArray(d.allow?.ipv4) || !Array.isArray(d.allow?.ipv6) || !Array.isArray(d.allow?.hosts) || !Array.isArray(d.lan)) bad(`${where} (${mac}): ips, allow.hosts, allow.ipv4, allow.ipv6 and lan must be arrays`);
  return mac;
}

export function buildNftModel(plan: SegmentationPlan, opts: NftOptions = {}): NftModel {
  const dnsmasq = opts.dnsmasq ?? true;
  if (!Array.isArray(plan?.lanInterfaces) || plan.lanInterfaces.length === 0) bad('lanInterfaces: at least one LAN interface is needed (for example br-lan)');
  for (const i of plan.lanInterfaces) if (typeof i !== 'string' || !IFNAME.test(i)) bad(`lanInterfaces: ${JSON.stringify(i)} is not an interface name`);
  if (!Array.isArray(plan.devices)) bad('devices must be an array');
  const hostsPerDevice = limit(plan, 'hostsPerDevice');
  const addressesPerDevice = limit(plan, 'addressesPerDevice');
  const lanPeersPerDevice = limit(plan, 'lanPeersPerDevice');
  const cut = { hosts: 0, addresses: 0, lanPeers: 0, ips: 0 };

  const seen = new Set<string>();
  const restricted: { d: PlanDevice; mac: string }[] = [];
  plan.devices.forEach((d, i) => {
    const mac = validateDevice(d, i);
    if (seen.has(mac)) bad(`${mac} is in the plan twice`);
    seen.add(mac);
    if (d.zone !== 'trusted') restricted.push({ d, mac });
  });
  if (restricted.length > NFT_BOUNDS.devices) bad(`${restricted.length} restricted devices: at most ${NFT_BOUNDS.devices}`);
  restricted.sort((a, b) => (a.mac < b.mac ? -1 : 1));

  const sets: NftSetModel[] = [];
  const maps: NftMapModel[] = [];
  const devices: NftDeviceModel[] = [];
  const zoneMacs: Record<RestrictedZone, string[]> = { iot: [], 'local-only': [], quarantine: [], blocked: [] };
  const iot4: string[] = [];
  const iot6: string[] = [];
  const to4 = new Map<string, string>();
  const to6 = new Map<string, string>();
  const hostAddresses = new Map<string, { v4: Set<string>; v6: Set<string> }>();

  for (const { d, mac } of restricted) {
    const zone = d.zone as RestrictedZone;
    const id = mac.replace(/:/g, '');
    const label = sanitizeComment(d.name ?? mac);
    const own = splitAddresses(d.ips, `${mac} ips`);
    // A DHCP client's 0.0.0.0 and the unspecified :: are nobody's address.
    const ips4 = uniqueSorted(own.v4.filter((a) => a !== '0.0.0.0'));
    const ips6 = uniqueSorted(own.v6.filter((a) => a !== '::' && !isLinkLocal6(a)));
    if (ips4.length > NFT_BOUNDS.ipsPerDevice) cut.ips += ips4.length - NFT_BOUNDS.ipsPerDevice;
    if (ips6.length > NFT_BOUNDS.ipsPerDevice) cut.ips += ips6.length - NFT_BOUNDS.ipsPerDevice;
    const mine4 = ips4.slice(0, NFT_BOUNDS.ipsPerDevice);
    const mine6 = ips6.slice(0, NFT_BOUNDS.ipsPerDevice);
    // An address claimed by two devices (a stale lease): the first keeps it, by MAC order.
    for (const a of mine4) if (!to4.has(a)) to4.set(a, `dev_in_${id}`);
    for (const a of mine6) if (!to6.has(a)) to6.set(a, `dev_in_${id}`);
    zoneMacs[zone].push(mac);
    if (zone === 'iot') {
      iot4.push(...mine4);
      iot6.push(...mine6);
    }

    const names: NftDeviceModel['sets'] = zone === 'blocked' ? {} : { lan4: `d${id}_lan4`, lan6: `d${id}_lan6`, lanMac: `d${id}_lanmac` };
    let hosts: string[] = [];
    if (zone === 'iot') {
      const hostNames: string[] = [];
      const v4: string[] = [];
      const v6: string[] = [];
      const direct = splitAddresses([...d.allow.ipv4, ...d.allow.ipv6], `${mac} allow`);
      v4.push(...direct.v4);
      v6.push(...direct.v6);
      d.allow.hosts.forEach((h, j) => {
        const name = typeof h?.name === 'string' ? h.name.toLowerCase().replace(/\.$/, '') : '';
        if (!HOST.test(name) || name.length > 253) bad(`${mac} allow.hosts[${j}]: ${JSON.stringify(h?.name)} is not a host name`);
        if (!Array.isArray(h.addresses)) bad(`${mac} allow.hosts[${j}] (${name}): addresses must be an array`);
        const learned = splitAddresses(h.addresses, `${mac} ${name}`);
        if (!hostNames.includes(name)) {
          if (hostNames.length >= hostsPerDevice) {
            cut.hosts++;
            return;
          }
          hostNames.push(name);
        }
        v4.push(...learned.v4);
        v6.push(...learned.v6);
        const known = hostAddresses.get(name) ?? { v4: new Set<string>(), v6: new Set<string>() };
        for (const a of learned.v4) known.v4.add(a);
        for (const a of learned.v6) known.v6.add(a);
        hostAddresses.set(name, known);
      });
      hosts = hostNames.sort();
      // The plan's bound is on v4 and v6 together, as the plan builder counts it.
      let a4 = uniqueSorted(v4);
      let a6 = uniqueSorted(v6);
      if (a4.length + a6.length > addressesPerDevice) {
        cut.addresses += a4.length + a6.length - addressesPerDevice;
        a4 = a4.slice(0, Math.min(a4.length, addressesPerDevice));
        a6 = a6.slice(0, addressesPerDevice - a4.length);
      }
      const size = dnsmasq ? 2 * addressesPerDevice : addressesPerDevice;
      names.allow4 = `d${id}_v4`;
      names.allow6 = `d${id}_v6`;
      sets.push({ family: 'inet', name: names.allow4, type: 'ipv4_addr', size, elements: a4, purpose: `${label}: internet IPv4 it may reach`, dynamic: dnsmasq });
      sets.push({ family: 'inet', name: names.allow6, type: 'ipv6_addr', size, elements: a6, purpose: `${label}: internet IPv6 it may reach`, dynamic: dnsmasq });
    }

    // LAN peers kept: all learned ones for iot and local-only, only controllers for quarantine.
    const peers = zone === 'blocked' ? [] : d.lan.filter((p) => zone !== 'quarantine' || p?.role === 'controller');
    if (peers.length > lanPeersPerDevice) cut.lanPeers += peers.length - lanPeersPerDevice;
    const lan4: string[] = [];
    const lan6: string[] = [];
    const lanMac: string[] = [];
    peers.slice(0, lanPeersPerDevice).forEach((p, j) => {
      if (p?.mac !== null && (typeof p?.mac !== 'string' || !MAC.test(p.mac.toLowerCase()))) bad(`${mac} lan[${j}].mac: ${JSON.stringify(p?.mac)} is not a MAC address or null`);
      if (!Array.isArray(p.ips)) bad(`${mac} lan[${j}].ips must be an array`);
      if (p.mac) lanMac.push(p.mac.toLowerCase());
      const a = splitAddresses(p.ips, `${mac} lan[${j}]`);
      const p4 = uniqueSorted(a.v4);
      const p6 = uniqueSorted(a.v6.filter((x) => !isLinkLocal6(x)));
      cut.ips += Math.max(0, p4.length - NFT_BOUNDS.ipsPerPeer) + Math.max(0, p6.length - NFT_BOUNDS.ipsPerPeer);
      lan4.push(...p4.slice(0, NFT_BOUNDS.ipsPerPeer));
      lan6.push(...p6.slice(0, NFT_BOUNDS.ipsPerPeer));
    });
    const lanSize = lanPeersPerDevice * NFT_BOUNDS.ipsPerPeer;
    if (names.lan4 && names.lan6 && names.lanMac) {
      sets.push({ family: 'inet', name: names.lan4, type: 'ipv4_addr', size: lanSize, elements: uniqueSorted(lan4), purpose: `${label}: LAN peers it keeps (routed, IPv4)`, dynamic: false });
      sets.push({ family: 'inet', name: names.lan6, type: 'ipv6_addr', size: lanSize, elements: uniqueSorted(lan6), purpose: `${label}: LAN peers it keeps (routed, IPv6)`, dynamic: false });
      sets.push({ family: 'bridge', name: names.lanMac, type: 'ether_addr', size: lanPeersPerDevice, elements: uniqueSorted(lanMac), purpose: `${label}: LAN peers it keeps (same bridge)`, dynamic: false });
    }
    devices.push({ mac, id, label, zone, ips4: mine4, ips6: mine6, hosts, shared: [], sets: names });
  }

  // The zone-wide sets first in the file, then each device's.
  const deviceSets = sets.splice(0);
  for (const z of RESTRICTED_ZONES) sets.push({ family: 'inet', name: zoneSetName(z), type: 'ether_addr', size: NFT_BOUNDS.devices, elements: uniqueSorted(zoneMacs[z]), purpose: `devices in the ${z} zone`, dynamic: false });
  const ipsSize = NFT_BOUNDS.devices * NFT_BOUNDS.ipsPerDevice;
  sets.push({ family: 'inet', name: 'iot_v4', type: 'ipv4_addr', size: ipsSize, elements: uniqueSorted(iot4), purpose: 'addresses of iot devices (iot devices may talk to each other)', dynamic: false });
  sets.push({ family: 'inet', name: 'iot_v6', type: 'ipv6_addr', size: ipsSize, elements: uniqueSorted(iot6), purpose: 'addresses of iot devices (iot devices may talk to each other)', dynamic: false });
  sets.push({ family: 'bridge', name: 'zone_iot', type: 'ether_addr', size: NFT_BOUNDS.devices, elements: uniqueSorted(zoneMacs.iot), purpose: 'iot devices (they may talk to each other on the bridge)', dynamic: false });

  sets.push(...deviceSets);

  // dnsmasq lines: each name with its devices' own sets, or with sets of its own when too long.
  const byHost = new Map<string, NftDeviceModel[]>();
  for (const d of devices) for (const h of d.hosts) byHost.set(h, [...(byHost.get(h) ?? []), d]);
  const dnsmasqLines: NftDnsmasqLine[] = [];
  const used = new Set(sets.map((x) => x.name));
  const allowSize = dnsmasq ? 2 * addressesPerDevice : addressesPerDevice;
  for (const host of [...byHost.keys()].sort()) {
    const devs = byHost.get(host)!;
    const own = devs.flatMap((d) => [`4#inet#vigie#${d.sets.allow4}`, `6#inet#vigie#${d.sets.allow6}`]);
    // Without dnsmasq nothing fills sets at resolution: no shared sets either.
    if (!dnsmasq || `nftset=/${host}/${own.join(',')}`.length <= DNSMASQ_LINE_MAX) {
      dnsmasqLines.push({ host, sets: own, devices: devs.map((d) => d.mac) });
      continue;
    }
    // Named by a hash of the name: stable across plans, like the device sets.
    const hash = createHash('sha256').update(host).digest('hex');
    let n = 8;
    while (used.has(`n${hash.slice(0, n)}_v4`)) n += 2;
    const base = `n${hash.slice(0, n)}`;
    used.add(`${base}_v4`);
    const known = hostAddresses.get(host) ?? { v4: new Set<string>(), v6: new Set<string>() };
    const a4 = uniqueSorted(known.v4).slice(0, addressesPerDevice);
    const a6 = uniqueSorted(known.v6).slice(0, Math.max(0, addressesPerDevice - a4.length));
    const what = sanitizeComment(`${host}, shared by ${devs.length} iot devices`, 200);
    sets.push({ family: 'inet', name: `${base}_v4`, type: 'ipv4_addr', size: allowSize, elements: a4, purpose: `${what}: IPv4`, dynamic: dnsmasq });
    sets.push({ family: 'inet', name: `${base}_v6`, type: 'ipv6_addr', size: allowSize, elements: a6, purpose: `${what}: IPv6`, dynamic: dnsmasq });
    for (const d of devs) d.shared.push({ v4: `${base}_v4`, v6: `${base}_v6` });
    dnsmasqLines.push({ host, sets: [`4#inet#vigie#${base}_v4`, `6#inet#vigie#${base}_v6`], devices: devs.map((d) => d.mac) });
  }
  const byKey = (m: Map<string, string>): [string, string][] => [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  maps.push({ family: 'inet', name: 'from_dev', type: 'ether_addr', size: NFT_BOUNDS.devices, elements: devices.map((d) => [d.mac, `dev_${d.id}`]), purpose: 'restricted device → the chain that says what it may reach' });
  maps.push({ family: 'inet', name: 'to_dev4', type: 'ipv4_addr', size: ipsSize, elements: byKey(to4), purpose: 'address of a restricted device → the chain that says who may reach it' });
  maps.push({ family: 'inet', name: 'to_dev6', type: 'ipv6_addr', size: ipsSize, elements: byKey(to6), purpose: 'address of a restricted device → the chain that says who may reach it' });
  maps.push({ family: 'bridge', name: 'from_dev', type: 'ether_addr', size: NFT_BOUNDS.devices, elements: devices.map((d) => [d.mac, `from_${d.id}`]), purpose: 'frames from a restricted device' });
  maps.push({ family: 'bridge', name: 'to_dev', type: 'ether_addr', size: NFT_BOUNDS.devices, elements: devices.map((d) => [d.mac, `to_${d.id}`]), purpose: 'frames to a restricted device' });

  const elements = sets.reduce((n, s) => n + s.elements.length, 0) + maps.reduce((n, m) => n + m.elements.length, 0);
  if (elements > NFT_BOUNDS.elements) bad(`the plan needs ${elements} set elements: at most ${NFT_BOUNDS.elements} on a router (lower limits.addressesPerDevice or restrict fewer devices)`);
  return { lanInterfaces: [...plan.lanInterfaces], devices, sets, maps, cut, elements, dnsmasq: dnsmasqLines };
}

/** Elements in all sets and maps renderNft() generates for this plan (what `limits.setElements` reports). */
export function countNftElements(plan: SegmentationPlan, opts: NftOptions = {}): number {
  return buildNftModel(plan, opts).elements;
}

export function zoneSetName(z: RestrictedZone): string {
  return `zone_${z.replace('-', '_')}`;
}

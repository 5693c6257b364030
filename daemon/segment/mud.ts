/**
 * One RFC 8520 MUD file per restricted device: what the device was seen doing, as the allow-list
 * a MUD manager can enforce. JSON encoding per RFC 7951; modules ietf-mud@2019-01-28 and
 * ietf-acldns@2019-01-28 (RFC 8520 §8) over ietf-access-control-list@2019-03-04 (RFC 8519 §4.1).
 *
 * Layout (as the example of RFC 8520 §9): for each IP family a from-device ACL and a to-device
 * ACL, named by `from-device-policy` / `to-device-policy` (RFC 8520 §3). Every from-device ACE
 * has its to-device counterpart: a name matched as `ietf-acldns:dst-dnsname` on the way out is
 * `src-dnsname` on the way back (the ietf-acldns module, RFC 8520 §8), an address as
 * `destination-ipvN-network` is `source-ipvN-network` (RFC 8519 §4.2, ietf-packet-fields), a
 * port as `destination-port` is `source-port`. TCP carries `ietf-mud:direction-initiated`
 * (RFC 8520 §3; the YANG augments TCP only): `from-device` where the device opened the
 * connection, `to-device` for its controllers. LAN peers are the `ietf-mud:mud` match
 * `local-networks`, the devices that opened connections to it `my-controller`: a MUD manager
 * binds that class to the controllers it knows for this MUD URL (RFC 8520 §3). The ACEs list
 * what is allowed; anything else is to be refused.
 *
 * Zones: iot gets its internet names and addresses and its LAN peers and controllers;
 * local-only keeps LAN peers and controllers and no internet; quarantine keeps only its
 * controllers; blocked gets ACLs without entries. A trusted device gets no MUD file: renderMud
 * returns null (the plan leaves it unchanged, and a MUD file describes a restricted device).
 *
 * File name: `<12 hex digits>.mud.json` (the MAC without separators): no colons, which Windows
 * file systems and URL paths handle badly; the MUD URL ends with the same name.
 */
import { ZONE_DESCRIPTIONS, type PlanDevice, type SegmentationPlan } from '../model/plan.js';
import { dnsName, ipFamily, macId, oneLine, usableAddress } from './names.js';

export { checkMudPairs } from './mud-check.js';

export const MUD_VERSION = 1;
/** Hours: the ietf-mud leaf cache-validity, 1..168, default 48. */
export const MUD_CACHE_VALIDITY = 48;
export const DEFAULT_MUD_URL_BASE = 'https://vigie.home.arpa/mud/';

type Json = Record<string, unknown>;

export interface MudAce {
  name: string;
  matches: Json;
  actions: { forwarding: 'accept' };
}

export interface MudAcl {
  name: string;
  type: 'ipv4-acl-type' | 'ipv6-acl-type';
  aces?: { ace: MudAce[] };
}

export interface MudPolicy {
  'access-lists': { 'access-list': { name: string }[] };
}

export interface MudFile {
  'ietf-mud:mud': {
    'mud-version': number;
    'mud-url': string;
    'last-update': string;
    'cache-validity': number;
    'is-supported': boolean;
    systeminfo: string;
    'mfg-name'?: string;
    'model-name'?: string;
    'from-device-policy': MudPolicy;
    'to-device-policy': MudPolicy;
  };
  'ietf-access-control-list:acls': { acl: MudAcl[] };
}

export interface MudOptions {
  /** Where the MUD files will be served: an https URL (RFC 8520 §5). */
  mudUrlBase?: string;
}

export function mudFileName(mac: string): string {
  return `${macId(mac)}.mud.json`;
}

const baseCache = new Map<string, string>();

export function mudUrl(mac: string, base = DEFAULT_MUD_URL_BASE): string {
  let prefix = baseCache.get(base);
  if (prefix === undefined) {
    prefix = urlPrefix(base);
    baseCache.set(base, prefix);
  }
  return `${prefix}${mudFileName(mac)}`;
}

function urlPrefix(base: string): string {
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    throw new Error(`MUD URL base "${base}" is not a URL`);
  }
  // RFC 8520 §5: a MUD URL uses the "https" scheme; a MUD manager fetches it over TLS.
  if (u.protocol !== 'https:') throw new Error(`MUD URL base "${base}" must use https (RFC 8520)`);
  if (u.search || u.hash) throw new Error(`MUD URL base "${base}" must not have a query or fragment`);
  const path = u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`;
  return `${u.origin}${path}`;
}

type Proto = 'tcp' | 'udp' | 'icmp' | null;

/** One permitted exchange, written as a from-device ACE and its to-device counterpart. */
interface Flow {
  family: 4 | 6;
  kind: 'host' | 'addr' | 'peer' | 'ctrl';
  dns?: string;
  net?: string;
  mud?: 'local-networks' | 'my-controller';
  proto: Proto;
  /** The remote's port when the device opens the flow, the device's own when a controller does. */
  port: number | null;
  initiated: 'from-device' | 'to-device';
}

function protoOf(p: string): Proto | 'skip' {
  if (p === 'tcp' || p === 'udp' || p === 'icmp') return p;
  return p === 'other' ? null : 'skip';
}

const PROTO_NUMBER: Record<'tcp' | 'udp', number> = { tcp: 6, udp: 17 };

function l3(flow: Flow, dir: 'from' | 'to'): Json | null {
  const x: Json = {};
  if (flow.proto === 'icmp') x.protocol = flow.family === 4 ? 1 : 58;
  else if (flow.proto) x.protocol = PROTO_NUMBER[flow.proto];
  if (flow.dns) x[dir === 'from' ? 'ietf-acldns:dst-dnsname' : 'ietf-acldns:src-dnsname'] = flow.dns;
  if (flow.net) x[`${dir === 'from' ? 'destination' : 'source'}-ipv${flow.family}-network`] = flow.net;
  return Object.keys(x).length > 0 ? x : null;
}

function l4(flow: Flow, dir: 'from' | 'to'): Json | null {
  if (flow.proto !== 'tcp' && flow.proto !== 'udp') return null;
  const x: Json = {};
  if (flow.proto === 'tcp') x['ietf-mud:direction-initiated'] = flow.initiated;
  if (flow.port !== null) {
    // Device-initiated: the remote port is the destination on the way out, the source back.
    const remoteSide = flow.initiated === 'from-device';
    const key = (dir === 'from') === remoteSide ? 'destination-port' : 'source-port';
    x[key] = { operator: 'eq', port: flow.port };
  }
  return x;
}

function matches(flow: Flow, dir: 'from' | 'to'): Json {
  const m: Json = {};
  if (flow.mud) m['ietf-mud:mud'] = { [flow.mud]: [null] };
  const a = l3(flow, dir);
  if (a) m[flow.family === 4 ? 'ipv4' : 'ipv6'] = a;
  const b = l4(flow, dir);
  if (b && flow.proto) m[flow.proto] = b;
  return m;
}

function families(ips: string[]): (4 | 6)[] {
  const f = new Set(ips.map(ipFamily).filter((x): x is 4 | 6 => x !== null));
  return f.size > 0 ? ([4, 6] as const).filter((x) => f.has(x)) : [4, 6];
}

function internetFlows(d: PlanDevice): Flow[] {
  const flows: Flow[] = [];
  const covered = new Set<string>();
  const add = (base: Omit<Flow, 'proto' | 'port'>, ports: { proto: string; port: number }[]): void => {
    const ps = ports.length > 0 ? ports : [{ proto: 'other', port: 0 }];
    for (const p of ps) {
      const proto = protoOf(p.proto);
      if (proto === 'skip') continue;
      flows.push({ ...base, proto, port: proto === 'tcp' || proto === 'udp' ? p.port : null });
    }
  };
  for (const h of d.allow.hosts) {
    const addrs = h.addresses.filter(usableAddress);
    for (const a of addrs) covered.add(a);
    const name = dnsName(h.name);
    if (name) {
      for (const f of families(addrs)) add({ family: f, kind: 'host', dns: name, initiated: 'from-device' }, h.ports);
    } else {
      // Not a name the YANG type takes (inet:host): the addresses it resolved to instead.
      for (const a of addrs) add({ family: ipFamily(a)!, kind: 'addr', net: `${a}/${ipFamily(a) === 4 ? 32 : 128}`, initiated: 'from-device' }, h.ports);
    }
  }
  for (const a of [...d.allow.ipv4, ...d.allow.ipv6]) {
    if (covered.has(a) || !usableAddress(a)) continue;
    covered.add(a);
    const f = ipFamily(a)!;
    const seen = d.evidence.destinations.filter((x) => x.learned && x.host === a).map((x) => ({ proto: x.proto, port: x.port }));
    add({ family: f, kind: 'addr', net: `${a}/${f === 4 ? 32 : 128}`, initiated: 'from-device' }, seen);
  }
  return flows;
}

function lanFlows(d: PlanDevice): Flow[] {
  const flows: Flow[] = [];
  for (const p of d.lan) {
    if (d.zone === 'quarantine' && p.role !== 'controller') continue;
    const controller = p.role === 'controller';
    const ps = p.ports.length > 0 ? p.ports : [{ proto: 'other', port: 0 }];
    for (const f of families(p.ips)) {
      for (const port of ps) {
        const proto = protoOf(port.proto);
        if (proto === 'skip') continue;
        flows.push({
          family: f,
          kind: controller ? 'ctrl' : 'peer',
          mud: controller ? 'my-controller' : 'local-networks',
          proto,
          port: proto === 'tcp' || proto === 'udp' ? port.port : null,
          initiated: controller ? 'to-device' : 'from-device',
        });
      }
    }
  }
  return flows;
}

function aclName(id: string, family: 4 | 6, dir: 'fr' | 'to'): string {
  return `vigie-${id}-v${family}${dir}`;
}

/** The MUD file of a restricted device, or null for a trusted one. */
export function renderMud(plan: SegmentationPlan, device: PlanDevice, opts: MudOptions = {}): MudFile | null {
  if (device.zone === 'trusted') return null;
  const id = macId(device.mac);
  const flows = [...(device.zone === 'iot' ? internetFlows(device) : []), ...(device.zone === 'blocked' ? [] : lanFlows(device))];

  const acls: MudAcl[] = [];
  for (const family of [4, 6] as const) {
    const fr: MudAce[] = [];
    const to: MudAce[] = [];
    const seen = new Set<string>();
    const count: Record<Flow['kind'], number> = { host: 0, addr: 0, peer: 0, ctrl: 0 };
    for (const flow of flows) {
      if (flow.family !== family) continue;
      // Two flows with these fields equal give the same ACEs.
      const key = `${flow.dns ?? ''}|${flow.net ?? ''}|${flow.mud ?? ''}|${flow.proto ?? ''}|${flow.port ?? ''}|${flow.initiated}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const n = `${flow.kind}${count[flow.kind]++}`;
      fr.push({ name: `${n}-fr`, matches: matches(flow, 'from'), actions: { forwarding: 'accept' } });
      to.push({ name: `${n}-to`, matches: matches(flow, 'to'), actions: { forwarding: 'accept' } });
    }
    const type = family === 4 ? 'ipv4-acl-type' : 'ipv6-acl-type';
    acls.push({ name: aclName(id, family, 'fr'), type, ...(fr.length > 0 ? { aces: { ace: fr } } : {}) });
    acls.push({ name: aclName(id, family, 'to'), type, ...(to.length > 0 ? { aces: { ace: to } } : {}) });
  }

  const policy = (dir: 'fr' | 'to'): MudPolicy => ({ 'access-lists': { 'access-list': [4, 6].map((f) => ({ name: aclName(id, f as 4 | 6, dir) })) } });
  const last = Number.isNaN(Date.parse(plan.generated)) ? new Date().toISOString() : new Date(plan.generated).toISOString();
  const mud: MudFile['ietf-mud:mud'] = {
    'mud-version': MUD_VERSION,
    'mud-url': mudUrl(device.mac, opts.mudUrlBase),
    'last-update': last,
    'cache-validity': MUD_CACHE_VALIDITY,
    // Vigie cannot know whether the manufacturer still supports the device; false would make a
    // MUD manager treat it as abandoned on Vigie's word alone (the is-supported leaf, RFC 8520 §3).
    'is-supported': true,
    systeminfo: oneLine(`${device.name}: ${device.category}, zone ${device.zone} (${ZONE_DESCRIPTIONS[device.zone]}), as observed by Vigie ${plan.vigie.version}`, 400),
    'from-device-policy': policy('fr'),
    'to-device-policy': policy('to'),
  };
  if (device.vendor && oneLine(device.vendor) !== '') mud['mfg-name'] = oneLine(device.vendor);
  if (device.model && oneLine(device.model) !== '') mud['model-name'] = oneLine(device.model);
  return { 'ietf-mud:mud': mud, 'ietf-access-control-list:acls': { acl: acls } };
}

/**
 * The plan builder: devices, their profiles and alerts in, a zone for each device with its
 * reasons, evidence and what it may still reach out (daemon/model/plan.ts). Pure: the same input
 * gives the same plan; renderers (nft.ts, uci.ts, mud.ts) turn it into router configuration.
 */
import { createRequire } from 'node:module';
import { deviceName } from '../model/device.js';
import { PLAN_SCHEMA_VERSION, type PlanDevice, type PlanHost, type PlanPeer, type SegmentationPlan, type Zone, ZONE_DESCRIPTIONS, ZONES } from '../model/plan.js';
import type { DeviceProfile } from '../model/profile.js';
import type { DeviceRecord } from '../report/types.js';
import type { CloudPlatform } from '../rules/load.js';
import type { Alert } from '../verdicts/alert.js';
import { severityRank } from '../verdicts/rules.js';
import { decideZone, type ZoneRule } from './policy.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

export const PLAN_LIMITS = { hostsPerDevice: 64, addressesPerDevice: 256, lanPeersPerDevice: 32 } as const;
const EVIDENCE_DESTINATIONS = 10;

export interface PlanInput {
  devices: DeviceRecord[];
  profiles: Map<string, DeviceProfile>;
  alerts: Alert[];
  /** Personal devices (phones, computers, or marked by the household). */
  personal: (mac: string, category: string) => boolean;
  policy: ZoneRule[];
  platforms: CloudPlatform[];
  /** Zones the household chose, by MAC. */
  overrides: Record<string, Zone>;
  /** MACs never restricted: the device the household manages the router from. */
  protect: Set<string>;
  homeCountry: string | null;
  lanInterfaces: string[];
  source: SegmentationPlan['source'];
  now: Date;
  /** Only this device (others still inform names and controllers). */
  only?: string;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** A device's name in the plan: the model's rule, a bare MAC said with its vendor (the plan lists names alone). */
export function displayName(d: Pick<DeviceRecord, 'label' | 'hostname' | 'vendor' | 'mac' | 'id'>): string {
  return deviceName(d, { vendor: true });
}

function isV6(ip: string): boolean {
  return ip.includes(':');
}

function portKey(p: { proto: string; port: number }): string {
  return `${p.proto}/${p.port}`;
}

function addPort(list: { proto: string; port: number }[], proto: string, port: number): void {
  if (!list.some((x) => x.proto === proto && x.port === port)) list.push({ proto, port });
}

/** Host names (the DNS-set half of the allow-list) and bare addresses, from what was learnt. */
function allowList(p: DeviceProfile, cut: SegmentationPlan['limits']['cut']): PlanDevice['allow'] {
  const hosts = new Map<string, PlanHost>();
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  const addAddress = (ip: string): void => {
    if (v4.size + v6.size >= PLAN_LIMITS.addressesPerDevice) {
      if (!v4.has(ip) && !v6.has(ip)) cut.addresses++;
      return;
    }
    (isV6(ip) ? v6 : v4).add(ip);
  };
  // The busiest first, so that bounds cut what matters least.
  const learnt = p.destinations.filter((d) => d.learned && d.initiator === 'device').sort((a, b) => b.up + b.down - (a.up + a.down));
  for (const d of learnt) {
    if (d.host) {
      let h = hosts.get(d.host);
      if (!h) {
        if (hosts.size >= PLAN_LIMITS.hostsPerDevice) {
          cut.hosts++;
          continue;
        }
        hosts.set(d.host, (h = { name: d.host, domain: d.domain, country: d.country, encrypted: d.encrypted, ports: [], addresses: [] }));
      }
      addPort(h.ports, d.proto, d.port);
      if (d.encrypted === false) h.encrypted = false;
      for (const ip of d.addresses) if (!h.addresses.includes(ip)) h.addresses.push(ip);
    }
    for (const ip of d.addresses) addAddress(ip);
  }
  const out = [...hosts.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const h of out) h.ports.sort((a, b) => (portKey(a) < portKey(b) ? -1 : 1));
  return { hosts: out, ipv4: [...v4].sort(), ipv6: [...v6].sort() };
}

/** The LAN devices kept: who opened connections to it (controllers) and, if asked, whom it opened them to. */
function lanPeers(p: DeviceProfile | undefined, withOwnPeers: boolean, byMac: Map<string, DeviceRecord>, cut: SegmentationPlan['limits']['cut']): PlanPeer[] {
  const out = new Map<string, PlanPeer>();
  for (const x of p?.peers ?? []) {
    if (!x.learned) continue;
    const role = x.direction === 'in' ? 'controller' : 'peer';
    if (role === 'peer' && !withOwnPeers) continue;
    const key = x.mac ?? x.ip;
    let e = out.get(key);
    if (!e) {
      if (out.size >= PLAN_LIMITS.lanPeersPerDevice) {
        cut.lanPeers++;
        continue;
      }
      const rec = x.mac ? byMac.get(x.mac) : undefined;
      const ips = new Set<string>([x.ip]);
      for (const a of rec?.ips ?? []) ips.add(a.ip);
      out.set(key, (e = { mac: x.mac, ips: [...ips].sort(), name: rec ? displayName(rec) : (x.mac ?? x.ip), role, ports: [] }));
    }
    // A device that both controls and is contacted is a controller: the stronger relation.
    if (role === 'controller') e.role = 'controller';
    addPort(e.ports, x.proto, x.port);
  }
  const list = [...out.values()].sort((a, b) => ((a.mac ?? a.ips[0]) < (b.mac ?? b.ips[0]) ? -1 : 1));
  for (const e of list) e.ports.sort((a, b) => (portKey(a) < portKey(b) ? -1 : 1));
  return list;
}

function evidence(d: DeviceRecord, alerts: Alert[], p: DeviceProfile | undefined): PlanDevice['evidence'] {
  return {
    alerts: alerts
      .filter((a) => !a.muted)
      .sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || (a.id < b.id ? -1 : 1))
      .map((a) => ({ id: a.id, rule: a.rule, severity: a.severity, title: a.title })),
    category: d.evidence.map((e) => ({ observation: e.observation, rule: e.rule, category: e.category, weight: e.weight })),
    destinations: (p?.destinations ?? [])
      .slice()
      .sort((a, b) => b.up + b.down - (a.up + a.down))
      .slice(0, EVIDENCE_DESTINATIONS)
      .map((x) => ({ host: x.host ?? x.addresses[0], port: x.port, proto: x.proto, country: x.country, encrypted: x.encrypted, up: x.up, down: x.down, learned: x.learned })),
  };
}

export function buildPlan(input: PlanInput): SegmentationPlan {
  const cut = { hosts: 0, addresses: 0, lanPeers: 0 };
  const byMac = new Map<string, DeviceRecord>();
  for (const d of input.devices) if (d.mac && MAC.test(d.mac)) byMac.set(d.mac, d);
  const alertsOf = new Map<string, Alert[]>();
  for (const a of input.alerts) {
    const k = a.device.mac ?? a.device.id;
    const list = alertsOf.get(k) ?? [];
    list.push(a);
    alertsOf.set(k, list);
  }
  const nameOf = (mac: string | null, ip: string): string => {
    const rec = mac ? byMac.get(mac) : undefined;
    return rec ? displayName(rec) : (mac ?? ip);
  };
  const devices: PlanDevice[] = [];
  for (const d of byMac.values()) {
    if (input.only && d.mac !== input.only) continue;
    const mac = d.mac!;
    const personal = input.personal(mac, d.category);
    const profile = input.profiles.get(mac);
    const alerts = alertsOf.get(mac) ?? [];
    const name = displayName(d);
    const advice = decideZone({ name, category: d.category, personal, alerts, profile, nameOf }, input.policy, input.platforms);
    let zone = advice.zone;
    let source: PlanDevice['source'] = 'policy';
    const reasons = [...advice.reasons];
    const chosen = input.overrides[mac];
    if (chosen) {
      zone = chosen;
      source = 'user';
      reasons.unshift(chosen === advice.zone ? `The household chose ${chosen} for ${name}, as the policy advises.` : `The household chose ${chosen} for ${name} (the policy would advise ${advice.zone}).`);
    }
    if (input.protect.has(mac) && zone !== 'trusted') {
      reasons.unshift(`${name} is protected (it manages the router): it stays trusted so that the plan cannot lock the household out; ${zone} was ${source === 'user' ? 'chosen' : 'advised'}.`);
      zone = 'trusted';
      source = 'safeguard';
    }
    const empty = { hosts: [], ipv4: [], ipv6: [] };
    devices.push({
      mac,
      name,
      vendor: d.vendor,
      model: d.model,
      category: d.category,
      ips: d.ips.map((a) => a.ip).sort(),
      zone,
      advised: advice.zone,
      source,
      rule: advice.rule,
      reasons,
      evidence: evidence(d, alerts, personal ? undefined : profile),
      allow: zone === 'iot' && profile ? allowList(profile, cut) : empty,
      lan: zone === 'iot' || zone === 'local-only' ? lanPeers(profile, true, byMac, cut) : zone === 'quarantine' ? lanPeers(profile, false, byMac, cut) : [],
      profile: profile && !personal ? { state: profile.state, learningUntil: profile.learningUntil, changes: profile.changes } : { state: 'none', learningUntil: null, changes: 0 },
    });
  }
  devices.sort((a, b) => ZONES.indexOf(b.zone) - ZONES.indexOf(a.zone) || (a.mac < b.mac ? -1 : 1));
  const zones = Object.fromEntries(ZONES.map((z) => [z, { description: ZONE_DESCRIPTIONS[z], devices: devices.filter((d) => d.zone === z).map((d) => d.mac) }])) as SegmentationPlan['zones'];
  let setElements = 0;
  for (const d of devices) {
    if (d.zone === 'trusted') continue;
    setElements += 1 + d.allow.ipv4.length + d.allow.ipv6.length + d.lan.reduce((n, p) => n + p.ips.length + (p.mac ? 1 : 0), 0);
  }
  return {
    vigie: { version: pkg.version, schema: PLAN_SCHEMA_VERSION },
    generated: input.now.toISOString(),
    source: input.source,
    homeCountry: input.homeCountry,
    lanInterfaces: input.lanInterfaces,
    zones,
    devices,
    limits: { ...PLAN_LIMITS, cut, setElements },
    caveats: caveats(devices),
  };
}

function caveats(devices: PlanDevice[]): string[] {
  const out = [
    'Two Wi-Fi clients of one access point talk to each other inside the radio, never crossing the bridge: the bridge rules cannot stop them unless client isolation is on (OpenWrt: option isolate 1 on the wifi-iface) or the restricted devices have their own SSID and network.',
    'Devices are recognised by their MAC address: a device that changes its MAC (randomisation, spoofing) leaves its zone; a separate IoT network or 802.1X/per-device Wi-Fi keys bind it more firmly.',
    'Host names in allow-lists are enforced through the router\'s resolver (dnsmasq nftset): restricted devices have their DNS redirected to the router and DNS over TLS (853) refused; a device that hard-codes addresses reaches only the addresses learnt.',
  ];
  const learning = devices.filter((d) => d.zone === 'iot' && d.profile.state === 'learning').length;
  if (learning > 0) out.push(`${learning} IoT ${learning === 1 ? 'device is' : 'devices are'} still learning: ${learning === 1 ? 'its allow-list' : 'their allow-lists'} may miss services used rarely (firmware updates, monthly checks).`);
  const changed = devices.filter((d) => d.profile.changes > 0).length;
  if (changed > 0) out.push(`${changed} ${changed === 1 ? 'device' : 'devices'} did something new after learning ended: the new destinations are shown, not allowed; re-open learning to accept them.`);
  return out;
}

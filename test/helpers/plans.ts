/**
 * Segmentation plans built by hand (daemon/model/plan.ts, plan.schema.json): pure data, every
 * field of the type filled with a plain default that any field of the overrides replaces. Shared
 * by the unit tests of the nft, UCI and MUD outputs and by the router lab's integration tests.
 */
import { PLAN_SCHEMA_VERSION, type PlanDevice, type PlanHost, type PlanPeer, type SegmentationPlan, type Zone, ZONE_DESCRIPTIONS, ZONES } from '../../daemon/model/plan.js';

/** An allowed internet name: no domain, country or encryption known, TCP 80 unless told. */
export function planHost(name: string, addresses: string[] = [], overrides: Partial<Omit<PlanHost, 'name' | 'addresses'>> = {}): PlanHost {
  return { name, domain: null, country: null, encrypted: null, ports: [{ proto: 'tcp', port: 80 }], addresses, ...overrides };
}

/** A LAN peer entry for a plan device: named after its MAC (or first address), TCP 8080 unless told. */
export function planPeer(mac: string | null, ips: string[], role: PlanPeer['role'], name: string = mac ?? ips[0] ?? 'peer', ports: PlanPeer['ports'] = [{ proto: 'tcp', port: 8080 }]): PlanPeer {
  return { mac, ips, name, role, ports };
}

/** A host of `planDevice`'s `hosts` shortcut: a name, and whatever else of a PlanHost (see planHost). */
export type PlanHostSpec = { name: string; addresses?: string[] } & Partial<Omit<PlanHost, 'name' | 'addresses'>>;

export type PlanDeviceOverrides = Partial<Omit<PlanDevice, 'mac' | 'zone'>> & {
  /** Shortcuts for allow.hosts (each through planHost), allow.ipv4 and allow.ipv6; each replaces that part of `allow`. */
  hosts?: PlanHostSpec[];
  ipv4?: string[];
  ipv6?: string[];
};

/**
 * A plan device chosen by the user (no vendor, model, rule or evidence; a camera unless trusted,
 * then a computer), every field of the type filled; any field of `overrides` replaces the default.
 */
export function planDevice(mac: string, zone: Zone, overrides: PlanDeviceOverrides = {}): PlanDevice {
  const { hosts, ipv4, ipv6, allow, ...fields } = overrides;
  return {
    mac,
    name: `device ${mac}`,
    vendor: null,
    model: null,
    category: zone === 'trusted' ? 'computer' : 'camera',
    ips: [],
    zone,
    advised: zone,
    source: 'user',
    rule: null,
    reasons: ['chosen by the test'],
    evidence: { alerts: [], category: [], destinations: [] },
    allow: {
      hosts: hosts ? hosts.map(({ name, addresses, ...rest }) => planHost(name, addresses, rest)) : (allow?.hosts ?? []),
      ipv4: ipv4 ?? allow?.ipv4 ?? [],
      ipv6: ipv6 ?? allow?.ipv6 ?? [],
    },
    lan: [],
    profile: { state: 'frozen', learningUntil: null, changes: 0 },
    ...fields,
  };
}

export type SegmentationPlanOverrides = Partial<Omit<SegmentationPlan, 'zones' | 'devices' | 'limits'>> & { limits?: Partial<SegmentationPlan['limits']> };

/** A plan of these devices, its `zones` computed from their zones; any field of `overrides` replaces the default. */
export function segmentationPlan(devices: PlanDevice[], overrides: SegmentationPlanOverrides = {}): SegmentationPlan {
  const { limits, ...fields } = overrides;
  const zones = Object.fromEntries(ZONES.map((z) => [z, { description: ZONE_DESCRIPTIONS[z], devices: devices.filter((d) => d.zone === z).map((d) => d.mac) }])) as SegmentationPlan['zones'];
  return {
    vigie: { version: '0.0.0-test', schema: PLAN_SCHEMA_VERSION },
    generated: '2026-01-01T00:00:00.000Z',
    source: { kind: 'capture', path: 'test.pcap' },
    homeCountry: 'FR',
    lanInterfaces: ['br-lan'],
    zones,
    devices,
    limits: { hostsPerDevice: 64, addressesPerDevice: 256, lanPeersPerDevice: 32, cut: { hosts: 0, addresses: 0, lanPeers: 0 }, setElements: 0, ...limits },
    caveats: [],
    ...fields,
  };
}

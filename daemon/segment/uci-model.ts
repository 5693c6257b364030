/**
 * What the UCI output is made of, computed once from the plan: the restricted devices, their
 * MAC sets per zone and family, the learnt addresses of each iot device, and the iot host names
 * grouped so that each name feeds exactly one pair of sets.
 *
 * Why names are grouped instead of one set per device: dnsmasq keeps one list of sets per
 * name, and of two `nftset=` lines for the same name the last one wins (dnsmasq src/forward.c,
 * process_reply(): the longest matching domain is kept, `domainlen >= matchlen`), so a name used
 * by several devices has to list all their sets on one line; and a config line holds at most
 * 1024 bytes (src/option.c, read_file(): `fgets(buff, MAXDNAME, f)`, MAXDNAME 1025), so that
 * line overflows once a dozen devices share a name. Grouping the names by the exact set of
 * devices that use them gives each name one line with two sets, whatever the number of devices,
 * and each device still reaches only its own names (one accept rule per group and family,
 * matching the group's MACs).
 */
import type { PlanDevice, SegmentationPlan, Zone } from '../model/plan.js';
import { asciiLabel, dnsName, ipFamily, macId, normalMac, usableAddress } from './names.js';

export const RESTRICTED = ['iot', 'local-only', 'quarantine', 'blocked'] as const;
export type Restricted = (typeof RESTRICTED)[number];

/** Zone → the word used in section and set names ([a-z0-9_] only). */
export const ZONE_KEY: Record<Restricted, string> = { iot: 'iot', 'local-only': 'localonly', quarantine: 'quarantine', blocked: 'blocked' };

export interface UciDevice {
  plan: PlanDevice;
  mac: string;
  id: string;
  zone: Restricted;
  /** ASCII, for rule names. */
  label: string;
  /** Its own usable addresses (for the rule against inbound connections). */
  ips: string[];
  /** iot only: learnt destination addresses by family. */
  dest4: string[];
  dest6: string[];
}

export interface UciGroup {
  index: number;
  macs: string[];
  domains: string[];
  set4: string;
  set6: string;
}

export interface UciModel {
  devices: UciDevice[];
  byZone: Record<Restricted, UciDevice[]>;
  groups: UciGroup[];
  /** What could not be written, in plain words. */
  skipped: string[];
}

export function zoneMacSet(zone: Restricted, family: 4 | 6): string {
  return `vigie_${ZONE_KEY[zone]}_mac${family}`;
}

export function deviceAddrSet(d: UciDevice, family: 4 | 6): string {
  return `vigie_d_${d.id}_ip${family}`;
}

function isRestricted(z: Zone): z is Restricted {
  return (RESTRICTED as readonly string[]).includes(z);
}

export function buildUciModel(plan: SegmentationPlan): UciModel {
  const skipped: string[] = [];
  const devices: UciDevice[] = [];
  const seen = new Set<string>();
  for (const d of plan.devices) {
    if (!isRestricted(d.zone)) continue;
    const mac = normalMac(d.mac);
    if (!mac) {
      skipped.push(`${d.name}: "${d.mac}" is not a MAC address, device left out`);
      continue;
    }
    if (seen.has(mac)) {
      skipped.push(`${d.name}: ${mac} appears twice in the plan, the first entry is used`);
      continue;
    }
    seen.add(mac);
    const dest = { 4: new Set<string>(), 6: new Set<string>() };
    if (d.zone === 'iot') {
      const addrs = [...d.allow.ipv4, ...d.allow.ipv6, ...d.allow.hosts.flatMap((h) => h.addresses)];
      for (const ip of addrs) {
        const f = ipFamily(ip);
        if (f && usableAddress(ip)) dest[f].add(ip);
        else skipped.push(`${d.name}: "${ip}" is not an internet address, left out of its allow-list`);
      }
    }
    devices.push({
      plan: d,
      mac,
      id: macId(mac),
      zone: d.zone,
      label: asciiLabel(d.name, 60) || mac,
      ips: [...new Set(d.ips.filter(usableAddress))].sort(),
      dest4: [...dest[4]].sort(),
      dest6: [...dest[6]].sort(),
    });
  }
  const byZone = Object.fromEntries(RESTRICTED.map((z) => [z, devices.filter((x) => x.zone === z)])) as Record<Restricted, UciDevice[]>;

  // Host name → the iot devices that may reach it.
  const users = new Map<string, Set<string>>();
  for (const d of byZone.iot) {
    for (const h of d.plan.allow.hosts) {
      const n = dnsName(h.name);
      if (!n) {
        skipped.push(`${d.plan.name}: "${h.name}" is not a DNS name dnsmasq takes, only its learnt addresses are allowed`);
        continue;
      }
      let s = users.get(n);
      if (!s) users.set(n, (s = new Set()));
      s.add(d.mac);
    }
  }
  const bySignature = new Map<string, { macs: string[]; domains: string[] }>();
  for (const name of [...users.keys()].sort()) {
    const macs = [...users.get(name)!].sort();
    const sig = macs.join(',');
    let g = bySignature.get(sig);
    if (!g) bySignature.set(sig, (g = { macs, domains: [] }));
    g.domains.push(name);
  }
  const groups = [...bySignature.values()].map((g, i) => ({ index: i + 1, macs: g.macs, domains: g.domains, set4: `vigie_g${i + 1}_dst4`, set6: `vigie_g${i + 1}_dst6` }));
  return { devices, byZone, groups, skipped };
}

/**
 * Turns Home Assistant Core's discovery tables (../shared/knowledge/home-assistant: DHCP host-name
 * and MAC patterns, mDNS types and TXT properties, HomeKit models, SSDP fields; Apache-2.0, see
 * NOTICE) into Vigie device rules: rules/devices/home-assistant.yaml. Each rule names the family
 * (the HA integration) that matched; the family's brand and category come from the reviewed
 * mapping in rules/families/, whose per-matcher overrides are applied here. Weights follow the
 * signal classes of docs/identification.md. Run with `npm run knowledge`; the output is
 * committed, so that a checkout without ../shared builds the same rules, and a test checks that
 * it is what this importer makes of the tables.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface HaTables {
  dhcp: { domain: string; hostname?: string; macaddress?: string; registered_devices?: boolean }[];
  zeroconf: Record<string, { domain: string; name?: string; properties?: Record<string, string> }[]>;
  homekit: Record<string, { domain: string; always_discover: boolean }>;
  ssdp: Record<string, Record<string, string>[]>;
  integrations: Record<string, { name: string }>;
}

export interface FamilyOverride {
  when: { table: 'dhcp' | 'zeroconf' | 'ssdp' | 'homekit'; service?: string; property?: string; value?: string; model?: string; hostname?: string; macaddress?: string; name?: string; field?: string };
  category: string | null;
  brand?: string | null;
  reason: string;
}

/** What the importer needs of each family: its overrides, and whether its brand is a module maker. */
export interface FamilyInfo {
  overrides?: FamilyOverride[];
}

/** Python's fnmatch.translate, anchored: `*`, `?`, `[seq]`, `[!seq]`; everything else literal. */
export function fnmatchToRegex(pattern: string, anchorEnd = true): string {
  let out = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) out += '\\[';
      else {
        let body = pattern.slice(i + 1, close);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        out += `[${body.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else out += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return anchorEnd ? `${out}$` : out;
}

const literal = (p: string) => p.replace(/\[[^\]]*\]|[*?]/g, '').length;
const exact = (v: string) => `^${v.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`;
const idPart = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

interface OutRule {
  id: string;
  description: string;
  source: string;
  match: Record<string, string | string[]>;
  family: string;
  category?: string;
  vendor?: string;
  weight: number;
}

const SSDP_KIND: Record<string, string> = {
  manufacturer: 'upnpManufacturer', modelName: 'upnpModelName', modelDescription: 'upnpModelDescription', deviceType: 'upnpDeviceType', manufacturerURL: 'upnpManufacturerUrl', st: 'ssdpType', nt: 'ssdpType',
};

function overrideFor(info: FamilyInfo | undefined, table: FamilyOverride['when']['table'], fields: Record<string, string | undefined>): FamilyOverride | undefined {
  return info?.overrides?.find((o) => o.when.table === table && Object.entries(o.when).every(([k, v]) => k === 'table' || fields[k] === v));
}

/**
 * The rules, in the tables' order. `isModulePrefix` says whether a MAC prefix belongs to a module
 * maker (Espressif...): then the prefix alone says little about the brand.
 */
export function importHomeAssistant(t: HaTables, families: Map<string, FamilyInfo>, isModulePrefix: (hex: string) => boolean): OutRule[] {
  const out: OutRule[] = [];
  const counter = new Map<string, number>();
  const next = (table: string, domain: string) => {
    const key = `${table}-${domain}`;
    const n = (counter.get(key) ?? 0) + 1;
    counter.set(key, n);
    return `ha-${table}-${idPart(domain)}-${n}`;
  };
  const name = (d: string) => t.integrations[d]?.name ?? d;
  const missing = new Set<string>();
  const known = (d: string) => {
    if (!families.has(d)) missing.add(d);
    return families.get(d);
  };
  const push = (r: OutRule, o: FamilyOverride | undefined) => {
    if (o) {
      r.category = o.category ?? 'unknown';
      if (o.brand) r.vendor = o.brand;
      r.description += ` ${o.reason}.`.replace(/\.\.$/, '.');
    }
    out.push(r);
  };

  for (const m of t.dhcp) {
    if (m.registered_devices && !m.hostname && !m.macaddress) continue; // names nothing new
    const info = known(m.domain);
    const match: Record<string, string | string[]> = {};
    if (m.hostname) match.hostname = fnmatchToRegex(m.hostname.toLowerCase());
    if (m.macaddress) match.macPrefix = [m.macaddress.replace(/\*$/, '').toLowerCase()];
    const mac = m.macaddress?.replace(/\*$/, '').toLowerCase();
    const weight = m.hostname && mac ? (isModulePrefix(mac) ? 0.75 : 0.85) : m.hostname ? (literal(m.hostname) >= 6 ? 0.75 : literal(m.hostname) >= 4 ? 0.65 : 0.5) : mac && isModulePrefix(mac) ? 0.3 : 0.6;
    const what = [m.hostname ? `DHCP host name ${m.hostname}` : null, m.macaddress ? `MAC ${m.macaddress}` : null].filter(Boolean).join(' and ');
    push(
      { id: next('dhcp', m.domain), description: `Home Assistant's ${name(m.domain)} integration discovers devices by ${what}.`, source: `Home Assistant Core homeassistant/generated/dhcp.py, domain ${m.domain} (Apache-2.0)`, match, family: m.domain, weight },
      overrideFor(info, 'dhcp', { hostname: m.hostname, macaddress: m.macaddress }),
    );
  }

  // A service type that only one family claims is product-specific; a shared one is generic.
  const claimants = new Map<string, Set<string>>();
  for (const [svc, ms] of Object.entries(t.zeroconf)) claimants.set(svc, new Set(ms.map((m) => m.domain)));
  for (const [svc, ms] of Object.entries(t.zeroconf)) {
    const service = svc.replace(/\.$/, '');
    for (const m of ms) {
      const info = known(m.domain);
      const match: Record<string, string | string[]> = { mdnsService: service };
      if (m.name) match.mdnsInstance = fnmatchToRegex(m.name.toLowerCase());
      const props = Object.entries(m.properties ?? {});
      if (props.length) match.mdnsTxt = props.map(([k, v]) => fnmatchToRegex(`${k}=${v}`.toLowerCase()));
      const specific = (claimants.get(svc)?.size ?? 0) === 1;
      const weight = m.name || props.length ? 0.85 : specific ? 0.8 : 0.5;
      const what = [m.name ? `instance ${m.name}` : null, ...props.map(([k, v]) => `TXT ${k}=${v}`)].filter(Boolean).join(', ');
      const [property, value] = props[0] ?? [];
      push(
        { id: next('mdns', m.domain), description: `Home Assistant's ${name(m.domain)} integration discovers devices offering ${service}${what ? ` with ${what}` : ''}.`, source: `Home Assistant Core homeassistant/generated/zeroconf.py, ${svc} (Apache-2.0)`, match, family: m.domain, weight },
        overrideFor(info, 'zeroconf', { service: svc, property, value, name: m.name }),
      );
    }
  }

  for (const [model, m] of Object.entries(t.homekit)) {
    const info = known(m.domain);
    // HomeKit models are matched as prefixes of md= (fnmatch when they hold a wildcard).
    push(
      { id: next('homekit', m.domain), description: `The HomeKit model ${model} is a ${name(m.domain)} accessory.`, source: `Home Assistant Core homeassistant/generated/zeroconf.py HOMEKIT, ${model} (Apache-2.0)`, match: { homekitModel: fnmatchToRegex(model, false) }, family: m.domain, weight: 0.9 },
      overrideFor(info, 'homekit', { model }),
    );
  }

  for (const [domain, ms] of Object.entries(t.ssdp)) {
    const info = known(domain);
    for (const m of ms) {
      const match: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(m)) {
        const kind = SSDP_KIND[k];
        if (!kind) throw new Error(`ssdp.json ${domain}: field ${k} has no Vigie match kind`);
        match[kind] = exact(v);
      }
      const keys = Object.keys(m);
      const weight = keys.length >= 2 ? 0.85 : keys[0] === 'st' || keys[0] === 'nt' ? 0.8 : keys[0] === 'manufacturer' ? 0.75 : 0.5;
      const [field, value] = Object.entries(m).find(([k]) => k !== 'manufacturer') ?? Object.entries(m)[0];
      push(
        { id: next('ssdp', domain), description: `Home Assistant's ${name(domain)} integration discovers UPnP devices with ${Object.entries(m).map(([k, v]) => `${k} "${v}"`).join(', ')}.`, source: `Home Assistant Core homeassistant/generated/ssdp.py, domain ${domain} (Apache-2.0)`, match, family: domain, weight },
        overrideFor(info, 'ssdp', { field, value }),
      );
    }
  }
  if (missing.size) throw new Error(`rules/families/ has no entry for ${[...missing].sort().join(', ')}`);
  return out;
}

const q = (s: string) => JSON.stringify(s);

/** The rules as a YAML file, one flow-style match per rule. */
export function renderRules(rules: OutRule[]): string {
  const lines = [
    '# GENERATED by `npm run knowledge` (daemon/devices/knowledge/import-home-assistant.ts): do not edit.',
    '# From Home Assistant Core\'s discovery tables (homeassistant/generated/{dhcp,zeroconf,ssdp}.py), as',
    '# kept in ../shared/knowledge/home-assistant. This product includes data derived from Home Assistant',
    '# Core (https://github.com/home-assistant/core), Copyright the Home Assistant authors, licensed under',
    '# the Apache License, Version 2.0 (see NOTICE). A rule names the family (the integration) that',
    '# matched; brand and category come from rules/families/families.yaml. Weights: docs/identification.md.',
    'rules:',
  ];
  for (const r of rules) {
    const match = Object.entries(r.match).map(([k, v]) => `${k}: ${Array.isArray(v) ? `[${v.map(q).join(', ')}]` : q(v)}`).join(', ');
    lines.push(`  - id: ${r.id}`, `    description: ${q(r.description)}`, `    source: ${q(r.source)}`, `    match: { ${match} }`, `    family: ${r.family}`);
    if (r.category) lines.push(`    category: ${r.category}`);
    if (r.vendor) lines.push(`    vendor: ${q(r.vendor)}`);
    lines.push(`    weight: ${r.weight}`);
  }
  return `${lines.join('\n')}\n`;
}

export function readTables(dir: string): HaTables {
  const read = <T>(f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as T;
  return { dhcp: read('dhcp.json'), zeroconf: read('zeroconf.json'), homekit: read('homekit.json'), ssdp: read('ssdp.json'), integrations: read('integrations.json') };
}

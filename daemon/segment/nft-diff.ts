/**
 * The dry run's comparison: a plan's sets and zones (nft-model.ts) against what a router has
 * loaded, read from `nft -j list table inet vigie` and `… bridge vigie` (libnftables-json(5):
 * a `set` or `map` object with its `elem` array). Only sets, maps and zones are compared: the
 * chains are generated from them, so they change exactly when these do.
 */
import { canonicalIPv6, type NftFamily, type NftModel, RESTRICTED_ZONES, type RestrictedZone, zoneSetName } from './nft-model.js';

export interface LiveSet {
  family: NftFamily;
  name: string;
  kind: 'set' | 'map';
  elements: string[];
}

/** What is loaded: null for a table that is absent. */
export interface LiveTables {
  inet: LiveSet[] | null;
  bridge: LiveSet[] | null;
}

function element(e: unknown): string {
  if (typeof e === 'string') return canonicalIPv6(e) ?? e.toLowerCase();
  if (typeof e === 'number') return String(e);
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    if ('elem' in o) return element((o.elem as Record<string, unknown>).val);
    if ('prefix' in o) {
      const p = o.prefix as { addr: unknown; len: number };
      return `${element(p.addr)}/${p.len}`;
    }
    if ('range' in o) return (o.range as unknown[]).map(element).join('-');
  }
  return JSON.stringify(e);
}

function verdict(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') {
    const [k, body] = Object.entries(v as Record<string, unknown>)[0] ?? ['?', null];
    const target = (body as { target?: string } | null)?.target;
    return target ? `${k} ${target}` : k;
  }
  return JSON.stringify(v);
}

/** The sets and maps of one `nft -j list table` document. */
export function parseNftJson(text: string, family: NftFamily): LiveSet[] {
  let doc: { nftables?: Record<string, unknown>[] };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch (e) {
    throw new Error(`nft -j printed something that is not JSON: ${(e as Error).message}`);
  }
  const out: LiveSet[] = [];
  for (const item of doc.nftables ?? []) {
    for (const kind of ['set', 'map'] as const) {
      const s = item[kind] as { family: string; name: string; elem?: unknown[] } | undefined;
      if (!s || s.family !== family) continue;
      const elements = (s.elem ?? []).map((e) => (kind === 'map' && Array.isArray(e) ? `${element(e[0])} → ${verdict(e[1])}` : element(e)));
      out.push({ family, name: s.name, kind, elements: elements.sort() });
    }
  }
  return out;
}

interface Expected {
  family: NftFamily;
  name: string;
  purpose: string;
  dynamic: boolean;
  elements: string[];
}

function expected(model: NftModel): Expected[] {
  return [
    ...model.sets.map((s) => ({ family: s.family, name: s.name, purpose: s.purpose, dynamic: s.dynamic, elements: [...s.elements].sort() })),
    ...model.maps.map((m) => ({ family: m.family, name: m.name, purpose: m.purpose, dynamic: false, elements: m.elements.map(([k, c]) => `${k} → jump ${c}`).sort() })),
  ];
}

function liveZones(inet: LiveSet[] | null): Map<string, RestrictedZone> {
  const out = new Map<string, RestrictedZone>();
  for (const z of RESTRICTED_ZONES) for (const mac of inet?.find((s) => s.name === zoneSetName(z))?.elements ?? []) if (!out.has(mac)) out.set(mac, z);
  return out;
}

const key = (s: { family: string; name: string }): string => `${s.family} ${s.name}`;

/** Human-readable differences, in a stable order (zones by MAC, sets by family and name). */
export function diffTables(model: NftModel, live: LiveTables, names: Map<string, string> = new Map()): string[] {
  const out: string[] = [];
  const want = expected(model);
  if (!live.inet && !live.bridge) {
    out.push("Vigie's tables are not loaded: the whole plan is new.");
    const n = want.reduce((k, s) => k + s.elements.length, 0);
    out.push(`It would restrict ${model.devices.length} device${model.devices.length === 1 ? '' : 's'} with ${want.length} sets and maps holding ${n} elements:`);
    for (const d of model.devices) out.push(`  ${d.mac} ${names.get(d.mac) ?? d.label}: ${d.zone}${d.hosts.length ? `, ${d.hosts.length} allowed name${d.hosts.length === 1 ? '' : 's'}` : ''}`);
    return out;
  }
  for (const f of ['inet', 'bridge'] as const) if (!live[f]) out.push(`Table ${f} vigie is not loaded: all its sets are new.`);

  const before = liveZones(live.inet);
  const after = new Map(model.devices.map((d) => [d.mac, d.zone] as const));
  const macs = [...new Set([...before.keys(), ...after.keys()])].sort();
  const zoneLines: string[] = [];
  for (const mac of macs) {
    const a = before.get(mac) ?? 'trusted';
    const b = after.get(mac) ?? 'trusted';
    if (a !== b) zoneLines.push(`  ${mac} ${names.get(mac) ?? model.devices.find((d) => d.mac === mac)?.label ?? ''}`.trimEnd() + `: ${a} → ${b}`);
  }
  out.push(zoneLines.length ? `Zones (${zoneLines.length} change${zoneLines.length === 1 ? '' : 's'}):` : 'Zones: no change.', ...zoneLines);

  const liveByKey = new Map([...(live.inet ?? []), ...(live.bridge ?? [])].map((s) => [key(s), s]));
  const wantByKey = new Map(want.map((s) => [key(s), s]));
  const keys = [...new Set([...liveByKey.keys(), ...wantByKey.keys()])].sort();
  const setLines: string[] = [];
  let unchanged = 0;
  let dynamicDropped = false;
  for (const k of keys) {
    const w = wantByKey.get(k);
    const l = liveByKey.get(k);
    if (w && !l) {
      setLines.push(`  ${k} (${w.purpose}): new, ${w.elements.length} element${w.elements.length === 1 ? '' : 's'}`, ...w.elements.map((e) => `    + ${e}`));
      continue;
    }
    if (l && !w) {
      setLines.push(`  ${k}: removed, with its ${l.elements.length} element${l.elements.length === 1 ? '' : 's'}`);
      continue;
    }
    const have = new Set(l!.elements);
    const next = new Set(w!.elements);
    const added = w!.elements.filter((e) => !have.has(e));
    const removed = l!.elements.filter((e) => !next.has(e));
    if (added.length === 0 && removed.length === 0) {
      unchanged++;
      continue;
    }
    if (w!.dynamic && removed.length > 0) dynamicDropped = true;
    setLines.push(`  ${k} (${w!.purpose}): +${added.length} −${removed.length}`, ...added.map((e) => `    + ${e}`), ...removed.map((e) => `    - ${e}`));
  }
  out.push(setLines.length ? 'Sets:' : 'Sets: no change.', ...setLines);
  if (unchanged > 0 && setLines.length > 0) out.push(`Unchanged: ${unchanged} set${unchanged === 1 ? '' : 's'} and maps.`);
  if (dynamicDropped) out.push('Addresses dnsmasq added at resolution time are among the removed elements of the allow-lists: they come back at the next lookup once dnsmasq\'s cache is cleared.');
  return out;
}

/**
 * Turns a device's observations into a category, brand, model and module maker, with the
 * evidence behind them. Each matching rule is evidence for its category, with the weight its
 * signal class earned in the calibration (docs/identification.md); distinct observations combine
 * as independent evidence, 1 - Π(1 - w), and one observation counts once however many rules
 * read it. A category is named when its score reaches THRESHOLD and beats every rival by MARGIN;
 * rivals lower the confidence and are reported, never silently dropped. Precision first: a
 * device with nothing conclusive stays `unknown`, with its evidence.
 */
import type { Conflict, Evidence } from '../model/device.js';
import type { DeviceFacts } from './facts.js';
import { type Category, type Condition, type DeviceKnowledge, type DeviceRule, KIND_BIT, MATCH_KINDS, type MatchKind, moduleMaker, PARENT_CATEGORY } from './rules.js';

export type { Conflict, Evidence };

export interface Classification {
  category: Category;
  confidence: number;
  vendor: string | null;
  model: string | null;
  /** "Wi-Fi module: Espressif" when the MAC's registrant makes modules, not the device. */
  module: string | null;
  evidence: Evidence[];
  conflicts: Conflict[];
}

export interface Identity {
  mac: string | null;
  ouiVendor: string | null;
  randomized: boolean;
}

/** One signal that is right four times in five names a category alone (see the calibration). */
export const THRESHOLD = 0.6;
export const MARGIN = 0.2;
/** A subtype (doorbell) inherits its parent's (camera) evidence once its own reaches this. */
const SUBTYPE_OWN = 0.5;
const PERSONAL = new Set<Category>(['phone', 'computer', 'tablet']);

interface Match {
  text: string;
  groups: string[];
}

type Values = Iterable<string> | null | undefined;

/** The observed values a regex condition reads, with how the evidence names them. */
function valuesOf(kind: MatchKind, id: Identity, f: DeviceFacts, offer: { instances: Set<string>; txt: Set<string> } | null): { values: Values; label: (v: string) => string } {
  const q = (l: string) => (v: string) => `${l} "${v}"`;
  switch (kind) {
    case 'oui':
      return { values: id.ouiVendor ? [id.ouiVendor] : null, label: q('MAC vendor (IEEE)') };
    case 'dhcpVendorClass':
      return { values: f.dhcpVendorClass ? [f.dhcpVendorClass] : null, label: q('DHCP vendor class') };
    case 'hostname':
      return { values: f.hostnames.keys(), label: (v) => `host name (${f.hostnames.get(v)}) "${v}"` };
    case 'mdnsInstance':
      return { values: offer ? offer.instances : allOf(f, 'instances'), label: q('mDNS instance') };
    case 'mdnsTxt':
      return { values: offer ? offer.txt : allOf(f, 'txt'), label: q('mDNS TXT') };
    case 'mdnsModel':
      return { values: f.mdnsModels, label: q('mDNS model') };
    case 'homekitModel':
      return { values: f.homekitModels, label: q('HomeKit model') };
    case 'ssdpServer':
      return { values: f.ssdpServers, label: q('SSDP server') };
    case 'ssdpType':
      return { values: f.ssdpTypes, label: q('SSDP type') };
    case 'upnpManufacturer':
    case 'upnpModelName':
    case 'upnpModelNumber':
    case 'upnpModelDescription':
    case 'upnpDeviceType':
    case 'upnpManufacturerUrl':
    case 'upnpFriendlyName': {
      const field = UPNP_FIELD[kind] as string;
      return { values: f.upnp.get(field), label: q(`UPnP ${field}`) };
    }
    case 'wsdType':
      return { values: f.wsdTypes, label: q('WS-Discovery type') };
    case 'wsdScope':
      return { values: f.wsdScopes, label: q('WS-Discovery scope') };
    case 'kasaModel':
      return { values: f.kasaModels, label: q('Kasa model') };
    case 'kasaType':
      return { values: f.kasaTypes, label: q('Kasa type') };
    case 'coapPath':
      return { values: f.coapPaths, label: q('CoAP resource') };
    case 'userAgent':
      return { values: f.userAgents, label: q('User-Agent') };
    case 'domainPattern':
      return { values: f.domains, label: (v) => `contacted ${v}` };
    case 'mqttTopic':
      return { values: f.mqttTopics, label: q('MQTT topic') };
    default:
      return { values: null, label: q(kind) };
  }
}

export const UPNP_FIELD: Partial<Record<MatchKind, string>> = {
  upnpManufacturer: 'manufacturer', upnpModelName: 'modelName', upnpModelNumber: 'modelNumber', upnpModelDescription: 'modelDescription',
  upnpDeviceType: 'deviceType', upnpManufacturerUrl: 'manufacturerURL', upnpFriendlyName: 'friendlyName',
};

function* allOf(f: DeviceFacts, key: 'instances' | 'txt'): Iterable<string> {
  for (const o of f.mdnsOffers.values()) yield* o[key];
}

/**
 * Which kinds of observation the device has at all: rules needing another are skipped. The
 * collections' sizes come from growth(); the MAC and DHCP's words are there or not.
 */
function presentKinds(id: Identity, f: DeviceFacts, sizes: Float64Array): number {
  let m = 0;
  if (id.ouiVendor) m |= KIND_BIT.oui;
  if (id.mac) m |= KIND_BIT.macPrefix;
  if (f.dhcpVendorClass) m |= KIND_BIT.dhcpVendorClass;
  if (f.dhcpParams) m |= KIND_BIT.dhcpParams;
  for (let i = 0; i < sizes.length; i++) if (sizes[i] > 0) m |= KIND_BIT[MATCH_KINDS[i]];
  return m;
}

/** Every pattern must match one of the values; the first value matched is the evidence. */
function regexMatch(c: Condition, values: Values, label: (v: string) => string): Match | null {
  if (!values) return null;
  let first: Match | null = null;
  for (const re of c.patterns) {
    let hit: Match | null = null;
    for (const v of values) {
      const m = re.exec(v);
      if (m) {
        hit = { text: label(v), groups: m.slice(1) };
        break;
      }
    }
    if (!hit) return null;
    first ??= hit;
  }
  return first;
}

function conditionMatch(c: Condition, id: Identity, macHex: string | null, f: DeviceFacts, offer: { instances: Set<string>; txt: Set<string> } | null): Match | null {
  switch (c.kind) {
    case 'macPrefix':
      return macHex && c.values.some((p) => macHex.startsWith(p)) ? { text: `MAC ${id.mac}`, groups: [] } : null;
    case 'dhcpParams':
      return f.dhcpParams && f.dhcpParams.join(',') === c.values[0] ? { text: `DHCP parameter request list ${c.values[0]}`, groups: [] } : null;
    case 'mdnsService':
      return f.mdnsServices.has(c.values[0]) ? { text: `offers mDNS service ${c.values[0]}`, groups: [] } : null;
    case 'mdnsBrowse':
      return f.mdnsBrowses.has(c.values[0]) ? { text: `browses for mDNS service ${c.values[0]}`, groups: [] } : null;
    case 'protocol':
      return f.protocols.has(c.values[0]) ? { text: `protocol ${c.values[0]}`, groups: [] } : null;
    case 'ja4':
      for (const j of f.ja4) if (c.values.includes(j)) return { text: `TLS JA4 ${j}`, groups: [] };
      return null;
    case 'domain':
      for (const d of f.domains) if (domainIn(d, c.values)) return { text: `contacted ${d}`, groups: [] };
      return null;
    default: {
      const { values, label } = valuesOf(c.kind, id, f, c.kind === 'mdnsTxt' || c.kind === 'mdnsInstance' ? offer : null);
      return regexMatch(c, values, label);
    }
  }
}

function domainIn(name: string, list: string[]): boolean {
  return list.some((d) => name === d || name.endsWith(`.${d}`));
}

/** All conditions of the rule hold: the first one's observation is the evidence. */
function ruleMatch(rule: DeviceRule, id: Identity, macHex: string | null, f: DeviceFacts): Match | null {
  // TXT and instance conditions read the service the same rule names, if it names one.
  const svc = rule.conditions.find((c) => c.kind === 'mdnsService');
  const scoped = svc !== undefined && rule.conditions.some((c) => c.kind === 'mdnsTxt' || c.kind === 'mdnsInstance');
  const offer = scoped ? (f.mdnsOffers.get(svc.values[0]) ?? null) : null;
  if (scoped && !offer) return null;
  let first: Match | null = null;
  let groups: string[] = [];
  for (const c of rule.conditions) {
    const m = conditionMatch(c, id, macHex, f, offer);
    if (!m) return null;
    first ??= m;
    if (groups.length === 0 && m.groups.length > 0) groups = m.groups;
  }
  return first ? { text: first.text, groups } : null;
}

function combine(weights: Iterable<number>): number {
  let miss = 1;
  for (const w of weights) miss *= 1 - w;
  return 1 - miss;
}

const round = (x: number) => Math.round(x * 100) / 100;

/** The model in the device's own words when no rule extracted one. */
function ownModel(f: DeviceFacts): string | null {
  const first = (s: Set<string> | undefined) => (s && s.size > 0 ? [...s][0] : null);
  const kasa = first(f.kasaModels);
  if (kasa) return kasa;
  const hk = first(f.homekitModels);
  if (hk) return hk;
  const upnp = first(f.upnp.get('modelName'));
  if (upnp) {
    const num = first(f.upnp.get('modelNumber'));
    return num && !upnp.includes(num) ? `${upnp} ${num}` : upnp;
  }
  for (const s of f.wsdScopes) {
    const m = /^onvif:\/\/www\.onvif\.org\/hardware\/(.+)$/i.exec(s);
    if (m) return m[1];
  }
  for (const kv of f.mdnsModels) {
    const m = /^(?:md|model|mdl|usb_MDL|ty|product)=\(?([^)]+)\)?$/i.exec(kv);
    if (m && m[1].trim()) return m[1].trim();
  }
  return null;
}

/**
 * How far each kind of a device's observations has grown (0 for the MAC and DHCP's words, which
 * are no collections): the collections of DeviceFacts only
 * ever grow (bounded, never emptied), so a rule whose kinds have the same sizes as when it was
 * last evaluated gives the same result (a value added later comes after those it matched). The
 * MAC and DHCP's words can change rather than grow: they are the memo's key (see classify()).
 */
function growth(f: DeviceFacts, out: Float64Array): void {
  let inst = 0;
  let txt = 0;
  for (const o of f.mdnsOffers.values()) {
    inst += o.instances.size;
    txt += o.txt.size;
  }
  const set = (k: MatchKind, n: number) => (out[KIND_INDEX[k]] = n);
  set('hostname', f.hostnames.size);
  set('mdnsService', f.mdnsServices.size);
  set('mdnsBrowse', f.mdnsBrowses.size);
  set('mdnsInstance', inst);
  set('mdnsTxt', txt);
  set('mdnsModel', f.mdnsModels.size);
  set('homekitModel', f.homekitModels.size);
  set('ssdpServer', f.ssdpServers.size);
  set('ssdpType', f.ssdpTypes.size);
  for (const [k, field] of Object.entries(UPNP_FIELD) as [MatchKind, string][]) set(k, f.upnp.get(field)?.size ?? 0);
  set('wsdType', f.wsdTypes.size);
  set('wsdScope', f.wsdScopes.size);
  set('kasaModel', f.kasaModels.size);
  set('kasaType', f.kasaTypes.size);
  set('coapPath', f.coapPaths.size);
  set('userAgent', f.userAgents.size);
  set('domain', f.domains.size);
  set('domainPattern', f.domains.size);
  set('protocol', f.protocols.size);
  set('mqttTopic', f.mqttTopics.size);
  set('ja4', f.ja4.size);
}

const KIND_INDEX = Object.fromEntries(MATCH_KINDS.map((k, i) => [k, i])) as Record<MatchKind, number>;
/** Each rule's kinds, by rule index (distinct). */
const ruleKinds = new WeakMap<DeviceKnowledge, Uint8Array[]>();
function kindsOf(k: DeviceKnowledge): Uint8Array[] {
  let all = ruleKinds.get(k);
  if (!all) {
    all = k.rules.map((r) => Uint8Array.from(new Set(r.conditions.map((c) => KIND_INDEX[c.kind]))));
    ruleKinds.set(k, all);
  }
  return all;
}

/**
 * Each rule's last result for a device and the sizes of what it read then (their sum: sizes only
 * grow, so an equal sum means equal sizes). A device's names, fingerprints and topics grow at
 * each flow, and the rule book has 882 rules: only those reading what grew run again.
 */
interface Memo {
  k: DeviceKnowledge;
  key: string;
  stamp: Float64Array;
  results: (Match | null | undefined)[];
  /** Contacted names already looked up in the domain index, and the rules they hit (first name first). */
  domainsDone: number;
  domainSeen: Set<DeviceRule>;
  domainHits: { rule: DeviceRule; domain: string }[];
}
const memos = new WeakMap<DeviceFacts, Memo>();
const sizes = new Float64Array(MATCH_KINDS.length);

export function classify(k: DeviceKnowledge, id: Identity, f: DeviceFacts): Classification {
  growth(f, sizes);
  const present = presentKinds(id, f, sizes);
  const kinds = kindsOf(k);
  const key = `${id.mac}\u0000${id.ouiVendor}\u0000${f.dhcpVendorClass}\u0000${f.dhcpParams?.join(',')}`;
  let memo = memos.get(f);
  if (!memo || memo.k !== k || memo.key !== key) memos.set(f, (memo = { k, key, stamp: new Float64Array(k.rules.length).fill(-1), results: [], domainsDone: 0, domainSeen: new Set(), domainHits: [] }));
  const macHex = id.mac ? id.mac.replace(/:/g, '') : null;
  const evidence: Evidence[] = [];
  const groupsOf = new Map<Evidence, string[]>();
  const push = (rule: DeviceRule, m: Match) => {
    const e: Evidence = { observation: m.text, rule: rule.id, category: rule.category, vendor: rule.vendor, weight: rule.weight, signal: rule.signal, source: rule.source };
    evidence.push(e);
    if (rule.model) groupsOf.set(e, m.groups);
  };
  const byId = new Map<string, DeviceRule>();
  for (let i = 0; i < k.rules.length; i++) {
    const rule = k.rules[i];
    if ((rule.mask & present) !== rule.mask) continue;
    if (rule.kind === 'domain' && rule.conditions.length === 1) continue; // through the index below
    const ks = kinds[i];
    let stamp = 0;
    for (let j = 0; j < ks.length; j++) stamp += sizes[ks[j]];
    let m: Match | null;
    const known = memo.results[i];
    if (known !== undefined && memo.stamp[i] === stamp) m = known;
    else {
      m = memo.results[i] = ruleMatch(rule, id, macHex, f);
      memo.stamp[i] = stamp;
    }
    if (m) {
      push(rule, m);
      byId.set(rule.id, rule);
    }
  }
  // Contacted names, looked up by each of their suffixes: only the names added since the last
  // classification (a Set iterates in insertion order, so the first name to hit a rule is still
  // the one its evidence shows).
  if (memo.domainsDone > f.domains.size) memo.domainsDone = 0;
  let i = 0;
  for (const d of f.domains) {
    if (i++ < memo.domainsDone) continue;
    for (let s = d; ; ) {
      const rules = k.domainIndex.get(s);
      if (rules) {
        for (const r of rules) {
          if (memo.domainSeen.has(r)) continue;
          memo.domainSeen.add(r);
          memo.domainHits.push({ rule: r, domain: d });
        }
      }
      const dot = s.indexOf('.');
      if (dot < 0) break;
      s = s.slice(dot + 1);
    }
  }
  memo.domainsDone = f.domains.size;
  for (const h of memo.domainHits) {
    push(h.rule, { text: `contacted ${h.domain}`, groups: [] });
    byId.set(h.rule.id, h.rule);
  }

  // Scores: per category, one weight per distinct observation (the strongest rule reading it).
  const own = new Map<Category, Map<string, number>>();
  for (const e of evidence) {
    if (!e.category) continue;
    let obs = own.get(e.category);
    if (!obs) own.set(e.category, (obs = new Map()));
    obs.set(e.observation, Math.max(obs.get(e.observation) ?? 0, e.weight));
  }
  const scores = new Map<Category, number>();
  for (const [c, obs] of own) {
    const parent = PARENT_CATEGORY[c];
    const mine = combine(obs.values());
    if (parent && own.has(parent) && mine >= SUBTYPE_OWN) {
      const merged = new Map(own.get(parent));
      for (const [o, w] of obs) merged.set(o, Math.max(merged.get(o) ?? 0, w));
      scores.set(c, combine(merged.values()));
    } else scores.set(c, mine);
  }
  const ranked = [...scores].sort((a, b) => b[1] - a[1]);
  const related = (a: Category, b: Category) => PARENT_CATEGORY[a] === b || PARENT_CATEGORY[b] === a;
  const best = ranked[0];
  const rivals = best ? ranked.slice(1).filter(([c]) => !related(c, best[0])) : [];
  const rival = rivals[0]?.[1] ?? 0;
  let category: Category = 'unknown';
  let confidence = 0;
  if (best && best[1] >= THRESHOLD && best[1] - rival >= MARGIN) {
    category = best[0];
    confidence = round(best[1] * (1 - rival));
  }
  const conflicts: Conflict[] = (category === 'unknown' ? ranked : rivals)
    .filter(([, s]) => s >= 0.3)
    .map(([c, s]) => ({ category: c, score: round(s), rules: evidence.filter((e) => e.category === c).map((e) => e.rule) }));

  // Brand: the strongest rule naming one. A contacted cloud does not name the brand of a phone
  // or computer: their owners' apps reach the same clouds as the devices.
  const personal = PERSONAL.has(category) || [...own.keys()].some((c) => PERSONAL.has(c) && (scores.get(c) ?? 0) >= 0.5);
  let vendor: Evidence | null = null;
  for (const e of evidence) if (e.vendor && !(personal && e.signal === 'cloud') && (!vendor || e.weight > vendor.weight)) vendor = e;
  const maker = moduleMaker(k, id.ouiVendor);
  let module: string | null = null;
  if (maker) {
    module = `${maker.kind}: ${maker.maker}`;
    evidence.push({ observation: `MAC vendor (IEEE) "${id.ouiVendor}"`, rule: `module-${maker.id}`, category: null, vendor: null, weight: 0, signal: 'mac', source: maker.source });
  }

  let model: { name: string; weight: number } | null = null;
  for (const [e, groups] of groupsOf) {
    const rule = byId.get(e.rule);
    if (!rule?.model || (model && e.weight <= model.weight)) continue;
    const name = rule.model.replace(/\$(\d)/g, (_, n: string) => groups[Number(n) - 1] ?? '').trim();
    if (name) model = { name, weight: e.weight };
  }
  return {
    category,
    confidence,
    vendor: vendor?.vendor ?? (maker ? null : id.ouiVendor),
    model: model?.name ?? ownModel(f),
    module,
    evidence,
    conflicts,
  };
}

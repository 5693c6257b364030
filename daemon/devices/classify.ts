/**
 * Turns a device's observations into a category, vendor and model, with the evidence behind
 * them. Each matching rule is independent evidence for its category, combined as 1 - Π(1 - w);
 * a category is named only when its score reaches `threshold` and clearly beats the next one.
 * Precision first: a device with nothing conclusive stays `unknown`.
 */
import type { DeviceFacts } from './facts.js';
import type { Category, DeviceRule } from './rules.js';

export interface Evidence {
  observation: string;
  rule: string;
  category: Category | null;
  weight: number;
}

export interface Classification {
  category: Category;
  confidence: number;
  vendor: string | null;
  model: string | null;
  evidence: Evidence[];
}

export interface Identity {
  mac: string | null;
  ouiVendor: string | null;
  randomized: boolean;
}

const THRESHOLD = 0.6;

/** Does a domain or one of its parents appear in the list? */
function domainMatch(name: string, list: string[]): boolean {
  const n = name.toLowerCase();
  return list.some((d) => n === d || n.endsWith(`.${d}`));
}

function observations(rule: DeviceRule, id: Identity, f: DeviceFacts): { text: string; groups: string[] }[] {
  const re = rule.pattern;
  const out: { text: string; groups: string[] }[] = [];
  const test = (value: string | null | undefined, label: string) => {
    if (!value || !re) return;
    const m = re.exec(value);
    if (m) out.push({ text: `${label} "${value}"`, groups: m.slice(1) });
  };
  switch (rule.kind) {
    case 'oui':
      test(id.ouiVendor, 'MAC vendor (IEEE)');
      break;
    case 'macPrefix':
      if (id.mac && rule.values.some((p) => id.mac!.startsWith(p))) out.push({ text: `MAC ${id.mac}`, groups: [] });
      break;
    case 'dhcpVendorClass':
      test(f.dhcpVendorClass, 'DHCP vendor class');
      break;
    case 'dhcpParams':
      if (f.dhcpParams && f.dhcpParams.join(',') === rule.values[0]) out.push({ text: `DHCP parameter request list ${rule.values[0]}`, groups: [] });
      break;
    case 'hostname':
      for (const [name, source] of f.hostnames) test(name, `host name (${source})`);
      break;
    case 'mdnsService':
      if (f.mdnsServices.has(rule.values[0])) out.push({ text: `mDNS service ${rule.values[0]}`, groups: [] });
      break;
    case 'mdnsModel':
      for (const m of f.mdnsModels) test(m, 'mDNS model');
      break;
    case 'ssdpServer':
      for (const s of f.ssdpServers) test(s, 'SSDP server');
      break;
    case 'ssdpType':
      for (const s of f.ssdpTypes) test(s, 'SSDP type');
      break;
    case 'domain':
      for (const d of f.domains) if (domainMatch(d, rule.values)) out.push({ text: `contacted ${d}`, groups: [] });
      break;
    case 'protocol':
      if (f.protocols.has(rule.values[0])) out.push({ text: `protocol ${rule.values[0]}`, groups: [] });
      break;
    case 'mqttTopic':
      for (const t of f.mqttTopics) test(t, 'MQTT topic');
      break;
    case 'ja4':
      for (const j of f.ja4) if (rule.values.includes(j)) out.push({ text: `TLS JA4 ${j}`, groups: [] });
      break;
  }
  return out.slice(0, 1); // one observation per rule is enough evidence; more would double count
}

export function classify(rules: DeviceRule[], id: Identity, f: DeviceFacts): Classification {
  const evidence: Evidence[] = [];
  const scores = new Map<Category, number>();
  let vendor: { name: string; weight: number } | null = null;
  let model: { name: string; weight: number } | null = null;
  for (const rule of rules) {
    for (const o of observations(rule, id, f)) {
      evidence.push({ observation: o.text, rule: rule.id, category: rule.category, weight: rule.weight });
      if (rule.category) scores.set(rule.category, 1 - (1 - (scores.get(rule.category) ?? 0)) * (1 - rule.weight));
      if (rule.vendor && (!vendor || rule.weight > vendor.weight)) vendor = { name: rule.vendor, weight: rule.weight };
      if (rule.model && (!model || rule.weight > model.weight)) {
        const name = rule.model.replace(/\$(\d)/g, (_, n) => o.groups[Number(n) - 1] ?? '');
        if (name.trim()) model = { name: name.trim(), weight: rule.weight };
      }
    }
  }
  const ranked = [...scores].sort((a, b) => b[1] - a[1]);
  const [best, second] = ranked;
  let category: Category = 'unknown';
  let confidence = 0;
  if (best && best[1] >= THRESHOLD && (!second || best[1] - second[1] >= 0.2)) {
    category = best[0];
    confidence = Math.round(best[1] * 100) / 100;
  }
  return { category, confidence, vendor: vendor?.name ?? id.ouiVendor, model: model?.name ?? null, evidence };
}

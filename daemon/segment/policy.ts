/**
 * The zone policy (rules/zones/*.yaml): ordered rules from a device's category, alerts and
 * behaviour to a zone, with the reason in plain words. Loaded like every rule file: schema-checked,
 * errors as `file:line: field: reason`, refused whole.
 */
import { CATEGORIES } from '../devices/rules.js';
import type { Zone, ZoneCondition, ZoneRule } from '../model/plan.js';
import type { DeviceProfile } from '../model/profile.js';
import { BUILTIN_RULES, type CloudPlatform, cloudOf, cloudOfProtocol, loadRuleSet, type RuleError } from '../rules/load.js';
import type { Alert } from '../verdicts/alert.js';
import { severityRank } from '../model/severity.js';

export type { ZoneCondition, ZoneRule };

const PLACEHOLDERS = new Set(['device', 'category', 'alert', 'severity', 'viewers', 'behaviour']);
const NEEDS: Record<string, { what: string; test: (w: ZoneCondition) => boolean }> = {
  alert: { what: 'an alert condition', test: (w) => w.alert !== undefined },
  severity: { what: 'an alert condition', test: (w) => w.alert !== undefined },
  viewers: { what: 'localViewer: true', test: (w) => w.localViewer === true },
  behaviour: { what: 'behavesLikeIot: true', test: (w) => w.behavesLikeIot === true },
};

export function loadZonePolicy(dirs: string[] = [BUILTIN_RULES]): ZoneRule[] {
  return loadRuleSet<ZoneRule>(dirs, 'zones', '../segment/zone-policy.schema.json', 'zones', (rule, field, file, line) => {
    const errors: RuleError[] = [];
    for (const c of rule.when.category ?? []) {
      if (!(CATEGORIES as readonly string[]).includes(c)) errors.push({ file, line, field: `${field}.when.category`, reason: `unknown category "${c}" (one of ${CATEGORIES.join(', ')})` });
    }
    for (const m of rule.because.matchAll(/\{([^}]*)\}/g)) {
      if (!PLACEHOLDERS.has(m[1])) errors.push({ file, line, field: `${field}.because`, reason: `unknown placeholder {${m[1]}} (one of ${[...PLACEHOLDERS].map((p) => `{${p}}`).join(' ')})` });
      // A placeholder whose value only a condition guarantees would read as a blank.
      const needs = NEEDS[m[1]];
      if (needs && !needs.test(rule.when)) errors.push({ file, line, field: `${field}.because`, reason: `{${m[1]}} needs ${needs.what} in \`when\`` });
    }
    return errors;
  });
}

/** What the policy looks at for one device. */
export interface DeviceFactsForZone {
  name: string;
  category: string;
  personal: boolean;
  alerts: Alert[];
  profile: DeviceProfile | undefined;
  /** Names of LAN devices by MAC, for the reasons. */
  nameOf: (mac: string | null, ip: string) => string;
}

/** Application protocols only embedded devices speak to the internet. */
const IOT_APPS = new Set(['mqtt', 'coap', 'tuya', 'pppp', 'rtmp', 'rtsp']);
/** Ports a LAN viewer pulls a camera's picture from: RTSP (RFC 7826), ONVIF/HTTP, vendors' SDK ports. */
const VIEWER_PORTS = new Set([554, 8554, 80, 443, 8000, 8080, 8443, 8899, 34567, 37777]);
const VIEWER_APPS = new Set(['rtsp', 'rtp', 'http', 'tls', 'rtmp']);
/** A device that reaches at most this many domains while learning looks like an appliance. */
const FEW_DOMAINS = 5;
const MIN_FLOWS_FOR_FEW = 20;

/** Why the device looks like an IoT device, in words; empty when it does not. */
export function iotBehaviour(p: DeviceProfile | undefined, platforms: CloudPlatform[]): string[] {
  if (!p) return [];
  const out: string[] = [];
  const apps = new Set<string>();
  const clouds = new Set<string>();
  const domains = new Set<string>();
  for (const d of p.destinations) {
    if (d.app && IOT_APPS.has(d.app)) apps.add(d.app);
    const c = (d.host ? cloudOf(platforms, d.host) : undefined) ?? (d.app ? cloudOfProtocol(platforms, d.app) : undefined);
    if (c) clouds.add(c.name);
    domains.add(d.domain ?? d.addresses[0]);
  }
  if (apps.size > 0) out.push(`it speaks ${[...apps].sort().join(', ').toUpperCase()} to the internet`);
  if (clouds.size > 0) out.push(`it talks to the IoT cloud ${[...clouds].sort().join(', ')}`);
  if (out.length === 0 && domains.size > 0 && domains.size <= FEW_DOMAINS && p.volumes.flows >= MIN_FLOWS_FOR_FEW) {
    out.push(`over ${p.volumes.flows} connections it reached only ${domains.size} internet ${domains.size === 1 ? 'domain' : 'domains'}`);
  }
  return out;
}

/** LAN devices that opened media or web connections to this one. */
export function localViewers(f: DeviceFactsForZone): string[] {
  const names = new Set<string>();
  for (const x of f.profile?.peers ?? []) {
    if (x.direction !== 'in' || !x.learned) continue;
    if (VIEWER_PORTS.has(x.port) || (x.app !== null && VIEWER_APPS.has(x.app))) names.add(f.nameOf(x.mac, x.ip));
  }
  return [...names].sort();
}

export interface ZoneDecision {
  zone: Zone;
  rule: string | null;
  reasons: string[];
}

function listWords(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** The first rule whose conditions all hold, with its reason filled in from what held. */
export function decideZone(f: DeviceFactsForZone, rules: ZoneRule[], platforms: CloudPlatform[]): ZoneDecision {
  const behaviour = iotBehaviour(f.profile, platforms);
  const viewers = localViewers(f);
  const live = f.alerts.filter((a) => !a.muted);
  for (const rule of rules) {
    const w = rule.when;
    if (w.category && !w.category.includes(f.category)) continue;
    if (w.personal !== undefined && w.personal !== f.personal) continue;
    if (w.behavesLikeIot !== undefined && w.behavesLikeIot !== behaviour.length > 0) continue;
    if (w.localViewer !== undefined && w.localViewer !== viewers.length > 0) continue;
    if (w.internet !== undefined && w.internet !== (f.profile?.destinations.length ?? 0) > 0) continue;
    let worst: Alert | undefined;
    if (w.alert) {
      const hits = live.filter((a) => (!w.alert!.severity || w.alert!.severity.includes(a.severity)) && (!w.alert!.rule || w.alert!.rule.includes(a.rule)));
      if (hits.length === 0) continue;
      worst = hits.reduce((x, y) => (severityRank(y.severity) > severityRank(x.severity) ? y : x));
    }
    const values: Record<string, string> = {
      device: f.name,
      category: f.category.replace(/_/g, ' '),
      alert: worst ? worst.title : '',
      severity: worst ? worst.severity : '',
      viewers: listWords(viewers),
      behaviour: listWords(behaviour),
    };
    const reasons = [rule.because.replace(/\{([a-z]+)\}/g, (_, k: string) => values[k] ?? '')];
    if (w.behavesLikeIot && behaviour.length > 1) reasons.push(...behaviour.map((b) => `${b[0].toUpperCase()}${b.slice(1)}.`));
    return { zone: rule.zone, rule: rule.id, reasons };
  }
  const cat = f.category === 'unknown' ? 'not identified' : `a ${f.category.replace(/_/g, ' ')}`;
  return { zone: 'trusted', rule: null, reasons: [`${f.name} is ${cat} and nothing it did calls for a restriction (no policy rule matched): it stays unchanged`] };
}

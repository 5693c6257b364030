/**
 * The segmentation plan: which zone each device goes to, why, and what it may still reach. The
 * normative definition is daemon/segment/plan.schema.json (shared by `vigie segment --format
 * json`, GET /api/plan and the dashboard); this is its TypeScript view.
 */
import type { Severity } from './severity.js';

/**
 * trusted: unchanged. iot: internet limited to its learned destinations; on the LAN only its
 * controllers and other iot devices. local-only: no internet, its learned LAN peers kept (the
 * local-first camera). quarantine: no internet, LAN only to its controllers. blocked: nothing.
 */
export const ZONES = ['trusted', 'iot', 'local-only', 'quarantine', 'blocked'] as const;
export type Zone = (typeof ZONES)[number];

export const ZONE_DESCRIPTIONS: Record<Zone, string> = {
  trusted: 'unchanged: the router treats it as before',
  iot: 'internet limited to the destinations it was seen using; on the LAN only the devices that control it and other IoT devices',
  'local-only': 'no internet; keeps the LAN devices it was seen talking to (recordings stay at home)',
  quarantine: 'no internet; on the LAN only the devices that control it',
  blocked: 'nothing: no internet, no LAN',
};

/**
 * A rule of the zone policy (rules/zones/*.yaml, daemon/segment/zone-policy.schema.json): the
 * first whose conditions all hold gives the device its zone, `because` says why in plain words.
 */
export interface ZoneCondition {
  category?: string[];
  personal?: boolean;
  alert?: { severity?: Severity[]; rule?: string[] };
  localViewer?: boolean;
  behavesLikeIot?: boolean;
  internet?: boolean;
}

export interface ZoneRule {
  id: string;
  when: ZoneCondition;
  zone: Zone;
  because: string;
  source: string;
}

/** A LAN device the planned one keeps talking to. */
export interface PlanPeer {
  mac: string | null;
  ips: string[];
  name: string;
  /** `controller`: it opened connections to the device; `peer`: the device opened them. */
  role: 'controller' | 'peer';
  ports: { proto: string; port: number }[];
}

/** A name the device may resolve and reach, with the ports it was seen using. */
export interface PlanHost {
  name: string;
  domain: string | null;
  country: string | null;
  encrypted: boolean | null;
  ports: { proto: string; port: number }[];
  /** Addresses it resolved to while learning: loaded at once, the DNS set adds the rest. */
  addresses: string[];
}

export interface PlanEvidence {
  alerts: { id: string; rule: string; severity: string; title: string }[];
  /** Why the device has its category (the device rules that matched). */
  category: { observation: string; rule: string; category: string | null; weight: number }[];
  /** The busiest internet destinations of the profile. */
  destinations: { host: string; port: number; proto: string; country: string | null; encrypted: boolean | null; up: number; down: number; learned: boolean }[];
}

export interface PlanDevice {
  mac: string;
  name: string;
  vendor: string | null;
  model: string | null;
  category: string;
  ips: string[];
  /** The zone the plan puts the device in. */
  zone: Zone;
  /** What the policy advised (differs from `zone` when the household or a safeguard decided). */
  advised: Zone;
  /** Who decided the zone: the policy rule, the household (config file or dashboard), a safeguard. */
  source: 'policy' | 'user' | 'safeguard';
  /** The policy rule that matched (rules/zones), null when none did. */
  rule: string | null;
  /** In plain words, only what held. */
  reasons: string[];
  evidence: PlanEvidence;
  /** Internet allow-list (iot only; empty otherwise). */
  allow: { hosts: PlanHost[]; ipv4: string[]; ipv6: string[] };
  /** LAN devices kept: controllers for iot and quarantine, all learned peers for local-only. */
  lan: PlanPeer[];
  profile: { state: 'learning' | 'frozen' | 'none'; learningUntil: string | null; changes: number };
}

export interface SegmentationPlan {
  vigie: { version: string; schema: number };
  generated: string;
  source: { kind: 'capture' | 'state'; path: string };
  homeCountry: string | null;
  /** Interfaces of the LAN bridge the rules apply to. */
  lanInterfaces: string[];
  zones: Record<Zone, { description: string; devices: string[] }>;
  devices: PlanDevice[];
  /** Bounds applied and what they cut. */
  limits: {
    hostsPerDevice: number;
    addressesPerDevice: number;
    lanPeersPerDevice: number;
    cut: { hosts: number; addresses: number; lanPeers: number };
    /** Elements in all generated sets. */
    setElements: number;
  };
  /** What the plan cannot enforce, in plain words (Wi-Fi client isolation, MAC spoofing, …). */
  caveats: string[];
}

export const PLAN_SCHEMA_VERSION = 1;

/** An alert, as `vigie analyze --json`, the store and the daemon's API give it (analysis.schema.json#/$defs/alert). */
import type { Severity } from './severity.js';

export interface AlertDestination {
  ip: string;
  port: number;
  hostname: string | null;
  country: string | null;
  asn: number | null;
  org: string | null;
  /** Label of the `networks` entry the address fell in. */
  label: string | null;
  /** The IoT cloud platform it belongs to (rules/clouds). */
  platform: { id: string; name: string; operator: string; country: string } | null;
}

export interface Alert {
  /** Stable: the same rule, device and destination always give the same id. */
  id: string;
  rule: string;
  severity: Severity;
  title: string;
  /** Why the severity is what it is (the escalations that held). */
  reasons: string[];
  device: { id: string; mac: string | null; ip: string | null; vendor: string | null; hostname: string | null; label: string | null; category: string };
  destination: AlertDestination | null;
  protocol: string | null;
  encrypted: boolean | null;
  evidence: Record<string, unknown>;
  remediation: string[];
  firstSeen: string;
  lastSeen: string;
  /** Flows (or, for device rules, occurrences) that matched. */
  count: number;
  muted: boolean;
}

/** A `mutes` entry of the config or the dashboard: every field given must match; `until` ends it. */
export interface Mute {
  rule?: string;
  device?: string;
  destination?: string;
  until?: string;
}

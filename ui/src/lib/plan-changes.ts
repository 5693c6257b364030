// What the router enforces now against the plan shown: the Segmentation page's "what would
// change". The daemon says which plan is applied by digest only (PlanState.applied); zones per
// device are known when nothing is applied (every device unrestricted), when the applied plan is
// the one shown, or when this browser applied it (applied.ts).
import { appliedZones } from './applied';
import type { PlanState, Zone } from './types';

export interface InForce {
  kind: 'none' | 'pending' | 'confirmed' | 'rolled-back';
  /** The plan shown is the one enforced (or waiting for confirmation). */
  current: boolean;
  /** Zones per device are known (zoneOf never answers null). */
  known: boolean;
  /** The zone enforced now for a device; null when this page cannot know. */
  zoneOf(mac: string, shown: Zone): Zone | null;
}

export function inForce(state: PlanState): InForce {
  const a = state.applied;
  if (!a) return { kind: 'none', current: false, known: true, zoneOf: () => 'trusted' };
  const kind = state.pending ? 'pending' : a.confirmed ? 'confirmed' : 'rolled-back';
  // Not confirmed in time: the rules from before it came back, which the daemon does not name.
  if (kind === 'rolled-back') return { kind, current: false, known: false, zoneOf: () => null };
  const current = a.digest === state.digest;
  const zones = current ? null : appliedZones(a.digest);
  return {
    kind,
    current,
    known: current || zones !== null,
    // A device missing from the applied plan got no rules: it is unrestricted.
    zoneOf: (mac, shown) => (current ? shown : zones ? (zones[mac] ?? 'trusted') : null),
  };
}

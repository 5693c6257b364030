// Which zone each device had in the plan this browser applied. The daemon keeps only the applied
// plan's digest (PlanState.applied): remembering the zones beside it lets the Segmentation page
// say, device by device, what applying again would change. Another browser or the CLI applying
// leaves no snapshot here: the page then says only that the plan differs.
import type { SegmentationPlan, Zone } from './types';

const KEY = 'vigie-applied-plan';

export function rememberApplied(digest: string, plan: SegmentationPlan): void {
  const zones: Record<string, Zone> = {};
  for (const d of plan.devices) zones[d.mac] = d.zone;
  try {
    localStorage.setItem(KEY, JSON.stringify({ digest, zones }));
  } catch {
    /* storage full or off: the page falls back to comparing digests */
  }
}

/** The zones of the plan applied under `digest`, if this browser applied it. */
export function appliedZones(digest: string): Record<string, Zone> | null {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? 'null') as { digest: string; zones: Record<string, Zone> } | null;
    return v && v.digest === digest ? v.zones : null;
  } catch {
    return null;
  }
}

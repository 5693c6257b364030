/**
 * What a plan is built from, gathered from a capture's report or a daemon's store, with the
 * household's choices (zones from the config file and the dashboard) and the safeguards.
 */
import type { EngineConfig } from '../analysis/config.js';
import { type DeviceRecord, PERSONAL_CATEGORIES } from '../model/device.js';
import type { Zone } from '../model/plan.js';
import type { DeviceProfile } from '../model/profile.js';
import type { AnalysisReport } from '../model/report.js';
import type { StoreData } from '../store/store.js';
import type { PlanInput } from './plan.js';

export interface PlanContext {
  config: EngineConfig;
  lanInterfaces?: string[];
  protect?: string[];
  /** The address the household manages the router from (SSH_CLIENT, the dashboard's client). */
  managerIp?: string | null;
  only?: string;
  now?: Date;
}

function fileZones(config: EngineConfig): Record<string, Zone> {
  const out: Record<string, Zone> = {};
  for (const [mac, o] of Object.entries(config.deviceOverrides)) if (o.zone) out[mac] = o.zone;
  return out;
}

/** The MACs never restricted: configured, given on the command line, and the manager's own device. */
function protectedMacs(devices: DeviceRecord[], ctx: PlanContext): Set<string> {
  const out = new Set<string>([...(ctx.config.segment?.protect ?? []), ...(ctx.protect ?? []).map((m) => m.toLowerCase())]);
  if (ctx.managerIp) {
    for (const d of devices) if (d.mac && d.ips.some((a) => a.ip === ctx.managerIp)) out.add(d.mac);
  }
  return out;
}

function common(ctx: PlanContext): Pick<PlanInput, 'policy' | 'platforms' | 'lanInterfaces' | 'now' | 'only'> {
  return {
    policy: ctx.config.segment?.policy ?? [],
    platforms: ctx.config.verdicts?.platforms ?? [],
    lanInterfaces: ctx.lanInterfaces && ctx.lanInterfaces.length > 0 ? ctx.lanInterfaces : (ctx.config.segment?.lanInterfaces ?? ['br-lan']),
    now: ctx.now ?? new Date(),
    only: ctx.only,
  };
}

export function inputFromReport(report: AnalysisReport, source: string, ctx: PlanContext): PlanInput {
  return {
    ...common(ctx),
    devices: report.devices,
    profiles: new Map(report.profiles.map((p) => [p.mac, p])),
    alerts: report.alerts,
    personal: (_mac, category) => PERSONAL_CATEGORIES.has(category),
    overrides: fileZones(ctx.config),
    protect: protectedMacs(report.devices, ctx),
    homeCountry: ctx.config.verdicts?.home ?? null,
    source: { kind: 'capture', path: source },
  };
}

export function inputFromStore(data: StoreData, stateDir: string, ctx: PlanContext): PlanInput {
  const devices: DeviceRecord[] = [];
  const overrides = fileZones(ctx.config);
  for (const [mac, s] of Object.entries(data.devices)) {
    if (s.record) devices.push({ ...s.record, label: s.label ?? s.record.label, category: s.category ?? s.record.category });
    if (s.zone) overrides[mac] = s.zone;
  }
  return {
    ...common(ctx),
    devices,
    profiles: new Map<string, DeviceProfile>(Object.entries(data.profiles ?? {})),
    alerts: data.alerts,
    personal: (mac, category) => data.devices[mac]?.personal ?? PERSONAL_CATEGORIES.has(category),
    overrides,
    protect: protectedMacs(devices, ctx),
    homeCountry: data.settings.homeCountry ?? ctx.config.verdicts?.home ?? null,
    source: { kind: 'state', path: stateDir },
  };
}

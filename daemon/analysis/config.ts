/** Engine settings shared by `vigie analyze` and `vigie run`. */
import { DEFAULT_TIMEOUTS, type FlowTimeouts } from '../flows/flow-table.js';
import { parseCidr, type Prefix } from '../flows/locality.js';
import { DEFAULT_REASSEMBLY } from '../flows/tcp-reassembly.js';
import type { DeviceKnowledge } from '../devices/rules.js';
import type { DeviceOverride } from '../model/device.js';
import type { VerdictConfig } from '../verdicts/verdicts.js';
import type { ZoneRule } from '../model/plan.js';

// What the household says about a device is the domain model's (daemon/model/device.ts).
export type { DeviceOverride } from '../model/device.js';

/** Segmentation settings (config `segment:`). */
export interface SegmentSettings {
  /** Seconds a profile learns in the daemon before it freezes. */
  learningSeconds: number;
  lanInterfaces: string[];
  rollbackSeconds: number;
  /** MACs never restricted. */
  protect: string[];
  /** The zone policy (rules/zones). */
  policy: ZoneRule[];
}

export const DEFAULT_SEGMENT: Omit<SegmentSettings, 'policy'> = { learningSeconds: 7 * 86400, lanInterfaces: ['br-lan'], rollbackSeconds: 60, protect: [] };

export interface EngineConfig {
  maxFlows: number;
  maxDevices: number;
  timeouts: FlowTimeouts;
  /** Bytes of each TCP direction reassembled for the protocol stage. */
  streamDepth: number;
  /** Prefixes that count as LAN beyond the private ranges. */
  lanPrefixes: Prefix[];
  /** Seed of the Community ID flow hash (0 unless all tools of a site agree on another). */
  communityIdSeed: number;
  /** Device signatures (rules/devices); empty: every device stays unknown. */
  deviceRules: DeviceKnowledge;
  /** User labels and categories, by MAC (lower case). */
  deviceOverrides: Record<string, DeviceOverride>;
  /** Alert rules and what they need (geo data, trusted countries, mutes); null: no alerts. */
  verdicts: VerdictConfig | null;
  /** TCP volumes from sequence numbers (a capture filter keeps bulk segments out): flow-table.ts. */
  sequenceVolumes?: boolean;
  /** Segmentation settings and zone policy; absent: built-in defaults and rules (loadConfig fills it). */
  segment?: SegmentSettings;
  /**
   * Judge running flows at their protocol messages (default), so that a live alert comes within
   * a second; false: at their end only. Offline nobody waits for an alert, and every flow ends
   * (idle, evicted or at the end of the capture): the report is the same (test/unit/judge-once),
   * each flow judged once instead of up to nine times and once a second.
   */
  judgeRunning?: boolean;
}

export const DEFAULT_CONFIG: EngineConfig = {
  maxFlows: 100_000,
  maxDevices: 200,
  timeouts: DEFAULT_TIMEOUTS,
  streamDepth: DEFAULT_REASSEMBLY.depth,
  lanPrefixes: [],
  communityIdSeed: 0,
  deviceRules: { rules: [], families: new Map(), modules: [], domainIndex: new Map() },
  deviceOverrides: {},
  verdicts: null,
};

export function withLanPrefixes(config: EngineConfig, cidrs: string[]): EngineConfig {
  return { ...config, lanPrefixes: [...config.lanPrefixes, ...cidrs.map(parseCidr)] };
}

/**
 * The shapes the API and the live feed send (docs/api.md), shared with the dashboard: ui/ imports
 * these types, so a change here that the dashboard does not follow fails its type check. Devices,
 * flows and alerts are the records of analysis.schema.json (report/types.ts, verdicts/alert.ts).
 */
import type { DeviceRecord, FlowRecord } from '../report/types.js';
import type { Alert } from '../verdicts/alert.js';
import type { Severity } from '../verdicts/rules.js';
import type { Destination, HourBucket, Retention, StoredMute } from '../store/store.js';
import type { CaptureStatus } from '../capture/supervisor.js';

export type { Alert, DeviceRecord, FlowRecord, Destination, HourBucket, Retention, StoredMute, Severity };
export type { SegmentationPlan, PlanDevice, PlanPeer, PlanHost, Zone } from '../model/plan.js';
export type { DeviceProfile, ProfileDestination, ProfilePeer } from '../model/profile.js';

/** GET /api/plan/state: whether the dashboard may apply, what is applied, the rollback countdown. */
export interface PlanState {
  allowApply: boolean;
  /** Digest of the plan as it would be applied now (zones and lists, not timestamps). */
  digest: string;
  applied: { at: string; digest: string; confirmed: string | null; devices: number } | null;
  /** An applied plan waiting for confirmation: it rolls back by itself when this reaches 0. */
  pending: { secondsLeft: number } | null;
  rollbackSeconds: number;
}

/** GET /api/devices/{mac}/plan. */
export interface DevicePlanView {
  device: import('../model/plan.js').PlanDevice;
  profile: import('../model/profile.js').DeviceProfile | null;
  caveats: string[];
}

export interface DeviceView {
  id: string;
  mac: string | null;
  label: string | null;
  category: string;
  personal: boolean;
  history: boolean;
  online: boolean;
  risk: Severity | null;
  openAlerts: number;
  record: DeviceRecord | null;
  firstSeen: string;
  lastSeen: string;
}

/** A destination as the API gives it: what the store kept, plus the connections still open. */
export interface DestinationView extends Destination {
  /** A connection to it is open now (its bytes so far are included). */
  live: boolean;
}

export interface AlertView extends Alert {
  acknowledged: string | null;
}

/**
 * The bounded tables (issue 15, floods): fill, bound, and what each evicted or dropped to stay
 * within it. `/api/status` carries it as `bounds` (run/status-board.ts), /metrics as the
 * vigie_table_* and vigie_*_evicted_total series.
 */
export interface Bounds {
  flows: { size: number; max: number; evicted: number };
  devices: { size: number; max: number; evicted: number };
  /** The (device, answered address) → name map that names flows from DNS answers. */
  dnsNames: { size: number; max: number; evicted: number };
  /** TCP segments held out of order; holes given up past the budget (overBudget) become gaps. */
  reassembly: { heldBytes: number; maxHeldBytes: number; overBudget: number; gaps: number; gapBytes: number; outOfOrder: number };
  /** IP fragments (never reassembled: later ones are counted and skipped), snap-length cuts, jumbo frames. */
  decode: { fragments: number; laterFragments: number; snapCut: number; jumbo: number };
  /** RTP/RTCP ports RTSP sessions announced, awaiting their flows. */
  rtpPorts: { size: number; max: number; evicted: number };
  /** Devices the store remembers; `evicted`: unnamed ones forgotten for the bound; `refused`: new ones not remembered (all named). */
  storeDevices: { size: number; max: number; evicted: number; refused: number };
  /** Recent-flow texts kept for the API, in characters; `evicted`: devices' lists dropped for the budget. */
  recentFlows: { size: number; max: number; evicted: number; devices: number };
}

export interface Status {
  time: string;
  uptime: number;
  packets: number;
  bytes: number;
  malformed: number;
  packetsPerSecond: number;
  bitsPerSecond: number;
  flows: number;
  flowsTotal: number;
  devices: number;
  devicesKnown: number;
  alerts: { open: number; bySeverity: Record<Severity, number>; total: number };
  capture: CaptureStatus | null;
  replay: { file: string; done: boolean } | null;
  store: {
    writes: number;
    errors: number;
    lastWrite: string | null;
    pending: boolean;
    /** The last write failed: the data is in memory and the write is being retried. */
    failing: boolean;
    lastError: string | null;
    failingSince: string | null;
    /** Less than twice the store's size free in the state folder. */
    lowSpace: boolean;
    freeBytes: number | null;
  };
  rulesError: string | null;
  /** The --event-log file's health (null without one): a full disk loses lines, never the daemon. */
  eventLog: { file: string; written: number; errors: number; failing: boolean; lastError: string | null } | null;
  /** The live feed: clients, and those refused at a cap or dropped for being too slow. */
  live: { clients: number; refused: number; dropped: number; queuedBytes: number };
  memory: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  load: number;
  /** Each bounded table's fill, bound and evictions (what a flood costs). */
  bounds: Bounds;
}

/** Where the home's data goes, by destination country: what the overview's map draws. */
export interface CountryTraffic {
  /** ISO 3166-1 alpha-2, or "unknown" (no geolocation). */
  country: string;
  up: number;
  down: number;
  /** Bytes of flows seen unencrypted (cleartext protocols). */
  cleartextUp: number;
  cleartextDown: number;
  devices: number;
  destinations: number;
}

export interface Overview {
  devices: { total: number; online: number; byCategory: Record<string, number> };
  alerts: { open: number; bySeverity: Record<Severity, number>; total: number };
  /** From the destinations kept (personal devices without history are left out). */
  countries: CountryTraffic[];
  /** Bytes per hour over the last `hours` hours, all devices together. */
  traffic: { hour: string; up: number; down: number }[];
  homeCountry: string | null;
  trusted: string[];
}

export interface Settings {
  homeCountry: string | null;
  trustedCountries: string[] | null;
  trusted: string[];
  eu: string[];
  retention: Retention;
  exports: { eventLog: string | null; syslog: string | null; webhook: string | null; metrics: string };
  /** Bearer tokens and what each may do (wire.ts, TOKEN_SCOPES). */
  tokens: { id: string; name: string; scope: 'read' | 'metrics' | 'admin'; created: string }[];
}

export type LiveMessage =
  | { type: 'hello'; seq: number; version: number; started: string; replay: { file: string; done: boolean } | null }
  | { type: 'alert'; seq: number; new: boolean; alert: AlertView }
  | { type: 'device'; seq: number; new: boolean; device: DeviceView }
  | ({ type: 'stats' } & Status)
  | { type: 'replay'; seq?: number; done: boolean; packets: number }
  | { type: 'resync'; seq?: number }
  | { type: 'plan'; seq?: number; digest: string };

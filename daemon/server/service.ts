/**
 * What the server needs from the daemon: the routes, the plan routes and the metrics talk to this
 * interface, never to daemon/run/ (that was an import cycle, issue 16). The daemon implements it;
 * every change goes through it, and through Store methods behind it.
 */
import type { Category } from '../devices/rules.js';
import type { FlowRecord } from '../report/types.js';
import type { Severity } from '../verdicts/rules.js';
import type { Alert } from '../verdicts/alert.js';
import type { DeviceProfile } from '../model/profile.js';
import type { SegmentationPlan, Zone } from '../model/plan.js';
import type { HourBucket, Retention, StoredMute, StoreOpening } from '../store/store.js';
import type { AlertView, DestinationView, DeviceView, Overview, PlanState, Settings, Status } from './api-types.js';

export interface DevicePatch {
  label?: string | null;
  category?: Category | null;
  personal?: boolean | null;
  history?: boolean;
}

export interface SettingsPatch {
  homeCountry?: string | null;
  trustedCountries?: string[] | null;
  retention?: Partial<Retention>;
}

/** The figures /metrics reads at scrape time. */
export interface MetricsSource {
  packets: number;
  bytes: number;
  malformed: number;
  captureReceived: number;
  captureDropped: number;
  captureInterfaceDropped: number;
  captureReopened: number;
  flowsCreated: number;
  flowsEvicted: number;
  flows: number;
  devices: number;
  devicesKnown: number;
  storeWrites: number;
  storeWriteErrors: number;
  storeFailing: boolean;
  storeLowSpace: boolean;
  timerErrors: number;
  liveClients: number;
  liveRefused: number;
  liveDropped: number;
  liveQueuedBytes: number;
  eventLogWritten: number;
  eventLogErrors: number;
  eventLogFailing: boolean;
}

export interface VigieService {
  status(): Status & { url: string; storeOpening: StoreOpening };
  overview(hours: number): Overview;
  devices(): DeviceView[];
  device(key: string): DeviceView | null;
  setDevice(mac: string, patch: DevicePatch): DeviceView;
  recentFlows(mac: string): FlowRecord[];
  destinations(mac: string): DestinationView[];
  traffic(mac: string): readonly HourBucket[];
  alerts(): AlertView[];
  /** Acknowledges (true) or re-opens (false) an alert; null when there is no such alert. */
  acknowledge(id: string, ack: boolean): AlertView | null;
  mutes(): readonly StoredMute[];
  /** Throws StoreLimitError past the bound. */
  addMute(m: StoredMute): StoredMute;
  removeMute(id: string): boolean;
  settings(): Settings;
  updateSettings(patch: SettingsPatch): Omit<Settings, 'eu' | 'exports' | 'tokens'>;
  metrics(): MetricsSource;
  alertSummary(): { open: number; bySeverity: Record<Severity, number>; highest: Severity | null; last: Alert | null };
  /** New alerts since start by `severity\trule`. */
  raised(): ReadonlyMap<string, number>;
  plan: {
    allowApply: boolean;
    plan(client: string | null): SegmentationPlan;
    profile(mac: string): DeviceProfile | null;
    setZone(mac: string, zone: Zone | null): void;
    setLearning(mac: string, learning: boolean): DeviceProfile | null;
    changed(): void;
    state(): Promise<PlanState>;
    apply(client: string | null, digest?: string): Promise<PlanState>;
    confirm(): Promise<PlanState>;
  };
}

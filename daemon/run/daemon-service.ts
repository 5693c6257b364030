/**
 * The daemon as the server sees it (server/service.ts), made of the daemon's parts: the views
 * read, and each change of the API goes through Store methods, then to the verdicts and the live
 * feed. It takes the parts, not the Daemon, so that nothing here imports daemon.ts (no cycle).
 */
import type { Engine } from '../analysis/engine.js';
import type { Category } from '../model/device.js';
import type { Auth } from '../server/auth.js';
import type { LiveHub } from '../server/live.js';
import type { DevicePatch, SettingsPatch, VigieService } from '../server/service.js';
import type { Store } from '../store/store.js';
import { EU_EEA } from '../verdicts/countries.js';
import type { AlertFanout } from './alert-fanout.js';
import type { InventorySync } from './inventory-sync.js';
import type { PlanControl } from './plan-control.js';
import type { Segmentation } from './segmentation.js';
import type { DaemonSettings } from './settings.js';
import type { StatusBoard } from './status-board.js';
import type { Views } from './views.js';

export interface ServiceParts {
  engine: Engine;
  store: Store;
  auth: Auth;
  hub: LiveHub;
  settings: DaemonSettings;
  views: Views;
  fanout: AlertFanout;
  inventory: InventorySync;
  segmentation: Segmentation;
  planControl: PlanControl;
  board: StatusBoard;
  url: () => string;
  exports: { eventLog: string | null; syslog: string | null; webhook: string | null };
  captureCounters: () => { received: number; dropped: number; interfaceDropped: number; reopened: number } | null;
  /** Retention and mutes applied now (after a settings change). */
  housekeeping: () => void;
}

export function makeService(p: ServiceParts): VigieService {
  const { store, views, settings, engine, hub } = p;
  const shortSettings = () => ({ homeCountry: settings.homeCountry(), trustedCountries: settings.trustedCountries(), trusted: [...settings.config.verdicts!.trusted].sort(), retention: store.retention() });
  const setDevice = (mac: string, patch: DevicePatch) => {
    // Bounded (MAX_DEVICE_ENTRIES): a client cannot grow the store with made-up MACs.
    store.updateDevice(mac, {
      ...(patch.label !== undefined ? { label: patch.label === null || patch.label.trim() === '' ? null : patch.label.trim() } : {}),
      ...(patch.category !== undefined ? { category: patch.category as Category | null } : {}),
      ...(patch.personal !== undefined ? { personal: patch.personal } : {}),
      ...(patch.history !== undefined ? { history: patch.history } : {}),
    });
    const category = patch.category ?? views.categoryOfMac(mac);
    // Opting out deletes what was kept, not only what comes next.
    if (!views.keepsHistory(mac, category)) p.inventory.forgetDetail(mac);
    settings.applyOverrides();
    engine.verdicts!.refresh();
    const view = views.device(mac)!;
    hub.publish({ type: 'device', new: false, device: view });
    return view;
  };
  return {
    status: () => ({ ...p.board.stats(), url: p.url(), storeOpening: store.opening }),
    overview: (hours) => views.overview(hours),
    devices: () => views.devices(),
    device: (key) => views.device(key),
    setDevice,
    recentFlows: (mac) => p.inventory.recentFlows(mac),
    destinations: (mac) => views.destinations(mac),
    traffic: (mac) => store.hourly(mac),
    alerts: () => views.alerts(),
    acknowledge(id, ack) {
      const a = ack ? store.ack(id) : store.unack(id);
      if (!a) return null;
      const view = views.alertView(a);
      hub.publish({ type: 'alert', new: false, alert: view });
      return view;
    },
    mutes: () => store.mutes(),
    addMute(m) {
      store.addMute(m);
      settings.applyMutes(engine);
      return m;
    },
    removeMute(id) {
      if (!store.removeMute(id)) return false;
      settings.applyMutes(engine);
      return true;
    },
    settings: () => ({
      ...shortSettings(),
      eu: [...EU_EEA],
      exports: { ...p.exports, metrics: '/metrics' },
      tokens: p.auth.tokens(),
    }),
    updateSettings(patch: SettingsPatch) {
      store.updateSettings(patch);
      settings.apply();
      p.housekeeping();
      return shortSettings();
    },
    metrics() {
      const st = engine.decoder.stats;
      const cap = p.captureCounters();
      return {
        packets: st.packets,
        bytes: st.bytes,
        malformed: st.malformed,
        captureReceived: cap?.received ?? 0,
        captureDropped: cap?.dropped ?? 0,
        captureInterfaceDropped: cap?.interfaceDropped ?? 0,
        captureReopened: cap?.reopened ?? 0,
        flowsCreated: engine.flows.created,
        flowsEvicted: engine.flows.evicted,
        flows: engine.flows.count,
        devices: engine.devices.size,
        devicesKnown: store.deviceCount(),
        storeWrites: store.writes,
        storeWriteErrors: store.writeErrors,
        storeFailing: store.lastError !== null,
        storeLowSpace: store.lowSpace,
        timerErrors: p.board.tickErrors,
        liveClients: hub.size,
        liveRefused: hub.refused,
        liveDropped: hub.dropped,
        liveQueuedBytes: hub.queuedBytes,
        eventLogWritten: p.fanout.eventLog?.written ?? 0,
        eventLogErrors: p.fanout.eventLog?.errors ?? 0,
        eventLogFailing: (p.fanout.eventLog?.lastError ?? null) !== null,
      };
    },
    alertSummary: () => views.alertSummary(),
    raised: () => p.fanout.raised,
    plan: {
      allowApply: p.planControl.allowApply,
      plan: (client) => p.segmentation.plan(client),
      profile: (mac) => p.segmentation.profile(mac),
      setZone: (mac, zone) => p.segmentation.setZone(mac, zone),
      setLearning: (mac, learning) => p.segmentation.setLearning(mac, learning),
      changed: () => p.planControl.changed(),
      state: () => p.planControl.state(),
      apply: (client, digest) => p.planControl.apply(client, digest),
      confirm: () => p.planControl.confirm(),
    },
  };
}

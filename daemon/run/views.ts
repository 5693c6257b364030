/**
 * What the API shows of devices and alerts, from the live engine and the store together, with
 * the household's privacy rule applied: a personal device (phone, computer, tablet, or marked so)
 * keeps counters and alerts but no destinations unless the household opted in. Reads only.
 */
import { deviceRecord, sortAlerts } from '../analysis/analyze.js';
import type { EngineConfig } from '../analysis/config.js';
import type { Engine } from '../analysis/engine.js';
import { type Device } from '../devices/device-table.js';
import { identify } from '../devices/identity.js';
import type { Alert } from '../model/alert.js';
import { PERSONAL_CATEGORIES, type DeviceRecord } from '../model/device.js';
import { SEVERITIES, severityRank, type Severity } from '../model/severity.js';
import type { AlertView, CountryTraffic, DestinationView, DeviceView, Overview } from '../server/api-types.js';
import type { Store } from '../store/store.js';
import { addToDestination, flowSides, newDestination } from '../store/traffic.js';
import { byText } from '../util/order.js';
import type { DaemonSettings } from './settings.js';

const ONLINE_SECONDS = 300;

type Risks = Map<string, { risk: Severity | null; open: number }>;

export interface AlertSummary {
  open: number;
  bySeverity: Record<Severity, number>;
  highest: Severity | null;
  last: Alert | null;
}

export class Views {
  constructor(
    private readonly engine: Engine,
    private readonly config: EngineConfig,
    private readonly store: Store,
    private readonly settings: DaemonSettings,
  ) {}

  /** Devices the engine has now (the live table). */
  liveDevices(): number {
    return this.engine.devices.size;
  }

  /** Personal devices keep no destinations unless the household opted in. */
  isPersonal(mac: string, category: string): boolean {
    return this.store.storedDevice(mac)?.personal ?? PERSONAL_CATEGORIES.has(category);
  }

  keepsHistory(mac: string, category: string): boolean {
    return !this.isPersonal(mac, category) || this.store.storedDevice(mac)?.history === true;
  }

  /**
   * The device's category (the user's, else the rules'), from the cached classification. `now`
   * (capture time): a classification up to a second old will do (each ended flow asks, and a
   * flow that adds a name to the device's facts would otherwise reclassify it every time).
   */
  categoryOf(d: Device, now?: number): string {
    return identify(d, this.config.deviceRules, this.config.deviceOverrides, now).category;
  }

  /** The same for a MAC, live or remembered. */
  categoryOfMac(mac: string, now?: number): string {
    const d = this.engine.devices.byKey(mac);
    if (d) return this.categoryOf(d, now);
    const s = this.store.storedDevice(mac);
    return s?.category ?? s?.record?.category ?? 'unknown';
  }

  alertView(a: Alert): AlertView {
    return { ...a, acknowledged: this.store.acknowledged(a.id) };
  }

  alerts(): AlertView[] {
    return sortAlerts([...this.store.alerts()]).map((a) => this.alertView(a));
  }

  /** Alerts neither muted nor acknowledged. */
  private openAlerts(): Alert[] {
    return this.store.alerts().filter((a) => !a.muted && !this.store.acknowledged(a.id));
  }

  /** Open alerts by severity, the worst, the latest: for stats, metrics and Home Assistant. */
  alertSummary(): AlertSummary {
    const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
    let highest: Severity | null = null;
    let last: Alert | null = null;
    const open = this.openAlerts();
    for (const a of open) {
      bySeverity[a.severity]++;
      if (!highest || severityRank(a.severity) > severityRank(highest)) highest = a.severity;
      if (!last || a.lastSeen > last.lastSeen) last = a;
    }
    return { open: open.length, bySeverity, highest, last };
  }

  /** Each device's open alerts and the worst of them, in one pass over the alerts. */
  risks(): Risks {
    const out: Risks = new Map();
    for (const a of this.openAlerts()) {
      const key = a.device.mac ?? a.device.id;
      const r = out.get(key) ?? { risk: null, open: 0 };
      r.open++;
      if (!r.risk || severityRank(a.severity) > severityRank(r.risk)) r.risk = a.severity;
      out.set(key, r);
    }
    return out;
  }

  /** Every device: the live ones, and those the store remembers from before. */
  devices(): DeviceView[] {
    const out = new Map<string, DeviceView>();
    const risks = this.risks();
    for (const d of this.engine.devices.all()) {
      const v = this.liveView(d, risks);
      out.set(v.mac ?? v.id, v);
    }
    for (const [mac] of this.store.storedDevices()) {
      if (out.has(mac)) continue;
      out.set(mac, this.storedView(mac, risks));
    }
    return [...out.values()].sort((a, b) => byText(b.lastSeen, a.lastSeen));
  }

  device(key: string): DeviceView | null {
    const k = key.toLowerCase();
    const d = this.engine.devices.byKey(k);
    if (d) return this.liveView(d, this.risks());
    return this.store.storedDevice(k) ? this.storedView(k, this.risks()) : null;
  }

  private trim(record: DeviceRecord, detailed: boolean): DeviceRecord {
    if (detailed) return record;
    return { ...record, observations: { ...record.observations, domains: [] } };
  }

  liveView(d: Device, risks: Risks): DeviceView {
    const record = deviceRecord(d, this.config);
    const key = record.mac ?? record.id;
    const s = this.store.storedDevice(key);
    const personal = this.isPersonal(key, record.category);
    const history = s?.history === true;
    const { risk, open } = risks.get(key) ?? { risk: null, open: 0 };
    return {
      id: record.id,
      mac: record.mac,
      label: record.label,
      category: record.category,
      personal,
      history,
      online: Date.now() / 1000 - d.lastSeen < ONLINE_SECONDS,
      risk,
      openAlerts: open,
      record: this.trim(record, !personal || history),
      firstSeen: s && s.firstSeen < record.firstSeen ? s.firstSeen : record.firstSeen,
      lastSeen: record.lastSeen,
    };
  }

  private storedView(mac: string, risks: Risks): DeviceView {
    const s = this.store.storedDevice(mac)!;
    const category = s.category ?? s.record?.category ?? 'unknown';
    const personal = this.isPersonal(mac, category);
    const { risk, open } = risks.get(mac) ?? { risk: null, open: 0 };
    return {
      id: mac,
      mac,
      label: s.label ?? this.settings.fileOverride(mac)?.label ?? null,
      category,
      personal,
      history: s.history === true,
      online: false,
      risk,
      openAlerts: open,
      record: s.record ? this.trim(s.record, !personal || s.history === true) : null,
      firstSeen: s.firstSeen,
      lastSeen: s.lastSeen,
    };
  }

  /** Where the device sends data: the destinations kept, with its open connections added. */
  destinations(mac: string): DestinationView[] {
    const out = new Map<string, DestinationView>(this.store.destinations(mac).map((x) => [x.key, { ...x, live: false }]));
    const d = this.engine.devices.byKey(mac);
    for (const r of d ? this.engine.openFlows(d) : []) {
      if (!r.internet) continue;
      const { up, down, remote, key } = flowSides(r);
      let x = out.get(key);
      if (!x) {
        const geo = this.config.verdicts!.geo.lookup(remote.ip);
        out.set(key, (x = { ...newDestination(r, { country: geo.country, org: geo.org }), live: true }));
      }
      x.live = true;
      addToDestination(x, r, up, down);
    }
    return [...out.values()].sort((a, b) => b.up + b.down - (a.up + a.down));
  }

  /** Devices by category, where data goes by country (cleartext apart), bytes per hour. */
  overview(hours = 168): Overview {
    const devices = this.devices();
    const byCategory: Record<string, number> = {};
    for (const v of devices) byCategory[v.category] = (byCategory[v.category] ?? 0) + 1;
    const countries = new Map<string, CountryTraffic & { macs: Set<string> }>();
    for (const [mac, list] of this.store.allDestinations()) {
      for (const x of list) {
        const key = x.country ?? 'unknown';
        let c = countries.get(key);
        if (!c) countries.set(key, (c = { country: key, up: 0, down: 0, cleartextUp: 0, cleartextDown: 0, devices: 0, destinations: 0, macs: new Set() }));
        c.up += x.up;
        c.down += x.down;
        if (x.encrypted === false) {
          c.cleartextUp += x.up;
          c.cleartextDown += x.down;
        }
        c.destinations++;
        c.macs.add(mac);
      }
    }
    const since = new Date(Date.now() - hours * 3600_000).toISOString().slice(0, 13);
    const traffic = new Map<string, { hour: string; up: number; down: number }>();
    for (const list of this.store.allHourly()) {
      for (const b of list) {
        if (b.hour.slice(0, 13) < since) continue;
        const t = traffic.get(b.hour) ?? { hour: b.hour, up: 0, down: 0 };
        t.up += b.up;
        t.down += b.down;
        traffic.set(b.hour, t);
      }
    }
    const { open, bySeverity } = this.alertSummary();
    return {
      devices: { total: devices.length, online: devices.filter((v) => v.online).length, byCategory },
      alerts: { open, bySeverity, total: this.store.alerts().length },
      countries: [...countries.values()].map(({ macs, ...c }) => ({ ...c, devices: macs.size })).sort((a, b) => b.up + b.down - (a.up + a.down)),
      traffic: [...traffic.values()].sort((a, b) => byText(a.hour, b.hour)),
      homeCountry: this.settings.homeCountry(),
      trusted: [...this.config.verdicts!.trusted].sort(),
    };
  }
}

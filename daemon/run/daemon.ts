/**
 * `vigie run`: the engine fed by a live capture (or a replayed file), its findings kept in the
 * store and pushed to dashboards. This module wires the stages together; each does its own job
 * (capture-supervisor, engine, verdicts, store, server).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EngineConfig } from '../analysis/config.js';
import { deviceRecord, sortAlerts } from '../analysis/analyze.js';
import { Engine } from '../analysis/engine.js';
import { InputError } from '../capture/errors.js';
import { loadConfig } from '../config/load.js';
import { type Device, DeviceTable } from '../devices/device-table.js';
import type { Category } from '../devices/rules.js';
import type { DeviceRecord, FlowRecord } from '../report/types.js';
import { identify } from '../devices/identity.js';
import { Auth, authPath } from '../server/auth.js';
import { ApiServer } from '../server/http.js';
import { LiveHub } from '../server/live.js';
import type { Metrics } from '../server/metrics.js';
import { apiRoutes } from '../server/routes.js';
import { Store } from '../store/store.js';
import { addToDestination, flowSides, newDestination, recordFlow } from '../store/traffic.js';
import type { AlertView, CountryTraffic, DestinationView, DeviceView, Overview, PlanState, Status } from '../server/api-types.js';
import type { Alert, Mute } from '../verdicts/alert.js';
import { trustedSet } from '../verdicts/countries.js';
import { type Severity, severityRank, SEVERITIES } from '../verdicts/rules.js';
import { captureFilter, type CaptureMode } from '../capture/control-filter.js';
import { CaptureSupervisor, type CaptureStatus } from './capture-supervisor.js';
import { EventLog, SyslogSender, Webhook } from './exports.js';
import { HomeAssistant, type HomeAssistantOptions } from './home-assistant.js';
import { defaultInterface, defaultListenAddress } from './interfaces.js';
import { replay } from './replay.js';
import { byText } from '../util/order.js';
import { PERSONAL_CATEGORIES } from '../model/device.js';
import { Segmentation } from './segmentation.js';
import { applyPlan as applyNft, confirmPlan as confirmNft, DEFAULT_RUN_DIR, status as applyStatus } from '../segment/apply.js';
import { renderNft } from '../segment/nft.js';
import { ApiError } from '../server/http.js';
import { escapeControls } from '../util/text.js';

export interface RunOptions {
  interface?: string;
  read?: string;
  /** Replay pace: 1 as recorded, 0 as fast as possible. */
  speed: number;
  filter: string;
  /** `control` (default): the kernel keeps bulk TCP segments out (control-filter.ts); `all`. */
  capture?: CaptureMode;
  stateDir: string;
  /** Kernel ring buffer for the capture, bytes. */
  bufferSize?: number;
  listen?: string;
  port: number;
  config?: string;
  rules: string[];
  homeCountry?: string;
  /** Seconds between store writes. */
  commitInterval: number;
  tls?: { cert: string; key: string } | null;
  uiDir?: string | null;
  eventLog?: string | null;
  eventLogBytes?: number;
  /** Every protocol event as a JSON line (docs/events.md), as `vigie analyze --events`. */
  events?: string | null;
  syslog?: string | null;
  webhook?: string | null;
  /** Home Assistant MQTT discovery. */
  homeAssistant?: HomeAssistantOptions | null;
  log?: (msg: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Let the dashboard apply and confirm segmentation plans on this router (needs CAP_NET_ADMIN). */
  allowApply?: boolean;
}

export type { DeviceView, AlertView } from '../server/api-types.js';

/** Ended flows kept per device for the API, as JSON text (a third of the objects' memory). */
const RECENT_FLOWS = 50;
const ONLINE_SECONDS = 300;

const here = path.dirname(fileURLToPath(import.meta.url));
export const UI_DIST = path.resolve(here, '../../ui/dist');

export class Daemon {
  readonly store: Store;
  readonly auth: Auth;
  readonly hub = new LiveHub();
  /** Prometheus registry, made at the first scrape (prom-client is not loaded before). */
  private metrics: Promise<Metrics> | null = null;
  /** New alerts since start by severity and rule (`severity\trule`), for vigie_alerts_raised_total. */
  readonly raised = new Map<string, number>();
  readonly engine: Engine;
  readonly config: EngineConfig;
  readonly segmentation: Segmentation;
  server!: ApiServer;
  capture: CaptureSupervisor | null = null;
  url = '';
  replayDone = false;
  rulesError: string | null = null;
  private readonly started = Date.now();
  private readonly log: (msg: string) => void;
  private fileOverrides: EngineConfig['deviceOverrides'] = {};
  private fileMutes: Mute[] = [];
  private readonly signatures = new Map<Device, string>();
  private readonly recent = new Map<string, string[]>();
  private readonly eventLog: EventLog | null;
  private readonly syslog: SyslogSender | null;
  private readonly webhook: Webhook | null;
  readonly homeAssistant: HomeAssistant | null;
  private readonly events: fs.WriteStream | null;
  private clock: NodeJS.Timeout | null = null;
  private lastStats = { packets: 0, bytes: 0, at: Date.now() };
  /**
   * The time retention prunes by: it never runs ahead of the monotonic clock, so a wall clock
   * stepped forward (a router without RTC, a wrong NTP answer) does not delete the history.
   */
  private retentionClock = { wall: Date.now(), mono: performance.now(), warned: false };
  private rates = { pps: 0, bps: 0 };
  private stopping = false;
  /** Timer ticks that threw (out of descriptors, a bug): counted, told once per reason, the timer goes on. */
  tickErrors = 0;
  private readonly tickReasons = new Set<string>();
  private lastMemory = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };

  private guarded(what: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.tickFailed(what, e as Error);
    }
  }

  private tickFailed(what: string, e: Error): void {
    this.tickErrors++;
    const why = `${what}: ${e.message}`;
    if (this.tickReasons.size < 32 && !this.tickReasons.has(why)) {
      this.tickReasons.add(why);
      this.log(`WARNING: ${why} (counted in vigie_timer_errors_total; told once)`);
    }
  }

  /** process.memoryUsage() reads /proc and throws EMFILE when descriptors run out: the last figures then. */
  private memory(): Status['memory'] {
    try {
      const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
      this.lastMemory = { rss, heapTotal, heapUsed, external, arrayBuffers };
    } catch (e) {
      // Kept from the last reading.
      this.tickFailed('memory figures', e as Error);
    }
    return { ...this.lastMemory };
  }
  replayPromise: Promise<unknown> | null = null;

  private constructor(readonly opts: RunOptions) {
    // stderr goes to logd / the journal: names from the network and files must not forge lines there.
    const log = opts.log ?? ((m: string) => process.stderr.write(`vigie: ${m}\n`));
    this.log = (m) => log(escapeControls(m));
    this.config = loadConfig(opts.config, undefined, opts.rules, { homeCountry: opts.homeCountry });
    // Live with the control filter, TCP volumes come from sequence numbers.
    this.config.sequenceVolumes = !opts.read && (opts.capture ?? 'control') === 'control';
    if (!this.config.verdicts) throw new Error('no verdict configuration');
    this.takeFileSettings(this.config);
    this.store = Store.open(opts.stateDir, { commitInterval: opts.commitInterval, log: this.log });
    const o = this.store.opening;
    if (o.setAside) this.log(`WARNING: the store ${o.file} could not be used (${o.setAside.reason}); it was moved to ${o.setAside.path} and Vigie starts with an empty store`);
    if (o.migratedFrom !== null) this.log(`store upgraded from schema ${o.migratedFrom}`);
    this.auth = new Auth(authPath(opts.stateDir), opts.env ?? process.env);
    for (const n of this.auth.notes) this.log(n);
    this.applySettings();
    this.events = opts.events ? fs.createWriteStream(opts.events, { flags: 'a', mode: 0o600 }) : null;
    const events = this.events;
    this.engine = new Engine(this.config, {
      alert: (a, isNew) => this.alerted(a, isNew),
      flowEnded: (r) => this.flowEnded(r),
      events: events ? (ev) => events.write(JSON.stringify(ev) + '\n') : undefined,
    });
    this.engine.verdicts!.restore(this.store.data.alerts);
    this.segmentation = new Segmentation({
      config: this.config,
      store: this.store,
      records: () => this.devices().flatMap((v) => (v.record ? [v.record] : [])),
      keepsHistory: (mac, category) => this.keepsHistory(mac, category),
      isPersonal: (mac, category) => this.isPersonal(mac, category),
      categoryOf: (mac) => {
        const d = this.engine.devices.byKey(mac);
        return d ? this.categoryOf(d) : (this.store.data.devices[mac]?.category ?? this.store.data.devices[mac]?.record?.category ?? 'unknown');
      },
    });
    this.eventLog = opts.eventLog ? new EventLog(opts.eventLog, opts.eventLogBytes) : null;
    if (opts.syslog) {
      const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(opts.syslog);
      if (!m) throw new InputError('--syslog', `"${opts.syslog}" is not HOST[:PORT]`);
      this.syslog = new SyslogSender(m[1] ?? m[2], Number(m[3] ?? 514));
    } else this.syslog = null;
    if (opts.webhook && !/^https?:\/\//.test(opts.webhook)) throw new InputError('--webhook', 'must be an http:// or https:// URL');
    this.webhook = opts.webhook ? new Webhook(opts.webhook) : null;
    try {
      this.homeAssistant = opts.homeAssistant ? new HomeAssistant(opts.homeAssistant, this.log) : null;
    } catch (e) {
      throw new InputError('--ha-mqtt', (e as Error).message);
    }
  }

  static async start(opts: RunOptions): Promise<Daemon> {
    const d = new Daemon(opts);
    try {
      await d.begin();
    } catch (e) {
      await d.stop();
      throw e;
    }
    return d;
  }

  private async begin(): Promise<void> {
    const opts = this.opts;
    let iface: string | null = null;
    if (!opts.read) {
      iface = opts.interface ?? defaultInterface();
      if (!iface) throw new InputError('--interface', 'no LAN bridge (br-lan) and no default route: say which interface to watch');
      this.capture = new CaptureSupervisor(iface, this.engine, { filter: captureFilter(opts.capture ?? 'control', opts.filter), bufferSize: opts.bufferSize, userFilter: opts.filter !== '' }, this.log);
      this.capture.start();
    }
    const host = opts.listen ?? defaultListenAddress(iface);
    this.server = new ApiServer({
      host,
      port: opts.port,
      uiDir: opts.uiDir === undefined ? UI_DIST : opts.uiDir,
      tls: opts.tls ?? null,
      routes: apiRoutes(this),
      auth: this.auth,
      hub: this.hub,
      hello: () => ({ version: 1, started: new Date(this.started).toISOString(), replay: opts.read ? { file: path.basename(opts.read), done: this.replayDone } : null }),
      metrics: async () => (await (this.metrics ??= import('../server/metrics.js').then((m) => new m.Metrics(this)))).text(),
    });
    const addr = await this.server.listen();
    const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    this.url = `${opts.tls ? 'https' : 'http'}://${shown}:${addr.port}/`;
    this.log(`${iface ? `watching ${iface}` : `replaying ${opts.read}`}; dashboard at ${this.url}`);
    if (this.auth.generated) {
      this.log(`no administrator password was set: generated one, shown only this once: ${this.auth.generated}`);
      this.log('change it with `vigie passwd`, or set VIGIE_ADMIN_PASSWORD before the first start');
      this.auth.generated = null;
    }
    this.homeAssistant?.start();
    this.clock = setInterval(() => this.guarded('the once-a-second timer', () => this.second()), 1000);
    this.clock.unref();
    if (opts.read) {
      this.replayPromise = replay(opts.read, this.engine, opts.speed)
        .then((r) => {
          this.engine.finish();
          this.second();
          this.replayDone = true;
          this.log(`replay of ${opts.read} done: ${r.packets} packets${r.cut ? `; cut at byte ${r.cut.offset}: ${r.cut.reason}` : ''}`);
          this.hub.publish({ type: 'replay', done: true, packets: r.packets });
        })
        .catch((e: Error) => {
          this.log(`replay of ${opts.read} failed: ${e.message}`);
          this.replayDone = true;
        });
    }
  }

  /** Settings from the dashboard beat the config file's: countries, labels, mutes. */
  applySettings(): void {
    const v = this.config.verdicts!;
    v.trusted = trustedSet(this.homeCountry(), this.trustedCountries() ?? undefined);
    this.applyOverrides();
    v.mutes = [...this.fileMutes, ...this.store.data.mutes];
  }

  homeCountry(): string | null {
    const s = this.store.data.settings.homeCountry;
    if (s !== undefined) return s;
    return this.fileHome;
  }

  /** What the config file (and the command line) say, under the dashboard's own settings. */
  private takeFileSettings(c: EngineConfig): void {
    this.fileOverrides = c.deviceOverrides;
    this.fileMutes = c.verdicts!.mutes;
    this.fileHome = c.verdicts!.home ?? null;
    this.fileTrusted = c.verdicts!.trustedList ?? null;
  }

  /** The home country from the command line or the config file. */
  private fileHome: string | null = null;
  private fileTrusted: string[] | null = null;

  trustedCountries(): string[] | null {
    const s = this.store.data.settings.trustedCountries;
    return s !== undefined ? s : this.fileTrusted;
  }

  applyOverrides(): void {
    const merged = { ...this.fileOverrides };
    for (const [mac, d] of Object.entries(this.store.data.devices)) {
      if (d.label == null && d.category == null) continue;
      merged[mac] = { ...merged[mac], ...(d.label != null ? { label: d.label } : {}), ...(d.category != null ? { category: d.category } : {}) };
    }
    this.config.deviceOverrides = merged;
  }

  applyMutes(): void {
    this.config.verdicts!.mutes = [...this.fileMutes, ...this.store.data.mutes];
    this.engine.verdicts!.remute(Date.now() / 1000);
  }

  /** Reloads the config file and rules (SIGHUP, `uci commit`): a broken file keeps the last good set. */
  reload(): boolean {
    let next: EngineConfig;
    try {
      next = loadConfig(this.opts.config, undefined, this.opts.rules, { homeCountry: this.opts.homeCountry });
    } catch (e) {
      this.rulesError = (e as Error).message;
      this.log(`reload refused, the rules and settings in force stay: ${this.rulesError}`);
      return false;
    }
    this.rulesError = null;
    this.config.deviceRules = next.deviceRules;
    this.takeFileSettings(next);
    const v = next.verdicts!;
    this.engine.verdicts!.reconfigure({ rules: v.rules, platforms: v.platforms, geo: v.geo, learningPeriod: v.learningPeriod });
    this.applySettings();
    this.engine.verdicts!.remute(Date.now() / 1000);
    this.signatures.clear();
    this.log(`reloaded: ${next.deviceRules.rules.length} device rules, ${v.rules.length} alert rules, ${v.platforms.length} cloud platforms`);
    return true;
  }

  private alerted(a: Alert, isNew: boolean): void {
    if (isNew) {
      this.store.data.alerts.push(a);
      const k = `${a.severity}\t${a.rule}`;
      this.raised.set(k, (this.raised.get(k) ?? 0) + 1);
    }
    this.store.touch();
    const view = this.alertView(a);
    this.hub.publish({ type: 'alert', new: isNew, alert: view });
    this.eventLog?.write({ type: 'alert', new: isNew, alert: a });
    if (isNew && !a.muted) {
      this.syslog?.alert(a);
      this.webhook?.alert(a);
    }
  }

  alertView(a: Alert): AlertView {
    return { ...a, acknowledged: this.store.data.acks[a.id] ?? null };
  }

  alerts(): AlertView[] {
    return sortAlerts(this.store.data.alerts).map((a) => this.alertView(a));
  }

  /** Personal devices keep no destinations unless the household opted in. */
  isPersonal(mac: string, category: string): boolean {
    const s = this.store.data.devices[mac];
    return s?.personal ?? PERSONAL_CATEGORIES.has(category);
  }

  keepsHistory(mac: string, category: string): boolean {
    return !this.isPersonal(mac, category) || this.store.data.devices[mac]?.history === true;
  }

  private flowEnded(r: FlowRecord): void {
    this.segmentation.flowEnded(r);
    if (!r.device || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(r.device)) return;
    const d = this.engine.devices.byKey(r.device);
    const category = d ? this.categoryOf(d) : 'unknown';
    const detailed = this.keepsHistory(r.device, category);
    const remote = r.deviceSide === 'resp' ? r.orig.ip : r.resp.ip;
    const geo = r.internet ? this.config.verdicts!.geo.lookup(remote) : { country: null, org: null };
    recordFlow(this.store.data, r.device, r, { country: geo.country, org: geo.org }, detailed);
    this.store.touch();
    if (!detailed) {
      this.recent.delete(r.device);
      return;
    }
    let list = this.recent.get(r.device);
    if (!list) this.recent.set(r.device, (list = []));
    list.push(JSON.stringify(r));
    if (list.length > RECENT_FLOWS) list.shift();
  }

  /** Where the device sends data: the destinations kept, with its open connections added. */
  destinations(mac: string): DestinationView[] {
    const out = new Map<string, DestinationView>((this.store.data.destinations[mac] ?? []).map((x) => [x.key, { ...x, live: false }]));
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

  recentFlows(mac: string): FlowRecord[] {
    return (this.recent.get(mac) ?? []).map((t) => JSON.parse(t) as FlowRecord);
  }

  /** The device's category (the user's, else the rules'), from the cached classification. */
  private categoryOf(d: Device): string {
    return identify(d, this.config.deviceRules, this.config.deviceOverrides).category;
  }

  /** Every device: the live ones, and those the store remembers from before. */
  devices(): DeviceView[] {
    const out = new Map<string, DeviceView>();
    const risks = this.risks();
    for (const d of this.engine.devices.all()) {
      const v = this.liveView(d, risks);
      out.set(v.mac ?? v.id, v);
    }
    for (const mac of Object.keys(this.store.data.devices)) {
      if (out.has(mac)) continue;
      out.set(mac, this.storedView(mac, risks));
    }
    return [...out.values()].sort((a, b) => byText(b.lastSeen, a.lastSeen));
  }

  device(key: string): DeviceView | null {
    const k = key.toLowerCase();
    const d = this.engine.devices.byKey(k);
    if (d) return this.liveView(d, this.risks());
    return this.store.data.devices[k] ? this.storedView(k, this.risks()) : null;
  }

  /** Alerts neither muted nor acknowledged. */
  private openAlerts(): Alert[] {
    return this.store.data.alerts.filter((a) => !a.muted && !this.store.data.acks[a.id]);
  }

  /** Open alerts by severity, the worst, the latest: for stats, metrics and Home Assistant. */
  alertSummary(): { open: number; bySeverity: Record<Severity, number>; highest: Severity | null; last: Alert | null } {
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
  private risks(): Map<string, { risk: Severity | null; open: number }> {
    const out = new Map<string, { risk: Severity | null; open: number }>();
    for (const a of this.openAlerts()) {
      const key = a.device.mac ?? a.device.id;
      const r = out.get(key) ?? { risk: null, open: 0 };
      r.open++;
      if (!r.risk || severityRank(a.severity) > severityRank(r.risk)) r.risk = a.severity;
      out.set(key, r);
    }
    return out;
  }

  private trim(record: DeviceRecord, detailed: boolean): DeviceRecord {
    if (detailed) return record;
    return { ...record, observations: { ...record.observations, domains: [] } };
  }

  private liveView(d: Device, risks: Map<string, { risk: Severity | null; open: number }>): DeviceView {
    const record = deviceRecord(d, this.config);
    const key = record.mac ?? record.id;
    const s = this.store.data.devices[key];
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

  private storedView(mac: string, risks: Map<string, { risk: Severity | null; open: number }>): DeviceView {
    const s = this.store.data.devices[mac];
    const category = s.category ?? s.record?.category ?? 'unknown';
    const personal = this.isPersonal(mac, category);
    const { risk, open } = risks.get(mac) ?? { risk: null, open: 0 };
    return {
      id: mac,
      mac,
      label: s.label ?? this.fileOverrides[mac]?.label ?? null,
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

  /** A household's change to a device: label, category, personal, history. */
  setDevice(mac: string, patch: { label?: string | null; category?: Category | null; personal?: boolean | null; history?: boolean }): DeviceView {
    const now = new Date().toISOString();
    const s = this.store.data.devices[mac] ?? (this.store.data.devices[mac] = { mac, firstSeen: now, lastSeen: now });
    if (patch.label !== undefined) s.label = patch.label === null || patch.label.trim() === '' ? null : patch.label.trim();
    if (patch.category !== undefined) s.category = patch.category;
    if (patch.personal !== undefined) s.personal = patch.personal;
    if (patch.history !== undefined) s.history = patch.history;
    const live = this.engine.devices.byKey(mac);
    const category = patch.category ?? (live ? this.categoryOf(live) : (s.record?.category ?? 'unknown'));
    if (!this.keepsHistory(mac, category)) {
      // Opting out deletes what was kept, not only what comes next.
      delete this.store.data.destinations[mac];
      for (const h of this.store.data.aggregates[mac] ?? []) delete h.by;
      this.recent.delete(mac);
      this.segmentation.forgetDetail(mac);
    }
    this.applyOverrides();
    this.store.touch();
    this.engine.verdicts!.refresh();
    const view = this.device(mac)!;
    this.hub.publish({ type: 'device', device: view });
    return view;
  }

  /** Once a second: the engine's clock (live), device changes, figures for dashboards. */
  private second(): void {
    const now = Date.now() / 1000;
    if (this.capture) this.engine.tick(now);
    this.measureRates();
    let risks: Map<string, { risk: Severity | null; open: number }> | null = null;
    for (const d of this.engine.devices.all()) {
      const mac = DeviceTable.macText(d);
      const sig = `${d.facts?.version ?? 0}|${d.ips.size}|${Math.floor(d.lastSeen / 60)}|${mac ? JSON.stringify(this.config.deviceOverrides[mac] ?? null) : ''}`;
      if (this.signatures.get(d) === sig) continue;
      const isNew = !this.signatures.has(d);
      this.signatures.set(d, sig);
      risks ??= this.risks();
      const view = this.liveView(d, risks);
      if (mac) {
        const rec = view.record!;
        const s = this.store.data.devices[mac];
        if (!s) this.eventLog?.write({ type: 'device', new: true, device: { mac, vendor: rec.vendor, hostname: rec.hostname, category: rec.category } });
        this.store.data.devices[mac] = { ...(s ?? { mac, firstSeen: rec.firstSeen }), lastSeen: rec.lastSeen, record: rec };
        this.store.touch();
      }
      this.hub.publish({ type: 'device', new: isNew, device: view });
    }
    if (this.signatures.size > this.engine.devices.size * 2 + 64) {
      const live = new Set(this.engine.devices.all());
      for (const d of this.signatures.keys()) if (!live.has(d)) this.signatures.delete(d);
    }
    // Mutes with an end, and retention, once a minute.
    if (Math.floor(now) % 60 === 0) this.housekeeping();
    this.hub.broadcast({ type: 'stats', ...this.stats() });
    if (this.homeAssistant) this.homeAssistant.update(this.haState());
  }

  /** What Home Assistant shows: open alerts, the worst, devices, the last alert. */
  haState(): import('./home-assistant.js').HaState {
    const { open, bySeverity, highest, last } = this.alertSummary();
    return {
      openAlerts: open,
      bySeverity,
      highest: highest ?? 'none',
      critical: bySeverity.critical > 0,
      devices: Math.max(this.engine.devices.size, Object.keys(this.store.data.devices).length),
      lastAlert: last ? { title: last.title, severity: last.severity, device: last.device.label ?? last.device.hostname ?? last.device.mac ?? last.device.id, destination: last.destination ? (last.destination.hostname ?? last.destination.ip) : null, country: last.destination?.country ?? null, time: last.lastSeen } : null,
    };
  }

  housekeeping(now?: number): void {
    const dropped = this.store.prune(now !== undefined ? now * 1000 : this.retentionNow(), (a) => severityRank(a.severity));
    for (const id of dropped) this.engine.verdicts!.forget(id);
    this.applyMutes();
    this.segmentation.tick(new Date(now !== undefined ? now * 1000 : Date.now()));
  }

  /**
   * The wall clock, unless it jumped more than a day ahead of the monotonic clock since the last
   * call: then the time the monotonic clock gives (a step back only keeps data longer: followed).
   */
  private retentionNow(): number {
    const c = this.retentionClock;
    const wall = Date.now();
    const mono = performance.now();
    const expected = c.wall + (mono - c.mono);
    const jumped = wall - expected > 86400e3;
    if (jumped && !c.warned) this.log(`the clock jumped ${Math.round((wall - expected) / 86400e3)} days ahead: retention skips that jump and counts elapsed time only`);
    this.retentionClock = { wall: jumped ? expected : wall, mono, warned: jumped };
    return this.retentionClock.wall;
  }

  /** Packets and bits a second over the last second: by the clock, not by whoever asks. */
  private measureRates(): void {
    const st = this.engine.decoder.stats;
    const now = Date.now();
    const dt = Math.max(0.001, (now - this.lastStats.at) / 1000);
    this.rates = { pps: (st.packets - this.lastStats.packets) / dt, bps: ((st.bytes - this.lastStats.bytes) * 8) / dt };
    this.lastStats = { packets: st.packets, bytes: st.bytes, at: now };
  }

  stats(): Status {
    const st = this.engine.decoder.stats;
    const now = Date.now();
    const { open, bySeverity } = this.alertSummary();
    const cap: CaptureStatus | null = this.capture?.status() ?? null;
    return {
      time: new Date(now).toISOString(),
      uptime: Math.round((now - this.started) / 1000),
      packets: st.packets,
      bytes: st.bytes,
      malformed: st.malformed,
      packetsPerSecond: Math.round(this.rates.pps),
      bitsPerSecond: Math.round(this.rates.bps),
      flows: this.engine.flows.count,
      flowsTotal: this.engine.flows.created,
      devices: this.engine.devices.size,
      devicesKnown: Object.keys(this.store.data.devices).length,
      alerts: { open, bySeverity, total: this.store.data.alerts.length },
      capture: cap,
      replay: this.opts.read ? { file: path.basename(this.opts.read), done: this.replayDone } : null,
      store: { writes: this.store.writes, errors: this.store.writeErrors, lastWrite: this.store.lastWrite, pending: this.store.pending, failing: this.store.lastError !== null, lastError: this.store.lastError, failingSince: this.store.failingSince, lowSpace: this.store.lowSpace, freeBytes: this.store.freeBytes },
      rulesError: this.rulesError,
      memory: this.memory(),
      load: os.loadavg()[0],
    };
  }

  /** Devices by category, where data goes by country (cleartext apart), bytes per hour. */
  overview(hours = 168): Overview {
    const devices = this.devices();
    const byCategory: Record<string, number> = {};
    for (const v of devices) byCategory[v.category] = (byCategory[v.category] ?? 0) + 1;
    const countries = new Map<string, CountryTraffic & { macs: Set<string> }>();
    for (const [mac, list] of Object.entries(this.store.data.destinations)) {
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
    for (const list of Object.values(this.store.data.aggregates)) {
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
      alerts: { open, bySeverity, total: this.store.data.alerts.length },
      countries: [...countries.values()].map(({ macs, ...c }) => ({ ...c, devices: macs.size })).sort((a, b) => b.up + b.down - (a.up + a.down)),
      traffic: [...traffic.values()].sort((a, b) => byText(a.hour, b.hour)),
      homeCountry: this.homeCountry(),
      trusted: [...this.config.verdicts!.trusted].sort(),
    };
  }

  /** Dashboards learn that the plan changed (a zone chosen, a profile re-opened or frozen). */
  planChanged(): void {
    this.hub.publish({ type: 'plan', digest: Segmentation.digest(this.segmentation.plan()) });
  }

  /** What the Segmentation page shows beside the plan: may it apply, what is applied, a countdown. */
  async planState(): Promise<PlanState> {
    const digest = Segmentation.digest(this.segmentation.plan());
    const applied = this.store.data.segment?.applied ?? null;
    const rollback = this.opts.allowApply ? await applyStatus({ runDir: this.planRunDir() }) : null;
    return { allowApply: this.opts.allowApply === true, digest, applied, pending: rollback?.pending ? { secondsLeft: rollback.secondsLeft } : null, rollbackSeconds: this.config.segment?.rollbackSeconds ?? 60 };
  }

  /** The same folder as `vigie segment --apply` here: each sees the other's pending plan. */
  private planRunDir(): string {
    return DEFAULT_RUN_DIR.local;
  }

  /** Loads the plan on this router; it rolls back by itself unless confirmed in time. */
  async applyPlan(client: string | null, digest?: string): Promise<PlanState> {
    const plan = this.segmentation.plan(client);
    const now = Segmentation.digest(plan);
    if (digest !== undefined && digest !== now) throw new ApiError(409, `the plan changed since it was shown (now ${now}): review it again before applying`);
    const seconds = this.config.segment?.rollbackSeconds ?? 60;
    try {
      await applyNft(renderNft(plan), { rollbackSeconds: seconds, runDir: this.planRunDir() });
    } catch (e) {
      throw new ApiError(e instanceof InputError ? 409 : 500, (e as Error).message);
    }
    this.store.data.segment = { applied: { at: new Date().toISOString(), digest: now, confirmed: null, devices: plan.devices.filter((x) => x.zone !== 'trusted').length } };
    this.store.touch();
    this.log(`segmentation plan ${now} applied; it rolls back in ${seconds} s unless confirmed`);
    return this.planState();
  }

  async confirmPlan(): Promise<PlanState> {
    try {
      await confirmNft({ runDir: this.planRunDir() });
    } catch (e) {
      throw new ApiError(e instanceof InputError ? 409 : 500, (e as Error).message);
    }
    const a = this.store.data.segment?.applied;
    if (a) a.confirmed = new Date().toISOString();
    this.store.touch();
    this.log(`segmentation plan ${a?.digest ?? ''} confirmed`);
    return this.planState();
  }

  /** Stops capturing, writes the store, closes the server. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.clock) clearInterval(this.clock);
    this.capture?.stop();
    try {
      this.store.commitSync();
    } catch (e) {
      this.log(`final store write failed: ${(e as Error).message}`);
    }
    this.syslog?.close();
    await this.homeAssistant?.stop();
    if (this.events) await new Promise<void>((r) => this.events!.end(r));
    await this.server?.close();
  }
}

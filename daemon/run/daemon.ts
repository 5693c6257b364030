/**
 * `vigie run`: the engine fed by a live capture (or a replayed file), its findings kept in the
 * store and pushed to dashboards. This module is the lifecycle: it builds the parts, starts and
 * stops them, and runs the clock. Each part does one job: settings.ts (file and dashboard
 * settings, reload), views.ts (what the API shows, with the privacy rule), alert-fanout.ts
 * (alerts to store, live feed and exports), inventory-sync.ts (devices and flows into the store),
 * status-board.ts (figures), segmentation.ts and plan-control.ts (the plan), daemon-service.ts
 * (the service the server talks to).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EngineConfig } from '../analysis/config.js';
import { Engine } from '../analysis/engine.js';
import { InputError } from '../capture/errors.js';
import { loadConfig } from '../config/load.js';
import type { HomeAssistant, HomeAssistantOptions } from '../exports/home-assistant.js';
import type { Alert } from '../model/alert.js';
import { severityRank } from '../model/severity.js';
import { Auth, authPath } from '../server/auth.js';
import { ApiServer } from '../server/http.js';
import { LiveHub } from '../server/live.js';
import type { Metrics } from '../server/metrics.js';
import { apiRoutes } from '../server/routes.js';
import type { VigieService } from '../server/service.js';
import type { AlertView, Status } from '../server/api-types.js';
import { Store } from '../store/store.js';
import { captureFilter, type CaptureMode } from '../capture/control-filter.js';
import { CaptureSupervisor } from '../capture/supervisor.js';
import { replay } from '../capture/replay.js';
import { escapeControls } from '../util/text.js';
import { AlertFanout } from './alert-fanout.js';
import { makeService } from './daemon-service.js';
import { defaultInterface, defaultListenAddress } from './interfaces.js';
import { InventorySync } from './inventory-sync.js';
import { PlanControl } from './plan-control.js';
import { Segmentation } from './segmentation.js';
import { DaemonSettings } from './settings.js';
import { StatusBoard } from './status-board.js';
import { Views } from './views.js';
import { warmUp } from './warm-up.js';

export interface RunOptions {
  interface?: string;
  read?: string;
  /** Warm the packet path up before a live capture opens (default; warm-up.ts). */
  warmUp?: boolean;
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
  /** Names and addresses the Host header may carry besides the listen address and the machine's own (DNS rebinding, 421). */
  allowedHosts?: string[];
  /** Let the dashboard apply and confirm segmentation plans on this router (needs CAP_NET_ADMIN). */
  allowApply?: boolean;
  /** The flow and device tables' bounds (defaults: DEFAULT_CONFIG's); fixed for the daemon's life. */
  maxFlows?: number;
  maxDevices?: number;
}

export type { DeviceView, AlertView } from '../server/api-types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const UI_DIST = path.resolve(here, '../../ui/dist');

export class Daemon {
  readonly store: Store;
  readonly auth: Auth;
  readonly hub = new LiveHub();
  readonly engine: Engine;
  readonly config: EngineConfig;
  readonly settings: DaemonSettings;
  readonly views: Views;
  readonly fanout: AlertFanout;
  readonly inventory: InventorySync;
  readonly segmentation: Segmentation;
  readonly planControl: PlanControl;
  readonly board: StatusBoard;
  readonly service: VigieService;
  /** Prometheus registry, made at the first scrape (prom-client is not loaded before). */
  private metrics: Promise<Metrics> | null = null;
  server!: ApiServer;
  capture: CaptureSupervisor | null = null;
  url = '';
  replayDone = false;
  replayPromise: Promise<unknown> | null = null;
  private readonly log: (msg: string) => void;
  private readonly events: fs.WriteStream | null;
  private clock: NodeJS.Timeout | null = null;
  /**
   * The time retention prunes by: it never runs ahead of the monotonic clock, so a wall clock
   * stepped forward (a router without RTC, a wrong NTP answer) does not delete the history.
   */
  private retentionClock = { wall: Date.now(), mono: performance.now(), warned: false };
  private stopping = false;

  private constructor(readonly opts: RunOptions) {
    // stderr goes to logd / the journal: names from the network and files must not forge lines there.
    const log = opts.log ?? ((m: string) => process.stderr.write(`vigie: ${m}\n`));
    this.log = (m) => log(escapeControls(m));
    this.config = loadConfig(opts.config, undefined, opts.rules, { homeCountry: opts.homeCountry });
    if (opts.maxFlows !== undefined) this.config.maxFlows = opts.maxFlows;
    if (opts.maxDevices !== undefined) this.config.maxDevices = opts.maxDevices;
    // Live with the control filter, TCP volumes come from sequence numbers.
    this.config.sequenceVolumes = !opts.read && (opts.capture ?? 'control') === 'control';
    if (!this.config.verdicts) throw new Error('no verdict configuration');
    this.store = Store.open(opts.stateDir, { commitInterval: opts.commitInterval, log: this.log });
    const o = this.store.opening;
    if (o.setAside) this.log(`WARNING: the store ${o.file} could not be used (${o.setAside.reason}); it was moved to ${o.setAside.path} and Vigie starts with an empty store`);
    if (o.migratedFrom !== null) this.log(`store upgraded from schema ${o.migratedFrom}`);
    this.auth = new Auth(authPath(opts.stateDir), opts.env ?? process.env);
    for (const n of this.auth.notes) this.log(n);
    this.settings = new DaemonSettings(this.config, this.store, opts);
    this.events = opts.events ? fs.createWriteStream(opts.events, { flags: 'a', mode: 0o600 }) : null;
    const events = this.events;
    // The engine calls back into parts made just after it; nothing reaches them before start.
    this.engine = new Engine(this.config, {
      alert: (a, isNew) => this.fanout.alerted(a, isNew),
      flowEnded: (r) => this.inventory.flowEnded(r),
      events: events ? (ev) => events.write(JSON.stringify(ev) + '\n') : undefined,
    });
    this.engine.verdicts!.restore(this.store.alertList());
    this.views = new Views(this.engine, this.config, this.store, this.settings);
    this.segmentation = new Segmentation({
      config: this.config,
      store: this.store,
      records: () => this.views.devices().flatMap((v) => (v.record ? [v.record] : [])),
      keepsHistory: (mac, category) => this.views.keepsHistory(mac, category),
      isPersonal: (mac, category) => this.views.isPersonal(mac, category),
      // Asked at each ended flow: a category a second old will do (inventory-sync.ts forgets the
      // detail of a device that turns out to be personal).
      categoryOf: (mac) => this.views.categoryOfMac(mac, this.engine.lastTs),
    });
    this.planControl = new PlanControl(this.segmentation, this.config, this.store, this.hub, opts.allowApply === true, this.log);
    this.fanout = new AlertFanout(opts, this.store, this.hub, this.views, this.log);
    this.inventory = new InventorySync(this.engine, this.config, this.store, this.views, this.hub, this.segmentation, this.fanout.eventLog);
    this.board = new StatusBoard(
      this.engine,
      this.store,
      this.views,
      {
        capture: () => this.capture?.status() ?? null,
        replay: () => (opts.read ? { file: path.basename(opts.read), done: this.replayDone } : null),
        rulesError: () => this.settings.rulesError,
        eventLog: () => {
          const e = this.fanout.eventLog;
          return e && opts.eventLog ? { file: opts.eventLog, written: e.written, errors: e.errors, failing: e.lastError !== null, lastError: e.lastError } : null;
        },
        live: () => ({ clients: this.hub.size, refused: this.hub.refused, dropped: this.hub.dropped, queuedBytes: this.hub.queuedBytes }),
        recentFlows: () => this.inventory.recentBounds(),
      },
      this.log,
    );
    this.service = makeService({
      engine: this.engine,
      store: this.store,
      auth: this.auth,
      hub: this.hub,
      settings: this.settings,
      views: this.views,
      fanout: this.fanout,
      inventory: this.inventory,
      segmentation: this.segmentation,
      planControl: this.planControl,
      board: this.board,
      url: () => this.url,
      exports: { eventLog: opts.eventLog ?? null, syslog: opts.syslog ?? null, webhook: opts.webhook ? new URL(opts.webhook).origin : null },
      captureCounters: () => this.capture?.status() ?? null,
      housekeeping: () => this.housekeeping(),
    });
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
      // Before the capture opens: the first packets must not wait for V8's compiler (warm-up.ts).
      if (opts.warmUp !== false) {
        const w = await warmUp(this.config);
        if (w) this.log(`warmed up on ${w.packets} synthetic packets (${w.flows} flows) in ${w.ms} ms, ${w.cpuMs} ms of CPU`);
      }
      this.capture = new CaptureSupervisor(iface, this.engine, { filter: captureFilter(opts.capture ?? 'control', opts.filter), bufferSize: opts.bufferSize, userFilter: opts.filter !== '' }, this.log);
      this.capture.start();
    }
    const host = opts.listen ?? defaultListenAddress(iface);
    this.server = new ApiServer({
      host,
      port: opts.port,
      uiDir: opts.uiDir === undefined ? UI_DIST : opts.uiDir,
      tls: opts.tls ?? null,
      allowedHosts: opts.allowedHosts ?? [],
      routes: apiRoutes(this.service, this.auth),
      auth: this.auth,
      hub: this.hub,
      hello: () => ({ version: 1, started: new Date(this.board.started).toISOString(), replay: opts.read ? { file: path.basename(opts.read), done: this.replayDone } : null }),
      metrics: async () => (await (this.metrics ??= import('../server/metrics.js').then((m) => new m.Metrics(this.service)))).text(),
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
    this.fanout.start();
    this.clock = setInterval(() => this.board.guarded('the once-a-second timer', () => this.second()), 1000);
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

  get rulesError(): string | null {
    return this.settings.rulesError;
  }

  get homeAssistant(): HomeAssistant | null {
    return this.fanout.homeAssistant;
  }

  /** Every alert as the API shows it. */
  alerts(): AlertView[] {
    return this.views.alerts();
  }

  stats(): Status {
    return this.board.stats();
  }

  /** Reloads the config file and rules (SIGHUP, `uci commit`): a broken file keeps the last good set. */
  reload(): boolean {
    const r = this.settings.reload(this.engine);
    if (!r.ok) {
      this.log(`reload refused, the rules and settings in force stay: ${r.reason}`);
      return false;
    }
    this.inventory.invalidate();
    this.log(`reloaded: ${r.summary}`);
    return true;
  }

  /** Once a second: the engine's clock (live), device changes, figures for dashboards. */
  private second(): void {
    const now = Date.now() / 1000;
    if (this.capture) this.engine.tick(now);
    this.board.measureRates();
    this.inventory.sync();
    // Mutes with an end, and retention, once a minute.
    if (Math.floor(now) % 60 === 0) this.housekeeping();
    this.hub.broadcast({ type: 'stats', ...this.board.stats() });
    this.fanout.tick();
  }

  /** Retention, mutes that ended, profiles whose learning window passed. */
  housekeeping(now?: number): void {
    const dropped = this.store.prune(now !== undefined ? now * 1000 : this.retentionNow(), (a: Alert) => severityRank(a.severity));
    for (const id of dropped) this.engine.verdicts!.forget(id);
    this.settings.applyMutes(this.engine);
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
    await this.fanout.stop();
    if (this.events) await new Promise<void>((r) => this.events!.end(r));
    await this.server?.close();
  }
}

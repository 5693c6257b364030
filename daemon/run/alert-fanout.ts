/**
 * Where an alert goes once the verdicts raise or update it: the store, the live feed, and the
 * exports the household turned on (event log, syslog, webhook, Home Assistant). Each export is
 * made here from the command line's options, so that a bad option is named before anything runs.
 */
import { InputError } from '../capture/errors.js';
import { EventLog, SyslogSender, Webhook } from '../exports/alert-exports.js';
import { HomeAssistant, type HaState, type HomeAssistantOptions } from '../exports/home-assistant.js';
import type { Alert } from '../model/alert.js';
import { deviceName } from '../model/device.js';
import type { LiveHub } from '../server/live.js';
import type { Store } from '../store/store.js';
import type { Views } from './views.js';

export interface ExportOptions {
  eventLog?: string | null;
  eventLogBytes?: number;
  syslog?: string | null;
  webhook?: string | null;
  homeAssistant?: HomeAssistantOptions | null;
}

export class AlertFanout {
  /** New alerts since start by severity and rule (`severity\trule`), for vigie_alerts_raised_total. */
  readonly raised = new Map<string, number>();
  readonly eventLog: EventLog | null;
  private readonly syslog: SyslogSender | null;
  private readonly webhook: Webhook | null;
  readonly homeAssistant: HomeAssistant | null;

  constructor(
    opts: ExportOptions,
    private readonly store: Store,
    private readonly hub: LiveHub,
    private readonly views: Views,
    log: (msg: string) => void,
  ) {
    try {
      this.eventLog = opts.eventLog ? new EventLog(opts.eventLog, opts.eventLogBytes, undefined, log) : null;
    } catch (e) {
      throw new InputError('--event-log', (e as Error).message);
    }
    if (opts.syslog) {
      const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(opts.syslog);
      if (!m) throw new InputError('--syslog', `"${opts.syslog}" is not HOST[:PORT]`);
      this.syslog = new SyslogSender(m[1] ?? m[2], Number(m[3] ?? 514));
    } else this.syslog = null;
    if (opts.webhook && !/^https?:\/\//.test(opts.webhook)) throw new InputError('--webhook', 'must be an http:// or https:// URL');
    this.webhook = opts.webhook ? new Webhook(opts.webhook) : null;
    try {
      this.homeAssistant = opts.homeAssistant ? new HomeAssistant(opts.homeAssistant, log) : null;
    } catch (e) {
      throw new InputError('--ha-mqtt', (e as Error).message);
    }
  }

  start(): void {
    this.homeAssistant?.start();
  }

  /** An alert raised (`isNew`) or updated (count, last seen, muted). */
  alerted(a: Alert, isNew: boolean): void {
    if (isNew) {
      this.store.addAlert(a);
      const k = `${a.severity}\t${a.rule}`;
      this.raised.set(k, (this.raised.get(k) ?? 0) + 1);
    } else this.store.alertChanged();
    this.hub.publish({ type: 'alert', new: isNew, alert: this.views.alertView(a) });
    this.eventLog?.write({ type: 'alert', new: isNew, alert: a });
    if (isNew && !a.muted) {
      this.syslog?.alert(a);
      this.webhook?.alert(a);
    }
  }

  /** Once a second: Home Assistant's sensors follow the open alerts. */
  tick(): void {
    this.homeAssistant?.update(this.haState());
  }

  /** What Home Assistant shows: open alerts, the worst, devices, the last alert. */
  haState(): HaState {
    const { open, bySeverity, highest, last } = this.views.alertSummary();
    return {
      openAlerts: open,
      bySeverity,
      highest: highest ?? 'none',
      critical: bySeverity.critical > 0,
      devices: Math.max(this.views.liveDevices(), this.store.deviceCount()),
      lastAlert: last ? { title: last.title, severity: last.severity, device: deviceName(last.device), destination: last.destination ? (last.destination.hostname ?? last.destination.ip) : null, country: last.destination?.country ?? null, time: last.lastSeen } : null,
    };
  }

  async stop(): Promise<void> {
    this.syslog?.close();
    await this.homeAssistant?.stop();
  }
}

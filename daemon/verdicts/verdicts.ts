/**
 * The verdict stage: alert rules applied to flows (while they run, so that an alert comes within
 * a second of the CONNACK that makes it, and when they end), to devices that join, and to each
 * device's hourly upload against its own baseline. One alert per rule, device and destination,
 * updated as it repeats: count, last seen, the highest severity reached, the latest evidence.
 */
import { createHash } from 'node:crypto';
import type { DeviceOverride } from '../model/device.js';
import { isoTimeFast as isoTime } from '../flows/iso-time.js';
import { sameJson } from '../util/same-json.js';
import type { Device } from '../devices/device-table.js';
import { type DeviceIdentity, identify } from '../devices/identity.js';
import type { DeviceKnowledge } from '../devices/rules.js';
import type { Geo } from '../geo/geo.js';
import type { FlowRecord } from '../model/flow.js';
import { type CloudPlatform, cloudOf, cloudOfProtocol } from '../rules/load.js';
import type { Alert, AlertDestination, Mute } from '../model/alert.js';
import { isMuted } from './alert.js';
import { matches, type Situation } from './condition.js';
import { flowEvidence } from './evidence.js';
import { judge } from './reasons.js';
import { severityRank } from '../model/severity.js';
import type { AlertRule } from './rules.js';
import { flowSituation, remoteOf } from './situation.js';
import { PLACEHOLDERS, render, type Values } from './template.js';
import { alertValues, titleOf, variantOf } from './texts.js';

export interface VerdictConfig {
  rules: AlertRule[];
  platforms: CloudPlatform[];
  geo: Geo;
  trusted: Set<string>;
  /** The household's country and the config's trusted list, as given (for settings pages). */
  home?: string | null;
  trustedList?: string[] | null;
  mutes: Mute[];
  /** Devices first seen this long after the start are "new" (seconds). */
  learningPeriod: number;
  /** Wait this long after a device's first packet before judging it (its DHCP, mDNS arrive). */
  joinGrace: number;
  /** Hours of history before an upload baseline counts. */
  baselineHours: number;
}

export const DEFAULT_VERDICTS = { learningPeriod: 600, joinGrace: 30, baselineHours: 3 };

/** The devices the verdicts need to know about: rules and user overrides. */
export interface DeviceContext {
  deviceRules: DeviceKnowledge;
  deviceOverrides: Record<string, DeviceOverride>;
}

interface Book {
  alert: Alert;
  rule: AlertRule;
  /** The facts of the last match, re-judged when the device's category becomes known. */
  situation: Situation;
  device: Device | null;
  /** Recent flow ids already counted (a flow is judged while it runs and when it ends). */
  flows: number[];
  /**
   * The title variant: the first of the rule's that held in any judgement, as severity only
   * rises (a password seen once stays said), until the device's category changes. Infinity: not
   * judged since restored or reloaded, the title kept as it was.
   */
  variant: number;
  /** `alert.lastSeen` in seconds (NaN: restored, compare the text). */
  lastTs: number;
  /** `alert.firstSeen` in seconds (NaN: restored, read from the text when needed). */
  firstTs: number;
  /** What the title and remediation were last written from (rule, variant, values): unchanged, they are not written again. */
  textsOf?: { rule: AlertRule; variant: number; values: Values };
}

interface Usage {
  hour: number;
  /** Bytes up at the start of the current hour. */
  mark: number;
  history: number[];
}

const FLOW_MEMORY = 64;
/** Alert ids by `rule|device|destination`: a repeat costs a map look-up, not a SHA-256. */
const ID_MEMORY = 65536;

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class Verdicts {
  private readonly book = new Map<string, Book>();
  private readonly ids = new Map<string, string>();
  private flowRules: AlertRule[] = [];
  private joinRules: AlertRule[] = [];
  private surgeRules: AlertRule[] = [];
  private readonly pending = new Map<Device, number>();
  private readonly seen = new WeakSet<Device>();
  private readonly usage = new WeakMap<Device, Usage>();
  private start = NaN;
  private lastRefresh = -Infinity;
  evaluations = 0;

  constructor(
    readonly config: VerdictConfig,
    private readonly devices: DeviceContext,
    /** Called with each new or changed alert. */
    private readonly onAlert: ((a: Alert, isNew: boolean) => void) | null = null,
  ) {
    this.split();
  }

  private split(): void {
    this.flowRules = this.config.rules.filter((r) => (r.on ?? 'flow') === 'flow');
    this.joinRules = this.config.rules.filter((r) => r.on === 'device-joined');
    this.surgeRules = this.config.rules.filter((r) => r.on === 'upload-surge');
  }

  /**
   * New rules, platforms, countries or networks (the daemon reloaded its files): they apply from
   * the next judgement on. Alerts of rules that still exist keep their history.
   */
  reconfigure(next: Partial<VerdictConfig>): void {
    Object.assign(this.config, next);
    this.split();
    const rules = new Map(this.config.rules.map((r) => [r.id, r]));
    for (const b of this.book.values()) {
      const r = rules.get(b.rule.id);
      if (r && r !== b.rule) {
        b.rule = r;
        // Variants are indices into the old rule's list.
        b.variant = Infinity;
      }
    }
  }

  get alerts(): Alert[] {
    return [...this.book.values()].map((b) => b.alert);
  }

  /**
   * Alerts kept from an earlier run (the daemon's store): the same rule, device and destination
   * update them rather than starting a new count. Alerts of rules no longer loaded are kept as
   * they are (history), but never updated.
   */
  restore(alerts: Alert[]): void {
    const rules = new Map(this.config.rules.map((r) => [r.id, r]));
    for (const a of alerts) {
      const rule = rules.get(a.rule);
      if (!rule || this.book.has(a.id)) continue;
      this.book.set(a.id, { alert: a, rule, situation: new Map(), device: null, flows: [], variant: Infinity, lastTs: NaN, firstTs: NaN });
    }
  }

  /** Mutes changed (from the dashboard, or one expired): each alert's \`muted\` follows. */
  remute(now: number): void {
    for (const b of this.book.values()) {
      const muted = isMuted(b.alert, this.config.mutes, now);
      if (muted === b.alert.muted) continue;
      b.alert.muted = muted;
      this.onAlert?.(b.alert, false);
    }
  }

  /** Forgets an alert (the store's retention dropped it): it starts afresh if it happens again. */
  forget(id: string): void {
    this.book.delete(id);
  }

  private identity(d: Device, now?: number): DeviceIdentity {
    return identify(d, this.devices.deviceRules, this.devices.deviceOverrides, now);
  }

  /** Judges a flow of a LAN device, running (`live`) or ended. */
  flow(record: FlowRecord, d: Device, ts: number): void {
    if (this.flowRules.length === 0) return;
    if (!record.internet && record.app === null) return;
    this.evaluations++;
    const lan = record.deviceSide === 'resp' ? record.resp.ip : record.orig.ip;
    // A category at most a second old: refresh() brings alerts up to date every ten seconds.
    const device = { ...this.identity(d, ts), ip: lan };
    const remote = remoteOf(record);
    const geo = this.config.geo.lookup(remote.ip);
    const cloud = (record.hostname ? cloudOf(this.config.platforms, record.hostname) : undefined) ?? (record.app ? cloudOfProtocol(this.config.platforms, record.app) : undefined) ?? null;
    const s = flowSituation({ record, device, remote, geo, cloud, trusted: this.config.trusted });
    const destination: AlertDestination = {
      ip: remote.ip,
      port: remote.port,
      hostname: record.hostname,
      country: geo.country,
      asn: geo.asn,
      org: geo.org,
      label: geo.label,
      platform: cloud ? { id: cloud.id, name: cloud.name, operator: cloud.operator, country: cloud.country } : null,
    };
    // One evidence for every rule the flow matches: it is the flow's, whichever alert shows it.
    let evidence: Record<string, unknown> | null = null;
    for (const rule of this.flowRules) {
      if (!matches(rule.when, s)) continue;
      evidence ??= flowEvidence(record);
      this.raise(rule, s, d, device, destination, record.app, record.encrypted, evidence, record.id, ts, Date.parse(record.firstSeen) / 1000);
    }
  }

  /** Once a second: devices that joined, hours that closed. */
  tick(ts: number, devices: Iterable<Device>): void {
    if (Number.isNaN(this.start)) this.start = ts;
    for (const d of devices) {
      if (!this.seen.has(d)) {
        this.seen.add(d);
        if (this.joinRules.length > 0 && d.firstSeen >= this.start + this.config.learningPeriod) this.pending.set(d, d.firstSeen + this.config.joinGrace);
      }
      if (this.surgeRules.length > 0) this.hourly(d, ts);
    }
    for (const [d, at] of this.pending) {
      if (ts < at) continue;
      this.pending.delete(d);
      this.joined(d, ts);
    }
    if (ts - this.lastRefresh >= 10) {
      this.lastRefresh = ts;
      this.refresh();
    }
  }

  /** The input ended: judge devices still waiting for their grace period, refresh identities. */
  finish(ts: number): void {
    for (const d of this.pending.keys()) this.joined(d, ts);
    this.pending.clear();
    this.refresh();
  }

  /**
   * What is known of a device grows as traffic arrives (an RTSP push after the MQTT session
   * shows it is a camera): alerts take the device's current identity, and a category learnt
   * later can raise their severity. Run at the end of input and every few seconds when live.
   */
  refresh(): void {
    // Thousands of alerts share a few dozen devices: each device's identity is asked once.
    const ids = new Map<Device, DeviceIdentity>();
    for (const b of this.book.values()) {
      if (!b.device) continue;
      let id = ids.get(b.device);
      if (!id) ids.set(b.device, (id = this.identity(b.device)));
      const a = b.alert;
      const changed = id.category !== a.device.category || id.vendor !== a.device.vendor || id.hostname !== a.device.hostname || id.label !== a.device.label || (!a.destination && id.ip !== a.device.ip);
      if (!changed) continue;
      // A new category (learnt, or the household's word) beats what earlier judgements assumed
      // of the device: the title variant is chosen again from the latest facts.
      if (id.category !== a.device.category) b.variant = Infinity;
      // A flow alert keeps the address the device used for it.
      a.device = { id: id.id, mac: id.mac, ip: a.destination ? a.device.ip : id.ip, vendor: id.vendor, hostname: id.hostname, label: id.label, category: id.category };
      b.situation.set('device.category', id.category);
      b.situation.set('device.vendor', id.vendor);
      this.rejudge(b, b.situation);
      this.onAlert?.(a, false);
    }
  }

  /**
   * The alert after a judgement of `s`: severity only rises; the reasons are those of the
   * severity in force (replaced when it rises, added to when a judgement reaches it again); the
   * title and remediation say the device's current name. Whether anything changed.
   */
  private rejudge(b: Book, s: Situation): boolean {
    const a = b.alert;
    const severity0 = a.severity;
    const reasons0 = a.reasons;
    const title0 = a.title;
    const remediation0 = a.remediation;
    const v = alertValues(a.device, a.destination);
    const { severity, reasons } = judge(b.rule, s, v);
    if (severityRank(severity) > severityRank(a.severity)) {
      a.severity = severity;
      a.reasons = reasons;
    } else if (severity === a.severity && reasons.some((r) => !a.reasons.includes(r))) a.reasons = [...a.reasons, ...reasons.filter((r) => !a.reasons.includes(r))];
    b.variant = Math.min(b.variant, variantOf(b.rule, s));
    // A repeat names the same device, destination and country: the texts would come out the same.
    const was = b.textsOf;
    if (!was || was.rule !== b.rule || was.variant !== b.variant || PLACEHOLDERS.some((p) => was.values[p] !== v[p])) {
      if (Number.isFinite(b.variant)) a.title = titleOf(b.rule, b.variant, v);
      a.remediation = b.rule.remediation.map((t) => render(t, v));
      b.textsOf = { rule: b.rule, variant: b.variant, values: v };
    }
    return a.severity !== severity0 || a.title !== title0 || !sameList(a.reasons, reasons0) || !sameList(a.remediation, remediation0);
  }

  private joined(d: Device, ts: number): void {
    const device = this.identity(d);
    const s: Situation = new Map();
    s.set('device.new', true);
    s.set('device.category', device.category);
    s.set('device.vendor', device.vendor);
    s.set('device.randomizedMac', device.randomizedMac);
    for (const rule of this.joinRules) {
      if (!matches(rule.when, s)) continue;
      this.raise(rule, s, d, device, null, null, null, { firstSeen: isoTime(d.firstSeen), addresses: [...d.ips.keys()] }, -1, ts, d.firstSeen);
    }
  }

  private hourly(d: Device, ts: number): void {
    const hour = Math.floor(ts / 3600);
    const u = this.usage.get(d);
    if (!u) {
      this.usage.set(d, { hour, mark: d.bytesUp, history: [] });
      return;
    }
    if (hour === u.hour) return;
    const bytes = d.bytesUp - u.mark;
    const base = median(u.history);
    if (u.history.length >= this.config.baselineHours) {
      const device = this.identity(d);
      const s: Situation = new Map();
      s.set('upload.bytes', bytes);
      s.set('upload.ratio', bytes / Math.max(base, 1));
      s.set('device.category', device.category);
      s.set('device.vendor', device.vendor);
      for (const rule of this.surgeRules) {
        if (!matches(rule.when, s)) continue;
        const evidence = { hour: isoTime(u.hour * 3600), bytesUp: bytes, baselineBytesUp: base, baselineHours: u.history.length };
        this.raise(rule, s, d, device, null, null, null, evidence, -1, ts, u.hour * 3600);
      }
    }
    u.history.push(bytes);
    if (u.history.length > 24) u.history.shift();
    // Hours without traffic count as zero: the device was quiet.
    for (let h = u.hour + 1; h < hour && u.history.length < 24; h++) u.history.push(0);
    u.hour = hour;
    u.mark = d.bytesUp;
  }

  private raise(rule: AlertRule, s: Situation, d: Device, device: DeviceIdentity, destination: AlertDestination | null, protocol: string | null, encrypted: boolean | null, evidence: Record<string, unknown>, flowId: number, ts: number, first: number): void {
    const destKey = destination ? (destination.hostname ?? destination.ip) : '';
    const key = `${rule.id}|${device.id}|${destKey}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = createHash('sha256').update(key).digest('hex').slice(0, 16);
      if (this.ids.size >= ID_MEMORY) this.ids.clear();
      this.ids.set(key, id);
    }
    const b = this.book.get(id);
    const dev = { id: device.id, mac: device.mac, ip: device.ip, vendor: device.vendor, hostname: device.hostname, label: device.label, category: device.category };
    if (!b) {
      const alert: Alert = {
        id,
        rule: rule.id,
        // The first judgement (rejudge) raises it and fills in the reasons and texts.
        severity: rule.severity,
        title: rule.title,
        reasons: [],
        device: dev,
        destination,
        protocol: rule.protocol ?? protocol,
        encrypted,
        evidence,
        remediation: [],
        firstSeen: isoTime(Math.min(first, ts)),
        lastSeen: isoTime(ts),
        count: 1,
        muted: false,
      };
      const nb: Book = { alert, rule, situation: s, device: d, flows: flowId >= 0 ? [flowId] : [], variant: Infinity, lastTs: ts, firstTs: Math.min(first, ts) };
      this.rejudge(nb, s);
      alert.muted = isMuted(alert, this.config.mutes, ts);
      this.book.set(id, nb);
      this.onAlert?.(alert, true);
      return;
    }
    const a = b.alert;
    b.situation = s;
    b.device = d;
    a.device = dev;
    if (destination) a.destination = destination;
    let changed = this.rejudge(b, s);
    if (flowId < 0 || !b.flows.includes(flowId)) {
      a.count++;
      if (flowId >= 0) {
        b.flows.push(flowId);
        if (b.flows.length > FLOW_MEMORY) b.flows.shift();
      }
      changed = true;
    }
    // Flows end out of the order they began: one that began earlier than the alert's first
    // flow moves its first sighting back.
    if (Number.isNaN(b.firstTs)) b.firstTs = Date.parse(a.firstSeen) / 1000;
    if (first < b.firstTs) {
      b.firstTs = first;
      a.firstSeen = isoTime(first);
      changed = true;
    }
    if (!(ts <= b.lastTs)) {
      const last = isoTime(ts);
      if (last > a.lastSeen) a.lastSeen = last;
      b.lastTs = ts;
    }
    // Compared as their JSON would be, without writing it: a repeat is the common case.
    if (!sameJson(evidence, a.evidence)) {
      a.evidence = evidence;
      changed = true;
    }
    if (changed) this.onAlert?.(a, false);
  }
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

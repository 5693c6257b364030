/**
 * The daemon's store: one JSON document (lowdb) in the state folder, kept in memory and written
 * back on an interval and at exit, never on every change: on a router the folder may be flash,
 * and nlbwmon's lesson is to commit rarely. Each write is atomic (atomic-file.ts). A file that
 * cannot be read or breaks the schema is moved aside with a timestamp and the daemon starts
 * afresh, saying so; it is never overwritten. A file written by a newer Vigie is refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Low, type Adapter } from 'lowdb';
import type { Alert } from '../model/alert.js';
import type { DeviceRecord } from '../model/device.js';
import type { DeviceProfile } from '../model/profile.js';
import { validator } from '../rules/load.js';
import { removeStaleTemporaries, setAside, writeFileAtomic, writeFileAtomicSync } from './atomic-file.js';
import { byText } from '../util/order.js';
import type { FlowRecord } from '../model/flow.js';
import { type FlowPlace, recordFlow } from './traffic.js';
import { DEFAULT_RETENTION, type AppliedPlan, type Destination, type HourBucket, type Retention, type StoreData, type StoredDevice, type StoredMute, type StoredSettings } from './store-data.js';

export * from './store-data.js';

export const STORE_SCHEMA = 2;

/** Bounds on what the API can add (finding 15 of issue 16): a LAN client cannot grow the store without end. */
export const MAX_MUTES = 1000;
export const MAX_DEVICE_ENTRIES = 4096;

/** A bound the API hit: the routes answer 409 with this message. */
export class StoreLimitError extends Error {}

export function emptyStore(now = new Date()): StoreData {
  return { schema: STORE_SCHEMA, created: now.toISOString(), devices: {}, alerts: [], acks: {}, mutes: [], settings: {}, aggregates: {}, destinations: {}, profiles: {} };
}

/**
 * Upgrades from each older schema to the next: `MIGRATIONS[n]` turns a version-n document into
 * version n + 1. A change of the document's shape adds its step here and raises STORE_SCHEMA.
 */
const MIGRATIONS: Record<number, (d: Record<string, unknown>) => Record<string, unknown>> = {
  // 2: device profiles for segmentation (none learnt before).
  1: (d) => ({ ...d, profiles: {} }),
};

export class StoreError extends Error {}

/** What happened when the store was opened, for the log and the API. */
export interface StoreOpening {
  file: string;
  fresh: boolean;
  /** Where an unreadable store was moved, and why. */
  setAside: { path: string; reason: string } | null;
  migratedFrom: number | null;
}

/** lowdb's adapter for one JSON file, written atomically. */
class AtomicJsonFile implements Adapter<StoreData> {
  /** Length of the last document written or tried, for the free-space warning. */
  bytes = 0;
  constructor(private readonly file: string) {}
  async read(): Promise<StoreData | null> {
    throw new Error('read through Store.open');
  }
  async write(data: StoreData): Promise<void> {
    const text = JSON.stringify(data);
    this.bytes = Buffer.byteLength(text);
    await writeFileAtomic(this.file, text);
  }
}

function check(doc: unknown): string | null {
  const v = validator('../store/store.schema.json');
  if (v(doc)) return null;
  const e = v.errors?.[0];
  return e ? `${e.instancePath || '/'} ${e.message}` : 'does not match the store schema';
}

/** Reads the file: the document, or why it cannot be used. Throws only for a newer schema. */
function readDocument(file: string): { data: StoreData | null; reason: string | null; migratedFrom: number | null } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return { data: null, reason: null, migratedFrom: null };
    return { data: null, reason: `unreadable: ${err.message}`, migratedFrom: null };
  }
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON.parse's message: it quotes the file's first bytes, and the file may be a symlink to
    // anything (a key, /etc/shadow): the log says what and how big, never what it holds.
    return { data: null, reason: `not JSON (${Buffer.byteLength(text)} bytes)`, migratedFrom: null };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { data: null, reason: 'not a JSON object', migratedFrom: null };
  const version = doc.schema;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) return { data: null, reason: 'no schema version', migratedFrom: null };
  if (version > STORE_SCHEMA) {
    throw new StoreError(`${file}: written by a newer Vigie (store schema ${version}, this one knows up to ${STORE_SCHEMA}); upgrade Vigie or move the file away`);
  }
  let migratedFrom: number | null = null;
  for (let v = version; v < STORE_SCHEMA; v++) {
    const step = MIGRATIONS[v];
    if (!step) return { data: null, reason: `no migration from schema ${v}`, migratedFrom: null };
    doc = step(doc);
    doc.schema = v + 1;
    migratedFrom = version;
  }
  const bad = check(doc);
  if (bad) return { data: null, reason: `breaks the store schema: ${bad}`, migratedFrom: null };
  return { data: doc as unknown as StoreData, reason: null, migratedFrom };
}

/**
 * The store of a state folder read without opening it for writing (`vigie segment --state-dir`
 * while the daemon runs): nothing is moved aside or changed; an unusable file is an error.
 */
export function readStoreReadOnly(stateDir: string): StoreData {
  const file = path.join(stateDir, 'store.json');
  const r = readDocument(file);
  if (r.data) return r.data;
  throw new StoreError(`${file}: ${r.reason ?? 'no such file (has vigie run used this state folder?)'}`);
}

export interface StoreOptions {
  /** Seconds between writes of a changed store. */
  commitInterval: number;
  /** Where write failures, their end and low free space are told (once each, not per retry). */
  log?: (msg: string) => void;
}

/** First retry of a failed write, in seconds; doubled on each failure up to the commit interval (10 min at most). */
const RETRY_FIRST = 5;
const RETRY_MAX = 600;

export class Store {
  readonly db: Low<StoreData>;
  private dirty = false;
  private writing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  writes = 0;
  writeErrors = 0;
  lastWrite: string | null = null;
  /** The last write's error while writes fail (the data stays in memory and is retried), else null. */
  lastError: string | null = null;
  failingSince: string | null = null;
  /** Failed writes in a row. */
  failures = 0;
  /** Free space in the state folder is below twice the store's size. */
  lowSpace = false;
  freeBytes: number | null = null;

  private constructor(
    readonly file: string,
    data: StoreData,
    readonly opening: StoreOpening,
    private readonly opts: StoreOptions,
  ) {
    this.db = new Low<StoreData>(new AtomicJsonFile(file), data);
    this.db.data = data;
  }

  /** Opens (or creates) `store.json` in the state folder. */
  static open(stateDir: string, opts: StoreOptions = { commitInterval: 60 }, now = new Date()): Store {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const file = path.join(stateDir, 'store.json');
    removeStaleTemporaries(file);
    const r = readDocument(file);
    let aside: StoreOpening['setAside'] = null;
    if (r.reason) aside = { path: setAside(file, now), reason: r.reason };
    const data = r.data ?? emptyStore(now);
    const store = new Store(file, data, { file, fresh: r.data === null, setAside: aside, migratedFrom: r.migratedFrom }, opts);
    // A new or migrated store is written at once: the file on disk is then always current.
    if (!r.data || r.migratedFrom !== null) {
      writeFileAtomicSync(file, JSON.stringify(data));
      store.writes++;
    }
    return store;
  }

  get data(): StoreData {
    return this.db.data;
  }

  /** Something changed: it is written within `commitInterval` seconds. */
  touch(): void {
    this.dirty = true;
    if (!this.timer) this.schedule(this.opts.commitInterval);
  }

  private schedule(seconds: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      // A failed write (full disk, read-only or failing folder) must not end the daemon: the
      // data stays in memory, the last good file stays as it was, and the write is retried.
      this.commit().then(
        () => this.checkSpace(),
        () => {
          this.checkSpace();
          if (!this.timer) this.schedule(Math.min(RETRY_FIRST * 2 ** (this.failures - 1), Math.max(this.opts.commitInterval, RETRY_FIRST), RETRY_MAX));
        },
      );
    }, seconds * 1000);
    this.timer.unref();
  }

  /** Warns once when free space falls below twice the store's size (the next write may not fit). */
  private checkSpace(): void {
    const bytes = (this.db.adapter as AtomicJsonFile).bytes;
    fs.promises.statfs(path.dirname(this.file)).then(
      (st) => {
        this.freeBytes = st.bavail * st.bsize;
        const low = this.freeBytes < 2 * bytes;
        if (low && !this.lowSpace) this.opts.log?.(`WARNING: ${this.freeBytes} bytes free in ${path.dirname(this.file)}, less than twice the store's ${bytes}: its writes may soon fail`);
        this.lowSpace = low;
      },
      () => {
        // Not knowing the free space is no reason to warn (nor to stop).
      },
    );
  }

  /** Writes now if anything changed; one write at a time, a change during a write writes again. */
  async commit(): Promise<void> {
    while (this.writing) await this.writing;
    if (!this.dirty) return;
    this.dirty = false;
    this.writing = this.db
      .write()
      .then(() => {
        this.writes++;
        this.lastWrite = new Date().toISOString();
        if (this.failures > 0) this.opts.log?.(`store ${this.file} written again after ${this.failures} failed attempt${this.failures === 1 ? '' : 's'}`);
        this.failures = 0;
        this.lastError = null;
        this.failingSince = null;
      })
      .catch((e: Error) => {
        this.writeErrors++;
        this.failures++;
        this.dirty = true;
        const msg = `${this.file}: write failed: ${e.message}`;
        // Told once, and again only when the reason changes: retries do not flood the log.
        if (msg !== this.lastError) this.opts.log?.(`WARNING: ${msg}; the data is kept in memory and the write retried (the last good file is untouched)`);
        this.lastError = msg;
        this.failingSince ??= new Date().toISOString();
        throw new StoreError(msg);
      })
      .finally(() => {
        this.writing = null;
      });
    await this.writing;
  }

  /** The last write, at exit: synchronous, so that nothing is lost between signal and exit. */
  commitSync(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.dirty) return;
    this.dirty = false;
    writeFileAtomicSync(this.file, JSON.stringify(this.db.data));
    this.writes++;
  }

  get pending(): boolean {
    return this.dirty;
  }

  /** Marks an alert acknowledged; false when no such alert. */
  ack(id: string, at = new Date()): Alert | null {
    const a = this.data.alerts.find((x) => x.id === id);
    if (!a) return null;
    this.data.acks[a.id] = at.toISOString();
    this.touch();
    return a;
  }

  unack(id: string): Alert | null {
    const a = this.data.alerts.find((x) => x.id === id);
    if (!a) return null;
    delete this.data.acks[a.id];
    this.touch();
    return a;
  }

  acknowledged(id: string): string | null {
    return this.data.acks[id] ?? null;
  }

  mutes(): readonly StoredMute[] {
    return this.data.mutes;
  }

  addMute(m: StoredMute): StoredMute {
    if (this.data.mutes.length >= MAX_MUTES) throw new StoreLimitError(`at most ${MAX_MUTES} mutes: delete some first`);
    this.data.mutes.push(m);
    this.touch();
    return m;
  }

  removeMute(id: string): boolean {
    const before = this.data.mutes.length;
    this.data.mutes = this.data.mutes.filter((m) => m.id !== id);
    if (this.data.mutes.length === before) return false;
    this.touch();
    return true;
  }

  settings(): Readonly<StoredSettings> {
    return this.data.settings;
  }

  updateSettings(patch: StoredSettings): void {
    const s = this.data.settings;
    if (patch.homeCountry !== undefined) s.homeCountry = patch.homeCountry;
    if (patch.trustedCountries !== undefined) s.trustedCountries = patch.trustedCountries;
    if (patch.retention !== undefined) s.retention = { ...s.retention, ...patch.retention };
    this.touch();
  }

  /**
   * One device's stored entry, made when missing. Past MAX_DEVICE_ENTRIES the devices nobody
   * named go first (makeRoom); refused when every entry is the household's.
   */
  deviceEntry(mac: string, now = new Date()): StoredDevice {
    const existing = this.data.devices[mac];
    if (existing) return existing;
    if (!this.makeRoom()) throw new StoreLimitError(`at most ${MAX_DEVICE_ENTRIES} devices are remembered and the household named all of them: forget some first`);
    const t = now.toISOString();
    return (this.data.devices[mac] = { mac, firstSeen: t, lastSeen: t });
  }

  storedDevice(mac: string): Readonly<StoredDevice> | undefined {
    return this.data.devices[mac];
  }

  deviceCount(): number {
    return Object.keys(this.data.devices).length;
  }

  hourly(mac: string): readonly HourBucket[] {
    return this.data.aggregates[mac] ?? [];
  }

  /** Every device the store remembers, by MAC. */
  storedDevices(): [string, Readonly<StoredDevice>][] {
    return Object.entries(this.data.devices);
  }

  /** A household's change to a device (label, category, personal, history, zone); bounded as deviceEntry. */
  updateDevice(mac: string, patch: Partial<Pick<StoredDevice, 'label' | 'category' | 'personal' | 'history' | 'zone'>>, now = new Date()): Readonly<StoredDevice> {
    const s = this.deviceEntry(mac, now);
    if (patch.label !== undefined) s.label = patch.label;
    if (patch.category !== undefined) s.category = patch.category;
    if (patch.personal !== undefined) s.personal = patch.personal;
    if (patch.history !== undefined) s.history = patch.history;
    if (patch.zone !== undefined) s.zone = patch.zone;
    this.touch();
    return s;
  }

  /**
   * The daemon's latest picture of a device it sees on the network; true when the store did not
   * know it. Bounded by MAX_DEVICE_ENTRIES like the rest: a flood of fake MACs (issue 15) would
   * otherwise keep every one of them for `deviceDays`. The devices nobody named and not seen for
   * the longest go first; a new device is not remembered when all entries are named (counted).
   */
  recordDevice(mac: string, record: DeviceRecord): boolean {
    const s = this.data.devices[mac];
    if (!s && !this.makeRoom()) {
      this.devicesRefused++;
      return true;
    }
    this.data.devices[mac] = { ...(s ?? { mac, firstSeen: record.firstSeen }), lastSeen: record.lastSeen, record };
    this.touch();
    return !s;
  }

  /** Devices forgotten to stay within MAX_DEVICE_ENTRIES, and new ones not remembered (all named). */
  devicesForgotten = 0;
  devicesRefused = 0;

  /**
   * Room for one more device entry: at the bound, the unnamed devices seen longest ago are
   * forgotten, down to 95 % of it in one pass (a flood adds hundreds a second: one sort per
   * 200 newcomers, not a scan per newcomer). False when only named devices are left.
   */
  private makeRoom(): boolean {
    const all = this.data.devices;
    const n = Object.keys(all).length;
    if (n < MAX_DEVICE_ENTRIES) return true;
    const spare = Object.values(all).filter((d) => !named(d)).sort((a, b) => byText(a.lastSeen, b.lastSeen));
    const drop = spare.slice(0, Math.max(1, n - Math.floor(MAX_DEVICE_ENTRIES * 0.95)));
    for (const d of drop) this.forgetDevice(d.mac);
    this.devicesForgotten += drop.length;
    if (drop.length > 0) this.touch();
    return drop.length > 0;
  }

  private forgetDevice(mac: string): void {
    const d = this.data;
    delete d.devices[mac];
    delete d.aggregates[mac];
    delete d.destinations[mac];
    if (d.profiles) delete d.profiles[mac];
  }

  alerts(): readonly Alert[] {
    return this.data.alerts;
  }

  /**
   * The live list the verdicts keep their alerts in: they update an alert in place (count, last
   * seen, muted) and say so with alertChanged().
   */
  alertList(): Alert[] {
    return this.data.alerts;
  }

  addAlert(a: Alert): void {
    this.data.alerts.push(a);
    this.touch();
  }

  alertChanged(): void {
    this.touch();
  }

  /** An ended flow into the device's hourly traffic and (when detailed) its destinations. */
  recordFlow(mac: string, r: FlowRecord, place: FlowPlace, detailed: boolean): void {
    recordFlow(this.data, mac, r, place, detailed);
    this.touch();
  }

  destinations(mac: string): readonly Destination[] {
    return this.data.destinations[mac] ?? [];
  }

  allDestinations(): [string, readonly Destination[]][] {
    return Object.entries(this.data.destinations);
  }

  allHourly(): (readonly HourBucket[])[] {
    return Object.values(this.data.aggregates);
  }

  /** The household opted a device out of history: what was kept goes too, not only what comes next. */
  forgetDetail(mac: string): void {
    let changed = mac in this.data.destinations;
    delete this.data.destinations[mac];
    for (const h of this.data.aggregates[mac] ?? []) {
      if (h.by !== undefined) changed = true;
      delete h.by;
    }
    // Asked again at each change of a personal device: a write only when something went.
    if (changed) this.touch();
  }

  profiles(): DeviceProfile[] {
    return Object.values(this.data.profiles ?? {});
  }

  /** Profiles are kept by reference: the profile book updates them in place and touches. */
  saveProfile(mac: string, p: DeviceProfile): void {
    this.data.profiles ??= {};
    if (this.data.profiles[mac] !== p) this.data.profiles[mac] = p;
    this.touch();
  }

  setApplied(applied: AppliedPlan): void {
    this.data.segment = { applied };
    this.touch();
  }

  applied(): AppliedPlan | null {
    return this.data.segment?.applied ?? null;
  }

  confirmApplied(at = new Date()): AppliedPlan | null {
    const a = this.data.segment?.applied ?? null;
    if (a) a.confirmed = at.toISOString();
    this.touch();
    return a;
  }

  retention(): Retention {
    return { ...DEFAULT_RETENTION, ...this.data.settings.retention };
  }

  /**
   * Applies the retention limits: alerts older than `alertDays` (by last seen) or beyond
   * `maxAlerts` (the least severe and oldest go first), hourly aggregates older than
   * `aggregateDays`, devices unseen for `deviceDays` unless the household named them.
   * Returns the ids of the alerts dropped.
   */
  prune(now: number, rank: (a: Alert) => number): string[] {
    const r = this.retention();
    const d = this.data;
    const alertCut = new Date(now - r.alertDays * 86400e3).toISOString();
    let keep = d.alerts.filter((a) => a.lastSeen >= alertCut);
    if (keep.length > r.maxAlerts) {
      keep = [...keep].sort((a, b) => rank(b) - rank(a) || byText(b.lastSeen, a.lastSeen)).slice(0, r.maxAlerts);
    }
    const kept = new Set(keep.map((a) => a.id));
    const dropped = d.alerts.filter((a) => !kept.has(a.id)).map((a) => a.id);
    if (dropped.length > 0) {
      d.alerts = d.alerts.filter((a) => kept.has(a.id));
      for (const id of dropped) delete d.acks[id];
      this.touch();
    }
    const aggCut = new Date(now - r.aggregateDays * 86400e3).toISOString();
    for (const [mac, hours] of Object.entries(d.aggregates)) {
      const k = hours.filter((h) => h.hour >= aggCut);
      if (k.length !== hours.length) {
        if (k.length > 0) d.aggregates[mac] = k;
        else delete d.aggregates[mac];
        this.touch();
      }
    }
    const devCut = new Date(now - r.deviceDays * 86400e3).toISOString();
    for (const [mac, dev] of Object.entries(d.devices)) {
      if (dev.lastSeen >= devCut || named(dev)) continue;
      this.forgetDevice(mac);
      this.touch();
    }
    for (const [mac, list] of Object.entries(d.destinations)) {
      const k = list.filter((x) => x.lastSeen >= aggCut);
      if (k.length !== list.length) {
        d.destinations[mac] = k;
        this.touch();
      }
    }
    // Parsed, not compared as text: "+010000-…" (a mute "forever") sorts before "2026-…".
    const live = d.mutes.filter((m) => m.until === undefined || !(Date.parse(m.until) <= now));
    if (live.length !== d.mutes.length) {
      d.mutes = live;
      this.touch();
    }
    return dropped;
  }
}

/** Whether the household said something of the device (a label, category, zone, privacy): kept. */
function named(d: StoredDevice): boolean {
  return Boolean(d.label || d.category || d.zone || d.personal !== undefined || d.history !== undefined);
}

/**
 * The inventory kept in step: each second, devices whose facts, addresses, activity or override
 * changed are written to the store and pushed to dashboards (a new one also to the event log);
 * each ended flow goes to the store's traffic, the segmentation's profiles and the device's list
 * of recent flows (unless the privacy rule says to keep no detail).
 */
import type { EngineConfig } from '../analysis/config.js';
import type { Engine } from '../analysis/engine.js';
import { type Device, DeviceTable } from '../devices/device-table.js';
import type { FlowRecord } from '../model/flow.js';
import type { Severity } from '../model/severity.js';
import type { EventLog } from '../exports/alert-exports.js';
import type { LiveHub } from '../server/live.js';
import type { Store } from '../store/store.js';
import type { Segmentation } from './segmentation.js';
import type { Views } from './views.js';

/** Ended flows kept per device for the API, as JSON text (a third of the objects' memory). */
const RECENT_FLOWS = 50;
/**
 * Characters of recent-flow text kept for all devices together (UTF-16: twice that in bytes at
 * most): the lists outlive a device's entry in the live table, so a flood of fake MACs would
 * keep one list each. The list updated longest ago goes first.
 */
export const RECENT_BUDGET = 4 << 20;
/** Main-thread time one sync may take: the rest waits for the next second (a device flood). */
const SYNC_BUDGET_MS = 20;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export class InventorySync {
  /** What each live device looked like when last pushed: pushed again only when it changes. */
  private readonly signatures = new Map<Device, string>();
  /** Whether each device's detail was kept at its last sync (the privacy rule of its category). */
  private readonly detailed = new WeakMap<Device, boolean>();
  /** By MAC, least recently updated first (a list is moved to the end when it grows). */
  private readonly recent = new Map<string, string[]>();
  /** Characters held in `recent`; lists dropped for the budget. */
  recentChars = 0;
  recentEvicted = 0;

  constructor(
    private readonly engine: Engine,
    private readonly config: EngineConfig,
    private readonly store: Store,
    private readonly views: Views,
    private readonly hub: LiveHub,
    private readonly segmentation: Segmentation,
    private readonly eventLog: EventLog | null,
  ) {}

  flowEnded(r: FlowRecord): void {
    this.segmentation.flowEnded(r);
    if (!r.device || !MAC.test(r.device)) return;
    const d = this.engine.devices.byKey(r.device);
    // At most a second old: sync() forgets what was kept if the device turns out to be personal.
    const category = d ? this.views.categoryOf(d, this.engine.lastTs) : 'unknown';
    const detailed = this.views.keepsHistory(r.device, category);
    const remote = r.deviceSide === 'resp' ? r.orig.ip : r.resp.ip;
    const geo = r.internet ? this.config.verdicts!.geo.lookup(remote) : { country: null, org: null };
    this.store.recordFlow(r.device, r, { country: geo.country, org: geo.org }, detailed);
    if (!detailed) {
      this.dropRecent(r.device);
      return;
    }
    let list = this.recent.get(r.device);
    if (list) this.recent.delete(r.device);
    else list = [];
    this.recent.set(r.device, list);
    const text = JSON.stringify(r);
    list.push(text);
    this.recentChars += text.length;
    if (list.length > RECENT_FLOWS) this.recentChars -= list.shift()!.length;
    while (this.recentChars > RECENT_BUDGET) {
      const oldest = this.recent.keys().next().value as string;
      if (oldest === r.device) break;
      this.dropRecent(oldest);
      this.recentEvicted++;
    }
  }

  recentBounds(): { size: number; max: number; evicted: number; devices: number } {
    return { size: this.recentChars, max: RECENT_BUDGET, evicted: this.recentEvicted, devices: this.recent.size };
  }

  private dropRecent(mac: string): void {
    const list = this.recent.get(mac);
    if (!list) return;
    for (const t of list) this.recentChars -= t.length;
    this.recent.delete(mac);
  }

  recentFlows(mac: string): FlowRecord[] {
    return (this.recent.get(mac) ?? []).map((t) => JSON.parse(t) as FlowRecord);
  }

  /** The household opted the device out of history: its recent flows and profile detail go. */
  forgetDetail(mac: string): void {
    this.store.forgetDetail(mac);
    this.dropRecent(mac);
    this.segmentation.forgetDetail(mac);
  }

  /** Rules changed (a reload): every device is pushed again at the next sync. */
  invalidate(): void {
    this.signatures.clear();
  }

  /**
   * Once a second. At most SYNC_BUDGET_MS of work: under a flood of new devices the others are
   * pushed by the next syncs (they are found again: their signature has not been recorded), so
   * that an alert's packet never waits behind a whole inventory.
   */
  sync(): void {
    let risks: Map<string, { risk: Severity | null; open: number }> | null = null;
    const until = performance.now() + SYNC_BUDGET_MS;
    let pushed = 0;
    let over = false;
    for (const d of this.engine.devices.all()) {
      const mac = DeviceTable.macText(d);
      const sig = `${d.facts?.version ?? 0}|${d.ips.size}|${Math.floor(d.lastSeen / 60)}|${mac ? JSON.stringify(this.config.deviceOverrides[mac] ?? null) : ''}`;
      if (this.signatures.get(d) === sig) continue;
      // The clock is read every 16 devices pushed: reading it costs more than a signature.
      if (over || ((++pushed & 15) === 0 && (over = performance.now() > until))) continue;
      const isNew = !this.signatures.has(d);
      this.signatures.set(d, sig);
      risks ??= this.views.risks();
      const view = this.views.liveView(d, risks);
      if (mac) {
        const rec = view.record!;
        if (this.store.recordDevice(mac, rec)) this.eventLog?.write({ type: 'device', new: true, device: { mac, vendor: rec.vendor, hostname: rec.hostname, category: rec.category } });
        // A device recognised as personal (a phone, once its DHCP or mDNS came) keeps no detail:
        // what was kept while it was unknown goes too, as when the household opts it out.
        const keeps = this.views.keepsHistory(mac, rec.category);
        if (this.detailed.get(d) !== false && !keeps) this.forgetDetail(mac);
        this.detailed.set(d, keeps);
      }
      this.hub.publish({ type: 'device', new: isNew, device: view });
    }
    if (this.signatures.size > this.engine.devices.size * 2 + 64) {
      const live = new Set(this.engine.devices.all());
      for (const d of this.signatures.keys()) if (!live.has(d)) this.signatures.delete(d);
    }
  }
}

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
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export class InventorySync {
  /** What each live device looked like when last pushed: pushed again only when it changes. */
  private readonly signatures = new Map<Device, string>();
  private readonly recent = new Map<string, string[]>();

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
    const category = d ? this.views.categoryOf(d) : 'unknown';
    const detailed = this.views.keepsHistory(r.device, category);
    const remote = r.deviceSide === 'resp' ? r.orig.ip : r.resp.ip;
    const geo = r.internet ? this.config.verdicts!.geo.lookup(remote) : { country: null, org: null };
    this.store.recordFlow(r.device, r, { country: geo.country, org: geo.org }, detailed);
    if (!detailed) {
      this.recent.delete(r.device);
      return;
    }
    let list = this.recent.get(r.device);
    if (!list) this.recent.set(r.device, (list = []));
    list.push(JSON.stringify(r));
    if (list.length > RECENT_FLOWS) list.shift();
  }

  recentFlows(mac: string): FlowRecord[] {
    return (this.recent.get(mac) ?? []).map((t) => JSON.parse(t) as FlowRecord);
  }

  /** The household opted the device out of history: its recent flows and profile detail go. */
  forgetDetail(mac: string): void {
    this.store.forgetDetail(mac);
    this.recent.delete(mac);
    this.segmentation.forgetDetail(mac);
  }

  /** Rules changed (a reload): every device is pushed again at the next sync. */
  invalidate(): void {
    this.signatures.clear();
  }

  /** Once a second. */
  sync(): void {
    let risks: Map<string, { risk: Severity | null; open: number }> | null = null;
    for (const d of this.engine.devices.all()) {
      const mac = DeviceTable.macText(d);
      const sig = `${d.facts?.version ?? 0}|${d.ips.size}|${Math.floor(d.lastSeen / 60)}|${mac ? JSON.stringify(this.config.deviceOverrides[mac] ?? null) : ''}`;
      if (this.signatures.get(d) === sig) continue;
      const isNew = !this.signatures.has(d);
      this.signatures.set(d, sig);
      risks ??= this.views.risks();
      const view = this.views.liveView(d, risks);
      if (mac) {
        const rec = view.record!;
        if (this.store.recordDevice(mac, rec)) this.eventLog?.write({ type: 'device', new: true, device: { mac, vendor: rec.vendor, hostname: rec.hostname, category: rec.category } });
      }
      this.hub.publish({ type: 'device', new: isNew, device: view });
    }
    if (this.signatures.size > this.engine.devices.size * 2 + 64) {
      const live = new Set(this.engine.devices.all());
      for (const d of this.signatures.keys()) if (!live.has(d)) this.signatures.delete(d);
    }
  }
}

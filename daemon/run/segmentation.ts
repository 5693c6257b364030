/**
 * Segmentation inside the daemon: the profile stage fed by every ended flow, profiles kept in the
 * store, the plan recomputed when asked from what the daemon knows now, and — only when the
 * daemon was started with --allow-apply — applied to this router with the automatic rollback of
 * segment/apply.ts. Kept apart from daemon.ts: this room holds everything of the plan.
 */
import { createHash } from 'node:crypto';
import type { EngineConfig } from '../analysis/config.js';
import { PERSONAL_CATEGORIES } from '../model/device.js';
import type { SegmentationPlan, Zone } from '../model/plan.js';
import type { DeviceProfile } from '../model/profile.js';
import { ProfileBook } from '../profiles/profile-book.js';
import type { DeviceRecord, FlowRecord } from '../report/types.js';
import { buildPlan } from '../segment/plan.js';
import type { Store } from '../store/store.js';

export interface SegmentationDeps {
  config: EngineConfig;
  store: Store;
  /** Every device's current record (live, else the store's last picture). */
  records: () => DeviceRecord[];
  /** The household's privacy rule: false for a personal device without opted-in history. */
  keepsHistory: (mac: string, category: string) => boolean;
  isPersonal: (mac: string, category: string) => boolean;
  categoryOf: (mac: string) => string;
}

export class Segmentation {
  readonly book: ProfileBook;
  private cache: { at: number; key: string; plan: SegmentationPlan } | null = null;
  /** When the plan for each asker last changed (its digest), so that an unchanged plan keeps its date. */
  private readonly dated = new Map<string, { digest: string; generated: string }>();

  constructor(private readonly deps: SegmentationDeps) {
    const seg = deps.config.segment;
    const geo = deps.config.verdicts!.geo;
    this.book = new ProfileBook({
      learningSeconds: seg?.learningSeconds ?? 7 * 86400,
      place: (ip) => geo.lookup(ip),
      keepsDetail: (mac) => deps.keepsHistory(mac, deps.categoryOf(mac)),
    });
    this.book.restore(deps.store.profiles());
  }

  flowEnded(r: FlowRecord): void {
    this.book.add(r);
    for (const mac of [r.orig.mac, r.resp.mac]) {
      if (!mac) continue;
      const p = this.book.get(mac);
      if (p) this.deps.store.saveProfile(mac, p);
    }
    this.cache = null;
  }

  /** Once a minute: profiles whose window passed freeze. */
  tick(now = new Date()): void {
    this.book.tick(now);
  }

  profile(mac: string): DeviceProfile | null {
    return this.book.get(mac) ?? null;
  }

  /** Learning again from now (what was seen since freezing becomes learnt), or frozen now. */
  setLearning(mac: string, learning: boolean): DeviceProfile | null {
    const p = learning ? this.book.reopen(mac, new Date()) : this.book.freeze(mac, new Date());
    if (p) this.deps.store.saveProfile(mac, p);
    this.cache = null;
    return p ?? null;
  }

  /** The household opted a device out of history: its profile keeps volumes only. */
  forgetDetail(mac: string): void {
    this.book.forgetDetail(mac);
    this.cache = null;
  }

  /** The household's zone for a device (null: the policy decides). */
  setZone(mac: string, zone: Zone | null): void {
    // Bounded like every device entry the API makes (StoreLimitError past it).
    this.deps.store.updateDevice(mac, { zone });
    this.cache = null;
  }

  /** Zones chosen in the config file, then in the dashboard (which wins). */
  private overrides(): Record<string, Zone> {
    const out: Record<string, Zone> = {};
    for (const [mac, o] of Object.entries(this.deps.config.deviceOverrides)) if (o.zone) out[mac] = o.zone;
    for (const [mac, s] of this.deps.store.storedDevices()) if (s.zone) out[mac] = s.zone;
    return out;
  }

  /**
   * The plan from what the daemon knows now. `managerIp`: the address of the browser asking,
   * whose device is never restricted. Recomputed at most once a second for the same asker.
   */
  plan(managerIp: string | null = null, only?: string): SegmentationPlan {
    const key = `${managerIp ?? ''}|${only ?? ''}`;
    if (this.cache && this.cache.key === key && Date.now() - this.cache.at < 1000) return this.cache.plan;
    const records = this.deps.records().filter((d) => d.mac);
    const seg = this.deps.config.segment;
    const protect = new Set<string>(seg?.protect ?? []);
    if (managerIp) for (const d of records) if (d.ips.some((a) => a.ip === managerIp)) protect.add(d.mac!);
    const plan = buildPlan({
      devices: records,
      profiles: this.book.profiles,
      alerts: [...this.deps.store.alerts()],
      personal: (mac, category) => this.deps.isPersonal(mac, category) || PERSONAL_CATEGORIES.has(category),
      policy: seg?.policy ?? [],
      platforms: this.deps.config.verdicts!.platforms,
      overrides: this.overrides(),
      protect,
      homeCountry: this.deps.store.settings().homeCountry ?? this.deps.config.verdicts!.home ?? null,
      lanInterfaces: seg?.lanInterfaces ?? ['br-lan'],
      source: { kind: 'state', path: this.deps.store.opening.file },
      now: new Date(),
      only,
    });
    // A plan that enforces what the last one did keeps its date: what was shown is what is
    // downloaded, and "generated" says when the plan last changed, not when it was last asked for.
    const digest = Segmentation.digest(plan);
    const last = this.dated.get(key);
    if (last && last.digest === digest) plan.generated = last.generated;
    else {
      if (this.dated.size >= 64) this.dated.clear();
      this.dated.set(key, { digest, generated: plan.generated });
    }
    this.cache = { at: Date.now(), key, plan };
    return plan;
  }

  /** A digest of what the plan enforces (zones and lists, not its timestamps), to tell plans apart. */
  static digest(plan: SegmentationPlan): string {
    const core = plan.devices.map((d) => [d.mac, d.zone, d.allow, d.lan.map((p) => [p.mac, p.ips, p.role])]);
    return createHash('sha256').update(JSON.stringify([plan.lanInterfaces, core])).digest('hex').slice(0, 16);
  }
}

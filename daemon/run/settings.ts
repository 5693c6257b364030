/**
 * The daemon's settings: what the config file (and the command line) say, under what the
 * household changed from the dashboard (kept in the store), which wins; and the reload of the
 * file (SIGHUP, `uci commit`), where a broken file keeps the last good set.
 */
import type { EngineConfig } from '../analysis/config.js';
import type { Engine } from '../analysis/engine.js';
import { loadConfig } from '../config/load.js';
import type { DeviceOverride } from '../model/device.js';
import type { Mute } from '../model/alert.js';
import type { Store } from '../store/store.js';
import { trustedSet } from '../verdicts/countries.js';

export interface SettingsSource {
  config?: string;
  rules: string[];
  homeCountry?: string;
}

export class DaemonSettings {
  private fileOverrides: Record<string, DeviceOverride> = {};
  private fileMutes: Mute[] = [];
  /** The home country from the command line or the config file. */
  private fileHome: string | null = null;
  private fileTrusted: string[] | null = null;
  /** Why the last reload was refused (null: the files in force are the files on disk). */
  rulesError: string | null = null;

  constructor(
    readonly config: EngineConfig,
    private readonly store: Store,
    private readonly source: SettingsSource,
  ) {
    this.takeFile(config);
    this.apply();
  }

  private takeFile(c: EngineConfig): void {
    this.fileOverrides = c.deviceOverrides;
    this.fileMutes = c.verdicts!.mutes;
    this.fileHome = c.verdicts!.home ?? null;
    this.fileTrusted = c.verdicts!.trustedList ?? null;
  }

  /** What the config file says of a device (a label for a device the store only remembers). */
  fileOverride(mac: string): DeviceOverride | undefined {
    return this.fileOverrides[mac];
  }

  homeCountry(): string | null {
    const s = this.store.settings().homeCountry;
    return s !== undefined ? s : this.fileHome;
  }

  trustedCountries(): string[] | null {
    const s = this.store.settings().trustedCountries;
    return s !== undefined ? s : this.fileTrusted;
  }

  /** The dashboard's settings over the file's: countries, labels and categories, mutes. */
  apply(): void {
    const v = this.config.verdicts!;
    v.trusted = trustedSet(this.homeCountry(), this.trustedCountries() ?? undefined);
    this.applyOverrides();
    v.mutes = this.mutes();
  }

  applyOverrides(): void {
    const merged = { ...this.fileOverrides };
    for (const [mac, d] of this.store.storedDevices()) {
      if (d.label == null && d.category == null) continue;
      merged[mac] = { ...merged[mac], ...(d.label != null ? { label: d.label } : {}), ...(d.category != null ? { category: d.category } : {}) };
    }
    this.config.deviceOverrides = merged;
  }

  /** The file's mutes and the dashboard's; alerts follow at once. */
  applyMutes(engine: Engine): void {
    this.config.verdicts!.mutes = this.mutes();
    engine.verdicts!.remute(Date.now() / 1000);
  }

  private mutes(): Mute[] {
    return [...this.fileMutes, ...this.store.mutes()];
  }

  /**
   * Reads the config file and rules again and puts them in force; false (and rulesError says why)
   * when a file is broken: the rules and settings in force then stay.
   */
  reload(engine: Engine): { ok: true; summary: string } | { ok: false; reason: string } {
    let next: EngineConfig;
    try {
      next = loadConfig(this.source.config, undefined, this.source.rules, { homeCountry: this.source.homeCountry });
    } catch (e) {
      this.rulesError = (e as Error).message;
      return { ok: false, reason: this.rulesError };
    }
    this.rulesError = null;
    this.config.deviceRules = next.deviceRules;
    this.takeFile(next);
    const v = next.verdicts!;
    engine.verdicts!.reconfigure({ rules: v.rules, platforms: v.platforms, geo: v.geo, learningPeriod: v.learningPeriod });
    this.apply();
    engine.verdicts!.remute(Date.now() / 1000);
    return { ok: true, summary: `${next.deviceRules.rules.length} device rules, ${v.rules.length} alert rules, ${v.platforms.length} cloud platforms` };
  }
}

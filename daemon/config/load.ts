/** The configuration file shared by `analyze`, `run` and `segment` (YAML, schema-checked). */
import path from 'node:path';
import { DEFAULT_CONFIG, DEFAULT_SEGMENT, type EngineConfig, withLanPrefixes } from '../analysis/config.js';
import type { DeviceOverride } from '../model/device.js';
import type { Mute } from '../model/alert.js';
import { loadZonePolicy } from '../segment/policy.js';
import { InputError } from '../capture/errors.js';
import { loadDeviceRules } from '../devices/rules.js';
import { Geo, type NetworkOverride } from '../geo/geo.js';
import { BUILTIN_RULES, formatRuleError, loadCloudPlatforms, loadYamlFile, readBoundedText, RuleLoadError, schemaErrors } from '../rules/load.js';
import { looksLikeUci, parseUci, UciError, uciToConfig } from './uci.js';
import { trustedSet } from '../verdicts/countries.js';
import { loadAlertRules } from '../verdicts/rules.js';
import { DEFAULT_VERDICTS } from '../verdicts/verdicts.js';

interface ConfigFile {
  lan?: string[];
  rules?: string[];
  communityIdSeed?: number;
  devices?: Record<string, DeviceOverride>;
  homeCountry?: string;
  trustedCountries?: string[];
  networks?: NetworkOverride[];
  mutes?: Mute[];
  learningPeriod?: number;
  run?: RunSettings;
  segment?: { learningDays?: number; lanInterfaces?: string[]; rollbackSeconds?: number; protect?: string[] };
}

/** `vigie run`'s settings from the file (its flags win). */
export interface RunSettings {
  interface?: string;
  listen?: string;
  allowedHosts?: string[];
  port?: number;
  stateDir?: string;
  commitInterval?: number;
  filter?: string;
  eventLog?: string;
  syslog?: string;
  webhook?: string;
  tlsCert?: string;
  tlsKey?: string;
  haMqtt?: string;
  haCa?: string;
  haPrefix?: string;
  haPasswordFile?: string;
}

const SCHEMA = '../config/config.schema.json';

/** Reads the config file, YAML or UCI (/etc/config/vigie), checked against one schema. */
export function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readBoundedText(file);
  } catch (e) {
    throw new InputError(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message);
  }
  if (!looksLikeUci(text)) {
    const r = loadYamlFile<ConfigFile>(file, SCHEMA);
    if (!r.ok) throw new InputError('config', r.errors.map(formatRuleError).join('; '));
    return r.value.data;
  }
  let mapped;
  try {
    mapped = uciToConfig(parseUci(text));
  } catch (e) {
    if (e instanceof UciError) throw new InputError('config', `${file}:${e.line}: ${e.message}`);
    throw e;
  }
  const errors = schemaErrors(file, mapped.data, SCHEMA, mapped.lineAt);
  if (errors.length > 0) throw new InputError('config', errors.map(formatRuleError).join('; '));
  return mapped.data as ConfigFile;
}

/** Command-line settings that beat the file's. */
export interface ConfigFlags {
  homeCountry?: string;
}

/** Reads --config (if any) and the rules folders into an engine configuration. */
export function loadConfig(file: string | undefined, base: EngineConfig = DEFAULT_CONFIG, extraRuleDirs: string[] = [], flags: ConfigFlags = {}): EngineConfig {
  let cfg: ConfigFile = {};
  if (file) cfg = readConfigFile(file);
  let config: EngineConfig = { ...base };
  try {
    config = withLanPrefixes(config, cfg.lan ?? []);
  } catch (e) {
    throw new InputError(file ?? '--lan', (e as Error).message);
  }
  if (cfg.communityIdSeed !== undefined) config.communityIdSeed = cfg.communityIdSeed;
  const overrides: Record<string, DeviceOverride> = {};
  for (const [mac, o] of Object.entries(cfg.devices ?? {})) overrides[mac.toLowerCase()] = o;
  config.deviceOverrides = overrides;
  const dirs = [BUILTIN_RULES, ...(cfg.rules ?? []).map((d) => path.resolve(path.dirname(file ?? '.'), d)), ...extraRuleDirs];
  let rules, platforms, policy;
  try {
    config.deviceRules = loadDeviceRules(dirs);
    rules = loadAlertRules(dirs);
    platforms = loadCloudPlatforms(dirs);
    // The household's zone rules are read before the built-in ones: the first match decides.
    policy = loadZonePolicy([...dirs.slice(1), dirs[0]]);
  } catch (e) {
    if (e instanceof RuleLoadError) throw new InputError('rules', 'invalid rule files:', e.errors.map(formatRuleError));
    throw e;
  }
  const home = flags.homeCountry ?? cfg.homeCountry;
  if (home !== undefined && !/^[A-Za-z]{2}$/.test(home)) throw new InputError('--home-country', `"${home}" is not an ISO 3166-1 alpha-2 code (FR, DE, US...)`);
  let geo: Geo;
  try {
    geo = new Geo(cfg.networks ?? []);
  } catch (e) {
    throw new InputError(file ?? 'networks', (e as Error).message);
  }
  for (const m of cfg.mutes ?? []) {
    if (m.until !== undefined && Number.isNaN(Date.parse(m.until))) throw new InputError(file ?? 'mutes', `mutes: "${m.until}" is not a date`);
  }
  const seg = cfg.segment ?? {};
  config.segment = {
    learningSeconds: seg.learningDays !== undefined ? seg.learningDays * 86400 : DEFAULT_SEGMENT.learningSeconds,
    lanInterfaces: seg.lanInterfaces ?? DEFAULT_SEGMENT.lanInterfaces,
    rollbackSeconds: seg.rollbackSeconds ?? DEFAULT_SEGMENT.rollbackSeconds,
    protect: (seg.protect ?? []).map((m) => m.toLowerCase()),
    policy,
  };
  config.verdicts = {
    ...DEFAULT_VERDICTS,
    rules,
    platforms,
    geo,
    trusted: trustedSet(home?.toUpperCase() ?? null, cfg.trustedCountries),
    home: home?.toUpperCase() ?? null,
    trustedList: cfg.trustedCountries ?? null,
    mutes: cfg.mutes ?? [],
    ...(cfg.learningPeriod !== undefined ? { learningPeriod: cfg.learningPeriod } : {}),
  };
  return config;
}

/** The configuration file shared by `analyze`, `run` and `segment` (YAML, schema-checked). */
import path from 'node:path';
import { DEFAULT_CONFIG, type DeviceOverride, type EngineConfig, withLanPrefixes } from '../analysis/config.js';
import { InputError } from '../capture/errors.js';
import { loadDeviceRules } from '../devices/rules.js';
import { BUILTIN_RULES, formatRuleError, loadYamlFile, RuleLoadError } from '../rules/load.js';

interface ConfigFile {
  lan?: string[];
  rules?: string[];
  communityIdSeed?: number;
  devices?: Record<string, DeviceOverride>;
}

/** Reads --config (if any) and the rules folders into an engine configuration. */
export function loadConfig(file: string | undefined, base: EngineConfig = DEFAULT_CONFIG, extraRuleDirs: string[] = []): EngineConfig {
  let cfg: ConfigFile = {};
  if (file) {
    const r = loadYamlFile<ConfigFile>(file, '../config/config.schema.json');
    if (!r.ok) throw new InputError('config', r.errors.map(formatRuleError).join('; '));
    cfg = r.value.data;
  }
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
  try {
    config.deviceRules = loadDeviceRules(dirs);
  } catch (e) {
    if (e instanceof RuleLoadError) throw new InputError('rules', `invalid rule files:\n${e.message}`);
    throw e;
  }
  return config;
}

/**
 * Device signatures from rules/devices/*.yaml, compiled: patterns become regular expressions,
 * ids must be unique, and any error is reported against the file and line it comes from.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_RULES, loadYamlFile, RuleLoadError, type RuleError, ruleFiles } from '../rules/load.js';

/** The built-in rules as the build validated them (build-assets), one entry per file. */
export const BUILTIN_COMPILED = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'rules', 'builtin-devices.json');

interface CompiledFile {
  file: string;
  rules: RawRule[];
}

/** The precompiled built-in rules, unless a rule file changed since the build. */
function precompiled(dir: string): CompiledFile[] | null {
  if (path.resolve(dir) !== path.resolve(BUILTIN_RULES) || !fs.existsSync(BUILTIN_COMPILED)) return null;
  const built = fs.statSync(BUILTIN_COMPILED).mtimeMs;
  if (ruleFiles(dir, 'devices').some((f) => fs.statSync(f).mtimeMs > built)) return null;
  return JSON.parse(fs.readFileSync(BUILTIN_COMPILED, 'utf8')) as CompiledFile[];
}

/** Reads and validates the YAML files of one rules folder (for the build and for user folders). */
export function readDeviceRuleFiles(dir: string): { files: CompiledFile[]; errors: RuleError[]; lines: Map<string, (i: number, f?: string) => number> } {
  const files: CompiledFile[] = [];
  const errors: RuleError[] = [];
  const lines = new Map<string, (i: number, f?: string) => number>();
  for (const file of ruleFiles(dir, 'devices')) {
    const r = loadYamlFile<{ rules: RawRule[] }>(file, 'device-rules.schema.json');
    if (!r.ok) errors.push(...r.errors);
    else {
      files.push({ file, rules: r.value.data.rules });
      lines.set(file, r.value.lineOfRule);
    }
  }
  return { files, errors, lines };
}

export const CATEGORIES = ['camera', 'baby_monitor', 'doorbell', 'speaker', 'toy', 'tv', 'plug_or_light', 'hub', 'printer', 'nas', 'phone', 'computer', 'console', 'network', 'unknown'] as const;
export type Category = (typeof CATEGORIES)[number];

export type MatchKind = 'oui' | 'macPrefix' | 'dhcpVendorClass' | 'dhcpParams' | 'hostname' | 'mdnsService' | 'mdnsModel' | 'ssdpServer' | 'ssdpType' | 'domain' | 'protocol' | 'mqttTopic' | 'ja4';

export interface RawRule {
  id: string;
  description: string;
  source: string;
  match: Partial<Record<MatchKind, string | string[] | number[]>>;
  category?: Category;
  vendor?: string;
  model?: string;
  weight: number;
}

export interface DeviceRule {
  id: string;
  description: string;
  source: string;
  file: string;
  kind: MatchKind;
  /** Compiled pattern for the regular-expression kinds. */
  pattern: RegExp | null;
  /** Values for list kinds (lower-case), or the exact parameter list as "1,3,6". */
  values: string[];
  category: Category | null;
  vendor: string | null;
  model: string | null;
  weight: number;
}

const REGEX_KINDS = new Set<MatchKind>(['oui', 'dhcpVendorClass', 'hostname', 'mdnsModel', 'ssdpServer', 'ssdpType', 'mqttTopic']);

export function loadDeviceRules(dirs: string[] = [BUILTIN_RULES]): DeviceRule[] {
  const errors: RuleError[] = [];
  const out: DeviceRule[] = [];
  const seen = new Map<string, string>();
  for (const dir of dirs) {
    const pre = precompiled(dir);
    const read = pre ? { files: pre, errors: [], lines: new Map<string, (i: number, f?: string) => number>() } : readDeviceRuleFiles(dir);
    errors.push(...read.errors);
    for (const { file, rules } of read.files) {
      const lineOfRule = read.lines.get(file) ?? (() => 0);
      rules.forEach((raw, i) => {
        const [kind, value] = Object.entries(raw.match)[0] as [MatchKind, string | string[] | number[]];
        const where = (field?: string) => ({ file, line: lineOfRule(i, field) });
        if (seen.has(raw.id)) errors.push({ ...where('id'), field: `rules.${i}.id`, reason: `duplicate rule id "${raw.id}" (also in ${seen.get(raw.id)})` });
        seen.set(raw.id, file);
        let pattern: RegExp | null = null;
        if (REGEX_KINDS.has(kind)) {
          try {
            pattern = new RegExp(value as string, 'i');
          } catch (e) {
            errors.push({ ...where('match'), field: `rules.${i}.match.${kind}`, reason: `bad regular expression: ${(e as Error).message}` });
            return;
          }
        }
        const values = Array.isArray(value) ? (kind === 'dhcpParams' ? [(value as number[]).join(',')] : (value as string[]).map((v) => v.toLowerCase())) : kind === 'protocol' || kind === 'mdnsService' ? [String(value).toLowerCase()] : [];
        out.push({ id: raw.id, description: raw.description, source: raw.source, file, kind, pattern, values, category: raw.category ?? null, vendor: raw.vendor ?? null, model: raw.model ?? null, weight: raw.weight });
      });
    }
  }
  if (errors.length > 0) throw new RuleLoadError(errors);
  return out;
}

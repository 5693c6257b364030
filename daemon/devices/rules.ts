/**
 * Device signatures from rules/devices/*.yaml, compiled: patterns become regular expressions,
 * ids must be unique, and any error is reported against the file and line it comes from.
 */
import { BUILTIN_RULES, loadYamlFile, RuleLoadError, type RuleError, ruleFiles } from '../rules/load.js';

export type Category = 'camera' | 'baby_monitor' | 'doorbell' | 'speaker' | 'toy' | 'tv' | 'plug_or_light' | 'hub' | 'printer' | 'nas' | 'phone' | 'computer' | 'console' | 'network' | 'unknown';

export type MatchKind = 'oui' | 'macPrefix' | 'dhcpVendorClass' | 'dhcpParams' | 'hostname' | 'mdnsService' | 'mdnsModel' | 'ssdpServer' | 'ssdpType' | 'domain' | 'protocol' | 'mqttTopic' | 'ja4';

interface RawRule {
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
    for (const file of ruleFiles(dir, 'devices')) {
      const r = loadYamlFile<{ rules: RawRule[] }>(file, 'device-rules.schema.json');
      if (!r.ok) {
        errors.push(...r.errors);
        continue;
      }
      r.value.data.rules.forEach((raw, i) => {
        const [kind, value] = Object.entries(raw.match)[0] as [MatchKind, string | string[] | number[]];
        const where = (field?: string) => ({ file, line: r.value.lineOfRule(i, field) });
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

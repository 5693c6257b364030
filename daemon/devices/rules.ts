/**
 * Device knowledge from rules/: signatures (devices/*.yaml, some generated from public discovery
 * tables), the product families they name (families/*.yaml: brand and category of each family,
 * reviewed by hand) and the module makers (modules/*.yaml: IEEE registrants that are not the
 * device's brand). Patterns become regular expressions, ids must be unique, every reference must
 * resolve, and any error is reported against the file and line it comes from.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_RULES, loadYamlFile, RuleLoadError, type RuleError, ruleFiles } from '../rules/load.js';
import { compileUserPattern, UnsafePatternError } from '../util/safe-regex.js';

/** The built-in knowledge as the build validated it (build-assets). */
export const BUILTIN_COMPILED = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'rules', 'builtin-devices.json');

// Categories are the domain model's (daemon/model/device.ts), shared with the dashboard.
import type { Category, SignalClass } from '../model/device.js';
export { CATEGORIES, type Category, type SignalClass } from '../model/device.js';

/** Categories that are kinds of another: a doorbell and a baby monitor are cameras too. */
export const PARENT_CATEGORY: Partial<Record<Category, Category>> = { doorbell: 'camera', baby_monitor: 'camera' };

export const MATCH_KINDS = [
  'oui', 'macPrefix', 'dhcpVendorClass', 'dhcpParams', 'hostname',
  'mdnsService', 'mdnsBrowse', 'mdnsInstance', 'mdnsTxt', 'mdnsModel', 'homekitModel',
  'ssdpServer', 'ssdpType', 'upnpManufacturer', 'upnpModelName', 'upnpModelNumber', 'upnpModelDescription', 'upnpDeviceType', 'upnpManufacturerUrl', 'upnpFriendlyName',
  'wsdType', 'wsdScope', 'kasaModel', 'kasaType', 'coapPath', 'userAgent',
  'domain', 'domainPattern', 'protocol', 'mqttTopic', 'ja4',
] as const;
export type MatchKind = (typeof MATCH_KINDS)[number];

const SIGNAL: Record<MatchKind, SignalClass> = {
  oui: 'mac', macPrefix: 'mac', dhcpVendorClass: 'dhcp', dhcpParams: 'dhcp', hostname: 'host-name',
  mdnsService: 'service', mdnsBrowse: 'behaviour', mdnsInstance: 'service', mdnsTxt: 'self-described', mdnsModel: 'self-described', homekitModel: 'self-described',
  ssdpServer: 'service', ssdpType: 'service', upnpManufacturer: 'self-described', upnpModelName: 'self-described', upnpModelNumber: 'self-described', upnpModelDescription: 'self-described', upnpDeviceType: 'self-described', upnpManufacturerUrl: 'self-described', upnpFriendlyName: 'self-described',
  wsdType: 'self-described', wsdScope: 'self-described', kasaModel: 'self-described', kasaType: 'self-described', coapPath: 'service', userAgent: 'client',
  domain: 'cloud', domainPattern: 'cloud', protocol: 'behaviour', mqttTopic: 'cloud', ja4: 'client',
};

/** Kinds whose value is one regular expression (mdnsTxt may be a list: all must match). */
const REGEX_KINDS = new Set<MatchKind>(MATCH_KINDS.filter((k) => !['macPrefix', 'dhcpParams', 'mdnsService', 'mdnsBrowse', 'domain', 'protocol', 'ja4'].includes(k)));

export interface RawRule {
  id: string;
  description: string;
  source: string;
  match: Partial<Record<MatchKind, string | string[] | number[]>>;
  category?: Category;
  vendor?: string;
  model?: string;
  family?: string;
  weight: number;
}

export interface Condition {
  kind: MatchKind;
  /** The regular expressions of a regex kind (one, or several that must all match). */
  patterns: RegExp[];
  /** Values of list kinds, lower-case (MAC prefixes as bare hex, dhcpParams as "1,3,6"). */
  values: string[];
}

export interface DeviceRule {
  id: string;
  description: string;
  source: string;
  file: string;
  /** The first condition's kind: what the evidence shows. */
  kind: MatchKind;
  signal: SignalClass;
  /** Every condition must hold. */
  conditions: Condition[];
  /** Bit per kind of the conditions: a rule is skipped at once when the device lacks one. */
  mask: number;
  category: Category | null;
  vendor: string | null;
  model: string | null;
  family: string | null;
  weight: number;
}

interface RawFamily {
  family: string;
  brand: string | null;
  kind?: 'brand' | 'platform' | 'service';
  category: Category | null;
  reason: string;
  source: string;
}

export interface Family extends RawFamily {
  file: string;
}

export interface ModuleMaker {
  id: string;
  pattern: RegExp;
  maker: string;
  kind: string;
  source: string;
}

/** Everything the classifier knows, with the indexes it needs. */
export interface DeviceKnowledge {
  rules: DeviceRule[];
  families: Map<string, Family>;
  modules: ModuleMaker[];
  /** Domain rules by the names they list (a contacted name is looked up by each of its suffixes). */
  domainIndex: Map<string, DeviceRule[]>;
}

export const KIND_BIT: Record<MatchKind, number> = Object.fromEntries(MATCH_KINDS.map((k, i) => [k, 2 ** i])) as Record<MatchKind, number>;

interface RawModule {
  id: string;
  oui: string;
  maker: string;
  kind: string;
  source: string;
}
interface CompiledFile {
  file: string;
  rules: RawRule[];
}
interface RawKnowledge {
  files: CompiledFile[];
  families: { file: string; items: RawFamily[] }[];
  modules: { file: string; items: RawModule[] }[];
}
type Lines = Map<string, (pointer: string) => number>;

/** The precompiled built-in knowledge, unless a rule file changed since the build. */
function precompiled(dir: string): RawKnowledge | null {
  if (path.resolve(dir) !== path.resolve(BUILTIN_RULES) || !fs.existsSync(BUILTIN_COMPILED)) return null;
  const built = fs.statSync(BUILTIN_COMPILED).mtimeMs;
  if (['devices', 'families', 'modules'].some((sub) => ruleFiles(dir, sub).some((f) => fs.statSync(f).mtimeMs > built))) return null;
  const k = JSON.parse(fs.readFileSync(BUILTIN_COMPILED, 'utf8')) as RawKnowledge;
  return Array.isArray(k.files) ? k : null;
}

/** Reads and validates the YAML files of one rules folder (for the build and for user folders). */
export function readDeviceRuleFiles(dir: string): { knowledge: RawKnowledge; errors: RuleError[]; lines: Lines } {
  const knowledge: RawKnowledge = { files: [], families: [], modules: [] };
  const errors: RuleError[] = [];
  const lines: Lines = new Map();
  for (const file of ruleFiles(dir, 'devices')) {
    const r = loadYamlFile<{ rules: RawRule[] }>(file, 'device-rules.schema.json');
    if (!r.ok) errors.push(...r.errors);
    else {
      knowledge.files.push({ file, rules: r.value.data.rules });
      lines.set(file, r.value.lineAt);
    }
  }
  for (const file of ruleFiles(dir, 'families')) {
    const r = loadYamlFile<{ families: RawFamily[] }>(file, 'device-families.schema.json');
    if (!r.ok) errors.push(...r.errors);
    else {
      knowledge.families.push({ file, items: r.value.data.families.map(({ family, brand, kind, category, reason, source }) => ({ family, brand, kind, category, reason, source })) });
      lines.set(file, r.value.lineAt);
    }
  }
  for (const file of ruleFiles(dir, 'modules')) {
    const r = loadYamlFile<{ modules: RawModule[] }>(file, 'module-makers.schema.json');
    if (!r.ok) errors.push(...r.errors);
    else {
      knowledge.modules.push({ file, items: r.value.data.modules.map(({ id, oui, maker, kind, source }) => ({ id, oui, maker, kind, source })) });
      lines.set(file, r.value.lineAt);
    }
  }
  return { knowledge, errors, lines };
}

/** A MAC prefix as bare lower-case hex ("d0:73:d5" and "D073D5" are the same prefix). */
export function macHexPrefix(p: string): string {
  return p.replace(/:/g, '').toLowerCase();
}

export function loadDeviceRules(dirs: string[] = [BUILTIN_RULES]): DeviceKnowledge {
  const errors: RuleError[] = [];
  const reads = dirs.map((dir) => {
    const pre = precompiled(dir);
    return pre ? { knowledge: pre, errors: [] as RuleError[], lines: new Map() as Lines } : readDeviceRuleFiles(dir);
  });
  for (const r of reads) errors.push(...r.errors);
  const lineIn = (lines: Lines, file: string, pointer: string) => lines.get(file)?.(pointer) ?? 0;

  // Families and module makers first: rules of any folder may name a family of another.
  const families = new Map<string, Family>();
  const modules: ModuleMaker[] = [];
  const moduleIds = new Map<string, string>();
  for (const { knowledge, lines } of reads) {
    for (const { file, items } of knowledge.families) {
      items.forEach((f, i) => {
        const prev = families.get(f.family);
        if (prev && prev.file !== file && !dirsLater(prev.file, file, dirs)) errors.push({ file, line: lineIn(lines, file, `/families/${i}/family`), field: `families.${i}.family`, reason: `family "${f.family}" already defined in ${prev.file}` });
        else if (prev && prev.file === file) errors.push({ file, line: lineIn(lines, file, `/families/${i}/family`), field: `families.${i}.family`, reason: `family "${f.family}" defined twice` });
        // A later folder (the household's) may redefine a built-in family: it is read after.
        families.set(f.family, { ...f, file });
      });
    }
    for (const { file, items } of knowledge.modules) {
      items.forEach((m, i) => {
        const where = (field: string) => ({ file, line: lineIn(lines, file, `/modules/${i}/${field}`) });
        if (moduleIds.has(m.id)) errors.push({ ...where('id'), field: `modules.${i}.id`, reason: `duplicate module id "${m.id}" (also in ${moduleIds.get(m.id)})` });
        moduleIds.set(m.id, file);
        try {
          // Checked for catastrophic backtracking, and applied to 255 characters at most.
          modules.push({ id: m.id, pattern: compileUserPattern(m.oui), maker: m.maker, kind: m.kind, source: m.source });
        } catch (e) {
          errors.push({ ...where('oui'), field: `modules.${i}.oui`, reason: regexError(e) });
        }
      });
    }
  }

  const out: DeviceRule[] = [];
  const seen = new Map<string, string>();
  for (const { knowledge, lines } of reads) {
    for (const { file, rules } of knowledge.files) {
      rules.forEach((raw, i) => {
        const where = (field?: string) => ({ file, line: lineIn(lines, file, `/rules/${i}${field ? `/${field}` : ''}`) });
        if (seen.has(raw.id)) errors.push({ ...where('id'), field: `rules.${i}.id`, reason: `duplicate rule id "${raw.id}" (also in ${seen.get(raw.id)})` });
        seen.set(raw.id, file);
        const conditions: Condition[] = [];
        let mask = 0;
        let bad = false;
        for (const [kind, value] of Object.entries(raw.match) as [MatchKind, string | string[] | number[]][]) {
          mask |= KIND_BIT[kind];
          if (REGEX_KINDS.has(kind)) {
            const list = Array.isArray(value) ? (value as string[]) : [value as string];
            const patterns: RegExp[] = [];
            for (const src of list) {
              try {
                patterns.push(compileUserPattern(src));
              } catch (e) {
                errors.push({ ...where(`match/${kind}`), field: `rules.${i}.match.${kind}`, reason: regexError(e) });
                bad = true;
              }
            }
            conditions.push({ kind, patterns, values: [] });
          } else {
            const values = kind === 'dhcpParams' ? [(value as number[]).join(',')] : kind === 'macPrefix' ? (value as string[]).map(macHexPrefix) : Array.isArray(value) ? (value as string[]).map((v) => v.toLowerCase()) : [String(value).toLowerCase()];
            conditions.push({ kind, patterns: [], values });
          }
        }
        if (bad) return;
        const fam = raw.family ? families.get(raw.family) : undefined;
        if (raw.family && !fam) {
          errors.push({ ...where('family'), field: `rules.${i}.family`, reason: `unknown family "${raw.family}" (families are defined in rules/families/*.yaml)` });
          return;
        }
        // A rule's own category wins over its family's; `unknown` says it names none.
        const category = raw.category === 'unknown' ? null : (raw.category ?? fam?.category ?? null);
        out.push({
          id: raw.id, description: raw.description, source: raw.source, file, kind: conditions[0].kind, signal: SIGNAL[conditions[0].kind], conditions, mask,
          category, vendor: raw.vendor ?? fam?.brand ?? null, model: raw.model ?? null, family: raw.family ?? null, weight: raw.weight,
        });
      });
    }
  }
  if (errors.length > 0) throw new RuleLoadError(errors);
  const domainIndex = new Map<string, DeviceRule[]>();
  for (const r of out) {
    if (r.conditions.length !== 1 || r.kind !== 'domain') continue;
    for (const d of r.conditions[0].values) {
      const list = domainIndex.get(d);
      if (list) list.push(r);
      else domainIndex.set(d, [r]);
    }
  }
  return { rules: out, families, modules, domainIndex };
}

/** Why a pattern was refused: unsafe (its own words), or not a regular expression at all. */
function regexError(e: unknown): string {
  return e instanceof UnsafePatternError ? e.message : `bad regular expression: ${(e as Error).message}`;
}

/** Whether `later` comes from a folder read after the one of `earlier` (a household override). */
function dirsLater(earlier: string, later: string, dirs: string[]): boolean {
  const idx = (f: string) => dirs.findIndex((d) => path.resolve(f).startsWith(path.resolve(d) + path.sep));
  return idx(later) > idx(earlier);
}

/** Registrants already matched against a rule book's module makers (each device asks at each classification). */
const makersOf = new WeakMap<DeviceKnowledge, Map<string, ModuleMaker | null>>();
const MAKER_MEMORY = 4096;

/** The module or platform maker behind an IEEE registrant, if it is one. */
export function moduleMaker(k: DeviceKnowledge, registrant: string | null): ModuleMaker | null {
  if (!registrant) return null;
  let known = makersOf.get(k);
  if (!known) makersOf.set(k, (known = new Map()));
  const hit = known.get(registrant);
  if (hit !== undefined) return hit;
  let found: ModuleMaker | null = null;
  for (const m of k.modules) {
    if (m.pattern.test(registrant)) {
      found = m;
      break;
    }
  }
  // A few hundred registrants on a LAN; a flood of random MACs must not grow this without end.
  if (known.size >= MAKER_MEMORY) known.clear();
  known.set(registrant, found);
  return found;
}

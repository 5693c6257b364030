/**
 * Rule files: YAML documents checked against a JSON Schema at load, with every error named as
 * `file:line: field: reason`. A directory of rules is loaded whole or not at all, so a broken file
 * never replaces the rules in force.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ajv2020 as Ajv2020Type, ValidateFunction } from 'ajv/dist/2020.js';
import type { Document } from 'yaml';

type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | null = null;

/** The YAML parser, loaded on first use: built-in rules come precompiled and do not need it. */
function yaml(): YamlModule {
  yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule;
  return yamlModule;
}


export interface RuleError {
  file: string;
  line: number;
  field: string;
  reason: string;
}

export function formatRuleError(e: RuleError): string {
  return `${e.file}:${e.line}: ${e.field || '(file)'}: ${e.reason}`;
}

export class RuleLoadError extends Error {
  constructor(readonly errors: RuleError[]) {
    super(errors.map(formatRuleError).join('\n'));
  }
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** The package's own rules/ folder (beside dist/ and daemon/). */
export const BUILTIN_RULES = path.resolve(here, '../../rules');

function schemaPath(name: string): string {
  // Compiled code runs from dist/rules, sources from daemon/rules: schemas live beside the sources.
  const candidates = [path.join(here, name), path.resolve(here, '../../daemon/rules', name)];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`schema ${name} not found (looked in ${candidates.join(', ')})`);
  return found;
}

const validators = new Map<string, ValidateFunction>();

/**
 * The validator of a schema: the code the build generated from it (build-assets), else compiled
 * now (a source checkout before `npm run build`: tests, development).
 */
export function validator(name: string): ValidateFunction {
  let v = validators.get(name);
  if (!v) {
    const built = path.join(here, name.replace('.schema.json', '.validate.cjs'));
    if (fs.existsSync(built)) v = createRequire(import.meta.url)(built) as ValidateFunction;
    else {
      // Loaded only here: Ajv itself costs tens of milliseconds to import.
      const { Ajv2020 } = createRequire(import.meta.url)('ajv/dist/2020.js') as { Ajv2020: typeof Ajv2020Type };
      const ajv = new Ajv2020({ allErrors: true, strict: true });
      v = ajv.compile(JSON.parse(fs.readFileSync(schemaPath(name), 'utf8')));
    }
    validators.set(name, v);
  }
  return v;
}

/** Line (1-based) of the node at a JSON pointer in the YAML document, or of the nearest parent. */
function lineOf(doc: Document, lc: { linePos(offset: number): { line: number } }, pointer: string): number {
  const { isMap, isSeq } = yaml();
  const keys = pointer
    .split('/')
    .slice(1)
    .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: unknown = doc.contents;
  let at = (node as { range?: [number] } | null)?.range?.[0] ?? 0;
  for (const k of keys) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String((p.key as { value?: unknown })?.value ?? p.key) === k);
      if (!pair) break;
      at = (pair.key as { range?: [number] })?.range?.[0] ?? at;
      node = pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(k)];
      at = (node as { range?: [number] } | undefined)?.range?.[0] ?? at;
    } else break;
  }
  return lc.linePos(at).line;
}

export interface LoadedFile<T> {
  file: string;
  data: T;
  /** Line of each top-level rule, for messages about the rules themselves. */
  lineOfRule: (index: number, field?: string) => number;
  /** Line of the node at a JSON pointer (`/alerts/3/id`). */
  lineAt: (pointer: string) => number;
}

/**
 * Config and rule files are written by hand (the largest built-in one is ~220 KB): a bigger file
 * is a mistake or an attack, and parsing it would take a router's memory.
 */
export const MAX_TEXT_FILE_BYTES = 4 * 1024 * 1024;
/** Alias expansions a document may make (the yaml package's default, made explicit): bombs are refused. */
const MAX_ALIAS_COUNT = 100;

export class FileTooLargeError extends Error {}

/** A text file read whole, refused past MAX_TEXT_FILE_BYTES (read bounded: a FIFO or device has no size). */
export function readBoundedText(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    const buf = Buffer.allocUnsafe(65536);
    let n = 0;
    for (;;) {
      const r = fs.readSync(fd, buf, 0, buf.length, null);
      if (r === 0) break;
      n += r;
      if (n > MAX_TEXT_FILE_BYTES) throw new FileTooLargeError(`file too large (more than ${MAX_TEXT_FILE_BYTES} bytes)`);
      chunks.push(Buffer.from(buf.subarray(0, r)));
    }
    return Buffer.concat(chunks, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** Parses and validates one YAML file against a schema; returns its data or its errors. */
export function loadYamlFile<T>(file: string, schema: string): { ok: true; value: LoadedFile<T> } | { ok: false; errors: RuleError[] } {
  let text: string;
  try {
    text = readBoundedText(file);
  } catch (e) {
    return { ok: false, errors: [{ file, line: 0, field: '', reason: (e as Error).message }] };
  }
  const { LineCounter, parseDocument, visit } = yaml();
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.map((e) => ({ file, line: lc.linePos(e.pos[0]).line, field: '', reason: `YAML: ${e.message.split('\n')[0]}` })) };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (e) {
    // Alias or merge-key expansion past the bound (a ReferenceError from yaml), or nesting too deep:
    // the document is at fault, so it gets a file:line like any other error. The line is the first alias's.
    let at = 0;
    visit(doc, {
      Alias(_, node) {
        at = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    const why = e instanceof ReferenceError ? `aliases expand past ${MAX_ALIAS_COUNT} nodes (${e.message})` : (e as Error).message;
    return { ok: false, errors: [{ file, line: lc.linePos(at).line, field: '', reason: `YAML: ${why}` }] };
  }
  const errors = schemaErrors(file, data, schema, (p) => lineOf(doc, lc, p));
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { file, data: data as T, lineOfRule: (i, f) => lineOf(doc, lc, `/rules/${i}${f ? `/${f}` : ''}`), lineAt: (p) => lineOf(doc, lc, p) } };
}

/** What a schema finds wrong in a document, as `file:line: field: reason` entries. */
export function schemaErrors(file: string, data: unknown, schema: string, lineAt: (pointer: string) => number): RuleError[] {
  const v = validator(schema);
  if (v(data)) return [];
  return (v.errors ?? []).map((e: { instancePath: string; keyword: string; params: unknown; message?: string }) => {
    const field = e.instancePath.replace(/^\//, '').replace(/\//g, '.') + (e.keyword === 'additionalProperties' ? `.${(e.params as { additionalProperty: string }).additionalProperty}` : '') + (e.keyword === 'required' ? `.${(e.params as { missingProperty: string }).missingProperty}` : '');
    return { file, line: lineAt(e.instancePath), field: field.replace(/^\./, ''), reason: e.message ?? e.keyword };
  });
}

/** The YAML files of a rules folder's subfolder, sorted. */
export function ruleFiles(dir: string, sub: string): string[] {
  const d = path.join(dir, sub);
  if (!fs.existsSync(d)) return [];
  return fs
    .readdirSync(d)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(d, f));
}

export interface CloudPlatform {
  id: string;
  name: string;
  operator: string;
  country: string;
  /** Host names (subdomains included); absent for platforms reached by address. */
  domains?: string[];
  /** Application protocols that identify the platform when no name is seen (P2P relays). */
  protocols?: string[];
  devices?: string[];
  source: string;
}

/**
 * The entries under `key` of every YAML file in the `sub` folder of each rules folder, validated
 * against `schema`, ids unique across all of them, plus whatever `check` finds; refused whole on
 * any error, so a broken file never replaces the set in force.
 */
export function loadRuleSet<T extends { id: string }>(dirs: string[], sub: string, schema: string, key: string, check?: (item: T, field: string, file: string, line: number) => RuleError[]): T[] {
  const errors: RuleError[] = [];
  const out: T[] = [];
  const ids = new Map<string, string>();
  for (const dir of dirs) {
    for (const file of ruleFiles(dir, sub)) {
      const r = loadYamlFile<Record<string, T[]>>(file, schema);
      if (!r.ok) {
        errors.push(...r.errors);
        continue;
      }
      r.value.data[key].forEach((item, i) => {
        const line = r.value.lineAt(`/${key}/${i}`);
        if (ids.has(item.id)) errors.push({ file, line, field: `${key}.${i}.id`, reason: `duplicate id "${item.id}" (also in ${ids.get(item.id)})` });
        ids.set(item.id, file);
        if (check) errors.push(...check(item, `${key}.${i}`, file, line));
        out.push(item);
      });
    }
  }
  if (errors.length > 0) throw new RuleLoadError(errors);
  return out;
}

/** IoT cloud platforms from rules/clouds/*.yaml. */
export function loadCloudPlatforms(dirs: string[] = [BUILTIN_RULES]): CloudPlatform[] {
  return loadRuleSet<CloudPlatform>(dirs, 'clouds', 'cloud-platforms.schema.json', 'platforms');
}

/** The platform a host name belongs to (the name or one of its parent domains), if any. */
/** Answers by host name, per platform list: every judged flow asks, and names repeat. */
const cloudAnswers = new WeakMap<CloudPlatform[], Map<string, CloudPlatform | null>>();
const CLOUD_ANSWERS = 4096;

export function cloudOf(platforms: CloudPlatform[], host: string): CloudPlatform | undefined {
  let answers = cloudAnswers.get(platforms);
  if (!answers) cloudAnswers.set(platforms, (answers = new Map()));
  const known = answers.get(host);
  if (known !== undefined) return known ?? undefined;
  const h = host.toLowerCase().replace(/\.$/, '');
  const found = platforms.find((p) => p.domains?.some((d) => h === d || h.endsWith(`.${d}`)));
  if (answers.size >= CLOUD_ANSWERS) answers.clear();
  answers.set(host, found ?? null);
  return found;
}

/** The platform an application protocol belongs to (CS2 PPPP relays are reached by address only). */
export function cloudOfProtocol(platforms: CloudPlatform[], app: string): CloudPlatform | undefined {
  return platforms.find((p) => p.protocols?.includes(app));
}

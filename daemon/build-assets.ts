/**
 * Build step, run after tsc: writes what the daemon would otherwise compute at every start.
 * - dist/devices/oui-table.txt: the IEEE registry, names only (see devices/oui-table.ts).
 * - dist/geo-data/*.bin: country and AS range tables (see geo/build-geo.ts).
 * - dist/rules/*.validate.cjs: the JSON Schema validators of rule and config files, compiled to
 *   code by Ajv (standalone mode), so that loading rules does not compile schemas each time.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import * as standalone from 'ajv/dist/standalone/index.js';
import { buildOuiTable } from './devices/oui-table.js';
import { buildGeo } from './geo/build-geo.js';
import { GEO_DIR } from './geo/geo.js';
import { BUILTIN_COMPILED, loadDeviceRules, readDeviceRuleFiles } from './devices/rules.js';
import { BUILTIN_RULES } from './rules/load.js';

const dist = path.dirname(fileURLToPath(import.meta.url));
const src = path.resolve(dist, '../daemon');
const require = createRequire(import.meta.url);

const raw = JSON.parse(fs.readFileSync(require.resolve('oui-data'), 'utf8')) as Record<string, string>;
const oui = path.join(dist, 'devices', 'oui-table.txt');
fs.writeFileSync(oui, buildOuiTable(raw));
process.stdout.write(`oui-table: ${Object.keys(raw).length} prefixes -> ${oui}\n`);

for (const schema of ['rules/device-rules.schema.json', 'rules/device-families.schema.json', 'rules/module-makers.schema.json', 'rules/cloud-platforms.schema.json', 'config/config.schema.json', 'verdicts/alert-rules.schema.json', 'store/store.schema.json', 'segment/zone-policy.schema.json', 'segment/plan.schema.json']) {
  const ajv = new Ajv2020({ allErrors: true, strict: true, code: { source: true } });
  const validate = ajv.compile(JSON.parse(fs.readFileSync(path.join(src, schema), 'utf8')));
  const out = path.join(dist, schema.replace('.schema.json', '.validate.cjs'));
  // CommonJS module under ESM: the function is the default export.
  const gen = (standalone as unknown as { default: (ajv: Ajv2020, v: unknown) => string }).default;
  fs.writeFileSync(out, gen(ajv, validate));
  process.stdout.write(`validator: ${schema} -> ${out}\n`);
}

// The built-in device knowledge (signatures, families, module makers), validated now (a broken
// file fails the build) and stored as JSON.
const rules = readDeviceRuleFiles(BUILTIN_RULES);
if (rules.errors.length > 0) throw new Error(`built-in rules are invalid:\n${rules.errors.map((e) => `${e.file}:${e.line}: ${e.field}: ${e.reason}`).join('\n')}`);
const knowledge = loadDeviceRules([BUILTIN_RULES]); // regular expressions, ids, families
fs.writeFileSync(BUILTIN_COMPILED, JSON.stringify(rules.knowledge));
process.stdout.write(`rules: ${knowledge.rules.length} built-in device rules, ${knowledge.families.size} families, ${knowledge.modules.length} module makers -> ${BUILTIN_COMPILED}\n`);

const geoPkg = (name: string) => path.dirname(require.resolve(`${name}/package.json`));
const geo = await buildGeo(geoPkg('@ip-location-db/geo-whois-asn-country'), geoPkg('@ip-location-db/asn'), GEO_DIR);
process.stdout.write(`geo: ${Object.entries(geo).map(([f, n]) => `${f} ${(n / 1e6).toFixed(1)} MB`).join(', ')} -> ${GEO_DIR}\n`);

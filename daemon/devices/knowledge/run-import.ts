/**
 * `npm run knowledge [-- --from DIR] [--check]`: regenerates rules/devices/home-assistant.yaml
 * from Home Assistant's discovery tables (default ../shared/knowledge/home-assistant), or with
 * --check says whether the committed file is what the tables give (exit 1 when it is not).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { BUILTIN_RULES } from '../../rules/load.js';
import { ouiVendor } from '../oui.js';
import { loadDeviceRules } from '../rules.js';
import { coverageTable, withCoverage } from './coverage.js';
import { type FamilyInfo, importHomeAssistant, readTables, renderRules } from './import-home-assistant.js';

export const GENERATED = path.join(BUILTIN_RULES, 'devices', 'home-assistant.yaml');
export const DOC = path.resolve(BUILTIN_RULES, '..', 'docs', 'identification.md');
export const DEFAULT_TABLES = path.resolve(BUILTIN_RULES, '..', '..', 'shared', 'knowledge', 'home-assistant');

/** The file the importer makes of the tables, with the families and module makers of rules/. */
export function generate(tables = DEFAULT_TABLES, rules = BUILTIN_RULES): string {
  const families = new Map<string, FamilyInfo>();
  for (const f of fs.readdirSync(path.join(rules, 'families')).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const doc = parse(fs.readFileSync(path.join(rules, 'families', f), 'utf8')) as { families: ({ family: string } & FamilyInfo)[] };
    for (const fam of doc.families) families.set(fam.family, fam);
  }
  const modules: RegExp[] = [];
  for (const f of fs.readdirSync(path.join(rules, 'modules')).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const doc = parse(fs.readFileSync(path.join(rules, 'modules', f), 'utf8')) as { modules: { oui: string }[] };
    for (const m of doc.modules) modules.push(new RegExp(m.oui, 'i'));
  }
  const isModulePrefix = (hex: string) => {
    const full = hex.padEnd(12, '0').slice(0, 12);
    const vendor = ouiVendor(full.match(/../g)!.join(':'));
    return vendor !== null && modules.some((re) => re.test(vendor));
  };
  return renderRules(importHomeAssistant(readTables(tables), families, isModulePrefix));
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const args = process.argv.slice(2);
  const from = args.includes('--from') ? args[args.indexOf('--from') + 1] : DEFAULT_TABLES;
  if (!fs.existsSync(path.join(from, 'dhcp.json'))) {
    process.stderr.write(`vigie knowledge: ${from} does not hold Home Assistant's tables (dhcp.json...): nothing to import\n`);
    process.exit(2);
  }
  const text = generate(from);
  if (args.includes('--check')) {
    const same = fs.existsSync(GENERATED) && fs.readFileSync(GENERATED, 'utf8') === text;
    process.stdout.write(same ? `${GENERATED} is up to date\n` : `${GENERATED} differs from what ${from} gives: run npm run knowledge\n`);
    process.exit(same ? 0 : 1);
  }
  fs.writeFileSync(GENERATED, text);
  process.stdout.write(`${GENERATED}: ${text.split('\n  - id: ').length - 1} rules from ${from}\n`);
  // The coverage report, from the rules as they now are.
  fs.writeFileSync(DOC, withCoverage(fs.readFileSync(DOC, 'utf8'), coverageTable(loadDeviceRules([BUILTIN_RULES]))));
  process.stdout.write(`${DOC}: coverage updated\n`);
}

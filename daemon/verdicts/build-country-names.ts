/**
 * Development step: writes the table of daemon/verdicts/country-names.ts from the English names
 * of i18n-iso-countries (a devDependency, so that the monitor ships 4 kB of names, not the
 * package). Run `npx tsc -p tsconfig.json && node dist/verdicts/build-country-names.js` after
 * upgrading it; test/unit/alert-texts.test.ts fails while the table and the package disagree.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Codes → the package's names: the official one first, then common aliases. */
export type IsoNames = Record<string, string | string[]>;

/** "UK", "U.S.A.": an abbreviation, not a name to write in a sentence. */
const ABBREVIATION = /^[A-Z.]+$/;

/**
 * The name a sentence uses: the package's common alias ("China", not "People's Republic of
 * China"), unless it is an abbreviation, is inverted ("Korea, Republic of") or is shared with
 * another country ("Congo"); then the official name.
 */
function pick(list: string[], uses: Map<string, number>): string {
  const alias = list[1];
  if (alias !== undefined && !ABBREVIATION.test(alias) && !alias.includes(',') && uses.get(alias) === 1) return alias;
  return list[0];
}

/**
 * As it reads inside a sentence: "Virgin Islands, British" → "British Virgin Islands", "Holy See
 * (Vatican City State)" → "Holy See", "The Netherlands" → "Netherlands".
 */
function tidy(name: string): string {
  const m = /^([^,]+), ([^,]+)$/.exec(name);
  const plain = m && !m[2].includes(' and ') ? `${m[2]} ${m[1]}` : name;
  return plain.replace(/ \([^()]*\)$/, '').replace(/^The /, '');
}

/** [code, English name] for every code, sorted by code. */
export function englishNames(countries: IsoNames): [string, string][] {
  const uses = new Map<string, number>();
  for (const v of Object.values(countries)) for (const n of Array.isArray(v) ? v : [v]) uses.set(n, (uses.get(n) ?? 0) + 1);
  return Object.entries(countries)
    .map(([code, v]): [string, string] => [code.toUpperCase(), tidy(pick(Array.isArray(v) ? v : [v], uses))])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

/** The table as country-names.ts stores it: `CODE Name|CODE Name|…`. */
export function tableText(names: [string, string][]): string {
  return names.map(([c, n]) => `${c} ${n}`).join('|');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const en = createRequire(import.meta.url)('i18n-iso-countries/langs/en.json') as { countries: IsoNames };
  const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../daemon/verdicts/country-names.ts');
  const src = fs.readFileSync(file, 'utf8');
  const table = tableText(englishNames(en.countries));
  const updated = src.replace(/const TABLE =\n {2}".*";/, () => `const TABLE =\n  ${JSON.stringify(table)};`);
  if (updated === src && !src.includes(JSON.stringify(table))) throw new Error(`no TABLE line found in ${file}`);
  fs.writeFileSync(file, updated);
  process.stdout.write(`country-names: ${Object.keys(en.countries).length} names, ${table.length} bytes -> ${file}\n`);
}

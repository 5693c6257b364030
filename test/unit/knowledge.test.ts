/**
 * The knowledge built from public tables: the fnmatch translation agrees with Python's own
 * fnmatch (the oracle: Home Assistant matches with it) on every pattern of the tables; the
 * committed rules/devices/home-assistant.yaml is what the importer makes of ../shared/knowledge;
 * the coverage report in docs/identification.md is that of the rules as they are; the
 * knowledge loads fast.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { coverageTable, withCoverage } from '../../daemon/devices/knowledge/coverage.js';
import { fnmatchToRegex, readTables } from '../../daemon/devices/knowledge/import-home-assistant.js';
import { DEFAULT_TABLES, DOC, GENERATED, generate } from '../../daemon/devices/knowledge/run-import.js';
import { CATEGORIES, loadDeviceRules } from '../../daemon/devices/rules.js';

const haveTables = fs.existsSync(path.join(DEFAULT_TABLES, 'dhcp.json'));
const havePython = (() => {
  try {
    execFileSync('python3', ['-c', 'import fnmatch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Strings a pattern should and should not match: wildcards filled in, then one character off. */
function samples(p: string): string[] {
  const fill = p.replace(/\[!?([^\]])[^\]]*\]/g, '$1').replace(/\*/g, 'ab1').replace(/\?/g, 'z');
  const empty = p.replace(/\[!?([^\]])[^\]]*\]/g, '$1').replace(/\*/g, '').replace(/\?/g, 'q');
  return [fill, empty, `${fill}x`, `x${fill}`, fill.slice(0, -1), fill.replace(/[a-z]/, 'Q').toLowerCase().replace(/^./, '~')];
}

describe.skipIf(!haveTables)('Home Assistant tables → rules', () => {
  it.skipIf(!havePython)('fnmatch patterns translate as Python\'s fnmatch matches them', () => {
    const t = readTables(DEFAULT_TABLES);
    const patterns = new Set<string>();
    for (const m of t.dhcp) if (m.hostname) patterns.add(m.hostname.toLowerCase());
    for (const ms of Object.values(t.zeroconf)) for (const m of ms) {
      if (m.name) patterns.add(m.name.toLowerCase());
      for (const [k, v] of Object.entries(m.properties ?? {})) patterns.add(`${k}=${v}`.toLowerCase());
    }
    const cases: [string, string][] = [];
    for (const p of patterns) for (const s of samples(p)) cases.push([p, s]);
    const oracle = JSON.parse(
      execFileSync('python3', ['-c', 'import sys, json, fnmatch\nprint(json.dumps([fnmatch.fnmatchcase(s, p) for p, s in json.load(sys.stdin)]))'], { input: JSON.stringify(cases), encoding: 'utf8' }),
    ) as boolean[];
    const ours = cases.map(([p, s]) => new RegExp(fnmatchToRegex(p)).test(s));
    const differ = cases.filter((_, i) => ours[i] !== oracle[i]);
    expect(differ).toEqual([]);
    expect(cases.length).toBeGreaterThan(1000);
    expect(oracle.filter(Boolean).length).toBeGreaterThan(200); // the samples do match, too
  });

  it('the committed rules are what the importer makes of the tables (run npm run knowledge after changing them)', () => {
    expect(fs.readFileSync(GENERATED, 'utf8')).toBe(generate());
  });
});

describe('the knowledge as shipped', () => {
  const k = loadDeviceRules();

  it('the coverage report in docs/identification.md is that of the rules', () => {
    const doc = fs.readFileSync(DOC, 'utf8');
    expect(doc).toBe(withCoverage(doc, coverageTable(k)));
  });

  it('every category of the schema is a category of the code', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(path.dirname(DOC), '..', 'daemon/rules/device-rules.schema.json'), 'utf8')) as { $defs: { category: { enum: string[] } } };
    expect(schema.$defs.category.enum).toEqual([...CATEGORIES]);
  });

  it.skipIf(!haveTables)('every family is used by a rule, except those HA only re-discovers (registered_devices)', () => {
    const used = new Set(k.rules.map((r) => r.family).filter(Boolean));
    const t = readTables(DEFAULT_TABLES);
    const rediscoverOnly = (f: string) => t.dhcp.filter((m) => m.domain === f).every((m) => m.registered_devices && !m.hostname && !m.macaddress) && !Object.values(t.zeroconf).flat().some((m) => m.domain === f) && !(f in t.ssdp) && !Object.values(t.homekit).some((m) => m.domain === f);
    const unused = [...k.families.keys()].filter((f) => !used.has(f));
    expect(unused.filter((f) => !rediscoverOnly(f))).toEqual([]);
  });

  it('holds the knowledge of hundreds of brands', () => {
    expect(k.rules.length).toBeGreaterThan(600);
    expect(new Set(k.rules.map((r) => r.vendor).filter(Boolean)).size).toBeGreaterThan(200);
  });
});

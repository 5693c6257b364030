/**
 * The rule loaders: alert rules (daemon/verdicts/rules.ts), device rules, families and module
 * makers (daemon/devices/rules.ts), zone policy (daemon/segment/policy.ts) and cloud platforms
 * (daemon/rules/load.ts), each reading a rules folder as the daemon does (a household's folder
 * named in the config). Input: byte 0 picks the loader (KINDS), then the YAML file's text,
 * written as the one file of that folder. A RuleLoadError (the file:line list of what is wrong)
 * is the expected refusal; any other exception is a crash.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDeviceRules } from '../../../dist/devices/rules.js';
import { loadCloudPlatforms, RuleLoadError } from '../../../dist/rules/load.js';
import { loadZonePolicy } from '../../../dist/segment/policy.js';
import { loadAlertRules } from '../../../dist/verdicts/rules.js';

export const KINDS = [
  ['alerts', (dirs) => loadAlertRules(dirs)],
  ['devices', (dirs) => loadDeviceRules(dirs)],
  ['families', (dirs) => loadDeviceRules(dirs)],
  ['modules', (dirs) => loadDeviceRules(dirs)],
  ['zones', (dirs) => loadZonePolicy(dirs)],
  ['clouds', (dirs) => loadCloudPlatforms(dirs)],
];

const base = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'vigie-fuzz-rules-'));
const dirs = KINDS.map(([sub]) => {
  const dir = path.join(base, sub);
  fs.mkdirSync(path.join(dir, sub), { recursive: true });
  return dir;
});
process.on('exit', () => fs.rmSync(base, { recursive: true, force: true }));

export function fuzz(data) {
  if (data.length < 1) return;
  const k = data[0] % KINDS.length;
  fs.writeFileSync(path.join(dirs[k], KINDS[k][0], 'fuzz.yaml'), data.subarray(1));
  try {
    JSON.stringify(KINDS[k][1]([dirs[k]]), (key, v) => (v instanceof Map ? [...v] : v instanceof RegExp ? String(v) : v));
  } catch (e) {
    if (!(e instanceof RuleLoadError)) throw e;
  }
}

/**
 * The configuration loader (daemon/config/load.ts): readConfigFile, YAML or UCI (/etc/config/vigie)
 * by content, checked against the schema, then what loadConfig makes of the settings it read (LAN
 * prefixes, the networks table, trusted countries, mute dates) with the same functions. The rest
 * of loadConfig reads the built-in rules, 130 ms a call: the rules target fuzzes those loaders.
 * Input: the file's bytes. An InputError (file:line: what is wrong) is the expected refusal; any
 * other exception is a crash.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CONFIG, withLanPrefixes } from '../../../dist/analysis/config.js';
import { InputError } from '../../../dist/capture/errors.js';
import { readConfigFile } from '../../../dist/config/load.js';
import { Geo } from '../../../dist/geo/geo.js';
import { trustedSet } from '../../../dist/verdicts/countries.js';

const dir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'vigie-fuzz-config-'));
const file = path.join(dir, 'vigie');
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

/** loadConfig's own checks of what it read, which it turns into InputErrors. */
function settle(cfg) {
  try {
    withLanPrefixes(DEFAULT_CONFIG, cfg.lan ?? []);
  } catch {
    // loadConfig: InputError(file, message) — a bad CIDR.
  }
  let geo = null;
  try {
    geo = new Geo(cfg.networks ?? []);
  } catch {
    // loadConfig: InputError(file, message) — a bad network entry.
  }
  geo?.lookup('203.0.113.7');
  geo?.lookup('2001:db8::1');
  const home = cfg.homeCountry;
  if (home !== undefined && !/^[A-Za-z]{2}$/.test(home)) return;
  trustedSet(home?.toUpperCase() ?? null, cfg.trustedCountries);
  for (const m of cfg.mutes ?? []) if (m.until !== undefined) Date.parse(m.until);
}

export function fuzz(data) {
  fs.writeFileSync(file, data);
  let cfg;
  try {
    cfg = readConfigFile(file);
  } catch (e) {
    if (e instanceof InputError) return;
    throw e;
  }
  settle(cfg);
  JSON.stringify(cfg);
}

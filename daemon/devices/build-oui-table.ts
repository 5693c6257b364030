/** Build step: writes dist/devices/oui-table.txt from the installed oui-data package. */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOuiTable } from './oui-table.js';

const require = createRequire(import.meta.url);
const raw = JSON.parse(fs.readFileSync(require.resolve('oui-data'), 'utf8')) as Record<string, string>;
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'oui-table.txt');
fs.writeFileSync(out, buildOuiTable(raw));
process.stdout.write(`oui-table: ${Object.keys(raw).length} prefixes -> ${out} (${fs.statSync(out).size} bytes)\n`);

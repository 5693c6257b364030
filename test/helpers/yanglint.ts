/**
 * yanglint (libyang2-tools) as the oracle for MUD files: the IETF modules in ../shared/yang
 * beside the checkout (or VIGIE_YANG), located as corpus.ts locates the capture corpus.
 * Invocation from /work/shared/yang/README.md: the two MUD modules as schemas, the data file
 * last; yanglint 2 takes JSON data by its .json extension and validates it as `-t data` (its
 * default), with every feature enabled when -F is not given (the ipv4/tcp matches need them).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './corpus.js';

export const YANG_DIR = process.env.VIGIE_YANG ?? path.resolve(ROOT, '../shared/yang');
export const MUD_MODULES = ['ietf-mud@2019-01-28.yang', 'ietf-acldns@2019-01-28.yang'];

export interface YanglintResult {
  ok: boolean;
  message: string;
}

/** Why yanglint cannot run here, or null when it can. */
export function yanglintMissing(): string | null {
  try {
    execFileSync('yanglint', ['--version'], { stdio: 'pipe' });
  } catch {
    return 'yanglint is not installed (Debian/Ubuntu: apt-get install libyang2-tools)';
  }
  for (const m of MUD_MODULES) if (!fs.existsSync(path.join(YANG_DIR, m))) return `the YANG modules are not at ${YANG_DIR} (${m} missing): check the repository out beside shared/, or set VIGIE_YANG`;
  return null;
}

/** Validates JSON data files (each on its own) against the MUD modules. */
export function yanglintFiles(files: string[]): YanglintResult {
  const r = spawnSync('yanglint', ['-p', YANG_DIR, ...MUD_MODULES.map((m) => path.join(YANG_DIR, m)), ...files], { encoding: 'utf8' });
  if (r.error) return { ok: false, message: r.error.message };
  return { ok: r.status === 0, message: `${r.stdout}${r.stderr}`.trim() };
}

let dir: string | null = null;
function tmp(): string {
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-yanglint-'));
  return dir;
}

/** Validates one MUD document (an object, or JSON text as it would be served). */
export function yanglint(doc: unknown, name = 'doc.mud.json'): YanglintResult {
  const file = path.join(tmp(), name);
  fs.writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
  return yanglintFiles([file]);
}

/**
 * Validates many documents in one yanglint run (it stops at the first invalid file); on a
 * failure each is run alone so that every bad one is named. Returns the failures by name.
 */
export function yanglintAll(docs: { name: string; doc: unknown }[]): Map<string, string> {
  const files = docs.map(({ name, doc }) => {
    const file = path.join(tmp(), name);
    fs.writeFileSync(file, JSON.stringify(doc, null, 2));
    return { name, file };
  });
  const bad = new Map<string, string>();
  if (files.length === 0) return bad;
  if (yanglintFiles(files.map((f) => f.file)).ok) return bad;
  for (const f of files) {
    const r = yanglintFiles([f.file]);
    if (!r.ok) bad.set(f.name, r.message);
  }
  if (bad.size === 0) bad.set('(all)', 'yanglint failed on the batch but on no file alone');
  return bad;
}

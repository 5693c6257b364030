/**
 * The Jazzer.js targets (test/fuzz/jazzer/, `npm run fuzz`) replay their seeds once, without the
 * fuzzer: a target that broke (an import moved, an entry point changed its signature) or a seed
 * that now throws fails CI in a few seconds, not at the next long campaign. Seeds are written by
 * seeds.mjs into a temporary folder, from the corpus when present; a sample of each target's.
 * Needs dist/ (`npm run build`), as the targets import the compiled daemon.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/corpus.js';

const TARGETS = ['dissect', 'decode', 'engine', 'capture', 'rules', 'config'];
/** Seeds replayed per target, spread over the sorted list. */
const SAMPLE = 120;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-seeds-'));

type Target = { fuzz(data: Buffer): unknown };
async function loadTarget(name: string): Promise<Target> {
  return (await import(pathToFileURL(path.join(ROOT, 'test/fuzz/jazzer', `${name}.mjs`)).href)) as Target;
}

beforeAll(() => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'test/fuzz/jazzer/seeds.mjs')], { env: { ...process.env, FUZZ_SEEDS_DIR: dir }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('Jazzer.js targets replay their seeds', () => {
  for (const name of TARGETS) {
    it(name, async () => {
      const { fuzz } = await loadTarget(name);
      const files = fs.readdirSync(path.join(dir, name)).sort();
      expect(files.length).toBeGreaterThan(0);
      const step = Math.max(1, Math.floor(files.length / SAMPLE));
      for (let i = 0; i < files.length; i += step) {
        const data = fs.readFileSync(path.join(dir, name, files[i]));
        await fuzz(data);
      }
    }, 60_000);
  }
});

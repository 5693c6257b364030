/**
 * The corpus of third-party captures and its tshark.txt oracle files. Where it is: VIGIE_CORPUS
 * when set (that place only), else ../shared/corpus beside the checkout, else the cache `npm run
 * corpus` fills (VIGIE_CORPUS_CACHE, default $XDG_CACHE_HOME/vigie/corpus or
 * ~/.cache/vigie/corpus). A location holds the corpus when it has its index.json, which the
 * fetcher writes last, once every file is verified.
 *
 * Without a corpus the tests that read it are skipped, each suite with one skipped test whose
 * title says why and names `npm run corpus`; with VIGIE_REQUIRE_CORPUS=1 (CI) they fail instead.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The cache `npm run corpus` writes to (test/corpus-fetch/fetch.mjs uses the same rule). */
export function corpusCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VIGIE_CORPUS_CACHE) return path.resolve(env.VIGIE_CORPUS_CACHE);
  const base = env.XDG_CACHE_HOME ? env.XDG_CACHE_HOME : path.join(env.HOME ?? os.homedir(), '.cache');
  return path.join(base, 'vigie', 'corpus');
}

export interface CorpusLocation {
  /** Where the corpus is read from (when absent: where it was looked for first). */
  dir: string;
  present: boolean;
  /** Why it is absent, naming the remedy; null when present. */
  reason: string | null;
}

const has = (dir: string) => fs.existsSync(path.join(dir, 'index.json'));

export function locateCorpus(env: NodeJS.ProcessEnv = process.env, shared = path.resolve(ROOT, '../shared/corpus')): CorpusLocation {
  const fetch = 'run `npm run corpus` to download and verify it';
  if (env.VIGIE_CORPUS) {
    const dir = path.resolve(env.VIGIE_CORPUS);
    return has(dir) ? { dir, present: true, reason: null } : { dir, present: false, reason: `no capture corpus at VIGIE_CORPUS=${dir} (no index.json): ${fetch}, or unset VIGIE_CORPUS` };
  }
  if (has(shared)) return { dir: shared, present: true, reason: null };
  const cache = corpusCacheDir(env);
  if (has(cache)) return { dir: cache, present: true, reason: null };
  return { dir: shared, present: false, reason: `no capture corpus (not at ${shared}, not in the cache ${cache}): ${fetch}` };
}

const location = locateCorpus();
export const CORPUS = location.dir;
export const CORPUS_PRESENT = location.present;
/** Why the corpus tests do not run; null when the corpus is here. */
export const NO_CORPUS = location.reason;
/** CI: a missing corpus fails the corpus tests instead of skipping them. */
export const REQUIRE_CORPUS = process.env.VIGIE_REQUIRE_CORPUS === '1';
/** The title of the test that stands for a suite without its corpus (.ci/test.sh counts them). */
export const NO_CORPUS_TITLE = 'needs the capture corpus';

function missing(): Error {
  return new Error(`${NO_CORPUS} (VIGIE_REQUIRE_CORPUS=1: the corpus is required here)`);
}

export interface CorpusCase {
  case: string;
  file: string;
  linktype: string;
  packets: number;
  protocols: string;
  expected: string;
}

/** The index shipped with the repository (test/corpus/index.json), for file names without the corpus. */
function shippedCases(): CorpusCase[] {
  const f = path.join(ROOT, 'test/corpus/index.json');
  return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as { cases: CorpusCase[] }).cases : [];
}

let cases: CorpusCase[] | null = null;

/** The corpus cases; none when the corpus is absent (its suites are then skipped). */
export function corpusCases(): CorpusCase[] {
  if (!CORPUS_PRESENT) {
    if (REQUIRE_CORPUS) throw missing();
    return [];
  }
  return (cases ??= JSON.parse(fs.readFileSync(path.join(CORPUS, 'index.json'), 'utf8')) as CorpusCase[]);
}

/** A case's capture file. Without the corpus: where it would be (for module-level constants of skipped suites). */
export function casePath(c: CorpusCase | string): string {
  if (!CORPUS_PRESENT && REQUIRE_CORPUS) throw missing();
  const list = CORPUS_PRESENT ? corpusCases() : shippedCases();
  const cc = typeof c === 'string' ? list.find((x) => x.case === c) : c;
  if (!cc) throw new Error(`no corpus case ${String(c)}`);
  return path.join(CORPUS, cc.case, cc.file);
}

type SuiteFn = () => void;

function absentSuite(name: string): void {
  describe(name, () => {
    if (REQUIRE_CORPUS) {
      it(NO_CORPUS_TITLE, () => {
        throw missing();
      });
    } else it.skip(`${NO_CORPUS_TITLE}: ${NO_CORPUS}`, () => {});
  });
}

/**
 * `describe` for a suite that reads the corpus: run when it is here; else one skipped test with
 * the reason (failed when VIGIE_REQUIRE_CORPUS=1). The suite's body is not even collected then,
 * so it may read corpus files at collection time.
 */
export const describeCorpus = Object.assign(
  (name: string, fn: SuiteFn): void => {
    if (CORPUS_PRESENT) describe(name, fn);
    else absentSuite(name);
  },
  {
    /** Like describe.skipIf: skipped when `cond` holds, else as describeCorpus. */
    skipIf:
      (cond: boolean) =>
      (name: string, fn: SuiteFn): void => {
        if (cond) describe.skip(name, fn);
        else if (CORPUS_PRESENT) describe(name, fn);
        else absentSuite(name);
      },
  },
);

function corpusTest(name: string, fn: () => unknown, timeout?: number): void {
  if (CORPUS_PRESENT) it(name, fn, timeout);
  else if (REQUIRE_CORPUS)
    it(`${name} (${NO_CORPUS_TITLE})`, () => {
      throw missing();
    });
  else it.skip(`${name} (${NO_CORPUS_TITLE}: ${NO_CORPUS})`, () => {});
}

/** `it` for one test that reads the corpus, in a suite that otherwise does not. */
export const itCorpus = Object.assign(corpusTest, {
  /** Like it.skipIf: skipped when `cond` holds, else as itCorpus. */
  skipIf:
    (cond: boolean) =>
    (name: string, fn: () => unknown, timeout?: number): void => {
      if (cond) it.skip(name, fn, timeout);
      else corpusTest(name, fn, timeout);
    },
});

export interface TsharkTxt {
  packets: number;
  encapsulation: string;
  /** `vlan.id` lists (e.g. "421,785") with the number of frames that carry them; "" = untagged. */
  vlans: Map<string, number>;
  /** Options given to tshark when the oracle was made (decode-as). */
  extraArgs: string;
}

export function readTsharkTxt(caseName: string): TsharkTxt {
  const text = fs.readFileSync(path.join(CORPUS, caseName, 'tshark.txt'), 'utf8');
  const packets = Number(/Number of packets:\s+(\d+)/.exec(text)?.[1]);
  const encapsulation = /File encapsulation:\s+(\S+)/.exec(text)?.[1] ?? '';
  const extraArgs = /# extra tshark args: (.*)/.exec(text)?.[1] ?? '';
  const vlans = new Map<string, number>();
  const sec = text.split('## VLAN ids per frame')[1];
  if (sec) {
    for (const line of sec.split('\n')) {
      const m = /^\s+(\d+)\s+'([^\\']*)\\t/.exec(line);
      if (m) vlans.set(m[2], Number(m[1]));
    }
  }
  return { packets, encapsulation, vlans, extraArgs };
}

/** tshark's encapsulation names, mapped to ours. */
export const ENCAPSULATION: Record<string, string> = { ether: 'ethernet', null: 'null', 'linux-sll': 'linux-sll', rawip: 'raw', 'raw-ip': 'raw', rawip4: 'raw' };

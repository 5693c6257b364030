/**
 * `npm run corpus` (test/corpus-fetch/fetch.mjs) and where the tests find the corpus
 * (test/helpers/corpus.ts). The fetcher is pointed at a local HTTP server that serves a copy of
 * a few shared-corpus files in the upstream layout (<owner>/<repo>/<commit>/<path>, as on
 * raw.githubusercontent.com): what it keeps must be byte for byte the shared corpus, tshark.txt
 * included (recomputed here with the installed tshark); a file whose SHA-256 differs, or one
 * the server does not have, is an error naming the file, and the cache is not marked complete.
 * Without any corpus the corpus suites are skipped with the reason; with VIGIE_REQUIRE_CORPUS=1
 * they fail.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, CORPUS_PRESENT, corpusCacheDir, describeCorpus, locateCorpus, ROOT } from '../helpers/corpus.js';
import { haveTool } from '../helpers/tshark.js';

interface IndexFile {
  name: string;
  path: string;
  sha256?: string;
  inCorpus?: false;
}
interface IndexCase {
  case: string;
  file: string;
  repo: string;
  commit: string;
  sha256: string;
  files: IndexFile[];
  expectation_files: string[];
  oracle: { args: string[]; sections: string[]; sha256: string };
}
interface Index {
  about: string;
  cases: IndexCase[];
}

const FETCH = path.join(ROOT, 'test/corpus-fetch/fetch.mjs');
const index = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/corpus/index.json'), 'utf8')) as Index;
// Three sources, a pcapng-free DORA, a Zeek baseline in a subfolder, a Suricata test with also/.
const PICK = ['peafowl/dhcp', 'zeek/dhcp-inform', 'suricata-verify/sip-ssdp-pm'];
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-corpus-fetch-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * Runs the fetcher CLI, the cache and base URL in the environment as for `npm run corpus`.
 * Asynchronously: the HTTP server it fetches from runs in this process.
 */
function fetchCli(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FETCH, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort();
}

describe('the shipped index (test/corpus/index.json)', () => {
  it('pins every case: repository, commit, path and SHA-256 of the capture and of each upstream expectation file, and says where it comes from', () => {
    expect(index.cases.length).toBe(90);
    expect(index.about).toMatch(/npm run corpus/);
    for (const c of index.cases) {
      expect(c.commit, c.case).toMatch(/^[0-9a-f]{40}$/);
      const pcap = c.files.find((f) => f.name === c.file)!;
      expect(pcap.sha256, c.case).toBe(c.sha256);
      // Every expectation file but the tshark oracle (made here) is fetched and checked.
      for (const e of c.expectation_files.filter((x) => x !== 'tshark.txt')) expect(c.files.find((f) => f.name === e)?.sha256, `${c.case}/${e}`).toMatch(/^[0-9a-f]{64}$/);
      for (const f of c.files) expect(f.sha256 !== undefined || f.inCorpus === false, `${c.case}/${f.name}`).toBe(true);
      expect(c.oracle.sections.length, c.case).toBeGreaterThan(0);
    }
  });

  describeCorpus('against the corpus the tests read', () => {
    it('matches its files: the SHA-256 of every file the index lists', () => {
      let n = 0;
      for (const c of index.cases)
        for (const f of c.files)
          if (f.sha256) {
            expect(sha256(fs.readFileSync(path.join(CORPUS, c.case, f.name))), `${c.case}/${f.name}`).toBe(f.sha256);
            n++;
          }
      expect(n).toBe(274);
    });
  });
});

describeCorpus.skipIf(!haveTool('tshark') || !haveTool('capinfos'))('npm run corpus against a local copy of the upstream files', () => {
  let server: http.Server;
  let base = '';
  const hits = new Map<string, number>();
  /** Upstream URL path -> served bytes; tests tamper with entries. */
  const served = new Map<string, Buffer>();
  const upstream = path.join(tmp, 'upstream');
  const mini = path.join(tmp, 'index-mini.json');
  const cases = index.cases.filter((c) => PICK.includes(c.case));
  const url = (c: IndexCase, f: IndexFile) => `/${c.repo}/${c.commit}/${f.path.split('/').map(encodeURIComponent).join('/')}`;

  beforeAll(async () => {
    // A copy of the shared files, laid out as upstream.
    for (const c of cases)
      for (const f of c.files) {
        if (!f.sha256) continue;
        const dest = path.join(upstream, c.repo, c.commit, f.path);
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        fs.copyFileSync(path.join(CORPUS, c.case, f.name), dest);
        served.set(url(c, f), fs.readFileSync(dest));
      }
    fs.writeFileSync(mini, JSON.stringify({ ...index, cases }));
    server = http.createServer((req, res) => {
      hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
      const body = served.get(req.url!);
      if (!body) {
        res.statusCode = 404;
        res.end('404: Not Found');
      } else res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('fetches, verifies and lays the cases out exactly as the shared corpus, tshark.txt recomputed identical; index.json last', async () => {
    const cache = path.join(tmp, 'cache-ok');
    const r = await fetchCli(['--index', mini], { VIGIE_CORPUS_CACHE: cache, VIGIE_CORPUS_BASE_URL: base });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/corpus: \d+ files fetched, 0 already verified, 3 tshark.txt made/);
    const want = cases.flatMap((c) => tree(path.join(CORPUS, c.case)).map((f) => `${c.case}/${f}`)).sort();
    expect(tree(cache)).toEqual([...want, 'index.json'].sort());
    for (const f of want) expect(fs.readFileSync(path.join(cache, f)).equals(fs.readFileSync(path.join(CORPUS, f))), f).toBe(true);
    // The cache's index is the shared one's rows of these cases, in its very format.
    const shared = JSON.parse(fs.readFileSync(path.join(CORPUS, 'index.json'), 'utf8')) as { case: string }[];
    expect(JSON.parse(fs.readFileSync(path.join(cache, 'index.json'), 'utf8'))).toEqual(shared.filter((x) => PICK.includes(x.case)));
    // A second run downloads nothing: every file is already there and verified.
    hits.clear();
    const again = await fetchCli(['--index', mini], { VIGIE_CORPUS_CACHE: cache, VIGIE_CORPUS_BASE_URL: base });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/0 files fetched, \d+ already verified/);
    expect(hits.size).toBe(0);
    // And a corpus found there needs no fetch at all.
    const present = await fetchCli(['--index', mini, '--if-missing'], { VIGIE_CORPUS: cache, VIGIE_CORPUS_BASE_URL: base });
    expect([present.status, present.stdout.trim()]).toEqual([0, `corpus: present at ${cache}`]);
  });

  it('a file whose SHA-256 differs is an error naming it and both hashes; it is not kept and the cache is not complete', async () => {
    const c = cases.find((x) => x.case === 'zeek/dhcp-inform')!;
    const f = c.files.find((x) => x.name === c.file)!;
    const good = served.get(url(c, f))!;
    const bad = Buffer.from(good);
    bad[bad.length - 1] ^= 0xff;
    served.set(url(c, f), bad);
    try {
      const cache = path.join(tmp, 'cache-bad');
      const r = await fetchCli(['--index', mini], { VIGIE_CORPUS_CACHE: cache, VIGIE_CORPUS_BASE_URL: base });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`corpus: zeek/dhcp-inform/input.pcap: SHA-256 mismatch: expected ${f.sha256}, got ${sha256(bad)}`);
      expect(r.stderr).toMatch(/1 error\(s\); .* is not marked complete \(no index\.json\)/);
      expect(fs.existsSync(path.join(cache, 'zeek/dhcp-inform/input.pcap'))).toBe(false);
      expect(fs.existsSync(path.join(cache, 'index.json'))).toBe(false);
      // The other cases are complete and verified.
      expect(fs.existsSync(path.join(cache, 'peafowl/dhcp/tshark.txt'))).toBe(true);
      expect(locateCorpus({ VIGIE_CORPUS: cache }).present).toBe(false);
    } finally {
      served.set(url(c, f), good);
    }
  });

  it('a file the server does not have is an error naming it and the URL; the cache is not complete', async () => {
    const c = cases.find((x) => x.case === 'suricata-verify/sip-ssdp-pm')!;
    const f = c.files.find((x) => x.name === 'test.yaml')!;
    const body = served.get(url(c, f))!;
    served.delete(url(c, f));
    try {
      const cache = path.join(tmp, 'cache-missing');
      const r = await fetchCli(['--index', mini], { VIGIE_CORPUS_CACHE: cache, VIGIE_CORPUS_BASE_URL: base });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`corpus: suricata-verify/sip-ssdp-pm/test.yaml: download failed: HTTP 404 from ${base}${url(c, f)}`);
      expect(fs.existsSync(path.join(cache, 'index.json'))).toBe(false);
      // A case with a file missing gets no SOURCE.txt nor oracle: it is not there yet.
      expect(fs.existsSync(path.join(cache, 'suricata-verify/sip-ssdp-pm/tshark.txt'))).toBe(false);
    } finally {
      served.set(url(c, f), body);
    }
  });
});

describe('where the tests find the corpus', () => {
  const empty = path.join(tmp, 'empty');
  const emptyCache = path.join(tmp, 'empty-cache');
  fs.mkdirSync(empty, { recursive: true });

  it('VIGIE_CORPUS, else ../shared/corpus, else the cache; absent, the reason names `npm run corpus`', () => {
    const full = path.join(tmp, 'full');
    fs.mkdirSync(full, { recursive: true });
    fs.writeFileSync(path.join(full, 'index.json'), '[]');
    expect(locateCorpus({ VIGIE_CORPUS: full }, empty)).toEqual({ dir: full, present: true, reason: null });
    // VIGIE_CORPUS is the one place looked at when set.
    const set = locateCorpus({ VIGIE_CORPUS: empty, VIGIE_CORPUS_CACHE: full }, full);
    expect([set.present, set.reason]).toEqual([false, `no capture corpus at VIGIE_CORPUS=${empty} (no index.json): run \`npm run corpus\` to download and verify it, or unset VIGIE_CORPUS`]);
    expect(locateCorpus({ VIGIE_CORPUS_CACHE: emptyCache }, full).dir).toBe(full);
    expect(locateCorpus({ VIGIE_CORPUS_CACHE: full }, empty)).toEqual({ dir: full, present: true, reason: null });
    const none = locateCorpus({ VIGIE_CORPUS_CACHE: emptyCache }, empty);
    expect([none.present, none.reason]).toEqual([false, `no capture corpus (not at ${empty}, not in the cache ${emptyCache}): run \`npm run corpus\` to download and verify it`]);
    expect(corpusCacheDir({ XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/vigie/corpus');
    expect(corpusCacheDir({ HOME: '/home/u' })).toBe('/home/u/.cache/vigie/corpus');
    // This run's own corpus (here: the shared one).
    expect(CORPUS_PRESENT).toBe(fs.existsSync(path.join(CORPUS, 'index.json')));
  });

  /** A corpus suite run by vitest in a child, with the given environment. */
  function withoutRequirement(e: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const { VIGIE_REQUIRE_CORPUS: _, ...rest } = e;
    return rest;
  }

  function runSuite(env: Record<string, string>) {
    const out = path.join(tmp, `report-${Object.keys(env).length}-${Date.now()}.json`);
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/vitest.config.ts', 'test/corpus/community-id.test.ts', '--reporter=json', `--outputFile.json=${out}`], {
      cwd: ROOT,
      encoding: 'utf8',
      // The outer run's requirement (CI sets VIGIE_REQUIRE_CORPUS) is not the inner one's: each test says its own.
      env: { ...withoutRequirement(process.env), VIGIE_CORPUS: empty, VIGIE_CORPUS_CACHE: emptyCache, XDG_CACHE_HOME: emptyCache, ...env },
      timeout: 120_000,
    });
    const report = JSON.parse(fs.readFileSync(out, 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; testResults: { assertionResults: { status: string; title: string; failureMessages: string[] }[] }[] };
    return { status: r.status, report, tests: report.testResults.flatMap((f) => f.assertionResults) };
  }

  it('without a corpus (VIGIE_CORPUS an empty folder, no cache) a corpus suite is skipped, with the reason naming `npm run corpus`', () => {
    const r = runSuite({});
    expect(r.status).toBe(0);
    expect([r.report.numPassedTests, r.report.numFailedTests, r.report.numPendingTests]).toEqual([0, 0, 1]);
    expect(r.tests[0].status).toBe('skipped');
    expect(r.tests[0].title).toBe(`needs the capture corpus: no capture corpus at VIGIE_CORPUS=${empty} (no index.json): run \`npm run corpus\` to download and verify it, or unset VIGIE_CORPUS`);
  });

  it('with VIGIE_REQUIRE_CORPUS=1 (CI) the same run fails, saying why', () => {
    const r = runSuite({ VIGIE_REQUIRE_CORPUS: '1' });
    expect(r.status).not.toBe(0);
    expect(r.report.numFailedTests).toBe(1);
    expect(r.tests[0].failureMessages.join('\n')).toMatch(/no capture corpus at VIGIE_CORPUS=.*run `npm run corpus`.*VIGIE_REQUIRE_CORPUS=1: the corpus is required here/);
  });

  it('.ci/test.sh ends with the reason when corpus suites were skipped, and sets VIGIE_REQUIRE_CORPUS=1 under CI', () => {
    const sh = fs.readFileSync(path.join(ROOT, '.ci/test.sh'), 'utf8');
    expect(sh).toMatch(/if \[ "\$\{CI:-\}" = true \]; then export VIGIE_REQUIRE_CORPUS=1; npm run corpus -- --if-missing/);
    // The summary script, on a report with two corpus skips and one other skip.
    const script = /node -e '\n([\s\S]*?)\n' "\$results"/.exec(sh)![1];
    const report = path.join(tmp, 'summary.json');
    const t = (status: string, title: string) => ({ status, title });
    fs.writeFileSync(report, JSON.stringify({ numPassedTests: 3, numFailedTests: 0, numPendingTests: 3, numTodoTests: 0, testResults: [{ assertionResults: [t('passed', 'a'), t('skipped', 'needs the capture corpus: no capture corpus ...'), t('skipped', 'x (needs the capture corpus: ...)'), t('skipped', 'other')] }] }));
    expect(execFileSync('node', ['-e', script, report], { encoding: 'utf8' })).toBe('3 passed, 0 failed, 3 skipped (2 of them: no capture corpus, run `npm run corpus`)\n');
  });
});

#!/usr/bin/env node
/**
 * `npm run corpus`: downloads the capture corpus the corpus tests read, from the upstream
 * repositories at the commits test/corpus/index.json pins, into a cache laid out like the shared
 * corpus (<source>/<case>/ folders, SOURCE.txt, index.json). Every file is checked against its
 * SHA-256 in the index before it is kept; the tshark.txt oracles, which are made for this corpus
 * and not upstream, are recomputed with the installed tshark (test/corpus-fetch/oracle.mjs).
 * index.json is written last, and only when every file of every case is in place: a cache
 * without it is not a corpus (test/helpers/corpus.ts looks for it).
 *
 *   npm run corpus [-- --cache DIR] [--base-url URL] [--case NAME]... [--jobs N] [--no-oracle] [--if-missing]
 *   node test/corpus-fetch/fetch.mjs --make-index DIR   (maintainers: regenerate test/corpus/index.json from a corpus)
 *
 * --index FILE reads another index (tests use a few cases of it). --check-oracles [DIR] recomputes
 * every tshark.txt of a corpus (default: the one the tests read) and says which differ.
 *
 * --if-missing does nothing when the tests already find a corpus (VIGIE_CORPUS, ../shared/corpus,
 * the cache); CI runs it before the suite.
 *
 * Environment: VIGIE_CORPUS_CACHE (default $XDG_CACHE_HOME/vigie/corpus, else ~/.cache/vigie/corpus),
 * VIGIE_CORPUS_BASE_URL (default https://raw.githubusercontent.com; files are at
 * <base>/<owner>/<repo>/<commit>/<path>, as on raw.githubusercontent.com).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { oracleText } from './oracle.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
export const INDEX = path.join(ROOT, 'test/corpus/index.json');
const DEFAULT_BASE = 'https://raw.githubusercontent.com';

export function cacheDir(env = process.env) {
  if (env.VIGIE_CORPUS_CACHE) return path.resolve(env.VIGIE_CORPUS_CACHE);
  const base = env.XDG_CACHE_HOME ? env.XDG_CACHE_HOME : path.join(env.HOME ?? os.homedir(), '.cache');
  return path.join(base, 'vigie', 'corpus');
}

/** Where the tests read the corpus (as test/helpers/corpus.ts decides), and whether it is there. */
export function locate(env = process.env, shared = path.resolve(ROOT, '../shared/corpus')) {
  const has = (d) => fs.existsSync(path.join(d, 'index.json'));
  if (env.VIGIE_CORPUS) return { dir: path.resolve(env.VIGIE_CORPUS), present: has(path.resolve(env.VIGIE_CORPUS)) };
  if (has(shared)) return { dir: shared, present: true };
  return { dir: cacheDir(env), present: has(cacheDir(env)) };
}

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

/** The row of the corpus's own index.json, with its fields in their order there. */
const ROW_KEYS = ['case', 'file', 'sha256', 'repo', 'path', 'commit', 'license', 'protocols', 'linktype', 'packets', 'bytes', 'expected', 'expectation_files'];

/** JSON as Python's json.dumps(indent=1) writes it (non-ASCII as \uXXXX), like the shared index. */
function pythonJson(value) {
  return JSON.stringify(value, null, 1).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function corpusIndexJson(index) {
  return pythonJson(index.cases.map((c) => Object.fromEntries(ROW_KEYS.map((k) => [k, c[k]]))));
}

/** SOURCE.txt of a case: where each file comes from (test code listed there is not copied). */
export function sourceTxt(c) {
  const lines = [`source-repo: ${c.repo}`, `license: ${c.license}`];
  for (const f of c.files) {
    const from = `${c.repo}:${f.path}@${c.commit} -> ${f.name}`;
    lines.push(f.name === c.file ? `pcap: ${from} (sha256 ${f.sha256})` : `expect: ${from}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The URL of a file of `repo` at `commit` under `base` (raw.githubusercontent.com layout). */
export function fileUrl(base, repo, commit, file) {
  return `${base.replace(/\/+$/, '')}/${repo}/${commit}/${file.split('/').map(encodeURIComponent).join('/')}`;
}

class FetchError extends Error {}

async function download(url, attempts = 3) {
  let last = null;
  for (let i = 0; i < attempts; i++) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(120_000), redirect: 'follow' });
      if (r.ok) return Buffer.from(await r.arrayBuffer());
      last = new FetchError(`HTTP ${r.status} from ${url}`);
      if (r.status < 500) break;
    } catch (e) {
      last = new FetchError(`${e.cause?.code ?? e.name}: ${e.cause?.message ?? e.message} (${url})`);
    }
    await new Promise((r) => setTimeout(r, 500 * (i + 1)));
  }
  throw last;
}

/** Runs `work` over `items`, `jobs` at a time. */
async function pool(items, jobs, work) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}

/**
 * Fills `dir` with the corpus (or the `only` cases of it). Returns { errors, fetched, kept, oracles,
 * oracleDiffers, complete }; index.json is written only when there was no error and every case
 * of the index is in place.
 */
export async function fetchCorpus({ dir, base = DEFAULT_BASE, index = JSON.parse(fs.readFileSync(INDEX, 'utf8')), only = null, jobs = 4, oracle = true, log = () => {} }) {
  const cases = only ? index.cases.filter((c) => only.includes(c.case)) : index.cases;
  if (only) for (const o of only) if (!index.cases.some((c) => c.case === o)) throw new Error(`no case ${o} in the index`);
  const errors = [];
  const stats = { fetched: 0, kept: 0, oracles: 0, oracleDiffers: [] };
  // A cache is not a corpus while it is being changed: index.json comes back at the end.
  fs.rmSync(path.join(dir, 'index.json'), { force: true });
  const jobsList = [];
  for (const c of cases) for (const f of c.files) if (f.sha256) jobsList.push({ c, f });
  await pool(jobsList, jobs, async ({ c, f }) => {
    const dest = path.join(dir, c.case, f.name);
    const where = `${c.case}/${f.name}`;
    if (fs.existsSync(dest) && sha256(fs.readFileSync(dest)) === f.sha256) {
      stats.kept++;
      return;
    }
    const url = fileUrl(base, c.repo, c.commit, f.path);
    let body;
    try {
      body = await download(url);
    } catch (e) {
      errors.push(`${where}: download failed: ${e.message}`);
      return;
    }
    const got = sha256(body);
    if (got !== f.sha256) {
      // Nothing of a file that does not match is kept.
      errors.push(`${where}: SHA-256 mismatch: expected ${f.sha256}, got ${got} (${url})`);
      return;
    }
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(`${dest}.part`, body);
    fs.renameSync(`${dest}.part`, dest);
    stats.fetched++;
    log(`fetched ${where} (${body.length} bytes)`);
  });
  // Files are written only once verified: present means verified.
  const complete = (c) => c.files.every((f) => !f.sha256 || fs.existsSync(path.join(dir, c.case, f.name)));
  for (const c of cases) {
    if (!complete(c)) continue;
    fs.writeFileSync(path.join(dir, c.case, 'SOURCE.txt'), sourceTxt(c));
    const txt = path.join(dir, c.case, 'tshark.txt');
    if (!oracle || fs.existsSync(txt)) continue;
    try {
      const text = oracleText(dir, c);
      fs.writeFileSync(`${txt}.part`, text);
      fs.renameSync(`${txt}.part`, txt);
      stats.oracles++;
      if (c.oracle?.sha256 && sha256(Buffer.from(text)) !== c.oracle.sha256) stats.oracleDiffers.push(c.case);
    } catch (e) {
      errors.push(`${c.case}/tshark.txt: could not run tshark (${e.code === 'ENOENT' ? 'not installed: apt-get install tshark' : e.message.split('\n')[0]})`);
    }
  }
  const whole = index.cases.every((c) => complete(c) && (!oracle || fs.existsSync(path.join(dir, c.case, 'tshark.txt'))));
  if (errors.length === 0 && whole) fs.writeFileSync(path.join(dir, 'index.json'), corpusIndexJson(index));
  stats.complete = errors.length === 0 && whole;
  return { errors, ...stats };
}

const SECTIONS = {
  'MQTT PDUs': 'mqtt',
  'TLS ClientHello / ServerHello': 'tls',
  'DHCP messages': 'dhcp',
  'DNS messages': 'dns',
  'mDNS messages': 'mdns',
  'HTTP messages': 'http',
  'SSDP messages': 'ssdp',
  'RTSP messages': 'rtsp',
  'RTP streams': 'rtp',
  'VLAN ids per frame (vlan.id list, inner etype) -> frame count': 'vlan',
  'WebSocket frames': 'websocket',
};

/** Builds test/corpus/index.json from a complete corpus folder (its index.json, SOURCE.txt files and tshark.txt headers). */
export function makeIndex(from) {
  const rows = JSON.parse(fs.readFileSync(path.join(from, 'index.json'), 'utf8'));
  const cases = rows.map((r) => {
    const dir = path.join(from, r.case);
    const src = fs.readFileSync(path.join(dir, 'SOURCE.txt'), 'utf8');
    const files = [];
    for (const m of src.matchAll(/^(pcap|expect): (\S+?):(\S+)@([0-9a-f]{40}) -> (\S+?)(?: \(sha256 ([0-9a-f]{64})\))?$/gm)) {
      const [, kind, repo, p, commit, name, pcapHash] = m;
      if (repo !== r.repo || commit !== r.commit) throw new Error(`${r.case}: ${name} comes from ${repo}@${commit}, not the case's repository`);
      const here = path.join(dir, name);
      const f = { name, path: p };
      if (fs.existsSync(here)) {
        f.sha256 = sha256(fs.readFileSync(here));
        if (kind === 'pcap' && (f.sha256 !== pcapHash || f.sha256 !== r.sha256)) throw new Error(`${r.case}: ${name} does not match its recorded SHA-256`);
      } else f.inCorpus = false;
      files.push(f);
    }
    const text = fs.readFileSync(path.join(dir, 'tshark.txt'), 'utf8');
    const extra = /# extra tshark args: (.*)/.exec(text)[1];
    const sections = [...text.matchAll(/^##+ (.*)$/gm)]
      .map((m) => m[1])
      .filter((s) => s !== 'capinfos' && s !== 'protocol hierarchy')
      .map((s) => {
        const u = /^UDP payloads on port (\d+) \(first (\d+)\)$/.exec(s);
        if (u) return `udp-payloads:${u[1]}:${u[2]}`;
        if (!SECTIONS[s]) throw new Error(`${r.case}: unknown tshark.txt section "${s}"`);
        return SECTIONS[s];
      });
    const version = /# generated with: (.*)/.exec(text)[1];
    return { ...r, files, oracle: { args: extra === '(none)' ? [] : extra.split(' '), sections, madeWith: version, sha256: sha256(Buffer.from(text)) } };
  });
  return {
    about: [
      'The capture corpus of the corpus tests: 90 captures copied byte for byte from public test suites, with the upstream',
      "projects' own expectation files, pinned by repository, commit, path and SHA-256. `npm run corpus` downloads them",
      '(test/corpus-fetch/fetch.mjs) and recomputes the tshark.txt oracles, which are made for this corpus, not upstream.',
      'Generated with `node test/corpus-fetch/fetch.mjs --make-index <corpus>` from the shared corpus (its index.json,',
      'SOURCE.txt files and INDEX.md); `files` lists each case\'s files in SOURCE.txt order; inCorpus: false marks upstream',
      'test code SOURCE.txt names but the corpus does not hold.',
    ].join(' '),
    licences:
      'Each file keeps the licence of its repository (`license`): OISF/suricata-verify MIT (LICENSE.txt), zeek/zeek BSD-3-Clause (COPYING), ' +
      'ntop/nDPI LGPL-3.0 (COPYING), DanieleDeSensi/peafowl MIT (COPYING). Captures inside those suites were often contributed from elsewhere ' +
      "(Wireshark sample captures, bug trackers): see each suite's README. Nothing of the corpus is committed to this repository.",
    sources: [
      { dir: 'suricata-verify', repo: 'OISF/suricata-verify', commit: '10a45e4bad6d29d0f1239d93119ea24e1bbdab19', license: 'MIT (LICENSE.txt)', expectations: 'test.yaml checks (EVE records), suricata.yaml, README.md' },
      { dir: 'zeek', repo: 'zeek/zeek', commit: 'a13de64fbbdb01f90961c04719b308fbbb6d199e', license: 'BSD-3-Clause (COPYING)', expectations: 'btest baselines (Zeek TSV logs)' },
      { dir: 'ndpi', repo: 'ntop/nDPI', commit: '3b1286ab03b0c9223ac208a01868d8c1f6c0ae00', license: 'LGPL-3.0 (COPYING)', expectations: 'ndpiReader output (tests/cfgs/default/result)' },
      { dir: 'peafowl', repo: 'DanieleDeSensi/peafowl', commit: '89fdf35a18df6d1f13f4449067744999ff37ad85', license: 'MIT (COPYING)', expectations: 'none copied (GoogleTest code); values in the case rows' },
    ],
    cases,
  };
}

function parseArgs(argv) {
  const o = { only: [], jobs: 4, oracle: true, cache: null, base: null, makeIndex: null, ifMissing: false, index: INDEX, checkOracles: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--cache') o.cache = val();
    else if (a === '--base-url') o.base = val();
    else if (a === '--case') o.only.push(val());
    else if (a === '--jobs') o.jobs = Math.max(1, Number(val()) || 1);
    else if (a === '--no-oracle') o.oracle = false;
    else if (a === '--if-missing') o.ifMissing = true;
    else if (a === '--index') o.index = path.resolve(val());
    else if (a === '--check-oracles') o.checkOracles = argv[i + 1] && !argv[i + 1].startsWith('--') ? path.resolve(val()) : '';
    else if (a === '--make-index') o.makeIndex = val();
    else if (a === '-h' || a === '--help') o.help = true;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`corpus: ${e.message}\n`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0].replace(/^#!.*\n\/\*\*\n/, '').replace(/^ \* ?/gm, ''));
    return 0;
  }
  if (o.makeIndex) {
    fs.writeFileSync(INDEX, `${JSON.stringify(makeIndex(path.resolve(o.makeIndex)), null, 1)}\n`);
    process.stdout.write(`corpus: wrote ${path.relative(process.cwd(), INDEX)}\n`);
    return 0;
  }
  const where = locate();
  if (o.checkOracles !== null) {
    // Recomputes every tshark.txt of a corpus and compares it with the one there.
    const dir = o.checkOracles || where.dir;
    const index = JSON.parse(fs.readFileSync(o.index, 'utf8'));
    const differ = [];
    for (const c of index.cases) if (oracleText(dir, c) !== fs.readFileSync(path.join(dir, c.case, 'tshark.txt'), 'utf8')) differ.push(c.case);
    process.stdout.write(`corpus: ${index.cases.length - differ.length}/${index.cases.length} tshark.txt of ${dir} identical to the ones recomputed here${differ.length ? `; differ: ${differ.join(', ')}` : ''}\n`);
    return differ.length ? 1 : 0;
  }
  if (o.ifMissing && where.present) {
    process.stdout.write(`corpus: present at ${where.dir}\n`);
    return 0;
  }
  // --if-missing fills the place the tests will read: VIGIE_CORPUS when set, else the cache.
  const dir = o.cache ? path.resolve(o.cache) : o.ifMissing && process.env.VIGIE_CORPUS ? where.dir : cacheDir();
  const base = o.base ?? process.env.VIGIE_CORPUS_BASE_URL ?? DEFAULT_BASE;
  fs.mkdirSync(dir, { recursive: true });
  process.stdout.write(`corpus: into ${dir} from ${base}\n`);
  const index = JSON.parse(fs.readFileSync(o.index, 'utf8'));
  const r = await fetchCorpus({ dir, base, index, only: o.only.length ? o.only : null, jobs: o.jobs, oracle: o.oracle, log: (m) => process.stdout.write(`  ${m}\n`) });
  process.stdout.write(`corpus: ${r.fetched} files fetched, ${r.kept} already verified, ${r.oracles} tshark.txt made\n`);
  if (r.oracleDiffers.length) process.stdout.write(`corpus: note: ${r.oracleDiffers.length} tshark.txt differ from the shared corpus's (made with another tshark?): ${r.oracleDiffers.join(', ')}\n`);
  if (r.errors.length) {
    for (const e of r.errors) process.stderr.write(`corpus: ${e}\n`);
    process.stderr.write(`corpus: ${r.errors.length} error(s); ${dir} is not marked complete (no index.json)\n`);
    return 1;
  }
  process.stdout.write(r.complete ? `corpus: complete; the tests read it from ${dir} unless VIGIE_CORPUS is set or ../shared/corpus exists\n` : 'corpus: the named cases are in place; the corpus is complete (index.json) once every case is\n');
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then((code) => process.exit(code), (e) => {
    process.stderr.write(`corpus: ${e.stack ?? e}\n`);
    process.exit(1);
  });
}

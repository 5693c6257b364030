/**
 * `npm run fuzz`: the coverage-guided campaign. Writes the seeds (seeds.mjs), then runs each
 * Jazzer.js target in turn, one process on one core at a time (libFuzzer's default: no -jobs,
 * -workers or -fork), under `nice` (at least 10), the
 * instrumentation limited to the project's compiled code (`-i dist/`: node_modules is not
 * instrumented). Each target keeps its corpus in out/corpus/<target>/ between campaigns (seeds
 * are read from out/seeds/<target>/), crashes and hangs in out/artifacts/<target>/. A target
 * that crashes is started again on what is left of its budget (at most MAX_RESTARTS times).
 *
 * Budget: FUZZ_EXECS executions in all (default 10,000,000), shared by the targets' WEIGHTS, or
 * FUZZ_SECONDS per target. FUZZ_TARGETS=dissect,decode picks targets. Results: out/campaign.json
 * (this campaign) and out/campaign-history.jsonl (one line per campaign), a line per target.
 * Needs `npm run build` (dist/).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { nativeEnv } from './native.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../../..');
const OUT = path.join(here, 'out');
const require = createRequire(import.meta.url);

/** Targets, their share of FUZZ_EXECS (by their speed and their code's size) and their options. */
const TARGETS = {
  // In the order they run. Shares of the executions, set so that each target gets 5 to 25 minutes
  // on a 2-core machine: the decoder runs ~20,000 inputs a second, the YAML loaders ~200.
  rules: { weight: 0.02, maxLen: 4096 },
  config: { weight: 0.04, maxLen: 2048 },
  capture: { weight: 0.08, maxLen: 8192, async: true },
  dissect: { weight: 0.3, maxLen: 4096 },
  engine: { weight: 0.06, maxLen: 8192 },
  decode: { weight: 0.5, maxLen: 2048 },
};
const MAX_RESTARTS = 5;
/** A single input slower than this is a hang (Jazzer's --timeout, ms). */
const TIMEOUT_MS = 5000;

const totalExecs = Number(process.env.FUZZ_EXECS ?? 10_000_000);
const seconds = process.env.FUZZ_SECONDS ? Number(process.env.FUZZ_SECONDS) : null;
const chosen = (process.env.FUZZ_TARGETS ?? Object.keys(TARGETS).join(',')).split(',').filter(Boolean);
for (const t of chosen) if (!TARGETS[t]) throw new Error(`unknown target ${t} (one of ${Object.keys(TARGETS).join(', ')})`);

// Another person's benchmarks share this machine: lower our priority (children inherit it).
try {
  if (os.getPriority(0) < 10) os.setPriority(0, 10);
} catch {
  // not allowed: run as is
}

if (!fs.existsSync(path.join(ROOT, 'dist/protocols/detect.js'))) throw new Error('dist/ is missing: run `npm run build` first');
// VIGIE_FUZZ_CAMPAIGN: the targets step over the open bugs they list (KNOWN), to find others.
const env = { ...process.env, ...nativeEnv(), VIGIE_FUZZ_CAMPAIGN: '1' };
const seeded = spawnSync(process.execPath, [path.join(here, 'seeds.mjs')], { stdio: 'inherit', env });
if (seeded.status !== 0) throw new Error('seeds.mjs failed');

const corePkg = require.resolve('@jazzer.js/core/package.json');
const cli = path.join(path.dirname(corePkg), JSON.parse(fs.readFileSync(corePkg, 'utf8')).bin.jazzer);
const version = JSON.parse(fs.readFileSync(corePkg, 'utf8')).version;

/** One libFuzzer run of a target; resolves with what its output said. */
function runOnce(name, budget) {
  const t = TARGETS[name];
  const corpus = path.join(OUT, 'corpus', name);
  const seeds = path.join(OUT, 'seeds', name);
  const artifacts = path.join(OUT, 'artifacts', name) + path.sep;
  fs.mkdirSync(corpus, { recursive: true });
  fs.mkdirSync(artifacts, { recursive: true });
  const args = [
    cli,
    path.join(here, `${name}.mjs`),
    corpus,
    seeds,
    ...(t.async ? [] : ['--sync']),
    '-i',
    path.join(ROOT, 'dist') + path.sep,
    `--timeout=${TIMEOUT_MS}`,
    '--',
    budget.runs !== undefined ? `-runs=${budget.runs}` : `-max_total_time=${budget.seconds}`,
    `-max_len=${t.maxLen}`,
    '-print_final_stats=1',
    `-artifact_prefix=${artifacts}`,
    '-rss_limit_mb=2048',
    '-reload=0',
  ];
  const started = Date.now();
  const log = fs.createWriteStream(path.join(OUT, `${name}.log`), { flags: 'a' });
  log.write(`\n=== ${new Date().toISOString()} ${args.slice(1).join(' ')}\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const r = { execs: 0, edges: 0, features: 0, corpusUnits: 0, execPerSec: 0, peakRssMb: 0, newUnits: 0, error: [], code: 0 };
    let tail = '';
    let inError = false;
    const onLine = (line) => {
      log.write(line + '\n');
      const m = /^#(\d+)\s+(\w+)\s+cov: (\d+) ft: (\d+) corp: (\d+)\/\S+(?:.*exec\/s: (\d+))?/.exec(line);
      if (m) {
        r.execs = Number(m[1]);
        r.edges = Math.max(r.edges, Number(m[3]));
        r.features = Math.max(r.features, Number(m[4]));
        r.corpusUnits = Number(m[5]);
        return;
      }
      const s = /^stat::(\w+):\s+(\d+)/.exec(line);
      if (s) {
        if (s[1] === 'number_of_executed_units') r.execs = Math.max(r.execs, Number(s[2]));
        if (s[1] === 'average_exec_per_sec') r.execPerSec = Number(s[2]);
        if (s[1] === 'peak_rss_mb') r.peakRssMb = Number(s[2]);
        if (s[1] === 'new_units_added') r.newUnits = Number(s[2]);
        return;
      }
      // Jazzer.js's report of an uncaught exception, libFuzzer's of a timeout or a memory blow-up.
      if (/==\d+== |Uncaught Exception|ERROR: libFuzzer|Timeout|out-of-memory|Test unit written to/.test(line)) inError = true;
      if (inError && r.error.length < 40) r.error.push(line);
    };
    const feed = (chunk) => {
      tail += chunk.toString();
      const lines = tail.split(/\r?\n/);
      tail = lines.pop();
      lines.forEach(onLine);
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    child.on('close', (code) => {
      if (tail) onLine(tail);
      r.code = code ?? -1;
      r.seconds = (Date.now() - started) / 1000;
      log.end();
      resolve(r);
    });
  });
}

function listArtifacts(name) {
  const dir = path.join(OUT, 'artifacts', name);
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^(crash|timeout|oom|leak|slow-unit)-/.test(f)) : [];
}

async function runTarget(name) {
  const share = TARGETS[name].weight / chosen.reduce((a, t) => a + TARGETS[t].weight, 0);
  let left = seconds === null ? Math.round(totalExecs * share) : seconds;
  const before = new Set(listArtifacts(name));
  const sum = { execs: 0, seconds: 0, edges: 0, features: 0, corpusFiles: 0, peakRssMb: 0, runs: 0, crashes: [] };
  while (left > 0 && sum.runs <= MAX_RESTARTS) {
    const r = await runOnce(name, seconds === null ? { runs: left } : { seconds: left });
    sum.runs++;
    sum.execs += r.execs;
    sum.seconds += r.seconds;
    sum.edges = Math.max(sum.edges, r.edges);
    sum.features = Math.max(sum.features, r.features);
    sum.peakRssMb = Math.max(sum.peakRssMb, r.peakRssMb);
    const fresh = listArtifacts(name).filter((f) => !before.has(f));
    fresh.forEach((f) => before.add(f));
    if (r.code !== 0 || fresh.length > 0) sum.crashes.push({ exitCode: r.code, artifacts: fresh.map((f) => path.relative(ROOT, path.join(OUT, 'artifacts', name, f))), report: r.error.slice(0, 25) });
    else break;
    // What is left of the budget after a crash (a crash stops libFuzzer).
    left = seconds === null ? left - r.execs : left - Math.round(r.seconds);
    if (r.execs === 0) break;
  }
  const corpusDir = path.join(OUT, 'corpus', name);
  sum.corpusFiles = fs.readdirSync(corpusDir).length;
  sum.execPerSec = sum.seconds > 0 ? Math.round(sum.execs / sum.seconds) : 0;
  return sum;
}

const campaign = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version, jazzer: version, nice: os.getPriority(0) },
  budget: seconds === null ? { execs: totalExecs } : { secondsPerTarget: seconds },
  targets: {},
  totalExecs: 0,
};
const write = () => fs.writeFileSync(path.join(OUT, 'campaign.json'), JSON.stringify(campaign, null, 2) + '\n');
for (const name of chosen) {
  const r = await runTarget(name);
  campaign.targets[name] = r;
  campaign.totalExecs = Object.values(campaign.targets).reduce((a, x) => a + x.execs, 0);
  write();
  console.log(`fuzz ${name.padEnd(8)} execs ${String(r.execs).padStart(10)}  ${String(r.execPerSec).padStart(6)} exec/s  edges ${String(r.edges).padStart(5)}  features ${String(r.features).padStart(6)}  corpus ${String(r.corpusFiles).padStart(5)}  crashes ${r.crashes.length}  (${r.seconds.toFixed(0)} s)`);
}
campaign.finished = new Date().toISOString();
write();
fs.appendFileSync(path.join(OUT, 'campaign-history.jsonl'), JSON.stringify(campaign) + '\n');
console.log(`fuzz total: ${campaign.totalExecs} executions; ${Object.values(campaign.targets).reduce((a, x) => a + x.crashes.length, 0)} crash(es); see ${path.relative(ROOT, path.join(OUT, 'campaign.json'))}`);

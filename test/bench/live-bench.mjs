// `npm run bench:live` (root, Linux): the daemon on a live interface. A home capture (control
// traffic of 200 devices from the bench generator, merged with real bulk TCP recorded in
// namespaces: live-capture.mjs) is replayed with tcpreplay through a veth pair into a network
// namespace where `vigie run` captures the other end, at 100 Mbit/s and 1 Gbit/s. Reported for
// each rate: the daemon's CPU (% of one core over the replay, from /proc/PID/stat; main thread
// and V8's helper threads apart), its RSS (MiB), packets the kernel dropped (libpcap's counters),
// and the protocol messages it saw against tshark's count on the same file: every MQTT CONNECT,
// DNS answer, DHCP message and TLS ClientHello must be there. "cold": a daemon just started (V8
// still compiling its hot paths); "warm": one that has replayed both captures twice first, as a
// router's daemon that has run for a while. Then the RSS with 100,000 open connections, and the
// alert latency over repeated publishes (test/integration/daemon-live.test.ts with LATENCY_RUNS).
// Results: stdout and test/bench/out/live-bench.json. Knobs (environment): PROFILES, RUNS,
// STATES, REPEAT, WARMUP_ROUNDS, EVENTS=0, FLOWS, LATENCY_RUNS, BUFFER_MIB, SEMI, NODE_EXTRA,
// SMAPS, HEAPSNAP, CPU_PROF, THREADS, DAEMON_STDOUT.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { liveCapture } from './live-capture.mjs';
import { manyFlows } from './many-flows.mjs';
import { NODE_FLAGS } from '../../bin/node-flags.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const outDir = path.join(here, 'out');
// Capture mode @ rate: the control filter at both rates, and every packet at 1 Gbit/s to compare.
const RUNS = (process.env.RUNS ?? 'control@100,control@1000,all@1000').split(',').map((r) => {
  const [mode, rate] = r.split('@');
  return { mode, mbps: Number(rate) };
});
const FILTER = process.env.VIGIE_FILTER ?? '';
const PASSWORD = 'bench-password-1234';
const SRC = 'vigie-lb-src';
const RTR = 'vigie-lb-rtr';

if (process.getuid() !== 0) throw new Error('bench:live needs root (network namespaces, raw capture)');
for (const cmd of ['tcpreplay', 'tshark', 'ip', 'curl', 'socat', 'ethtool', 'tc', 'mergecap', 'editcap', 'capinfos']) {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) throw new Error(`bench:live needs ${cmd}`);
}

fs.mkdirSync(outDir, { recursive: true });
// Two homes: a busy one (200 devices opening ~40 TLS connections a second, the order of a real
// household with many devices) and a stress one, ten times denser in handshakes.
const PROFILES = { home: { tlsFlows: 150 }, stress: { tlsFlows: 1500 } };
const profileNames = (process.env.PROFILES ?? 'home,stress').split(',').filter(Boolean);
let capture = '';
let meta = null;

const sh = (cmd, opts = {}) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 30, ...opts });
const inNs = (ns, cmd) => sh(`ip netns exec ${ns} sh -c ${JSON.stringify(cmd)}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function teardown() {
  for (const ns of [SRC, RTR]) {
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).stdout ?? '';
    for (const p of pids.split('\n').filter(Boolean)) process.kill(Number(p), 'SIGKILL');
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
}
process.on('exit', teardown);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(1));

/** What tshark counts in the file: the messages the daemon must not miss. */
function oracle() {
  const cache = capture.replace(/\.pcap$/, '.oracle.json');
  if (fs.existsSync(cache)) {
    const c = JSON.parse(fs.readFileSync(cache, 'utf8'));
    if (c.size === fs.statSync(capture).size) return c.counts;
  }
  process.stderr.write('counting protocol messages with tshark...\n');
  const rows = sh(`tshark -n -r ${capture} -Y 'mqtt || dns || dhcp || tls.handshake.type == 1' -T fields -E separator=/t -e mqtt.msgtype -e dns.flags.response -e dns.count.answers -e dhcp.option.dhcp -e tls.handshake.type`).split('\n');
  const counts = { mqttConnect: 0, dnsAnswers: 0, dhcp: 0, clientHello: 0 };
  for (const r of rows) {
    if (!r) continue;
    const [mqtt, resp, answers, dhcp, hs] = r.split('\t');
    counts.mqttConnect += mqtt ? mqtt.split(',').filter((x) => x === '1').length : 0;
    if (resp && resp.split(',')[0] === '1' && Number(answers.split(',')[0]) > 0) counts.dnsAnswers++;
    if (dhcp) counts.dhcp++;
    counts.clientHello += hs ? hs.split(',').filter((x) => x === '1').length : 0;
  }
  fs.writeFileSync(cache, JSON.stringify({ size: fs.statSync(capture).size, counts }));
  return counts;
}

/** The same messages in the daemon's protocol events. */
function seen(eventsFile, from = 0) {
  const counts = { mqttConnect: 0, dnsAnswers: 0, dhcp: 0, clientHello: 0 };
  for (const line of fs.readFileSync(eventsFile).subarray(from).toString('utf8').split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line);
    if (e.type === 'mqtt' && e.mqtt.type === 'CONNECT') counts.mqttConnect++;
    else if (e.type === 'dns' && e.dns.response && e.dns.counts.answers > 0) counts.dnsAnswers++;
    else if (e.type === 'dhcp') counts.dhcp++;
    else if (e.type === 'tls' && e.tls.handshake === 'client_hello') counts.clientHello++;
  }
  return counts;
}

/** User and system CPU ticks of a process (proc(5): fields 14 and 15 of /proc/PID/stat). */
function cpuTicks(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return { user: Number(rest[11]), system: Number(rest[12]) };
}
const TICK = Number(sh('getconf CLK_TCK').trim());

/** CPU ticks of the main thread (tid = pid) and of all other threads (V8's compiler and GC helpers, libuv). */
function threadTicks(pid) {
  let main = 0;
  let others = 0;
  const byThread = {};
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let f;
    try {
      f = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    const t = Number(rest[11]) + Number(rest[12]);
    if (Number(tid) === pid) main += t;
    else others += t;
    byThread[`${tid} ${f.slice(f.indexOf('(') + 1, f.lastIndexOf(')'))}`] = t;
  }
  return { main, others, byThread };
}

function rssMB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) / 1024;
}

function hwmMB(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) / 1024;
}

async function runAt(mode, mbps, expected, withEvents = true, warmup = null) {
  teardown();
  sh(`ip netns add ${SRC} && ip netns add ${RTR}`);
  sh(`ip link add veth0 netns ${SRC} type veth peer name veth1 netns ${RTR}`);
  inNs(SRC, 'ip link set lo up && ip link set veth0 up');
  inNs(RTR, 'ip link set lo up && ip link set veth1 up');
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-lb-'));
  const events = path.join(state, 'events.jsonl');
  const args = ['netns', 'exec', RTR, process.execPath, ...(process.env.SEMI ? NODE_FLAGS.map((f) => (f.startsWith('--max-semi-space-size') ? `--max-semi-space-size=${process.env.SEMI}` : f)) : NODE_FLAGS), ...(process.env.NODE_EXTRA ? process.env.NODE_EXTRA.split(' ') : []), ...(process.env.HEAPSNAP ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${process.env.HEAPSNAP}`] : []), ...(process.env.CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/vprof'] : []), path.join(root, 'bin/vigie.js'), 'run', '-i', 'veth1', '--state-dir', state, '--listen', '127.0.0.1', '--port', '8099', '--commit-interval', '3600', ...(withEvents ? ['--events', events] : [])];
  args.push('--capture', mode);
  if (process.env.BUFFER_MIB) args.push('--buffer-size', process.env.BUFFER_MIB);
  if (FILTER) args.push('--filter', FILTER);
  const daemon = spawn('ip', args, { env: { ...process.env, VIGIE_ADMIN_PASSWORD: PASSWORD }, stdio: ['ignore', process.env.DAEMON_STDOUT ? fs.openSync(process.env.DAEMON_STDOUT, 'a') : 'ignore', 'pipe'] });
  let log = '';
  daemon.stderr.on('data', (b) => (log += b));
  for (let i = 0; !log.includes('dashboard at'); i++) {
    if (i > 200 || daemon.exitCode !== null) throw new Error(`daemon did not start: ${log}`);
    await sleep(50);
  }
  const pid = daemon.pid; // `ip netns exec` execs node: same process
  const idleRss = hwmMB(pid);
  // Logged in before the replay (scrypt's 32 MiB shows in the peak RSS only, its CPU before t0).
  inNs(RTR, `curl -s -c /tmp/vigie-lb-jar -H 'Content-Type: application/json' -d '{"password":"${PASSWORD}"}' http://127.0.0.1:8099/api/session >/dev/null`);
  const apiStatus = () => JSON.parse(inNs(RTR, 'curl -s -b /tmp/vigie-lb-jar http://127.0.0.1:8099/api/status'));
  for (const file of warmup ?? []) {
    // A router's daemon has long compiled its hot paths: replay traffic first, then measure.
    const w = spawnSync('ip', ['netns', 'exec', SRC, 'tcpreplay', '-q', '-i', 'veth0', '--mbps=1000', file], { encoding: 'utf8' });
    if (w.status !== 0) throw new Error(`tcpreplay: ${w.stderr}`);
    await sleep(3000);
  }
  const before = apiStatus();
  const eventsFrom = withEvents && fs.existsSync(events) ? fs.statSync(events).size : 0; // warm-up events before
  const t0 = process.hrtime.bigint();
  const c0 = cpuTicks(pid);
  const th0 = threadTicks(pid);
  if (process.env.DAEMON_STDOUT) fs.appendFileSync(process.env.DAEMON_STDOUT, '=== measured replay starts\n');
  const replay = spawnSync('ip', ['netns', 'exec', SRC, 'tcpreplay', '-q', '-i', 'veth0', `--mbps=${mbps}`, capture], { encoding: 'utf8' });
  if (replay.status !== 0) throw new Error(`tcpreplay: ${replay.stderr}`);
  const c1 = cpuTicks(pid);
  const th1 = threadTicks(pid);
  if (process.env.DAEMON_STDOUT) fs.appendFileSync(process.env.DAEMON_STDOUT, '=== measured replay ends\n');
  if (process.env.THREADS) process.stderr.write(`threads: ${JSON.stringify(Object.fromEntries(Object.entries(th1.byThread).map(([k, v]) => [k, v - (th0.byThread[k] ?? 0)]).filter(([, v]) => v > 0)))}\n`);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  await sleep(3000); // the ring drains, idle flows are still live: nothing more to count
  const rssNow = rssMB(pid);
  if (process.env.SMAPS) fs.writeFileSync(process.env.SMAPS, fs.readFileSync(`/proc/${pid}/smaps`));
  if (process.env.HEAPSNAP) {
    process.kill(pid, 'SIGUSR2');
    await sleep(8000);
  }
  const status = apiStatus();
  const rssAfterApi = rssMB(pid);
  const rss = hwmMB(pid);
  const exited = new Promise((r) => daemon.once('exit', r));
  daemon.kill('SIGTERM');
  await exited;
  const got = withEvents ? seen(events, eventsFrom) : {};
  fs.rmSync(state, { recursive: true, force: true });
  const sent = /Actual: (\d+) packets .* in ([\d.]+) seconds/.exec(replay.stdout) ?? [];
  const rate = /Rated: [\d.]+ Bps, ([\d.]+) Mbps, ([\d.]+) pps/.exec(replay.stdout) ?? [];
  return {
    capture: mode,
    targetMbps: mbps,
    actualMbps: Number(rate[1]),
    pps: Number(rate[2]),
    packetsSent: Number(sent[1]),
    seconds: Number(wall.toFixed(2)),
    cpuPercent: Number((((c1.user + c1.system - c0.user - c0.system) / TICK / wall) * 100).toFixed(1)),
    userPercent: Number((((c1.user - c0.user) / TICK / wall) * 100).toFixed(1)),
    systemPercent: Number((((c1.system - c0.system) / TICK / wall) * 100).toFixed(1)),
    mainThreadPercent: Number((((th1.main - th0.main) / TICK / wall) * 100).toFixed(1)),
    otherThreadsPercent: Number((((th1.others - th0.others) / TICK / wall) * 100).toFixed(1)),
    rssMB: Number(rssNow.toFixed(1)),
    rssAfterApiMB: Number(rssAfterApi.toFixed(1)),
    peakRssMB: Number(rss.toFixed(1)),
    idleRssMB: Number(idleRss.toFixed(1)),
    captured: status.capture.received - before.capture.received,
    decoded: status.packets - before.packets,
    kernelDrops: status.capture.dropped + status.capture.interfaceDropped - before.capture.dropped - before.capture.interfaceDropped, // over the measured replay
    flows: status.flowsTotal,
    liveFlows: status.flows,
    memory: status.memory,
    devices: status.devices,
    messages: withEvents ? Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, { tshark: v, vigie: got[k], missed: v - got[k] }])) : null,
  };
}

const results = [];
const captures = {};
// Warm runs first replay the other profile's capture and then this one (a router's daemon has
// compiled its hot paths long ago: V8 optimises a function once it is hot, ~50 of them at 10-20 ms
// each on its helper threads); cold runs measure the first seconds after start, compilation included.
const STATES = (process.env.STATES ?? 'cold,warm').split(',').filter(Boolean);
const WARMUP_ROUNDS = Number(process.env.WARMUP_ROUNDS ?? 2);
const files = {};
for (const name of profileNames) files[name] = (await liveCapture(outDir, { name, ...PROFILES[name] })).file;
const warmupFor = async (name) => {
  const other = name === 'home' ? 'stress' : 'home';
  const pair = [files[other] ?? (await liveCapture(outDir, { name: other, ...PROFILES[other] })).file, files[name]];
  return Array.from({ length: WARMUP_ROUNDS }, () => pair).flat();
};
for (const name of profileNames) {
meta = await liveCapture(outDir, { name, ...PROFILES[name] });
capture = meta.file;
captures[name] = { packets: meta.packets, bytes: meta.bytes, tlsFlows: PROFILES[name].tlsFlows };
const expected = oracle();
// CPU and memory: REPEAT runs as the daemon runs by default (no event file), the median CPU
// reported (a shared VM is noisy). Completeness: one more run writing every protocol event
// (--events), counted against tshark; the worst drops of all runs are reported.
const REPEAT = Number(process.env.REPEAT ?? 3);
for (const { mode, mbps } of RUNS) {
  // Warm runs at 1 Gbit/s only: at 100 Mbit/s the cold figure is already small.
  for (const state of STATES.filter((s) => s === 'cold' || mbps >= 1000)) {
    const warmup = state === 'warm' ? await warmupFor(name) : null;
    process.stderr.write(`replaying at ${mbps} Mbit/s, capture ${mode}, ${state}, counting protocol events...\n`);
    const counted = process.env.EVENTS === '0' ? { kernelDrops: 0, cpuPercent: null, messages: null } : await runAt(mode, mbps, expected, true, warmup);
    const tries = [];
    for (let i = 0; i < REPEAT; i++) {
      process.stderr.write(`replaying at ${mbps} Mbit/s, capture ${mode}, ${state} (${i + 1}/${REPEAT})...\n`);
      tries.push(await runAt(mode, mbps, expected, false, warmup));
    }
    tries.sort((a, b) => a.cpuPercent - b.cpuPercent);
    const median = { ...tries[Math.floor(tries.length / 2)] };
    median.cpuRange = [tries[0].cpuPercent, tries[tries.length - 1].cpuPercent];
    median.kernelDrops = Math.max(counted.kernelDrops, ...tries.map((t) => t.kernelDrops));
    median.messages = counted.messages;
    median.cpuWithEvents = counted.cpuPercent;
    median.profile = name;
    median.state = state;
    results.push(median);
  }
}
}
teardown();

// Memory with a full flow table: 100,000 open TCP connections of 200 devices.
let flowTable = null;
if (process.env.FLOWS !== '0') {
  const n = Number(process.env.FLOWS ?? 100_000);
  capture = path.join(outDir, `flows-${n}.pcap`);
  if (!fs.existsSync(capture)) manyFlows(capture, n);
  process.stderr.write(`replaying ${n} open connections...\n`);
  const r = await runAt('control', 100, {}, false);
  flowTable = { connections: n, memory: r.memory, liveFlows: r.liveFlows, devices: r.devices, rssMB: r.rssMB, rssAfterApiMB: r.rssAfterApiMB, peakRssMB: r.peakRssMB, cpuPercent: r.cpuPercent, kernelDrops: r.kernelDrops };
}

let latency = null;
if (process.env.LATENCY_RUNS !== '0') {
  const n = Number(process.env.LATENCY_RUNS ?? 50);
  process.stderr.write(`alert latency over ${n} publishes...\n`);
  const r = spawnSync('npx', ['vitest', 'run', '--config', 'test/vitest.config.ts', 'test/integration/daemon-live.test.ts'], { cwd: root, encoding: 'utf8', env: { ...process.env, LATENCY_RUNS: String(n) } });
  const m = /alert latency over (\d+) publishes: p50 (\d+) ms, p99 (\d+) ms, max (\d+) ms/.exec(r.stdout + r.stderr);
  latency = m ? { publishes: Number(m[1]), p50ms: Number(m[2]), p99ms: Number(m[3]), maxMs: Number(m[4]) } : { error: (r.stdout + r.stderr).slice(-2000) };
}

const report = { captures, flowTable, filter: FILTER || null, machine: `${os.cpus()[0].model}, ${os.cpus().length} cores`, node: process.version, results, latency };
fs.writeFileSync(path.join(outDir, 'live-bench.json'), JSON.stringify(report, null, 2));
process.stdout.write(`\n${Object.entries(captures).map(([n, c]) => `${n}: ${c.packets} packets, ${(c.bytes / 1e6).toFixed(0)} MB, ${c.tlsFlows} TLS handshakes`).join('; ')}; ${report.machine}${FILTER ? `, filter "${FILTER}"` : ''}\n\n`);
process.stdout.write('| profile | capture | daemon | rate | pps | daemon CPU (% of a core) | RSS | packets to JS | kernel drops | MQTT CONNECT | DNS answers | DHCP | ClientHello |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n');
for (const r of results) {
  const m = (k) => (r.messages ? `${r.messages[k].vigie}/${r.messages[k].tshark}` : '–');
  process.stdout.write(`| ${r.profile} | ${r.capture} | ${r.state} | ${r.actualMbps} Mbit/s | ${Math.round(r.pps)} | ${r.cpuPercent} (main thread ${r.mainThreadPercent}, others ${r.otherThreadsPercent}; ${r.cpuRange[0]}–${r.cpuRange[1]}) | ${r.rssMB} MB (peak ${r.peakRssMB}) | ${r.captured} | ${r.kernelDrops} | ${m('mqttConnect')} | ${m('dnsAnswers')} | ${m('dhcp')} | ${m('clientHello')} |\n`);
}
if (flowTable) process.stdout.write(`\n${flowTable.connections} open connections of 200 devices: ${flowTable.liveFlows} flows live, RSS ${flowTable.rssMB} MB (peak ${flowTable.peakRssMB}), drops ${flowTable.kernelDrops}\n`);
if (latency?.p50ms !== undefined) process.stdout.write(`\nalert latency (publisher start → WebSocket client), ${latency.publishes} publishes: p50 ${latency.p50ms} ms, p99 ${latency.p99ms} ms, max ${latency.maxMs} ms\n`);
else if (latency) process.stdout.write(`\nlatency run failed: ${latency.error}\n`);

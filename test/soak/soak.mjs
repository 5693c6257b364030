// `npm run soak` (root, Linux; never in CI): the live daemon over hours of realistic home traffic.
// The home of bench:live's generator (test/bench/home-capture.mjs: 200 devices doing DHCP, DNS
// before each connection, TLS handshakes with SNI, ten cameras holding cleartext MQTT sessions
// with credentials; plus video.mjs: the cameras' uploads and TVs' streams in minute-long TLS
// connections) spans SOAK_SPAN seconds (default 300) and is replayed in a loop at its own pace
// (tcpreplay --multiplier=1: 20 TLS connections a second and 22 Mbit/s in the capture, ~15-20 %
// less on the wire, tcpreplay's sleeps being late: a busy household; docs/soak.md) through a
// veth pair into a namespace where `vigie run`
// captures the other end, as bench:live does. Each loop the connections start again and end
// with FIN, DNS flows time out (180 s < the loop): flows keep ending and starting. A live fake
// camera in the source namespace (10.251.0.2) also connects to an MQTT "broker" on the internet
// (203.0.113.250, held by the router namespace) once a minute with a cleartext CONNECT
// (credentials) and a PUBLISH: a real TCP stack's segments, and alerts that keep coming.
//
// The daemon runs as the systemd unit runs it: `node <NODE_FLAGS> dist/cli/index.js run` (no
// re-exec by bin/vigie.js: the PID sampled is the process that captures). Every --interval
// (default 30 s) one CSV row: wall time, elapsed, VmRSS (/proc/PID/status), V8 heap used/total,
// active handles, flows, devices, packets, kernel drops, open alerts (/metrics), open fds
// (/proc/PID/fd), CPU % of one core over the interval (utime+stime, /proc/PID/stat). The JSON
// summary beside it (rewritten at every sample, so that even a killed run leaves one): RSS at
// 10 min and at the end, min/max, slope of a linear fit over the last 75 % in MB/h, the same for
// the heap, handles, mean CPU and the verdict (test/soak/stats.mjs has the thresholds).
//
// Usage: npm run soak -- [--duration 24h] [--interval 30s] [--out test/bench/out/soak-X.csv]
// (or SOAK_DURATION, SOAK_INTERVAL, SOAK_OUT). Durations: 90s, 130m, 2h, or seconds.
// Then: node test/soak/report.mjs <summary.json> (figures and SVG into docs/soak.md, docs/soak/).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, mqttConnect, mqttPublish } from '../bench/home-capture.mjs';
import { NODE_FLAGS } from '../../bin/node-flags.js';
import { COLUMNS, parseCsv, summarize } from './stats.mjs';
import { generateVideo } from './video.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const outDir = path.join(root, 'test/bench/out');

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq ? eq.slice(name.length + 3) : undefined;
}
/** "90s", "130m", "2h", "1d" or plain seconds, in seconds. */
export function parseDuration(s) {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?$/.exec(String(s).trim());
  if (!m) throw new Error(`bad duration: ${s}`);
  return Number(m[1]) * { s: 1, m: 60, min: 60, h: 3600, d: 86400 }[m[2] ?? 's'];
}

const DURATION_S = parseDuration(arg('duration') ?? process.env.SOAK_DURATION ?? '24h');
const INTERVAL_S = parseDuration(arg('interval') ?? process.env.SOAK_INTERVAL ?? '30s');
const stamp = new Date().toISOString().slice(0, 16).replace(/:/g, '');
const CSV = path.resolve(arg('out') ?? process.env.SOAK_OUT ?? path.join(outDir, `soak-${stamp}.csv`));
const SUMMARY = CSV.replace(/\.csv$/, '') + '.json';
const SPAN_S = Number(process.env.SOAK_SPAN ?? 300);
const TLS_PER_S = Number(process.env.SOAK_TLS_PER_S ?? 20);
const VIDEO_MBIT = Number(process.env.SOAK_VIDEO_MBIT ?? 1.25); // each of the 10 camera uploads and 6 TV streams
// tcpreplay's pace against the capture's clock (1: as recorded; its sleeps wake late, so the wire
// sees less: docs/soak.md; e.g. 1.4 to make up for it).
const MULTIPLIER = Number(process.env.SOAK_MULTIPLIER ?? 1);
const DEVICES = 200;
const PASSWORD = 'soak-password-1234';
const PORT = 8199;
const SRC = 'vigie-soak-src';
const RTR = 'vigie-soak-rtr';
// The veth pair: 10.251.0.0/24 (no other test uses 10.251/16). The replayed traffic keeps its
// own addresses (192.168.1.0/24 LAN, documentation ranges for the internet).
const SRC_IP = '10.251.0.2';
const RTR_IP = '10.251.0.1';
const CAMERA_MAC = '3c:ef:8c:25:10:02'; // a Dahua OUI, as the generator's cameras
// The live camera's MQTT broker, "on the internet" (TEST-NET-3), held by the router namespace:
// the cleartext-MQTT rule is about the internet.
const BROKER_IP = '203.0.113.250';

if (process.getuid() !== 0) throw new Error('soak needs root (network namespaces, raw capture)');
for (const cmd of ['tcpreplay', 'ip', 'curl', 'socat', 'mergecap']) {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) throw new Error(`soak needs ${cmd}`);
}
if (!fs.existsSync(path.join(root, 'dist/cli/index.js'))) throw new Error('dist/ is missing: npm run build');

const sh = (cmd) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 26 });
const inNs = (ns, cmd) => spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 26 });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => process.stderr.write(`${new Date().toISOString()} soak: ${msg}\n`);

const kids = [];
let state = null;
function teardown() {
  for (const k of kids) if (k.exitCode === null && k.signalCode === null) k.kill('SIGKILL');
  for (const ns of [SRC, RTR]) {
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).stdout ?? '';
    for (const p of pids.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
  if (state) fs.rmSync(state, { recursive: true, force: true });
  state = null;
}

/** The capture replayed in a loop (built once, same seed, same bytes). */
function soakCapture() {
  const want = { version: 3, devices: DEVICES, span: SPAN_S, tlsPerS: TLS_PER_S, videoMbit: VIDEO_MBIT };
  const file = path.join(outDir, `soak-home-${DEVICES}-${SPAN_S}s.pcap`);
  const metaPath = file.replace(/\.pcap$/, '.meta.json');
  if (fs.existsSync(file) && fs.existsSync(metaPath)) {
    const m = JSON.parse(fs.readFileSync(metaPath, 'utf8'));
    if (JSON.stringify(m.want) === JSON.stringify(want)) return m;
  }
  log(`generating the home capture (${DEVICES} devices, ${SPAN_S} s)...`);
  fs.mkdirSync(outDir, { recursive: true });
  const control = file + '.control.tmp';
  const video = file + '.video.tmp';
  const g = generate(control, { devices: DEVICES, tlsFlows: TLS_PER_S * SPAN_S, bulkPackets: 2000, duration: SPAN_S, seed: 20261203 });
  const v = generateVideo(video, { duration: SPAN_S, mbitPerFlow: VIDEO_MBIT });
  sh(`mergecap -F pcap -w ${file}.tmp ${control} ${video}`);
  fs.rmSync(control);
  fs.rmSync(video);
  fs.renameSync(file + '.tmp', file);
  g.packets += v.packets;
  const bytes = fs.statSync(file).size;
  const meta = { want, file, packets: g.packets, flows: g.flows, bytes, mbps: Number(((bytes * 8) / SPAN_S / 1e6).toFixed(1)) };
  fs.writeFileSync(metaPath, JSON.stringify(meta));
  return meta;
}

function cpuTicks(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}
const TICK = Number(sh('getconf CLK_TCK').trim());
const rssMB = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const fdCount = (pid) => fs.readdirSync(`/proc/${pid}/fd`).length;

const JAR = path.join(os.tmpdir(), 'vigie-soak-jar');
function login() {
  inNs(RTR, `curl -s -c ${JAR} -H 'Content-Type: application/json' -d '{"password":"${PASSWORD}"}' http://127.0.0.1:${PORT}/api/session >/dev/null`);
}
/** /metrics as { name: value } (labelled series summed), default metrics with or without the vigie_ prefix. */
function metrics() {
  let r = inNs(RTR, `curl -s -m 10 -w '\\n%{http_code}' -b ${JAR} http://127.0.0.1:${PORT}/metrics`);
  if (!r.stdout.trimEnd().endsWith('200')) {
    login();
    r = inNs(RTR, `curl -s -m 10 -w '\\n%{http_code}' -b ${JAR} http://127.0.0.1:${PORT}/metrics`);
    if (!r.stdout.trimEnd().endsWith('200')) return null;
  }
  const out = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([a-z_:]+)(?:\{[^}]*\})? ([-+\d.eE]+|NaN)$/.exec(line);
    if (!m) continue;
    const name = m[1].replace(/^vigie_(nodejs_|process_)/, '$1');
    out[name] = (out[name] ?? 0) + Number(m[2]);
  }
  return out;
}

// ---- set-up ----
const cap = soakCapture();
teardown();
process.on('exit', teardown);
sh(`ip netns add ${SRC} && ip netns add ${RTR}`);
sh(`ip link add veth0 netns ${SRC} address ${CAMERA_MAC} type veth peer name veth1 netns ${RTR}`);
sh(`ip -n ${SRC} link set lo up && ip -n ${SRC} link set veth0 up && ip -n ${SRC} addr add ${SRC_IP}/24 dev veth0`);
sh(`ip -n ${RTR} link set lo up && ip -n ${RTR} link set veth1 up && ip -n ${RTR} addr add ${RTR_IP}/24 dev veth1 && ip -n ${RTR} addr add ${BROKER_IP}/32 dev veth1`);
sh(`ip -n ${SRC} route add ${BROKER_IP}/32 dev veth0`);
state = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-soak-'));
const daemonLog = CSV.replace(/\.csv$/, '') + '.daemon.log';
const daemonOut = fs.openSync(daemonLog, 'a');
// As the systemd unit: node with the V8 flags, the CLI directly; store commits every 60 s (default).
const daemon = spawn('ip', ['netns', 'exec', RTR, process.execPath, ...NODE_FLAGS, path.join(root, 'dist/cli/index.js'), 'run', '-i', 'veth1', '--state-dir', state, '--listen', '127.0.0.1', '--port', String(PORT), '--event-log', path.join(state, 'events.log')], {
  env: { ...process.env, VIGIE_ADMIN_PASSWORD: PASSWORD },
  stdio: ['ignore', daemonOut, 'pipe'],
});
kids.push(daemon);
let daemonErr = '';
daemon.stderr.on('data', (b) => {
  daemonErr = (daemonErr + b).slice(-20000);
  fs.appendFileSync(daemonLog, b);
});
let daemonExit = null;
daemon.on('exit', (code, signal) => (daemonExit = signal ? `signal ${signal}` : `exit code ${code}`));
for (let i = 0; !daemonErr.includes('dashboard at'); i++) {
  if (i > 600 || daemonExit) throw new Error(`daemon did not start: ${daemonErr}`);
  await sleep(50);
}
const pid = daemon.pid; // `ip netns exec` execs node: same process
login();
log(`daemon PID ${pid}, capture ${cap.file} (${cap.packets} packets, ${(cap.bytes / 1e6).toFixed(0)} MB, ${cap.mbps} Mbit/s over ${SPAN_S} s), ${DURATION_S} s, samples every ${INTERVAL_S} s into ${CSV}`);

// ---- traffic ----
const t0 = Date.now();
const deadline = t0 + DURATION_S * 1000;
let loops = 0;
let stopping = false;
let replay = null;
const replays = [];
function replayLoop() {
  if (stopping || Date.now() >= deadline) return;
  // At the capture's own pace; --duration cuts the last loop at the deadline.
  const left = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
  replay = spawn('ip', ['netns', 'exec', SRC, 'tcpreplay', '-q', '-i', 'veth0', `--multiplier=${MULTIPLIER}`, '--timer=nano', `--duration=${left}`, cap.file], { stdio: ['ignore', 'pipe', 'pipe'] });
  kids.push(replay);
  // nanosleep's default timer slack (50 µs) on every inter-packet gap would slow the replay
  // by a third: 1 µs for tcpreplay (`ip netns exec` execs it: same PID).
  setTimeout(() => {
    try {
      fs.writeFileSync(`/proc/${replay.pid}/timerslack_ns`, '1000');
    } catch {
      // ended already, or an old kernel
    }
  }, 100);
  let out = '';
  replay.stdout.on('data', (b) => (out += b));
  replay.stderr.on('data', (b) => (out += b));
  replay.on('exit', (code) => {
    kids.splice(kids.indexOf(replay), 1);
    loops++;
    const sent = /Actual: (\d+) packets .* in ([\d.]+) seconds/.exec(out);
    const rate = /Rated: [\d.]+ Bps, ([\d.]+) Mbps, ([\d.]+) pps/.exec(out);
    replays.push({ loop: loops, code, packets: sent ? Number(sent[1]) : null, seconds: sent ? Number(sent[2]) : null, mbps: rate ? Number(rate[1]) : null, pps: rate ? Number(rate[2]) : null });
    if (code !== 0) log(`tcpreplay exit ${code}: ${out.slice(-500)}`);
    setTimeout(replayLoop, code === 0 ? 0 : 5000);
  });
}
replayLoop();

// The live fake camera: a cleartext MQTT CONNECT with credentials and a PUBLISH once a minute.
const broker = spawn('ip', ['netns', 'exec', RTR, 'socat', '-u', `TCP-LISTEN:1883,bind=${BROKER_IP},reuseaddr,fork`, 'OPEN:/dev/null'], { stdio: 'ignore' });
kids.push(broker);
const camMsg = path.join(state, 'camera-mqtt.bin');
const camera = () => {
  if (stopping) return;
  fs.writeFileSync(camMsg, Buffer.concat([mqttConnect('cam-soak-5f3a9c', 'admin', 'admin123'), mqttPublish('devices/cam-soak/state', `{"motion":false,"t":${Date.now()}}`)]));
  const c = spawn('ip', ['netns', 'exec', SRC, 'socat', '-u', `OPEN:${camMsg}`, `TCP:${BROKER_IP}:1883,connect-timeout=5`], { stdio: 'ignore' });
  c.on('error', () => {});
};
setTimeout(camera, 2000);
const cameraTimer = setInterval(camera, 60_000);

// ---- sampling ----
fs.mkdirSync(path.dirname(CSV), { recursive: true });
fs.writeFileSync(CSV, COLUMNS.join(',') + '\n');
const info = {
  started: new Date(t0).toISOString(),
  requestedDurationS: DURATION_S,
  intervalS: INTERVAL_S,
  csv: path.relative(root, CSV),
  daemon: `node ${NODE_FLAGS.join(' ')} dist/cli/index.js run -i veth1 (capture control, store commit every 60 s)`,
  machine: `${os.cpus()[0].model}, ${os.cpus().length} cores`,
  node: process.version,
  traffic: { devices: DEVICES, loopSeconds: SPAN_S, multiplier: MULTIPLIER, packetsPerLoop: cap.packets, bytesPerLoop: cap.bytes, mbps: cap.mbps, tlsConnectionsPerSecond: TLS_PER_S, liveCameraMqttPerMinute: 1 },
};
let prev = { t: Date.now(), ticks: cpuTicks(pid) };
const rows = [];
function sample() {
  const now = Date.now();
  let rss = null;
  let fds = null;
  let cpu = null;
  try {
    const ticks = cpuTicks(pid);
    cpu = ((ticks - prev.ticks) / TICK / ((now - prev.t) / 1000)) * 100;
    prev = { t: now, ticks };
    rss = rssMB(pid);
    fds = fdCount(pid);
  } catch {
    // the daemon is gone: daemonExit says why
  }
  const m = rss === null ? null : metrics();
  const v = (k, scale = 1) => (m && m[k] !== undefined ? Number((m[k] / scale).toFixed(2)) : null);
  const row = {
    time: new Date(now).toISOString(),
    elapsed_s: Math.round((now - t0) / 1000),
    rss_mb: rss === null ? null : Number(rss.toFixed(2)),
    heap_used_mb: v('nodejs_heap_size_used_bytes', 1 << 20),
    heap_total_mb: v('nodejs_heap_size_total_bytes', 1 << 20),
    handles: v('nodejs_active_handles_total'),
    fds,
    cpu_pct: cpu === null ? null : Number(cpu.toFixed(1)),
    flows: v('vigie_flows'),
    devices: v('vigie_devices'),
    packets: v('vigie_packets_total'),
    dropped: v('vigie_capture_dropped_total'),
    alerts_open: v('vigie_alerts_open'),
    loops,
  };
  rows.push(row);
  fs.appendFileSync(CSV, COLUMNS.map((c) => row[c] ?? '').join(',') + '\n');
  writeSummary();
  return row;
}
function writeSummary(reason) {
  const s = summarize(parseCsv(fs.readFileSync(CSV, 'utf8')), { ...info, ended: reason ? new Date().toISOString() : null, endReason: reason ?? 'running', daemonExit, replays: { loops, last: replays.slice(-3) } });
  fs.writeFileSync(SUMMARY, JSON.stringify(s, null, 2) + '\n');
  return s;
}

let finished = false;
function finish(reason) {
  if (finished) return;
  finished = true;
  stopping = true;
  clearInterval(cameraTimer);
  const s = writeSummary(reason);
  log(`${reason}: ${s.samples} samples; RSS ${s.rssMB?.start} → ${s.rssMB?.end} MB (min ${s.rssMB?.min}, max ${s.rssMB?.max}), slope ${s.rssMB?.slopeMBPerHourLast75} MB/h; verdict: ${s.verdict}`);
  log(`summary ${SUMMARY}; then: node test/soak/report.mjs ${path.relative(root, SUMMARY)}`);
  teardown();
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    finish(`stopped by ${sig}`);
    process.exit(130);
  });
}
process.on('uncaughtException', (e) => {
  log(`error: ${e.stack ?? e}`);
  finish('error');
  process.exit(1);
});

while (Date.now() < deadline) {
  await sleep(Math.min(INTERVAL_S * 1000 - ((Date.now() - t0) % (INTERVAL_S * 1000)), deadline - Date.now()));
  const r = sample();
  if (rows.length <= 3 || rows.length % 20 === 0) log(`t=${r.elapsed_s}s rss=${r.rss_mb} MB heap=${r.heap_used_mb}/${r.heap_total_mb} MB handles=${r.handles} fds=${r.fds} cpu=${r.cpu_pct}% flows=${r.flows} devices=${r.devices} packets=${r.packets} dropped=${r.dropped} loops=${loops}`);
  if (daemonExit) break;
}
finish(daemonExit ? `daemon ended: ${daemonExit}` : 'done');
process.exit(daemonExit ? 1 : 0);

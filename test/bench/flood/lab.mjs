// The flood lab (issue 15), shared by `npm run bench:flood` (bench.mjs) and its small variant in
// CI (test/integration/floods-small.test.ts). Network namespaces, all named with the prefix:
//   rtr    the router: a LAN bridge br-lan (10.247.0.1/16, MAC ROUTER_MAC) that `vigie run`
//          captures, a WAN link to `cloud`; an nftables ingress rule on br-lan drops every frame
//          not from the camera *after* the capture has seen it, so nothing of a flood is routed.
//   cloud  the internet: a real mosquitto with a password file on 203.0.113.10:1884 (the
//          daemon's config maps 203.0.113.0/24 to CN).
//   cam    a real camera (Dahua OUI) on the bridge publishing cleartext MQTT with a password to
//          that broker with mosquitto_pub: each publish is a new connection, which raises the
//          count of its critical alert, pushed on the WebSocket (test/helpers/live-client.mjs,
//          run in `rtr` against 127.0.0.1: the dashboard's own traffic is not on br-lan).
//   src    tcpreplay's side: its veth is a bridge port, so replayed frames reach br-lan.
// Measured per flood (run()): the daemon's RSS (sampled from /proc every 100 ms) and V8 heap
// (/api/status each second), its CPU over the replay (/proc/PID/stat), the /metrics counters
// before and after, the tables' fill (/api/status `bounds`), and the camera's alert latency
// (publisher started → alert on the WebSocket) over repeated publishes during the replay.
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROUTER_MAC } from './floods.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const NODE_FLAGS = ['--max-semi-space-size=2', '--v8-pool-size=1'];
export const CAMERA_MAC = '3c:ef:8c:5a:10:01';
const BROKER = '203.0.113.10';
const CAM_PASSWORD = 'Sup3rSecretCamPass';
const ADMIN_PASSWORD = 'flood-admin-password-1234';
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function floodLabReady() {
  if (process.getuid?.() !== 0) return false;
  for (const c of ['ip', 'nft', 'tcpreplay', 'mosquitto', 'mosquitto_pub', 'mosquitto_passwd', 'curl']) {
    if (spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0) return false;
  }
  return fs.existsSync(path.join(root, 'dist/cli/index.js'));
}

function run(file, args, opts = {}) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts }, (err, stdout, stderr) => (err ? reject(Object.assign(err, { stdout, stderr })) : resolve({ stdout, stderr })));
  });
}

export function quantile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** Prometheus text → { 'name{labels}': value }. */
export function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return out;
}

export class FloodLab {
  /**
   * @param {{ prefix: string, port?: number, maxFlows?: number, maxDevices?: number, log?: (s: string) => void }} o
   */
  constructor(o) {
    this.prefix = o.prefix;
    this.port = o.port ?? 8097;
    this.maxFlows = o.maxFlows;
    this.maxDevices = o.maxDevices;
    this.log = o.log ?? (() => {});
    this.ns = { rtr: `${o.prefix}rtr`, cloud: `${o.prefix}cloud`, cam: `${o.prefix}cam`, src: `${o.prefix}src` };
    this.children = [];
    this.daemon = null;
    this.daemonLog = '';
    this.lines = [];
    this.publishes = 0;
    this.onExit = () => this.destroy();
    this.destroy(); // leftovers of an earlier crashed run with this prefix
    process.once('exit', this.onExit);
  }

  sh(ns, cmd) {
    return execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  }

  spawnIn(ns, cmd, opts = {}) {
    const c = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.children.push(c);
    return c;
  }

  async start() {
    const { rtr, cloud, cam, src } = this.ns;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), this.prefix));
    for (const n of Object.values(this.ns)) execFileSync('ip', ['netns', 'add', n]);
    this.created = true;
    for (const n of Object.values(this.ns)) this.sh(n, 'ip link set lo up');
    this.sh(rtr, `ip link add br-lan type bridge && ip link set br-lan address ${ROUTER_MAC} && ip addr add 10.247.0.1/16 dev br-lan && ip link set br-lan up && sysctl -qw net.ipv4.ip_forward=1`);
    const veth = (a, ifA, b, ifB) => execFileSync('ip', ['link', 'add', ifA, 'netns', a, 'type', 'veth', 'peer', 'name', ifB, 'netns', b]);
    veth(rtr, 'wan0', cloud, 'eth0');
    this.sh(rtr, 'ip addr add 100.64.247.1/30 dev wan0 && ip link set wan0 up && ip route add 203.0.113.0/24 via 100.64.247.2');
    this.sh(cloud, `ip addr add 100.64.247.2/30 dev eth0 && ip link set eth0 up && ip addr add ${BROKER}/32 dev lo && ip route add 10.247.0.0/16 via 100.64.247.1`);
    veth(rtr, 'p-cam', cam, 'eth0');
    this.sh(rtr, 'ip link set p-cam master br-lan && ip link set p-cam up');
    this.sh(cam, `ip link set eth0 address ${CAMERA_MAC} && ip link set eth0 up && ip addr add 10.247.0.21/16 dev eth0 && ip route add default via 10.247.0.1`);
    veth(rtr, 'p-src', src, 'eth0');
    // Jumbo frames up to 65,535 bytes of IP: both ends of the replay's veth take them.
    this.sh(rtr, 'ip link set p-src mtu 65535 && ip link set p-src master br-lan && ip link set p-src type bridge_slave learning off && ip link set p-src up');
    this.sh(src, 'sysctl -qw net.ipv6.conf.all.disable_ipv6=1; ip link set eth0 mtu 65535 && ip link set eth0 up');
    // After the capture (taps come before ingress): nothing but the camera goes further.
    this.sh(rtr, `nft -f - <<'EOF'
table netdev vflood {
  chain in {
    type filter hook ingress device "br-lan" priority 0; policy accept;
    ether saddr != ${CAMERA_MAC} counter drop
  }
}
EOF`);
    // The broker.
    this.sh(cloud, `cd ${this.dir} && mosquitto_passwd -c -b pw camuser ${CAM_PASSWORD}`);
    fs.writeFileSync(path.join(this.dir, 'mosquitto.conf'), ['user root', `listener 1884 ${BROKER}`, 'allow_anonymous false', `password_file ${this.dir}/pw`, ''].join('\n'));
    this.spawnIn(cloud, ['mosquitto', '-c', path.join(this.dir, 'mosquitto.conf')]);
    for (let i = 0; this.sh(cloud, "ss -Hltn 'sport = :1884'").trim() === ''; i++) {
      if (i > 100) throw new Error('mosquitto did not start');
      await sleep(50);
    }
    // The daemon.
    const config = path.join(this.dir, 'vigie.yaml');
    fs.writeFileSync(config, ['networks:', '  - { cidr: 203.0.113.0/24, country: CN, asn: 64500, org: "Example Cloud (test)" }', ''].join('\n'));
    const state = path.join(this.dir, 'state');
    const env = { ...process.env, VIGIE_ADMIN_PASSWORD: ADMIN_PASSWORD };
    delete env.NODE_OPTIONS;
    const args = [process.execPath, ...NODE_FLAGS, ...(process.env.FLOOD_NODE_EXTRA ? process.env.FLOOD_NODE_EXTRA.split(' ') : []), path.join(root, 'dist/cli/index.js'), 'run', '-i', 'br-lan', ...(this.maxFlows ? ['--max-flows', String(this.maxFlows)] : []), ...(this.maxDevices ? ['--max-devices', String(this.maxDevices)] : []), '--state-dir', state, '--listen', '127.0.0.1', '--port', String(this.port), '--config', config, '--home-country', 'FR', '--commit-interval', '3600'];
    this.daemon = this.spawnIn(rtr, args, { env });
    this.daemon.stderr.on('data', (b) => (this.daemonLog = (this.daemonLog + b.toString()).slice(-20000)));
    for (let i = 0; !this.daemonLog.includes('dashboard at'); i++) {
      if (i > 400 || this.daemon.exitCode !== null) throw new Error(`daemon did not start: ${this.daemonLog}`);
      await sleep(50);
    }
    this.pid = this.daemon.pid; // ip netns exec execs node: the same process
    this.jar = path.join(this.dir, 'jar');
    this.sh(rtr, `curl -s -m 10 -c ${this.jar} -H 'Content-Type: application/json' -d '{"password":"${ADMIN_PASSWORD}"}' http://127.0.0.1:${this.port}/api/session >/dev/null`);
    // The dashboard stand-in.
    const client = this.spawnIn(rtr, [process.execPath, path.join(root, 'test/helpers/live-client.mjs'), `http://127.0.0.1:${this.port}/`], { env: { ...process.env, VIGIE_PASSWORD: ADMIN_PASSWORD } });
    let buf = '';
    client.stdout.on('data', (b) => {
      buf += b.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (line.msg?.type === 'stats') continue;
        this.lines.push(line);
        if (this.lines.length > 5000) this.lines.splice(0, 2500);
      }
    });
    this.client = client;
    for (let i = 0; !this.lines.some((l) => l.msg?.type === 'hello'); i++) {
      if (i > 200) throw new Error(`live client did not connect: ${JSON.stringify(this.lines.slice(-3))}`);
      await sleep(50);
    }
    // One publish before any flood: the alert exists, later publishes raise its count.
    const first = await this.cameraEvent(5000);
    if (first.ms === null) throw new Error(`no camera alert before the floods; daemon said: ${this.daemonLog}`);
    this.log(`camera alert before the floods: ${first.ms} ms`);
  }

  async get(p) {
    const { stdout } = await run('ip', ['netns', 'exec', this.ns.rtr, 'curl', '-s', '-m', '10', '-w', '\n%{http_code}', '-b', this.jar, `http://127.0.0.1:${this.port}${p}`]);
    const i = stdout.lastIndexOf('\n');
    return { status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) };
  }

  async metrics() {
    const r = await this.get('/metrics');
    if (r.status !== 200) throw new Error(`/metrics: ${r.status}`);
    return parseMetrics(r.body);
  }

  async status() {
    const r = await this.get('/api/status');
    if (r.status !== 200) throw new Error(`/api/status: ${r.status}`);
    return JSON.parse(r.body);
  }

  /** One camera publish (a new MQTT connection); resolves with the alert's latency, null if none came within `timeout`. */
  async cameraEvent(timeout = 3000) {
    const n = ++this.publishes;
    const t0 = Date.now();
    const pub = run('ip', ['netns', 'exec', this.ns.cam, 'mosquitto_pub', '-V', 'mqttv311', '-h', BROKER, '-p', '1884', '-i', 'ipc-hfw1230s', '-u', 'camuser', '-P', CAM_PASSWORD, '-t', 'cam/1/motion', '-m', `{"motion":${n}}`], { timeout: 10_000 }).then((x) => ((pubEnd = Date.now()), x), (e) => ((pubEnd = Date.now()), e));
    let pubEnd = 0;
    const minCount = this.lastCount === undefined ? 1 : this.lastCount + 1;
    const end = t0 + timeout;
    let found = null;
    while (Date.now() < end) {
      found = this.lines.find((l) => l.recv >= t0 && l.msg?.type === 'alert' && l.msg.alert?.rule === 'mqtt-cleartext-internet' && l.msg.alert.count >= minCount);
      if (found) break;
      await sleep(5);
    }
    const r = await pub;
    if (found) this.lastCount = found.msg.alert.count;
    else {
      // Missed (or the publish failed): take the alert's current count from the API for the next one.
      const a = await this.get('/api/alerts').catch(() => null);
      const alert = a && a.status === 200 ? JSON.parse(a.body).find((x) => x.rule === 'mqtt-cleartext-internet') : null;
      if (alert) this.lastCount = alert.count;
    }
    // The alert's lastSeen is the capture time of the message that raised it: from there to the
    // WebSocket is the daemon's own part of the latency (the rest: the publisher starting, connecting).
    const pipeMs = found && found.msg.alert.lastSeen ? found.recv - Date.parse(found.msg.alert.lastSeen) : null;
    return { ms: found ? found.recv - t0 : null, pipeMs, publishMs: pubEnd - t0, publishFailed: r instanceof Error ? (r.stderr || r.message).trim() : null };
  }

  rss() {
    const s = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
    return { rss: Number(/VmRSS:\s+(\d+)/.exec(s)[1]) / 1024, hwm: Number(/VmHWM:\s+(\d+)/.exec(s)[1]) / 1024 };
  }

  cpuTicks() {
    const f = fs.readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  }

  /**
   * Replays `pcap` into the bridge (tcpreplay `rate`: ['--pps=N'] or ['--mbps=N']) while the
   * camera publishes every `gapMs`; returns the figures of this flood.
   */
  async flood(name, pcap, rate, { gapMs = 250, settleMs = 1500 } = {}) {
    const m0 = await this.metrics();
    const s0 = await this.status();
    let rssMax = this.rss().rss;
    let heapMax = s0.memory.heapUsed;
    let heapTotalMax = s0.memory.heapTotal;
    const sampler = setInterval(() => {
      try {
        rssMax = Math.max(rssMax, this.rss().rss);
      } catch {
        /* gone: reported below */
      }
    }, 100);
    let sampling = true;
    const heapLoop = (async () => {
      while (sampling) {
        await sleep(1000);
        const s = await this.status().catch(() => null);
        if (s) {
          heapMax = Math.max(heapMax, s.memory.heapUsed);
          heapTotalMax = Math.max(heapTotalMax, s.memory.heapTotal);
        }
      }
    })();
    const c0 = this.cpuTicks();
    const t0 = process.hrtime.bigint();
    const replay = run('ip', ['netns', 'exec', this.ns.src, 'tcpreplay', '-q', '--timer=nano', '-i', 'eth0', ...rate, pcap], { timeout: 30 * 60_000 });
    let replaying = true;
    replay.then(() => (replaying = false), () => (replaying = false));
    const latencies = [];
    const publishMs = [];
    const pipeMs = [];
    let missed = 0;
    const publishErrors = [];
    while (replaying) {
      const e = await this.cameraEvent();
      if (e.ms === null) missed++;
      else latencies.push(e.ms);
      publishMs.push(e.publishMs);
      if (e.pipeMs !== null) pipeMs.push(e.pipeMs);
      if (e.publishFailed) publishErrors.push(e.publishFailed);
      await sleep(gapMs);
    }
    const rep = await replay;
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const c1 = this.cpuTicks();
    await sleep(settleMs);
    sampling = false;
    await heapLoop;
    clearInterval(sampler);
    const m1 = await this.metrics();
    const s1 = await this.status();
    const d = (k) => (m1[k] ?? 0) - (m0[k] ?? 0);
    const sent = /Actual: (\d+) packets \((\d+) bytes\) sent in ([\d.]+) seconds/.exec(rep.stdout) ?? [];
    const rated = /Rated: [\d.]+ Bps, ([\d.]+) Mbps, ([\d.]+) pps/.exec(rep.stdout) ?? [];
    const failed = /Failed packets:\s+(\d+)/.exec(rep.stdout);
    const sorted = [...latencies].sort((a, b) => a - b);
    const r1 = (x) => Number(x.toFixed(1));
    return {
      flood: name,
      sent: { packets: Number(sent[1]), bytes: Number(sent[2]), seconds: Number(sent[3]), mbps: Number(rated[1]), pps: Number(rated[2]), failed: failed ? Number(failed[1]) : 0 },
      daemon: {
        alive: this.daemon.exitCode === null && s1.uptime > 0,
        cpuPercent: r1(((c1 - c0) / TICK / wall) * 100),
        rssMaxMB: r1(rssMax),
        rssEndMB: r1(this.rss().rss),
        heapUsedMaxMB: r1(heapMax / 1048576),
        heapTotalMaxMB: r1(heapTotalMax / 1048576),
      },
      counters: {
        packets: d('vigie_packets_total'),
        captureReceived: d('vigie_capture_received_total'),
        captureDropped: d('vigie_capture_dropped_total') + d('vigie_capture_interface_dropped_total'),
        malformed: d('vigie_malformed_packets_total'),
        flowsCreated: d('vigie_flows_total'),
        flowsEvicted: d('vigie_flows_evicted_total'),
        devicesEvicted: d('vigie_devices_evicted_total'),
        dnsNamesEvicted: d('vigie_dns_names_evicted_total'),
        reassemblyOverBudget: d('vigie_reassembly_over_budget_total'),
        reassemblyGaps: d('vigie_reassembly_gaps_total'),
        ipFragments: d('vigie_ip_fragments_total'),
        ipFragmentsSkipped: d('vigie_ip_fragments_skipped_total'),
        snapCut: d('vigie_snap_cut_packets_total'),
        jumboFrames: d('vigie_jumbo_frames_total'),
        storeDevicesEvicted: d('vigie_store_devices_evicted_total'),
        recentFlowsEvicted: d('vigie_recent_flows_evicted_total'),
        liveDropped: d('vigie_live_dropped_total'),
        alertsRaised: Object.entries(m1).filter(([k]) => k.startsWith('vigie_alerts_raised_total')).reduce((s, [k, v]) => s + v - (m0[k] ?? 0), 0),
      },
      tables: s1.bounds,
      // The devices the store remembers grow with a fake-device flood up to the store's bound
      // (tables.storeDevices), unnamed ones forgotten past it.
      store: { devicesKnown: s1.devicesKnown, devicesKnownBefore: s0.devicesKnown },
      camera: { events: latencies.length + missed, missed, p50ms: quantile(sorted, 0.5), p99ms: quantile(sorted, 0.99), maxMs: sorted.length ? sorted[sorted.length - 1] : null, all: latencies, daemonP50ms: quantile([...pipeMs].sort((a, b) => a - b), 0.5), daemonP99ms: quantile([...pipeMs].sort((a, b) => a - b), 0.99), publishP50ms: quantile([...publishMs].sort((a, b) => a - b), 0.5), publishErrors: publishErrors.slice(0, 3) },
    };
  }

  destroy() {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    this.children = [];
    for (const n of Object.values(this.ns)) {
      const pids = spawnSync('ip', ['netns', 'pids', n], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).stdout ?? '';
      for (const p of pids.split('\n').filter(Boolean)) {
        try {
          process.kill(Number(p), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      spawnSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
    }
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
    process.removeListener('exit', this.onExit);
  }
}

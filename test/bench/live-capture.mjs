// The capture bench:live replays: a home's control traffic (the generator of `npm run bench`:
// DHCP, DNS, TLS handshakes, MQTT sessions of 200 devices) merged with real bulk TCP recorded
// from the Linux stack in network namespaces (two downloads and two uploads at 800 Mbit/s,
// segmentation offloads off so that frames are MTU-sized, with Linux's own ACK and PSH
// patterns). The generator alone sets PSH on every segment and sends no pure ACKs: real bulk
// traffic does neither, and that is what a capture filter has to cope with.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { generate } from './home-capture.mjs';

const sh = (cmd) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 28 });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const A = 'vigie-lc-home';
const B = 'vigie-lc-cloud';

function teardown() {
  for (const ns of [A, B]) {
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).stdout ?? '';
    for (const p of pids.split('\n').filter(Boolean)) process.kill(Number(p), 'SIGKILL');
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
}

/** Records `mb` MB of bulk TCP both ways into `file`. */
async function recordBulk(file, mb) {
  teardown();
  sh(`ip netns add ${A} && ip netns add ${B}`);
  sh(`ip link add eth0 netns ${A} address 3c:84:6a:30:00:01 type veth peer name eth0 netns ${B} address 02:00:5e:00:53:01`);
  for (const [ns, ip] of [
    [A, '192.168.1.250/24'],
    [B, '198.51.100.77/24'],
  ]) {
    sh(`ip netns exec ${ns} sh -c 'ip link set lo up && ip link set eth0 up && ethtool -K eth0 tso off gso off gro off >/dev/null'`);
    sh(`ip -n ${ns} addr add ${ip} dev eth0`);
  }
  sh(`ip -n ${A} route add default dev eth0 && ip -n ${B} route add default dev eth0`);
  // 800 Mbit/s on the wire: tcpdump keeps up, and the flows behave as on a gigabit LAN.
  sh(`ip netns exec ${A} tc qdisc add dev eth0 root tbf rate 800mbit burst 256kb latency 50ms`);
  sh(`ip netns exec ${B} tc qdisc add dev eth0 root tbf rate 800mbit burst 256kb latency 50ms`);
  const bytes = Math.floor((mb * 1e6) / 4);
  const kids = [];
  const bg = (ns, cmd) => {
    const c = spawn('ip', ['netns', 'exec', ns, 'sh', '-c', cmd], { stdio: 'ignore' });
    kids.push(c);
    return c;
  };
  bg(B, 'socat -u TCP-LISTEN:9000,reuseaddr,fork OPEN:/dev/null');
  bg(B, `socat TCP-LISTEN:9001,reuseaddr,fork SYSTEM:'head -c ${bytes} /dev/zero'`);
  await sleep(500);
  const dump = spawn('ip', ['netns', 'exec', A, 'tcpdump', '-i', 'eth0', '-s', '0', '-B', '131072', '-w', file, 'tcp'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let dumpLog = '';
  dump.stderr.on('data', (b) => (dumpLog += b));
  while (!dumpLog.includes('listening')) await sleep(50);
  await sleep(300);
  const transfers = [
    bg(A, `head -c ${bytes} /dev/zero | socat -u - TCP:198.51.100.77:9000`),
    bg(A, `head -c ${bytes} /dev/zero | socat -u - TCP:198.51.100.77:9000`),
    bg(A, 'socat -u TCP:198.51.100.77:9001 OPEN:/dev/null'),
    bg(A, 'socat -u TCP:198.51.100.77:9001 OPEN:/dev/null'),
  ];
  await Promise.all(transfers.map((c) => new Promise((r) => c.once('exit', r))));
  await sleep(500);
  const done = new Promise((r) => dump.once('exit', r));
  dump.kill('SIGINT');
  await done;
  for (const k of kids) if (k.exitCode === null) k.kill('SIGKILL');
  teardown();
  const dropped = /(\d+) packets dropped by kernel/.exec(dumpLog);
  if (dropped && Number(dropped[1]) > 0) throw new Error(`tcpdump dropped ${dropped[1]} packets while recording the bulk traffic`);
}

/**
 * Builds (once) a merged capture `live-<name>.pcap` and returns its metadata. The bulk part is
 * recorded once and shared by every profile.
 */
export async function liveCapture(outDir, { name = 'home', devices = 200, tlsFlows = 150, bulkMB = 400 } = {}) {
  const file = path.join(outDir, `live-${name}.pcap`);
  const metaPath = path.join(outDir, `live-${name}.meta.json`);
  const want = { version: 2, devices, tlsFlows, bulkMB };
  if (fs.existsSync(file) && fs.existsSync(metaPath)) {
    const m = JSON.parse(fs.readFileSync(metaPath, 'utf8'));
    if (JSON.stringify(m.want) === JSON.stringify(want)) return { ...m, file };
  }
  const bulk = path.join(outDir, `live-bulk-${bulkMB}.pcap`);
  if (!fs.existsSync(bulk)) {
    process.stderr.write('recording real bulk TCP in namespaces...\n');
    await recordBulk(bulk + '.tmp', bulkMB);
    fs.renameSync(bulk + '.tmp', bulk);
  }
  process.stderr.write('generating the control traffic...\n');
  const control = path.join(outDir, `live-${name}-control.pcap`);
  // As long as the bulk recording, so that control messages arrive in the middle of it.
  const firstBulk = Number(sh(`tshark -r ${bulk} -c 1 -T fields -e frame.time_epoch`).trim());
  const lastBulk = Number(sh(`capinfos -a -e -T -r -S ${bulk} | tail -1`).trim().split('\t').pop());
  const span = Math.max(2, Math.ceil(lastBulk - firstBulk));
  const gen = generate(control, { devices, tlsFlows, bulkPackets: 0, duration: span });
  // Shift the bulk to start with the control traffic (the generator starts at t0 = 1790000000).
  const shifted = path.join(outDir, `live-${name}-bulk-shifted.pcap`);
  sh(`editcap -t ${(1_790_000_000 - firstBulk).toFixed(6)} ${bulk} ${shifted}`);
  sh(`mergecap -F pcap -w ${file} ${control} ${shifted}`);
  fs.rmSync(shifted);
  fs.rmSync(control);
  const packets = Number(sh(`capinfos -c -M -T -r ${file} | tail -1`).trim().split('\t').pop());
  const meta = { want, packets, controlPackets: gen.packets, bytes: fs.statSync(file).size };
  fs.writeFileSync(metaPath, JSON.stringify(meta));
  return { ...meta, file };
}

// The benchmark's second shape: a busy household where the work is in flows that end, not in
// bytes. 60 devices each keep talking cleartext (HTTP with Basic credentials, MQTT with a
// password, Telnet logins) to their own 25 destinations on documentation addresses, in short
// connections that open and close all through the capture, so that flow records, verdicts and
// alerts that repeat for the same (device, destination, rule) dominate. Deterministic: same seed,
// same bytes.
import { Heap, ip4, mqttConnect, mqttPublish, mulberry32, PcapWriter, play, writeIp } from './home-capture.mjs';

const ROUTER_MAC = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x01];
const NETS = [[192, 0, 2], [198, 51, 100], [203, 0, 113]];

export function generateChurn(path, opts = {}) {
  const rnd = mulberry32(opts.seed ?? 20261203);
  const nDevices = opts.devices ?? 60;
  const nFlows = opts.flows ?? 22000;
  const perDevice = opts.destinations ?? 25;
  const duration = opts.duration ?? 600;
  const t0 = 1_790_000_000;
  const w = new PcapWriter(path);
  const heap = new Heap();
  const devices = [];
  for (let i = 0; i < nDevices; i++) {
    const dests = new Set();
    while (dests.size < perDevice) {
      const n = NETS[Math.floor(rnd() * 3)];
      dests.add(ip4(n[0], n[1], n[2], 1 + Math.floor(rnd() * 250)));
    }
    devices.push({ mac: [0x3c, 0x84, 0x6a, 0x30, i >> 8, i & 255], ip: ip4(192, 168, 1, 20 + i), port: 40000, dests: [...dests] });
  }
  const ephemeral = (d) => (d.port = d.port >= 60999 ? 40000 : d.port + 1);

  /** Handshake, `script` of [fromClient, payload|length] segments, FIN both ways. */
  function tcpFlow(d, t, server, dport, script) {
    const sport = ephemeral(d);
    let cs = Math.floor(rnd() * 2 ** 32);
    let ss = Math.floor(rnd() * 2 ** 32);
    const steps = [[true, 0x02, null, 0], [false, 0x12, null, 0], [true, 0x10, null, 0]];
    for (const s of script) steps.push([s[0], 0x18, typeof s[1] === 'number' ? null : s[1], typeof s[1] === 'number' ? s[1] : 0]);
    steps.push([true, 0x11, null, 0], [false, 0x11, null, 0], [true, 0x10, null, 0]);
    let i = 0;
    heap.push({
      t,
      step: (now) => {
        const [fromClient, flags, payload, fill] = steps[i++];
        const len = payload ? payload.length : fill;
        if (fromClient) {
          writeIp(w, now, d.mac, ROUTER_MAC, d.ip, server, 6, sport, dport, payload, { seq: cs, ack: flags === 0x02 ? 0 : ss, flags, fill });
          cs = (cs + len + (flags & 0x03 ? 1 : 0)) >>> 0;
        } else {
          writeIp(w, now, ROUTER_MAC, d.mac, server, d.ip, 6, dport, sport, payload, { seq: ss, ack: cs, flags, fill });
          ss = (ss + len + (flags & 0x03 ? 1 : 0)) >>> 0;
        }
        return i >= steps.length ? -1 : now + 0.001 + rnd() * 0.01;
      },
    });
  }

  // A download of `n` segments with an ACK every other one: the packets of a short flow.
  function download(script, n) {
    for (let k = 0; k < n; k++) {
      script.push([false, 500 + Math.floor(rnd() * 400)]);
      if (k % 2 === 1) script.push([true, 0]);
    }
    return script;
  }

  for (let i = 0; i < nFlows; i++) {
    const d = devices[Math.floor(rnd() * nDevices)];
    const server = d.dests[Math.floor(rnd() * d.dests.length)];
    const start = t0 + 1 + rnd() * (duration - 5);
    const kind = i % 3;
    const segs = 20 + Math.floor(rnd() * 20);
    const user = `user${d.ip & 255}`;
    if (kind === 0) {
      const auth = Buffer.from(`${user}:pw-${server & 255}`).toString('base64');
      const req = Buffer.from(`GET /api/v1/status?n=${i} HTTP/1.1\r\nHost: dev${server & 255}.example.com\r\nAuthorization: Basic ${auth}\r\nUser-Agent: iot-agent/2.1\r\n\r\n`);
      const hdr = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${segs * 1300}\r\n\r\n`);
      tcpFlow(d, start, server, 80, download([[true, req], [false, hdr]], segs));
    } else if (kind === 1) {
      const script = [[true, mqttConnect(`dev-${d.ip & 255}-${i}`, user, `secret-${d.ip & 255}`)], [false, Buffer.from([0x20, 2, 0, 0])]];
      for (let k = 0; k < segs; k++) script.push([true, mqttPublish(`home/dev-${d.ip & 255}/telemetry`, `{"seq":${k},"v":${Math.floor(rnd() * 1000)},"pad":"${'x'.repeat(200 + Math.floor(rnd() * 300))}"}`)]);
      tcpFlow(d, start, server, 1883, script);
    } else {
      const script = [
        [false, Buffer.from([255, 251, 1, 255, 251, 3, 255, 253, 24])],
        [true, Buffer.from([255, 253, 1, 255, 253, 3, 255, 251, 24])],
        [false, Buffer.from('\r\nBusyBox on router\r\nlogin: ')],
        [true, Buffer.from(`${user}\r\n`)],
        [false, Buffer.from('Password: ')],
        [true, Buffer.from(`pw-${server & 255}\r\n`)],
        [false, Buffer.from('\r\n~ # ')],
        [true, Buffer.from('cat /proc/uptime\r\n')],
      ];
      tcpFlow(d, start, server, 23, download(script, segs));
    }
  }

  play(heap);
  w.close();
  return { packets: w.packets, flows: nFlows, devices: nDevices };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = generateChurn(process.argv[2] ?? 'churn.pcap');
  process.stdout.write(JSON.stringify(r) + '\n');
}

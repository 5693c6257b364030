// Builds a deterministic, realistic home-network capture for the benchmark: 50 LAN devices behind
// a router, each doing DHCP at start-up and DNS before each connection; HTTPS connections with full
// handshakes and TLS ClientHellos carrying SNI and ALPN; cameras holding MQTT sessions (CONNECT with
// credentials, periodic PUBLISH) and uploading video; TVs downloading video streams. Every packet
// has coherent IPv4/TCP/UDP headers and sequence numbers, so that reassembly and dissectors work
// on it as on a real capture. Same seed, same bytes.
import fs from 'node:fs';

export function mulberry32(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ROUTER_MAC = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x01];
const ROUTER_IP = ip4(192, 168, 1, 1);
export function ip4(a, b, c, d) {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

// Small binary-heap priority queue of flows by next packet time.
export class Heap {
  a = [];
  push(x) {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p].t <= a[i].t) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop() {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l].t < a[m].t) m = l;
        if (r < a.length && a[r].t < a[m].t) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
  get size() {
    return this.a.length;
  }
}

/** Runs every scheduled flow, earliest packet first: each `step(t)` writes one packet and says when the next is due (-1: done). */
export function play(heap) {
  while (heap.size > 0) {
    const f = heap.pop();
    const next = f.step(f.t);
    if (next >= 0) {
      f.t = next;
      heap.push(f);
    }
  }
}

export class PcapWriter {
  constructor(path) {
    this.fd = fs.openSync(path, 'w');
    this.buf = Buffer.alloc(8 << 20);
    this.off = 0;
    this.packets = 0;
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(262144, 16);
    h.writeUInt32LE(1, 20);
    fs.writeSync(this.fd, h);
  }
  /** Reserves room for one frame of `len` bytes at time t; returns its offset in this.buf. */
  frame(t, len) {
    if (this.off + 16 + len > this.buf.length) this.flush();
    const b = this.buf;
    const sec = Math.floor(t);
    b.writeUInt32LE(sec, this.off);
    b.writeUInt32LE(Math.floor((t - sec) * 1e6), this.off + 4);
    b.writeUInt32LE(len, this.off + 8);
    b.writeUInt32LE(len, this.off + 12);
    const at = this.off + 16;
    this.off = at + len;
    this.packets++;
    return at;
  }
  flush() {
    fs.writeSync(this.fd, this.buf, 0, this.off);
    this.off = 0;
  }
  close() {
    this.flush();
    fs.closeSync(this.fd);
  }
}

function checksum(buf, off, len) {
  let s = 0;
  for (let i = 0; i < len - 1; i += 2) s += buf.readUInt16BE(off + i);
  if (len & 1) s += buf[off + len - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Writes Ethernet + IPv4 + TCP/UDP headers and payload. */
export function writeIp(w, t, srcMac, dstMac, src, dst, proto, sport, dport, payload, tcp) {
  const l4 = proto === 6 ? 20 : 8;
  const plen = payload ? payload.length : tcp?.fill ?? 0;
  const len = 14 + 20 + l4 + plen;
  const o = w.frame(t, len);
  const b = w.buf;
  for (let i = 0; i < 6; i++) {
    b[o + i] = dstMac[i];
    b[o + 6 + i] = srcMac[i];
  }
  b.writeUInt16BE(0x0800, o + 12);
  const ip = o + 14;
  b[ip] = 0x45;
  b[ip + 1] = 0;
  b.writeUInt16BE(20 + l4 + plen, ip + 2);
  b.writeUInt16BE((w.packets * 7) & 0xffff, ip + 4);
  b.writeUInt16BE(0x4000, ip + 6);
  b[ip + 8] = 64;
  b[ip + 9] = proto;
  b.writeUInt16BE(0, ip + 10);
  b.writeUInt32BE(src, ip + 12);
  b.writeUInt32BE(dst, ip + 16);
  b.writeUInt16BE(checksum(b, ip, 20), ip + 10);
  const l = ip + 20;
  b.writeUInt16BE(sport, l);
  b.writeUInt16BE(dport, l + 2);
  if (proto === 6) {
    b.writeUInt32BE(tcp.seq >>> 0, l + 4);
    b.writeUInt32BE(tcp.ack >>> 0, l + 8);
    b[l + 12] = 0x50;
    b[l + 13] = tcp.flags;
    b.writeUInt16BE(64240, l + 14);
    b.writeUInt32BE(0, l + 16);
  } else {
    b.writeUInt16BE(8 + plen, l + 4);
    b.writeUInt16BE(0, l + 6);
  }
  const p = l + l4;
  if (payload) payload.copy(b, p);
  else if (plen > 0) b.fill(0x5a, p, p + plen); // encrypted-looking bulk: content is not inspected
}

// Application payloads.
function u16(n) {
  return Buffer.from([n >> 8, n & 255]);
}
function vec8(b) {
  return Buffer.concat([Buffer.from([b.length]), b]);
}
function vec16(b) {
  return Buffer.concat([u16(b.length), b]);
}
function ext(type, body) {
  return Buffer.concat([u16(type), vec16(body)]);
}

/** A TLS 1.3 ClientHello (RFC 8446 §4.1.2) with SNI (RFC 6066 §3) and ALPN (RFC 7301). */
export function clientHello(sni, rnd) {
  const random = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) random[i] = Math.floor(rnd() * 256);
  const suites = Buffer.concat([0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035].map(u16));
  const name = Buffer.from(sni);
  const exts = Buffer.concat([
    ext(0x0000, vec16(Buffer.concat([Buffer.from([0]), vec16(name)]))),
    ext(0x0017, Buffer.alloc(0)),
    ext(0xff01, Buffer.from([0])),
    ext(0x000a, vec16(Buffer.concat([0x001d, 0x0017, 0x0018].map(u16)))),
    ext(0x000b, vec8(Buffer.from([0]))),
    ext(0x0023, Buffer.alloc(0)),
    ext(0x0010, vec16(Buffer.concat([vec8(Buffer.from('h2')), vec8(Buffer.from('http/1.1'))]))),
    ext(0x000d, vec16(Buffer.concat([0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601].map(u16)))),
    ext(0x0033, vec16(Buffer.concat([u16(0x001d), vec16(random)]))),
    ext(0x002b, vec8(Buffer.concat([0x0304, 0x0303].map(u16)))),
    ext(0x002d, vec8(Buffer.from([1]))),
  ]);
  const body = Buffer.concat([u16(0x0303), random, vec8(random), vec16(suites), vec8(Buffer.from([0])), vec16(exts)]);
  const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 255]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(hs.length), hs]);
}

function mqttString(s) {
  return vec16(Buffer.from(s));
}
function mqttPacket(first, body) {
  const len = [];
  let n = body.length;
  do {
    let d = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) d |= 128;
    len.push(d);
  } while (n > 0);
  return Buffer.concat([Buffer.from([first, ...len]), body]);
}
/** MQTT 3.1.1 CONNECT with user name and password (OASIS MQTT 3.1.1 §3.1). */
export function mqttConnect(clientId, user, pass) {
  const vh = Buffer.concat([mqttString('MQTT'), Buffer.from([4, 0xc2, 0, 60])]);
  return mqttPacket(0x10, Buffer.concat([vh, mqttString(clientId), mqttString(user), mqttString(pass)]));
}
export function mqttPublish(topic, payload) {
  return mqttPacket(0x30, Buffer.concat([mqttString(topic), Buffer.from(payload)]));
}

function dnsName(name) {
  return Buffer.concat([...name.split('.').map((l) => vec8(Buffer.from(l))), Buffer.from([0])]);
}
/** DNS query and answer (RFC 1035 §4.1). */
function dnsMessage(id, name, answer) {
  const q = Buffer.concat([dnsName(name), u16(1), u16(1)]);
  const hdr = Buffer.concat([u16(id), u16(answer === null ? 0x0100 : 0x8180), u16(1), u16(answer === null ? 0 : 1), u16(0), u16(0)]);
  if (answer === null) return Buffer.concat([hdr, q]);
  const a = Buffer.alloc(4);
  a.writeUInt32BE(answer);
  return Buffer.concat([hdr, q, Buffer.from([0xc0, 12]), u16(1), u16(1), Buffer.from([0, 0, 1, 44]), u16(4), a]);
}

/** DHCP message (RFC 2131 §2) with options 53, 12, 55, 60 (RFC 2132). */
export function dhcpMessage(op, type, xid, mac, yiaddr, hostname, vendor) {
  const b = Buffer.alloc(236);
  b[0] = op;
  b[1] = 1;
  b[2] = 6;
  b.writeUInt32BE(xid, 4);
  b.writeUInt32BE(yiaddr, 16);
  Buffer.from(mac).copy(b, 28);
  const opts = [Buffer.from([99, 130, 83, 99]), Buffer.from([53, 1, type])];
  if (op === 1) {
    opts.push(Buffer.concat([Buffer.from([12]), vec8(Buffer.from(hostname))]));
    opts.push(Buffer.from([55, 7, 1, 3, 6, 15, 28, 42, 119]));
    opts.push(Buffer.concat([Buffer.from([60]), vec8(Buffer.from(vendor))]));
  } else {
    opts.push(Buffer.from([54, 4, 192, 168, 1, 1, 51, 4, 0, 0, 0x0e, 0x10, 1, 4, 255, 255, 255, 0, 3, 4, 192, 168, 1, 1]));
  }
  opts.push(Buffer.from([255]));
  return Buffer.concat([b, ...opts]);
}

// Model names in Dahua's catalogue naming (IPC-<series><model>), one per demo camera.
const CAMERA_MODELS = ['IPC-HFW1230S', 'IPC-HDW1431T', 'IPC-HFW2431S', 'IPC-HDBW2231R', 'IPC-HFW1431T', 'IPC-HDW2231T', 'IPC-HFW2831T', 'IPC-HDBW1230E', 'IPC-HFW1239S', 'IPC-HDW3441T'];
const DOMAINS = ['api.example-cloud.com', 'time.example.net', 'cdn.example.org', 'push.example.com', 'video.example.tv', 'update.example.io', 'mqtt.example-iot.com', 'telemetry.example.com', 'p2p.example-cam.cn', 'photos.example.com'];

export function generate(path, opts = {}) {
  const rnd = mulberry32(opts.seed ?? 20261123);
  const nDevices = opts.devices ?? 50;
  const nTls = opts.tlsFlows ?? 13000;
  const bulkPackets = opts.bulkPackets ?? 42000;
  const duration = opts.duration ?? 600;
  const t0 = 1_790_000_000;
  const w = new PcapWriter(path);
  const heap = new Heap();
  const devices = [];
  // `late`: the last `late.count` cameras join `late.at` seconds into the capture (their DHCP,
  // MQTT and video start then): a device and alerts that arrive while a dashboard is open.
  const late = opts.late ?? { count: 0, at: 0 };
  const nCameras = Math.min(10, nDevices);
  for (let i = 0; i < nDevices; i++) {
    const kind = i < 10 ? 'camera' : i < 16 ? 'tv' : 'other';
    // Cameras: a Dahua OUI and a Dahua model as host name, as those cameras announce themselves.
    const mac = kind === 'camera' ? [0x3c, 0xef, 0x8c, 0x20, i >> 8, i & 255] : [0x3c, 0x84, 0x6a, 0x20, i >> 8, i & 255];
    const name = kind === 'camera' ? CAMERA_MODELS[i % CAMERA_MODELS.length] : `${kind}-${i}`;
    const start = kind === 'camera' && i >= nCameras - late.count ? late.at : 0;
    devices.push({ kind, mac, ip: ip4(192, 168, 1, 10 + i), name, port: 40000, start });
  }
  const ephemeral = (d) => (d.port = d.port >= 60999 ? 40000 : d.port + 1);
  const remote = () => ip4(...[[198, 51, 100], [203, 0, 113], [192, 0, 2]][Math.floor(rnd() * 3)], 1 + Math.floor(rnd() * 250));
  let flows = 0;

  // Every flow is a generator of packets: step(t) writes one packet and returns the next time, or -1.
  function schedule(t, step) {
    flows++;
    heap.push({ t, step });
  }

  function dnsThen(d, t, name, answer, then) {
    const id = Math.floor(rnd() * 65536);
    const sport = ephemeral(d);
    let n = 0;
    schedule(t, (now) => {
      if (n++ === 0) {
        writeIp(w, now, d.mac, ROUTER_MAC, d.ip, ROUTER_IP, 17, sport, 53, dnsMessage(id, name, null));
        return now + 0.004 + rnd() * 0.02;
      }
      writeIp(w, now, ROUTER_MAC, d.mac, ROUTER_IP, d.ip, 17, 53, sport, dnsMessage(id, name, answer));
      then?.(now + 0.001);
      return -1;
    });
  }

  /** A TCP connection: handshake, then `script` of [fromClient, payload|length] segments, then FIN. */
  function tcpFlow(d, t, server, dport, script, onData) {
    const sport = ephemeral(d);
    let cs = Math.floor(rnd() * 2 ** 32);
    let ss = Math.floor(rnd() * 2 ** 32);
    const steps = [];
    steps.push([true, 0x02, null, 0]);
    steps.push([false, 0x12, null, 0]);
    steps.push([true, 0x10, null, 0]);
    for (const s of script) steps.push([s[0], 0x18, typeof s[1] === 'number' ? null : s[1], typeof s[1] === 'number' ? s[1] : 0]);
    steps.push([true, 0x11, null, 0]);
    steps.push([false, 0x11, null, 0]);
    steps.push([true, 0x10, null, 0]);
    let i = 0;
    schedule(t, (now) => {
      const [fromClient, flags, payload, fill] = steps[i++];
      const len = payload ? payload.length : fill;
      if (fromClient) {
        writeIp(w, now, d.mac, ROUTER_MAC, d.ip, server, 6, sport, dport, payload, { seq: cs, ack: flags === 0x02 ? 0 : ss, flags, fill });
        cs = (cs + len + (flags & 0x03 ? 1 : 0)) >>> 0;
      } else {
        writeIp(w, now, ROUTER_MAC, d.mac, server, d.ip, 6, dport, sport, payload, { seq: ss, ack: cs, flags, fill });
        ss = (ss + len + (flags & 0x03 ? 1 : 0)) >>> 0;
      }
      onData?.();
      if (i >= steps.length) return -1;
      return now + (onData ? 0.0005 : 0.002 + rnd() * 0.03);
    });
  }

  // DHCP at start-up (broadcast DORA), for every device.
  devices.forEach((d, i) => {
    const xid = Math.floor(rnd() * 2 ** 32);
    const bcast = [255, 255, 255, 255, 255, 255];
    const vendor = d.kind === 'camera' ? 'udhcp 1.30.1' : d.kind === 'tv' ? 'android-dhcp-11' : 'dhcpcd-9.4.1:Linux-5.15';
    let n = 0;
    schedule(t0 + d.start + i * 0.05, (now) => {
      const clientMsg = n % 2 === 0;
      const type = [1, 2, 3, 5][n];
      const msg = dhcpMessage(clientMsg ? 1 : 2, type, xid, d.mac, clientMsg ? 0 : d.ip, d.name, vendor);
      if (clientMsg) writeIp(w, now, d.mac, bcast, 0, 0xffffffff, 17, 68, 67, msg);
      else writeIp(w, now, ROUTER_MAC, bcast, ROUTER_IP, 0xffffffff, 17, 67, 68, msg);
      return ++n < 4 ? now + 0.01 : -1;
    });
  });

  // HTTPS connections, each preceded by its DNS lookup, spread over the capture.
  for (let i = 0; i < nTls; i++) {
    const d = devices[Math.floor(rnd() * nDevices)];
    const name = `${['www', 'api', 'img', 'eu', 'static'][i % 5]}${i % 97}.${DOMAINS[i % DOMAINS.length]}`;
    const server = remote();
    const start = t0 + Math.max(3 + rnd() * (duration - 10), d.start + 1);
    const responses = 1 + Math.floor(rnd() * 4);
    const script = [[true, clientHello(name, rnd)], [false, 1400], [false, 1200], [true, 80]];
    for (let k = 0; k < responses; k++) script.push([true, 200 + Math.floor(rnd() * 400)], [false, 600 + Math.floor(rnd() * 800)]);
    dnsThen(d, start, name, server, (t) => tcpFlow(d, t, server, 443, script));
  }

  // Cameras: an MQTT session with periodic telemetry, and a video upload.
  devices
    .filter((d) => d.kind === 'camera')
    .forEach((d, i) => {
      const broker = ip4(198, 51, 100, 200 + i);
      const script = [[true, mqttConnect(`cam-${i}-a1b2c3`, `user${i}`, `secret${i}`)], [false, Buffer.from([0x20, 2, 0, 0])]];
      for (let k = 0; k < duration / 10; k++) script.push([true, mqttPublish(`devices/cam-${i}/state`, `{"motion":${k % 7 === 0},"temp":${20 + (k % 5)}}`)]);
      dnsThen(d, t0 + 2 + d.start + i * 0.1, 'mqtt.example-iot.com', broker, (t) => tcpFlow(d, t, broker, 1883, script));
    });
  // Video: cameras upload, TVs download, `bulkPackets` data packets each, with ACKs every 4 segments.
  devices
    .filter((d) => d.kind === 'camera' || d.kind === 'tv')
    .forEach((d, i) => {
      const up = d.kind === 'camera';
      const server = ip4(203, 0, 113, 100 + i);
      const script = [[true, clientHello(up ? `upload.example-cam.cn` : `video.example.tv`, rnd)], [false, 1400]];
      for (let k = 0; k < bulkPackets; k++) {
        script.push([up, 900 + Math.floor(rnd() * 500)]);
        if (k % 4 === 3) script.push([!up, 0]);
      }
      let sent = 0;
      const gap = (duration - 20) / (bulkPackets * 1.25);
      tcpFlow(d, t0 + 5 + i + d.start, server, 443, script, () => sent++);
      // Pace the bulk flow across the capture by rewriting its step delay.
      const entry = heap.a[heap.a.length - 1];
      const inner = entry.step;
      entry.step = (now) => {
        const next = inner(now);
        return next < 0 ? -1 : now + gap * (0.5 + rnd());
      };
    });

  play(heap);
  w.close();
  return { packets: w.packets, flows, devices: nDevices };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? 'home.pcap';
  const r = generate(out);
  process.stdout.write(JSON.stringify(r) + '\n');
}

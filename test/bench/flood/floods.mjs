// The floods of issue 15, each written as a pcap (deterministic: the same options give the same
// bytes) for tcpreplay to send into the LAN bridge that `vigie run` captures (lab.mjs). Every
// frame is addressed to the bridge's own MAC (ROUTER_MAC) so that the bridge hands it to br-lan,
// where the daemon's capture sees it before an nftables ingress rule drops it (nothing is routed
// or answered). LAN side: 10.247.0.0/16; internet side: documentation and benchmarking ranges
// (192.0.2.0/24, 198.51.100.0/24, 198.18.0.0/15), never 203.0.113.0/24, which the test's config
// maps to a foreign country for the camera's broker.
//
// - syn: SYNs from random source ports of 16 LAN hosts, every (source port, destination) pair
//   distinct: `count` new flows, sent at `pps` (16,667 pps = one million new flows a minute).
// - devices: `count` fake devices, random locally administered MACs on LAN addresses, one NTP
//   datagram each.
// - dns: a LAN resolver answering 64 LAN clients, each answer a new name with `answers` distinct
//   addresses (the name table that names flows from DNS answers fills and evicts).
// - mqtt: `flows` TCP connections of LAN publishers to a broker, each carrying a CONNECT and a
//   PUBLISH with a 256 KB payload in 1448-byte segments, 32 connections interleaved; every fourth
//   one loses a segment that is never retransmitted (the reassembler holds what follows, within
//   its budget, then gives the hole up).
// - oversized: jumbo frames (9000 bytes, 65,535-byte IPv4 datagrams: past the capture's snap
//   length), records cut short (14, 20, 34 bytes of longer frames), and IPv4/IPv6 datagrams in
//   many fragments: tiny ones, overlapping ones, ones whose last fragment never comes, and
//   offsets past 65,535.
import { ACK, ETH_IPV4, ETH_IPV6, FIN, PSH, PcapWriter, SYN, eth, ipv4, ipv6, rng, tcp4, udp4 } from './pcap.mjs';

export const ROUTER_MAC = '02:f7:00:00:00:01';
export const T0 = 1_760_000_000;

const hex2 = (n) => (n & 255).toString(16).padStart(2, '0');
const lan = (n) => `10.247.${(n >> 8) & 255}.${n & 255}`;
const hostMac = (kind, i) => `02:f1:${hex2(kind)}:00:${hex2(i >> 8)}:${hex2(i)}`;

/** `count` SYNs at `pps`; (source port, destination address) distinct for each. */
export function synFlood(file, { count, pps }) {
  const w = new PcapWriter(file);
  const PORTS = 64000;
  for (let i = 0; i < count; i++) {
    const block = Math.floor(i / PORTS);
    const j = i % PORTS;
    const sport = 1024 + ((j * 40503) % PORTS); // a bijection of 0..63999: looks random, never repeats
    const dst = block < 250 ? `198.51.100.${1 + block}` : `192.0.2.${1 + ((block - 250) % 250)}`;
    const h = i % 16;
    const src = lan(0x0100 + 1 + h);
    const seq = (Math.imul(i, 2654435761) >>> 0);
    w.write(T0 + i / pps, eth(ROUTER_MAC, hostMac(1, h), ETH_IPV4, ipv4(src, dst, 6, tcp4(src, dst, sport, 443, seq, 0, SYN), { id: i })));
  }
  w.close();
  return { file, packets: w.packets, bytes: w.bytes, seconds: count / pps, pps, newFlows: count };
}

/** `count` devices with random locally administered MACs, one NTP request each, at `pps`. */
export function deviceFlood(file, { count, pps, seed = 15 }) {
  const w = new PcapWriter(file);
  const r = rng(seed);
  const seen = new Set();
  const ntp = Buffer.alloc(48);
  ntp[0] = 0x23; // v4, client
  for (let i = 0; i < count; i++) {
    let mac;
    do {
      const b = Array.from({ length: 6 }, () => Math.floor(r() * 256));
      b[0] = (b[0] | 0x02) & 0xfe; // locally administered, unicast
      mac = b.map(hex2).join(':');
    } while (seen.has(mac));
    seen.add(mac);
    const src = lan(0x0400 + (i % 63000)); // 10.247.4.0 onwards, reused past 63,000 devices
    const dst = `192.0.2.${1 + (i % 200)}`;
    w.write(T0 + i / pps, eth(ROUTER_MAC, mac, ETH_IPV4, ipv4(src, dst, 17, udp4(src, dst, 40000 + (i % 20000), 123, ntp), { id: i })));
  }
  w.close();
  return { file, packets: w.packets, bytes: w.bytes, seconds: count / pps, pps, devices: count };
}

function dnsName(name) {
  const parts = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

/** A DNS query for `name` (A) and its response with `answers` A records (compressed names). */
function dnsPair(id, name, addrs) {
  const q = Buffer.concat([dnsName(name), Buffer.from([0, 1, 0, 1])]);
  const head = (flags, an) => {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(id, 0);
    h.writeUInt16BE(flags, 2);
    h.writeUInt16BE(1, 4);
    h.writeUInt16BE(an, 6);
    return h;
  };
  const rr = addrs.map((a) => {
    const b = Buffer.alloc(16);
    b.writeUInt16BE(0xc00c, 0);
    b.writeUInt16BE(1, 2);
    b.writeUInt16BE(1, 4);
    b.writeUInt32BE(300, 6);
    b.writeUInt16BE(4, 10);
    a.split('.').forEach((x, k) => (b[12 + k] = Number(x)));
    return b;
  });
  return { query: Buffer.concat([head(0x0100, 0), q]), response: Buffer.concat([head(0x8180, addrs.length), q, ...rr]) };
}

/** `responses` query/response pairs, each a new name with `answers` new addresses, at `pps` packets a second. */
export function dnsFlood(file, { responses, answers = 8, pps }) {
  const w = new PcapWriter(file);
  const resolver = '10.247.0.53';
  const resolverMac = '02:f1:00:00:00:53';
  let addr = 0;
  let t = T0;
  for (let i = 0; i < responses; i++) {
    const c = i % 64;
    const client = lan(0x0200 + 1 + c);
    const port = 30000 + (Math.floor(i / 64) % 500);
    const addrs = [];
    for (let k = 0; k < answers; k++, addr++) addrs.push(`198.${18 + ((addr >> 16) & 1)}.${(addr >> 8) & 255}.${addr & 255}`);
    const { query, response } = dnsPair(i & 0xffff, `h${i}.n${i % 997}.flood.example`, addrs);
    w.write(t, eth(ROUTER_MAC, hostMac(2, c), ETH_IPV4, ipv4(client, resolver, 17, udp4(client, resolver, port, 53, query), { id: i })));
    t += 1 / pps;
    w.write(t, eth(ROUTER_MAC, resolverMac, ETH_IPV4, ipv4(resolver, client, 17, udp4(resolver, client, 53, port, response), { id: i })));
    t += 1 / pps;
  }
  w.close();
  return { file, packets: w.packets, bytes: w.bytes, seconds: (2 * responses) / pps, pps, responses, names: responses, nameEntries: responses * answers };
}

function mqttLength(n) {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** `flows` MQTT connections, each a CONNECT and one PUBLISH of `payload` bytes; replayed at `mbps`. */
export function mqttFlood(file, { flows, payload = 256 * 1024, mbps }) {
  const w = new PcapWriter(file);
  const broker = '192.0.2.80';
  // The broker's side: frames to the bridge too, from a MAC of their own (a bridge drops frames
  // that come in with its own address as the source).
  const upMac = '02:f1:00:00:00:fe';
  const MSS = 1448;
  const GROUP = 32;
  const body = Buffer.alloc(payload, 0x5a);
  let t = T0;
  const dt = (len) => ((len + 24) * 8) / (mbps * 1e6);
  for (let g = 0; g < flows; g += GROUP) {
    // Each connection of the group as a list of packets; then sent round-robin.
    const lists = [];
    for (let f = g; f < Math.min(flows, g + GROUP); f++) {
      const h = f % 200;
      const cli = lan(0x0300 + 1 + h);
      const mac = hostMac(3, h);
      const sport = 20000 + (f % 40000);
      const cIsn = (Math.imul(f + 1, 2246822519) >>> 0);
      const sIsn = (Math.imul(f + 1, 3266489917) >>> 0);
      const up = (seq, ack, flags, data) => eth(ROUTER_MAC, mac, ETH_IPV4, ipv4(cli, broker, 6, tcp4(cli, broker, sport, 1883, seq, ack, flags, data)));
      const down = (seq, ack, flags, data) => eth(ROUTER_MAC, upMac, ETH_IPV4, ipv4(broker, cli, 6, tcp4(broker, cli, 1883, sport, seq, ack, flags, data)));
      const id = Buffer.from(`flood-${f}`);
      const connectVar = Buffer.concat([Buffer.from([0, 4]), Buffer.from('MQTT'), Buffer.from([4, 0x02, 0, 60]), Buffer.from([0, id.length]), id]);
      const connect = Buffer.concat([Buffer.from([0x10]), mqttLength(connectVar.length), connectVar]);
      const topic = Buffer.from(`flood/${f}/blob`);
      const pubVar = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 255]), topic]);
      const publish = Buffer.concat([Buffer.from([0x30]), mqttLength(pubVar.length + body.length), pubVar, body]);
      const stream = Buffer.concat([connect, publish]);
      const pk = [];
      let cs = (cIsn + 1) >>> 0;
      const ss = (sIsn + 1) >>> 0;
      pk.push(up(cIsn, 0, SYN), down(sIsn, cs, SYN | ACK), up(cs, ss, ACK));
      const lose = f % 4 === 3 ? 5 : -1; // this connection's 6th data segment is never captured
      let holeAt = -1;
      for (let off = 0, n = 0; off < stream.length; off += MSS, n++) {
        const seg = stream.subarray(off, off + MSS);
        const seq = (cs + off) >>> 0;
        if (n === lose) holeAt = seq;
        else pk.push(up(seq, ss + (n === 0 ? 0 : 4), ACK | PSH, seg));
        if (n === 0) pk.push(down(ss, (cs + seg.length) >>> 0, ACK | PSH, Buffer.from([0x20, 2, 0, 0]))); // CONNACK
        if (n % 8 === 7) pk.push(down((ss + 4) >>> 0, holeAt >= 0 ? holeAt : (seq + seg.length) >>> 0, ACK));
      }
      const fin = (cs + stream.length) >>> 0;
      pk.push(up(fin, ss + 4, FIN | ACK), down((ss + 4) >>> 0, holeAt >= 0 ? holeAt : (fin + 1) >>> 0, FIN | ACK));
      cs = fin;
      lists.push(pk);
    }
    for (let k = 0; lists.some((l) => k < l.length); k++) {
      for (const l of lists) {
        if (k >= l.length) continue;
        w.write(t, l[k]);
        t += dt(l[k].length);
      }
    }
  }
  w.close();
  return { file, packets: w.packets, bytes: w.bytes, seconds: t - T0, mbps, flows, payloadBytes: payload };
}

/**
 * Oversized, cut and fragmented packets, `rounds` times over, at `pps`: per round 2 jumbo frames,
 * 3 cut records, an IPv4 datagram in 40 tiny fragments, an overlapping pair, a datagram whose last
 * fragment never comes, a fragment past 65,535, and the same four in IPv6.
 */
export function oversizedFlood(file, { rounds, pps }) {
  const w = new PcapWriter(file);
  let t = T0;
  const put = (frame, orig) => {
    w.write(t, frame, orig);
    t += 1 / pps;
  };
  const stats = { jumbo: 0, cut: 0, fragments: 0, datagramsNeverCompleted: 0 };
  for (let r = 0; r < rounds; r++) {
    const h = r % 32;
    const mac = hostMac(4, h);
    const src = lan(0x0500 + 1 + h);
    const src6 = `fd00:247::5:${(h + 1).toString(16)}`;
    const dst = `198.51.100.${200 + (r % 50)}`;
    const dst6 = `2001:db8::${(r % 50) + 1}`;
    const v4 = (payload, o) => eth(ROUTER_MAC, mac, ETH_IPV4, ipv4(src, dst, 17, payload, o));
    const v6 = (payload, frag) => eth(ROUTER_MAC, mac, ETH_IPV6, ipv6(src6, dst6, 17, payload, frag));
    // Jumbo: a 9000-byte frame and a 65,535-byte IPv4 datagram (65,549 bytes on the wire: past a 65,535 snap length).
    put(v4(udp4(src, dst, 50000 + h, 9999, Buffer.alloc(9000 - 14 - 28, r & 255)), { id: r }));
    put(v4(udp4(src, dst, 50000 + h, 9999, Buffer.alloc(65535 - 28, 0xee)), { id: r + 1 }));
    stats.jumbo += 2;
    // Records cut short by the capture (snap lengths of 14, 20 and 34 bytes of a 1514-byte frame).
    const full = v4(udp4(src, dst, 50000 + h, 9998, Buffer.alloc(1472, 1)), { id: r + 2 });
    for (const n of [14, 20, 34]) put(full.subarray(0, n), full.length);
    stats.cut += 3;
    // IPv4: one datagram in 40 fragments of 8 bytes (the transport header in the first).
    const id = (r * 7) & 0xffff;
    const dgram = udp4(src, dst, 40000 + h, 7777, Buffer.alloc(40 * 8 - 8, 2));
    for (let k = 0; k < 40; k++) put(v4(dgram.subarray(k * 8, k * 8 + 8), { id, offset: k * 8, more: k < 39 }));
    // Overlapping: two fragments covering the same bytes with different data, then the end.
    const big = udp4(src, dst, 40000 + h, 7778, Buffer.alloc(2000, 3));
    put(v4(big.subarray(0, 1480), { id: id + 1, offset: 0, more: true }));
    put(v4(Buffer.alloc(1000, 9), { id: id + 1, offset: 1000, more: true }));
    put(v4(big.subarray(1480), { id: id + 1, offset: 1480, more: false }));
    // Never completed: the first two fragments of a 4000-byte datagram, never the rest.
    const lost = udp4(src, dst, 40000 + h, 7779, Buffer.alloc(4000, 4));
    put(v4(lost.subarray(0, 1480), { id: id + 2, offset: 0, more: true }));
    put(v4(lost.subarray(1480, 2960), { id: id + 2, offset: 1480, more: true }));
    // Past 65,535: the last offset (65,528) with 1,480 bytes.
    put(v4(Buffer.alloc(1480, 5), { id: id + 3, offset: 8191 * 8, more: false }));
    stats.fragments += 40 + 3 + 2 + 1;
    stats.datagramsNeverCompleted += 1;
    // IPv6: the same four (UDP checksum left 0: the decoder does not check it).
    const u6 = (sport, n) => {
      const u = Buffer.alloc(8 + n, 6);
      u.writeUInt16BE(sport, 0);
      u.writeUInt16BE(7777, 2);
      u.writeUInt16BE(8 + n, 4);
      u.writeUInt16BE(0, 6);
      return u;
    };
    const fid = 0x15000000 + r * 4;
    const d6 = u6(41000 + h, 40 * 8 - 8);
    for (let k = 0; k < 40; k++) put(v6(d6.subarray(k * 8, k * 8 + 8), { id: fid, offset: k * 8, more: k < 39 }));
    const b6 = u6(41001, 2000);
    put(v6(b6.subarray(0, 1448), { id: fid + 1, offset: 0, more: true }));
    put(v6(Buffer.alloc(1000, 9), { id: fid + 1, offset: 1000, more: true }));
    put(v6(b6.subarray(1448), { id: fid + 1, offset: 1448, more: false }));
    const l6 = u6(41002, 4000);
    put(v6(l6.subarray(0, 1448), { id: fid + 2, offset: 0, more: true }));
    put(v6(l6.subarray(1448, 2896), { id: fid + 2, offset: 1448, more: true }));
    put(v6(Buffer.alloc(1448, 5), { id: fid + 3, offset: 0xfff8, more: false }));
    stats.fragments += 46;
    stats.datagramsNeverCompleted += 1;
  }
  w.close();
  return { file, packets: w.packets, bytes: w.bytes, seconds: t - T0, pps, ...stats };
}

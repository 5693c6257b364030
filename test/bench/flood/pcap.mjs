// Frame builders and a streaming pcap writer for the flood generators (floods.mjs): Ethernet,
// IPv4 (with fragments), IPv6 (with a Fragment header), TCP and UDP, checksums right. Classic
// pcap, little-endian, microseconds, snaplen 262144 (records may carry less than the wire length).
import fs from 'node:fs';

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;

export function macBytes(mac) {
  return Buffer.from(mac.replace(/:/g, ''), 'hex');
}

export function ip4(s) {
  return Buffer.from(s.split('.').map(Number));
}

/** A 16-byte IPv6 address from the text form (:: expanded). */
export function ip6(s) {
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const words = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  words.forEach((w, i) => b.writeUInt16BE(parseInt(w, 16), i * 2));
  return b;
}

export function sum16(b, s = 0) {
  for (let i = 0; i + 1 < b.length; i += 2) s += (b[i] << 8) | b[i + 1];
  if (b.length & 1) s += b[b.length - 1] << 8;
  return s;
}
export function fold(s) {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

export function eth(dst, src, type, payload) {
  const f = Buffer.alloc(14 + payload.length);
  macBytes(dst).copy(f, 0);
  macBytes(src).copy(f, 6);
  f.writeUInt16BE(type, 12);
  payload.copy(f, 14);
  return f;
}

/** An IPv4 header (20 bytes) and payload; `frag` = { id, offset (bytes, multiple of 8), more }. */
export function ipv4(src, dst, proto, payload, { id = 0, offset = 0, more = false, ttl = 64, totalLength } = {}) {
  const p = Buffer.alloc(20 + payload.length);
  p[0] = 0x45;
  p.writeUInt16BE(totalLength ?? Math.min(0xffff, p.length), 2);
  p.writeUInt16BE(id & 0xffff, 4);
  p.writeUInt16BE(((more ? 1 : 0) << 13) | ((offset >> 3) & 0x1fff), 6);
  p[8] = ttl;
  p[9] = proto;
  ip4(src).copy(p, 12);
  ip4(dst).copy(p, 16);
  p.writeUInt16BE(fold(sum16(p.subarray(0, 20))), 10);
  payload.copy(p, 20);
  return p;
}

/** An IPv6 header and payload; with `frag` a Fragment extension header (RFC 8200 §4.5) first. */
export function ipv6(src, dst, next, payload, frag = null) {
  const ext = frag ? 8 : 0;
  const p = Buffer.alloc(40 + ext + payload.length);
  p[0] = 0x60;
  p.writeUInt16BE(Math.min(0xffff, ext + payload.length), 4);
  p[6] = frag ? 44 : next;
  p[7] = 64;
  ip6(src).copy(p, 8);
  ip6(dst).copy(p, 24);
  if (frag) {
    p[40] = next;
    p.writeUInt16BE((frag.offset & 0xfff8) | (frag.more ? 1 : 0), 42);
    p.writeUInt32BE(frag.id >>> 0, 44);
  }
  payload.copy(p, 40 + ext);
  return p;
}

function pseudo4(src, dst, proto, len) {
  return sum16(Buffer.concat([ip4(src), ip4(dst), Buffer.from([0, proto, len >> 8, len & 255])]));
}

export function udp4(src, dst, sport, dport, data) {
  const u = Buffer.alloc(8 + data.length);
  u.writeUInt16BE(sport, 0);
  u.writeUInt16BE(dport, 2);
  u.writeUInt16BE(Math.min(0xffff, u.length), 4);
  data.copy(u, 8);
  const c = fold(sum16(u, pseudo4(src, dst, 17, u.length & 0xffff)));
  u.writeUInt16BE(c === 0 ? 0xffff : c, 6);
  return u;
}

export const SYN = 0x02;
export const ACK = 0x10;
export const PSH = 0x08;
export const FIN = 0x01;

export function tcp4(src, dst, sport, dport, seq, ack, flags, data = Buffer.alloc(0), win = 64240) {
  const hl = flags & SYN ? 24 : 20;
  const t = Buffer.alloc(hl + data.length);
  t.writeUInt16BE(sport, 0);
  t.writeUInt16BE(dport, 2);
  t.writeUInt32BE(seq >>> 0, 4);
  t.writeUInt32BE(ack >>> 0, 8);
  t[12] = (hl / 4) << 4;
  t[13] = flags;
  t.writeUInt16BE(win, 14);
  if (hl === 24) t.writeUInt32BE(0x020405b4, 20); // MSS 1460
  data.copy(t, hl);
  t.writeUInt16BE(fold(sum16(t, pseudo4(src, dst, 6, t.length))), 16);
  return t;
}

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Streams records to a pcap file; timestamps from `t0` on, `gap` seconds apart unless given. */
export class PcapWriter {
  constructor(file, { snaplen = 262144 } = {}) {
    this.fd = fs.openSync(file, 'w');
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(snaplen, 16);
    h.writeUInt32LE(1, 20);
    this.chunks = [h];
    this.size = 24;
    this.packets = 0;
    this.bytes = 0;
    this.last = 0;
  }

  /** One record: `frame` as captured, `origLen` its length on the wire (default: all of it). */
  write(ts, frame, origLen = frame.length) {
    const r = Buffer.alloc(16);
    const sec = Math.floor(ts);
    r.writeUInt32LE(sec, 0);
    r.writeUInt32LE(Math.min(999_999, Math.round((ts - sec) * 1e6)), 4);
    r.writeUInt32LE(frame.length, 8);
    r.writeUInt32LE(origLen, 12);
    this.chunks.push(r, frame);
    this.size += 16 + frame.length;
    this.packets++;
    this.bytes += frame.length;
    this.last = ts;
    if (this.size > 8 << 20) this.flush();
  }

  flush() {
    fs.writeSync(this.fd, Buffer.concat(this.chunks));
    this.chunks = [];
    this.size = 0;
  }

  close() {
    this.flush();
    fs.closeSync(this.fd);
  }
}

/**
 * Byte-exact builders for the name and discovery protocols (DNS/mDNS/LLMNR messages, NetBIOS
 * name service packets, CoAP messages) and a classic pcap of Ethernet/IPv4/UDP frames carrying
 * them, for the engine and for tshark to read the same bytes.
 */
import fs from 'node:fs';

/** A DNS name: labels in order, each given raw (dots inside a label stay in it). */
export function dnsName(labels: string[]): Buffer {
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, 'utf8');
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** "a.b.local" split at dots; use an array to keep dots inside a label. */
export function nm(n: string | string[]): Buffer {
  return dnsName(Array.isArray(n) ? n : n.split('.'));
}

export interface Rr {
  name: string | string[];
  type: number;
  cls?: number;
  ttl?: number;
  data: Buffer;
}

export const rdata = {
  a: (ip: string) => Buffer.from(ip.split('.').map(Number)),
  name: (n: string | string[]) => nm(n),
  srv: (prio: number, weight: number, port: number, target: string) => {
    const h = Buffer.alloc(6);
    h.writeUInt16BE(prio, 0);
    h.writeUInt16BE(weight, 2);
    h.writeUInt16BE(port, 4);
    return Buffer.concat([h, nm(target)]);
  },
  txt: (strings: string[]) => Buffer.concat(strings.map((s) => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]))),
};

function rr(r: Rr): Buffer {
  const h = Buffer.alloc(10);
  h.writeUInt16BE(r.type, 0);
  h.writeUInt16BE(r.cls ?? 1, 2);
  h.writeUInt32BE(r.ttl ?? 120, 4);
  h.writeUInt16BE(r.data.length, 8);
  return Buffer.concat([nm(r.name), h, r.data]);
}

export interface DnsSpec {
  id?: number;
  flags: number;
  questions?: { name: string | string[]; type: number; cls?: number }[];
  answers?: Rr[];
  authorities?: Rr[];
  additionals?: Rr[];
}

export function dnsMessage(m: DnsSpec): Buffer {
  const q = m.questions ?? [];
  const an = m.answers ?? [];
  const ns = m.authorities ?? [];
  const ar = m.additionals ?? [];
  const h = Buffer.alloc(12);
  h.writeUInt16BE(m.id ?? 0, 0);
  h.writeUInt16BE(m.flags, 2);
  h.writeUInt16BE(q.length, 4);
  h.writeUInt16BE(an.length, 6);
  h.writeUInt16BE(ns.length, 8);
  h.writeUInt16BE(ar.length, 10);
  const qs = q.map((x) => {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(x.type, 0);
    t.writeUInt16BE(x.cls ?? 1, 2);
    return Buffer.concat([nm(x.name), t]);
  });
  return Buffer.concat([h, ...qs, ...an.map(rr), ...ns.map(rr), ...ar.map(rr)]);
}

/** A NetBIOS name in first-level encoding (RFC 1001 §14.1), as a one-label DNS name. */
export function nbName(name: string, suffix: number, pad = 0x20): Buffer {
  const raw = Buffer.alloc(16, pad);
  Buffer.from(name, 'latin1').copy(raw, 0, 0, 15);
  raw[15] = suffix;
  let enc = '';
  for (const b of raw) enc += String.fromCharCode(0x41 + (b >> 4), 0x41 + (b & 15));
  return Buffer.concat([Buffer.from([32]), Buffer.from(enc, 'latin1'), Buffer.from([0])]);
}

export interface NbnsSpec {
  id: number;
  flags: number;
  question?: { name: Buffer; type: number };
  answer?: { name: Buffer; type: number; ttl?: number; data: Buffer };
  additional?: { name: Buffer; type: number; ttl?: number; data: Buffer };
}

export function nbnsPacket(s: NbnsSpec): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(s.id, 0);
  h.writeUInt16BE(s.flags, 2);
  h.writeUInt16BE(s.question ? 1 : 0, 4);
  h.writeUInt16BE(s.answer ? 1 : 0, 6);
  h.writeUInt16BE(s.additional ? 1 : 0, 10);
  const parts = [h];
  if (s.question) {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(s.question.type, 0);
    t.writeUInt16BE(1, 2);
    parts.push(s.question.name, t);
  }
  for (const r of [s.answer, s.additional]) {
    if (!r) continue;
    const t = Buffer.alloc(10);
    t.writeUInt16BE(r.type, 0);
    t.writeUInt16BE(1, 2);
    t.writeUInt32BE(r.ttl ?? 300000, 4);
    t.writeUInt16BE(r.data.length, 8);
    parts.push(r.name, t, r.data);
  }
  return Buffer.concat(parts);
}

export function nbAddress(group: boolean, ip: string): Buffer {
  return Buffer.concat([Buffer.from([group ? 0x80 : 0x00, 0x00]), rdata.a(ip)]);
}

/** NBSTAT RDATA (RFC 1002 §4.2.18): names with flags, then 46 bytes of statistics starting with the unit id. */
export function nbstatData(names: { name: string; suffix: number; group: boolean }[], mac: string): Buffer {
  const parts = [Buffer.from([names.length])];
  for (const n of names) {
    const b = Buffer.alloc(18, 0x20);
    Buffer.from(n.name, 'latin1').copy(b, 0, 0, 15);
    b[15] = n.suffix;
    b.writeUInt16BE((n.group ? 0x8000 : 0) | 0x0400, 16);
    parts.push(b);
  }
  const stats = Buffer.alloc(46);
  Buffer.from(mac.split(':').map((x) => parseInt(x, 16))).copy(stats, 0);
  parts.push(stats);
  return Buffer.concat(parts);
}

/** A CoAP option list from [number, value] pairs in ascending order, with 13/14 extensions. */
export function coapOptions(opts: [number, Buffer | string | number][]): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  const nib = (v: number): [number, Buffer] => (v < 13 ? [v, Buffer.alloc(0)] : v < 269 ? [13, Buffer.from([v - 13])] : [14, Buffer.from([(v - 269) >> 8, (v - 269) & 255])]);
  for (const [n, raw] of opts) {
    const value = typeof raw === 'number' ? (raw === 0 ? Buffer.alloc(0) : raw < 256 ? Buffer.from([raw]) : Buffer.from([raw >> 8, raw & 255])) : Buffer.from(raw);
    const [d, dx] = nib(n - last);
    const [l, lx] = nib(value.length);
    parts.push(Buffer.from([(d << 4) | l]), dx, lx, value);
    last = n;
  }
  return Buffer.concat(parts);
}

export function coapMessage(type: number, code: number, mid: number, token: Buffer, opts: [number, Buffer | string | number][], payload?: Buffer | string): Buffer {
  const h = Buffer.from([0x40 | (type << 4) | token.length, code, mid >> 8, mid & 255]);
  return Buffer.concat([h, token, coapOptions(opts), payload === undefined ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0xff]), Buffer.from(payload)])]);
}

export interface UdpDatagram {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  payload: Buffer;
  srcMac?: string;
}

function mac(s: string): Buffer {
  return Buffer.from(s.split(':').map((x) => parseInt(x, 16)));
}

function multicastMac(ip: string): Buffer {
  const o = ip.split('.').map(Number);
  if (o[0] >= 224 && o[0] <= 239) return Buffer.from([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]);
  if (o[3] === 255) return Buffer.alloc(6, 0xff);
  return mac('02:00:00:00:00:fe');
}

function frame(d: UdpDatagram): Buffer {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(d.sport, 0);
  udp.writeUInt16BE(d.dport, 2);
  udp.writeUInt16BE(8 + d.payload.length, 4);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + d.payload.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  rdata.a(d.src).copy(ip, 12);
  rdata.a(d.dst).copy(ip, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  const eth = Buffer.concat([multicastMac(d.dst), mac(d.srcMac ?? '02:00:00:00:00:01'), Buffer.from([0x08, 0x00])]);
  return Buffer.concat([eth, ip, udp, d.payload]);
}

/** Writes the datagrams as a classic little-endian pcap (LINKTYPE_ETHERNET), one second apart. */
export function writeUdpPcap(file: string, datagrams: UdpDatagram[]): void {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  const parts = [head];
  datagrams.forEach((d, i) => {
    const f = frame(d);
    const h = Buffer.alloc(16);
    h.writeUInt32LE(1_700_000_000 + i, 0);
    h.writeUInt32LE(f.length, 8);
    h.writeUInt32LE(f.length, 12);
    parts.push(h, f);
  });
  fs.writeFileSync(file, Buffer.concat(parts));
}

/**
 * Traffic for the fault tests, written as a classic pcap (Ethernet, microseconds) that
 * `vigie run --read FILE --speed 1` replays at its recorded pace: LAN devices (locally
 * administered MACs, 192.168.1.0/24) sending UDP datagrams to documentation addresses. Each
 * device appears at its own time, so a paced replay keeps bringing new devices, flows and hourly
 * counters to the store while a test does something to the daemon.
 */
import fs from 'node:fs';

export interface TrafficOptions {
  /** Devices, the first one appearing at once, the next every `gap` seconds. */
  devices: number;
  gap: number;
  /** Datagrams each device sends once it has appeared, one every `every` seconds, over `span` seconds. */
  every: number;
  span: number;
}

export function deviceMac(i: number): string {
  return `02:5e:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
}

function checksum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** One Ethernet/IPv4/UDP frame from device `i` to 203.0.113.(1 + i % 250):443 (QUIC's port; the payload is not QUIC). */
export function udpFrame(i: number, seq: number): Buffer {
  const payload = Buffer.alloc(64, seq & 255);
  const f = Buffer.alloc(14 + 20 + 8 + payload.length);
  Buffer.from('005e00000001', 'hex').copy(f, 0); // the router
  Buffer.from(deviceMac(i).replace(/:/g, ''), 'hex').copy(f, 6);
  f.writeUInt16BE(0x0800, 12);
  const ip = f.subarray(14, 34);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip.writeUInt16BE(seq & 0xffff, 4);
  ip[8] = 64;
  ip[9] = 17;
  Buffer.from([192, 168, 1 + (i >> 8), 10 + (i & 127)]).copy(ip, 12);
  Buffer.from([203, 0, 113, 1 + (i % 250)]).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  f.writeUInt16BE(40000 + (i % 20000), 34);
  f.writeUInt16BE(443, 36);
  f.writeUInt16BE(8 + payload.length, 38);
  payload.copy(f, 42);
  return f;
}

/** Writes the capture; returns the number of packets and the recorded duration in seconds. */
export function writeTraffic(file: string, o: TrafficOptions, start = 1_760_000_000): { packets: number; seconds: number } {
  const events: { t: number; i: number; seq: number }[] = [];
  for (let i = 0; i < o.devices; i++) {
    const first = i * o.gap;
    for (let k = 0, t = first; t <= first + o.span; k++, t = first + k * o.every) events.push({ t, i, seq: k });
  }
  events.sort((a, b) => a.t - b.t);
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  const parts = [header];
  for (const e of events) {
    const frame = udpFrame(e.i, e.seq);
    const rec = Buffer.alloc(16);
    const ts = start + e.t;
    rec.writeUInt32LE(Math.floor(ts), 0);
    rec.writeUInt32LE(Math.round((ts % 1) * 1e6) % 1_000_000, 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    parts.push(rec, frame);
  }
  fs.writeFileSync(file, Buffer.concat(parts));
  return { packets: events.length, seconds: events.length ? events[events.length - 1].t : 0 };
}

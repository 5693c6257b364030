// A capture that leaves `flows` TCP connections open at once: 200 devices each open
// flows/200 connections (handshake, one small request, its answer) to servers on documentation
// addresses, and none closes. bench:live replays it to measure the daemon's memory with a full
// flow table (the "200 devices and 100k flows").
import { PcapWriter, writeIp } from './home-capture.mjs';

export function manyFlows(file, flows = 100_000, devices = 200) {
  const w = new PcapWriter(file);
  const router = [0x02, 0x00, 0x5e, 0x00, 0x53, 0x01];
  const request = Buffer.from('PING vigie-bench\r\n');
  const answer = Buffer.from('PONG\r\n');
  let t = 1_790_000_000;
  for (let i = 0; i < flows; i++) {
    const d = i % devices;
    const mac = [0x3c, 0x84, 0x6a, 0x40, d >> 8, d & 255];
    const dev = ((192 << 24) | (168 << 16) | (2 << 8) | (10 + (d % 240))) >>> 0;
    const n = Math.floor(i / devices);
    const server = (((203 << 24) | (0 << 16) | (113 << 8) | (1 + (n % 250))) >>> 0);
    const sport = 20000 + Math.floor(n / 250);
    const dport = 7000 + (n % 250);
    const cs = (i * 7919) >>> 0;
    const ss = (i * 104729) >>> 0;
    t += 0.00002;
    writeIp(w, t, mac, router, dev, server, 6, sport, dport, null, { seq: cs, ack: 0, flags: 0x02 });
    writeIp(w, t, router, mac, server, dev, 6, dport, sport, null, { seq: ss, ack: cs + 1, flags: 0x12 });
    writeIp(w, t, mac, router, dev, server, 6, sport, dport, request, { seq: cs + 1, ack: ss + 1, flags: 0x18 });
    writeIp(w, t, router, mac, server, dev, 6, dport, sport, answer, { seq: ss + 1, ack: cs + 1 + request.length, flags: 0x18 });
  }
  w.close();
  return { packets: w.packets, flows };
}

/**
 * Regression: a DNS transaction id from 0x8000 to 0xbfff reads as an RTP version-2 header, and the
 * RTP heuristic used to run before the DNS ports were considered, so about a quarter of all
 * lookups were lost (no app, no host name for the flows that followed). Found as a flaky live
 * test; here every first byte of the id is tried, and tshark confirms the frames are DNS.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnalysisReport } from '../../daemon/report/types.js';
import { vigie } from '../helpers/cli.js';
import { writePcapng, type RawPacket } from '../helpers/pcap-writer.js';
import { haveTool, tsharkFields } from '../helpers/tshark.js';

const DEVICE_MAC = Buffer.from([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
const ROUTER_MAC = Buffer.from([0x12, 0x0f, 0x9d, 0x04, 0x1f, 0x30]);

function checksum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function ipv4(src: number[], dst: number[], proto: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h[8] = 64;
  h[9] = proto;
  Buffer.from(src).copy(h, 12);
  Buffer.from(dst).copy(h, 16);
  h.writeUInt16BE(checksum(h), 10);
  return Buffer.concat([h, payload]);
}

function frame(fromDevice: boolean, ip: Buffer): Buffer {
  const [dst, src] = fromDevice ? [ROUTER_MAC, DEVICE_MAC] : [DEVICE_MAC, ROUTER_MAC];
  return Buffer.concat([dst, src, Buffer.from([0x08, 0x00]), ip]);
}

function udp(sport: number, dport: number, body: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + body.length, 4);
  return Buffer.concat([h, body]); // checksum 0: not computed (RFC 768)
}

function qname(name: string): Buffer {
  return Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
}

/** A query for `name` (RFC 1035 §4.1) and its answer carrying `addr`. */
function dnsPair(id: number, name: string, addr: number[]): [Buffer, Buffer] {
  const q = Buffer.concat([qname(name), Buffer.from([0, 1, 0, 1])]);
  const hq = Buffer.alloc(12);
  hq.writeUInt16BE(id, 0);
  hq.writeUInt16BE(0x0100, 2); // RD
  hq.writeUInt16BE(1, 4);
  const ha = Buffer.from(hq);
  ha.writeUInt16BE(0x8180, 2); // QR RD RA
  ha.writeUInt16BE(1, 6);
  const rr = Buffer.concat([Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]), Buffer.from(addr)]);
  return [Buffer.concat([hq, q]), Buffer.concat([ha, q, rr])];
}

describe('DNS on its port is DNS, whatever its transaction id', () => {
  it.skipIf(!haveTool('tshark'))('every first byte of the id: the lookup is read and names the flow that follows', () => {
    const packets: RawPacket[] = [];
    const dev = [192, 168, 50, 22];
    const router = [192, 168, 50, 1];
    let ts = 1_700_000_000;
    for (let hi = 0; hi < 256; hi++) {
      const name = `host${hi}.example.com`;
      const server = [203, 0, 113, hi === 0 ? 1 : hi % 250];
      const [q, a] = dnsPair((hi << 8) | 0x5a, name, server);
      const sport = 20000 + hi;
      packets.push({ data: frame(true, ipv4(dev, router, 17, udp(sport, 53, q))), ts: (ts += 0.001) });
      packets.push({ data: frame(false, ipv4(router, dev, 17, udp(53, sport, a))), ts: (ts += 0.001) });
      // Then a UDP datagram from the device to that address: the flow takes the looked-up name.
      packets.push({ data: frame(true, ipv4(dev, server, 17, udp(40000 + hi, 9999, Buffer.from('ping')))), ts: (ts += 0.001) });
      ts += 1;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-dnsid-'));
    try {
      const file = path.join(dir, 'ids.pcapng');
      fs.writeFileSync(file, writePcapng([{ linkType: 1 }], packets));
      // The oracle: tshark reads all 512 DNS messages, with the ids written.
      const ids = tsharkFields(file, ['dns.id'], ['-Y', 'dns']).map((r) => Number(r[0]));
      expect(ids).toHaveLength(512);
      expect(new Set(ids.map((id) => id >> 8)).size).toBe(256);
      const r = vigie(['analyze', file, '--json']);
      expect(r.stderr).toBe('');
      const report = JSON.parse(r.stdout) as AnalysisReport;
      const dns = report.flows.filter((f) => f.resp.port === 53);
      expect(dns).toHaveLength(256);
      const notDns = dns.filter((f) => f.app !== 'dns').map((f) => f.orig.port - 20000);
      expect(notDns, 'first bytes of ids not read as DNS').toEqual([]);
      const named = report.flows.filter((f) => f.resp.port === 9999);
      expect(named).toHaveLength(256);
      for (const f of named) {
        const hi = f.orig.port - 40000;
        // Several lookups share an address (hi % 250): the latest answer names it.
        expect(f.hostname, `flow after id 0x${hi.toString(16)}5a`).toBe(`host${hi}.example.com`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

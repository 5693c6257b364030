/**
 * A malformed packet is counted, named by its reason and skipped; the packets around it are
 * analysed as before. tshark, on the same damaged file, flags the same frames.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { analyzeCapture } from '../../daemon/analysis/analyze.js';
import { casePath, describeCorpus } from '../helpers/corpus.js';
import { haveTool, tsharkFields } from '../helpers/tshark.js';

const BASE = casePath('suricata-verify/tls-client-hello-frag-01'); // Ethernet + IPv4, 62 packets
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-malformed-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Offsets of each record's frame in a little-endian pcap. */
function frames(buf: Buffer): number[] {
  const out: number[] = [];
  for (let off = 24; off + 16 <= buf.length; off += 16 + buf.readUInt32LE(off + 8)) out.push(off + 16);
  return out;
}

describeCorpus('malformed packets', () => {
  it('are counted by reason and skipped, and tshark flags the same frames', async () => {
    const buf = Buffer.from(fs.readFileSync(BASE));
    const f = frames(buf);
    buf[f[4] + 14] = 0x43; // IPv4 header length 12 bytes
    buf.writeUInt16BE(10, f[9] + 14 + 2); // IPv4 total length below its header
    buf[f[20] + 14 + 20 + 12] = 0x30; // TCP data offset 12 bytes
    const file = path.join(dir, 'damaged.pcap');
    fs.writeFileSync(file, buf);
    const before = await analyzeCapture(BASE);
    const r = await analyzeCapture(file);
    expect(r.capture.packets).toBe(62);
    expect(r.capture.malformed).toBe(3);
    expect(r.capture.malformedReasons).toEqual({
      'ipv4: header length below 20 bytes': 1,
      'ipv4: total length below header length': 1,
      'tcp: data offset below 20 bytes': 1,
    });
    // The flow is still there, three packets short.
    const pk = (x: typeof r) => x.flows[0].counters.orig.packets + x.flows[0].counters.resp.packets;
    expect(pk(r)).toBe(pk(before) - 3);
    if (haveTool('tshark')) {
      const flagged = tsharkFields(file, ['frame.number', '_ws.expert.severity', 'ip.hdr_len', 'tcp.hdr_len'])
        .filter((row) => row[1].split(',').includes('8388608')) // PI_ERROR
        .map((row) => Number(row[0]));
      expect(flagged).toEqual([5, 10, 21]);
    }
  });
});

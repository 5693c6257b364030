/**
 * Issue 16, item 8: pcapng timestamps beyond JavaScript's date range (an if_tsresol of 0 with a
 * large count, or huge 64-bit values) must not end `vigie analyze` with an internal error: the
 * packet is counted as malformed and the analysis goes on.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vigie } from '../helpers/cli.js';
import { writePcapng } from '../helpers/pcap-writer.js';

let dir: string;

/** A minimal Ethernet/IPv4/UDP frame between two LAN hosts. */
function udpFrame(): Buffer {
  const f = Buffer.alloc(14 + 20 + 8 + 4);
  Buffer.from('02000000000202000000000108', 'hex').copy(f, 0);
  f[12] = 0x08;
  f[13] = 0x00;
  const ip = 14;
  f[ip] = 0x45;
  f.writeUInt16BE(20 + 8 + 4, ip + 2);
  f[ip + 8] = 64;
  f[ip + 9] = 17;
  Buffer.from([192, 168, 1, 10]).copy(f, ip + 12);
  Buffer.from([192, 168, 1, 20]).copy(f, ip + 16);
  f.writeUInt16BE(40000, ip + 20);
  f.writeUInt16BE(9999, ip + 22);
  f.writeUInt16BE(12, ip + 24);
  return f;
}

function analyze(file: string): { status: number | null; stderr: string; report: Record<string, any> | null } {
  const r = vigie(['analyze', '--json', file]);
  let report: Record<string, any> | null = null;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    report = null;
  }
  return { status: r.status, stderr: r.stderr, report };
}

describe('pcapng timestamps out of the date range', () => {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-hardening-ts-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('if_tsresol 0 with a count of seconds far past year 275760: counted as malformed, the rest analysed', () => {
    const f = udpFrame();
    const file = path.join(dir, 'tsresol0.pcapng');
    fs.writeFileSync(
      file,
      writePcapng([{ linkType: 1, tsresol: 0 }], [
        { data: f, ts: 1_700_000_000 },
        { data: f, ts: 1e16 },
        { data: f, ts: 1_700_000_001 },
      ]),
    );
    const r = analyze(file);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.status).toBe(0);
    expect(r.report).not.toBeNull();
    expect(r.report!.capture.packets).toBe(3);
    expect(r.report!.capture.malformed).toBe(1);
    expect(Object.keys(r.report!.capture.malformedReasons).join(' ')).toMatch(/timestamp/);
  });

  it('huge 64-bit timestamps at a binary resolution: every one malformed, no internal error', () => {
    const f = udpFrame();
    const file = path.join(dir, 'huge.pcapng');
    // 2^-1 s units (0x81): a 64-bit count near 2^64 is ~9e18 s, beyond any Date.
    const buf = writePcapng([{ linkType: 1, tsresol: 0x81 }], [{ data: f, ts: 1_700_000_000 }, { data: f, ts: 1_700_000_000 }]);
    // Overwrite the second EPB's timestamp with all ones (both halves), as a corrupt file would have.
    const epbs: number[] = [];
    for (let o = 0; o < buf.length; ) {
      const type = buf.readUInt32LE(o);
      if (type === 6) epbs.push(o);
      o += buf.readUInt32LE(o + 4);
    }
    buf.writeUInt32LE(0xffffffff, epbs[1] + 12);
    buf.writeUInt32LE(0xffffffff, epbs[1] + 16);
    fs.writeFileSync(file, buf);
    const r = analyze(file);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.status).toBe(0);
    expect(r.report!.capture.packets).toBe(2);
    expect(r.report!.capture.malformed).toBe(1);
  });
});

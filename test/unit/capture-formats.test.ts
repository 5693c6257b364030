/**
 * Capture files in every variant we claim, made by the usual tools where they can (editcap,
 * mergecap) and by our writer where they cannot (big-endian files, SPBs), each checked with tshark.
 * The same traffic must give the same report whatever the container.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { analyzeCapture } from '../../daemon/analysis/analyze.js';
import type { AnalysisReport } from '../../daemon/report/types.js';
import { casePath, describeCorpus } from '../helpers/corpus.js';
import { pcapToBigEndian, readPcapPackets, writePcapng } from '../helpers/pcap-writer.js';
import { haveTool, tsharkFields } from '../helpers/tshark.js';

const BASE = casePath('suricata-verify/tls-client-hello-frag-01'); // ethernet, 62 packets, LE µs pcap
const NULL_CASE = casePath('suricata-verify/http-ipv6'); // BSD loopback
let dir: string;

function tmp(name: string): string {
  return path.join(dir, name);
}

function comparable(r: AnalysisReport) {
  const { source, format, ...capture } = r.capture;
  void source;
  void format;
  return { capture, devices: r.devices, flows: r.flows };
}

function tsharkCount(file: string): number {
  return tsharkFields(file, ['frame.number']).length;
}

describeCorpus.skipIf(!haveTool('editcap'))('capture file variants', () => {
  let reference: AnalysisReport;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-formats-'));
    reference = await analyzeCapture(BASE);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads the reference capture', () => {
    expect(reference.capture.format).toBe('pcap');
    expect(reference.capture.packets).toBe(62);
  });

  for (const [fmt, expectFormat] of [
    ['nsecpcap', 'pcap'],
    ['modpcap', 'pcap'],
    ['pcapng', 'pcapng'],
  ] as const) {
    it(`editcap -F ${fmt} gives the same report`, async () => {
      const out = tmp(`x.${fmt}`);
      execFileSync('editcap', ['-F', fmt, BASE, out]);
      const r = await analyzeCapture(out);
      expect(r.capture.format).toBe(expectFormat);
      expect(comparable(r)).toEqual(comparable(reference));
    });
  }

  it('the format comes from the magic, not the file name', async () => {
    const out = tmp('really-pcapng.pcap');
    execFileSync('editcap', ['-F', 'pcapng', BASE, out]);
    expect((await analyzeCapture(out)).capture.format).toBe('pcapng');
  });

  it('big-endian pcap gives the same report', async () => {
    const out = tmp('be.pcap');
    fs.writeFileSync(out, pcapToBigEndian(fs.readFileSync(BASE)));
    expect(tsharkCount(out)).toBe(62);
    expect(comparable(await analyzeCapture(out))).toEqual(comparable(reference));
  });

  it('big-endian pcapng with nanosecond and power-of-two clocks gives the same report', async () => {
    const pkts = readPcapPackets(fs.readFileSync(BASE));
    for (const tsresol of [9, 0x80 | 20]) {
      const out = tmp(`be-${tsresol}.pcapng`);
      fs.writeFileSync(out, writePcapng([{ linkType: 1, tsresol }], pkts, { bigEndian: true }));
      expect(tsharkCount(out)).toBe(62);
      const r = await analyzeCapture(out);
      expect(r.capture.start).toBe(reference.capture.start);
      // A 2^-20 s clock cannot hold every microsecond: durations agree to the clock's precision.
      const rounded = (x: AnalysisReport) => x.flows.map((f) => ({ ...f, duration: Math.round(f.duration * 1e4) }));
      expect(rounded(r)).toEqual(rounded(reference));
    }
  });

  it('pcapng with two interfaces of different link types (mergecap)', async () => {
    const out = tmp('merged.pcapng');
    execFileSync('mergecap', ['-F', 'pcapng', '-w', out, BASE, NULL_CASE]);
    const r = await analyzeCapture(out);
    expect(r.capture.linkTypes.sort()).toEqual(['ethernet', 'null']);
    expect(r.capture.packets).toBe(tsharkCount(out));
    const nullOnly = await analyzeCapture(NULL_CASE);
    expect(r.capture.flows.total).toBe(reference.capture.flows.total + nullOnly.capture.flows.total);
  });

  it('pcapng Simple Packet Blocks', async () => {
    const pkts = readPcapPackets(fs.readFileSync(BASE));
    const out = tmp('spb.pcapng');
    fs.writeFileSync(out, writePcapng([{ linkType: 1 }], pkts, { simple: true }));
    expect(tsharkCount(out)).toBe(62);
    const r = await analyzeCapture(out);
    expect(r.capture.packets).toBe(62);
    expect(r.capture.decoded).toEqual(reference.capture.decoded);
    expect(r.flows.map((f) => [f.orig, f.resp, f.counters])).toEqual(reference.flows.map((f) => [f.orig, f.resp, f.counters]));
  });

  it('a capture cut inside a record keeps every packet before the cut and says where', async () => {
    const whole = fs.readFileSync(BASE);
    const out = tmp('cut.pcap');
    fs.writeFileSync(out, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const r = await analyzeCapture(out);
    // tshark reads the same complete records before reporting the cut.
    let expected = 0;
    try {
      expected = tsharkCount(out);
    } catch (e) {
      expected = String((e as { stdout?: string }).stdout ?? '').split('\n').filter(Boolean).length;
    }
    expect(r.capture.packets).toBe(expected);
    expect(r.capture.cut).not.toBeNull();
    expect(r.capture.cut!.afterPacket).toBe(expected);
    expect(r.capture.cut!.reason).toMatch(/ends inside a record/);
  });

  it('a corrupt record header stops the read there, with the reason', async () => {
    const buf = Buffer.from(fs.readFileSync(BASE));
    // The 11th record's captured length becomes absurd.
    let off = 24;
    for (let i = 0; i < 10; i++) off += 16 + buf.readUInt32LE(off + 8);
    buf.writeUInt32LE(0x7fffffff, off + 8);
    const out = tmp('corrupt.pcap');
    fs.writeFileSync(out, buf);
    const r = await analyzeCapture(out);
    expect(r.capture.packets).toBe(10);
    expect(r.capture.cut).toEqual({ offset: off, afterPacket: 10, reason: expect.stringMatching(/corrupt record header/) });
  });

  it('a header-only pcap is an empty but valid capture', async () => {
    const out = tmp('empty.pcap');
    fs.writeFileSync(out, fs.readFileSync(BASE).subarray(0, 24));
    const r = await analyzeCapture(out);
    expect(r.capture.packets).toBe(0);
    expect(r.capture.cut).toBeNull();
    expect(r.flows).toEqual([]);
  });
});

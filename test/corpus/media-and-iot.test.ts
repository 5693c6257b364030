/**
 * Media and IoT protocols: RTP streams against tshark's `-z rtp,streams` table (SSRC, payload
 * type, packets), Tuya LAN discovery against nDPI's classification (and decrypted to the
 * device's identity), the CS2 PPPP device id against the published vector, QUIC recognition.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { looksLikePppp, ppppDeviceId } from '../../daemon/protocols/pppp/state.js';
import { CORPUS, casePath, describeCorpus } from '../helpers/corpus.js';
import { eventsOf } from '../helpers/events.js';

interface Stream {
  src: string;
  dst: string;
  ssrc: number;
  payload: string;
  packets: number;
}

function rtpStreams(caseName: string): Stream[] {
  const text = fs.readFileSync(path.join(CORPUS, caseName, 'tshark.txt'), 'utf8');
  const out: Stream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+0x([0-9A-F]+)\s+(\S+)\s+(\d+)\s/.exec(line);
    if (m) out.push({ src: `${m[1]}:${m[2]}`, dst: `${m[3]}:${m[4]}`, ssrc: parseInt(m[5], 16), payload: m[6], packets: Number(m[7]) });
  }
  return out;
}

describeCorpus('RTP against tshark -z rtp,streams', () => {
  for (const c of ['peafowl/rtp', 'ndpi/rtp']) {
    it(c, async () => {
      const streams = rtpStreams(c);
      expect(streams.length).toBeGreaterThan(0);
      const { report } = await eventsOf(casePath(c));
      for (const s of streams) {
        if (s.payload === 'rtpevent') continue; // RFC 4733 events inside a voice stream: counted with it
        const flow = report.flows.find((f) => [`${f.orig.ip}:${f.orig.port}`, `${f.resp.ip}:${f.resp.port}`].includes(s.src) && [`${f.orig.ip}:${f.orig.port}`, `${f.resp.ip}:${f.resp.port}`].includes(s.dst) && f.proto === 'udp');
        expect(flow, `${s.src} -> ${s.dst}`).toBeDefined();
        expect(flow!.app, `${s.src} -> ${s.dst}`).toBe('rtp');
        const rtp = (flow!.protocol as { rtp: { ssrcs: number[]; payloadTypes: number[] } }).rtp;
        expect(rtp.ssrcs, `${s.src}`).toContain(s.ssrc);
        const pt = /^RTPType-(\d+)$/.exec(s.payload);
        if (pt) expect(rtp.payloadTypes).toContain(Number(pt[1]));
        if (s.payload === 'g711U') expect(rtp.payloadTypes).toContain(0);
      }
    });
  }
});

describeCorpus('IoT and camera protocols', () => {
  it('Tuya LAN discovery: the 13 flows nDPI labels TuyaLP, decrypted to device ids', async () => {
    const ndpi = fs.readFileSync(path.join(CORPUS, 'ndpi/tuya-lp/ndpiReader.tuya_lp.pcap.out'), 'utf8');
    const theirs = ndpi.split('\n').filter((l) => /^\s+\d+\s+UDP .*TuyaLP/.test(l)).length;
    const { report, events } = await eventsOf(casePath('ndpi/tuya-lp'));
    const tuya = report.flows.filter((f) => f.app === 'tuya');
    expect(tuya.length).toBe(theirs);
    for (const f of tuya) {
      const t = (f.protocol as { tuya: { gwId: string; productKey: string; version: string } }).tuya;
      expect(t.gwId).toMatch(/^[0-9a-z]{20,22}$/);
      expect(t.productKey).toMatch(/^[0-9a-zA-Z]{16}$/);
      expect(t.version).toBe('3.3');
    }
    expect(events.filter((e) => e.type === 'tuya').every((e) => (e.tuya as { encrypted: boolean }).encrypted)).toBe(true);
  });

  it('CS2 PPPP: the PunchPkt vector published by cam-reverse gives device id BATD156362WONJM', () => {
    const b = Buffer.from('f14100144241544400000000000262ca574f4e4a4d000000', 'hex');
    expect(looksLikePppp(b, 0, b.length)).toBe(true);
    expect(ppppDeviceId(b, 0, b.length)).toBe('BATD156362WONJM');
    expect(looksLikePppp(Buffer.from('f1410015', 'hex'), 0, 4)).toBe(false); // length must match
  });

  it('QUIC is recognised as encrypted (suricata-verify/ja4-tls-quic)', async () => {
    const { report } = await eventsOf(casePath('suricata-verify/ja4-tls-quic'));
    const quic = report.flows.find((f) => f.app === 'quic');
    expect(quic?.encrypted).toBe(true);
  });

  it('SSDP: server strings and locations kept (suricata-verify/sip-ssdp-pm is SSDP, not SIP)', async () => {
    const { report } = await eventsOf(casePath('suricata-verify/sip-ssdp-pm'));
    const s = (report.flows[0].protocol as { ssdp: { servers: string[]; locations: string[] } }).ssdp;
    expect(report.flows[0].app).toBe('ssdp');
    expect(s.servers[0]).toMatch(/MiniUPnPd\/1\.6$/);
    expect(s.locations).toEqual(['http://192.168.1.1:7406/rootDesc.xml']);
  });
});

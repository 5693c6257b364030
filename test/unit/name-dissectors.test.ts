/**
 * mDNS service facts, LLMNR, NetBIOS Name Service and CoAP on byte-exact packets: real-shaped
 * records (HomeKit, Google Cast, Matter, avahi workstation, a probe, a browsing laptop), the
 * malformed and truncated cases, and detection by content. The same pcap is read by tshark,
 * the independent oracle, when it is installed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCoap, parseLinkFormat, looksLikeCoap } from '../../daemon/protocols/coap/parser.js';
import { CoapFlow } from '../../daemon/protocols/coap/state.js';
import { DnsFlow } from '../../daemon/protocols/dns/state.js';
import { LlmnrFlow } from '../../daemon/protocols/llmnr/state.js';
import { decodeFirstLevel, parseNbns } from '../../daemon/protocols/netbios/parser.js';
import { NetbiosFlow } from '../../daemon/protocols/netbios/state.js';
import type { ProtocolEvent } from '../../daemon/protocols/events.js';
import type { AnalysisReport } from '../../daemon/report/types.js';
import { FakeContext } from '../fuzz/harness.js';
import { itCorpus } from '../helpers/corpus.js';
import { eventsOf } from '../helpers/events.js';
import { coapMessage, dnsMessage, nbAddress, nbName, nbnsPacket, nbstatData, rdata, type UdpDatagram, writeUdpPcap } from '../helpers/name-packets.js';
import { haveTool, tsharkFields } from '../helpers/tshark.js';

const MDNS = '224.0.0.251';
const RESPONSE = 0x8400;
const A = 1;
const PTR = 12;
const TXT = 16;
const SRV = 33;
const ANY = 255;
const FLUSH = 0x8001;

// The packets, each named for the tests below.
const hap = dnsMessage({
  flags: RESPONSE,
  answers: [{ name: '_hap._tcp.local', type: PTR, ttl: 4500, data: rdata.name(['Hue Bridge 3A1F', '_hap', '_tcp', 'local']) }],
  additionals: [
    { name: ['Hue Bridge 3A1F', '_hap', '_tcp', 'local'], type: SRV, cls: FLUSH, data: rdata.srv(0, 0, 8080, 'ecb5fa3a1f00.local') },
    { name: ['Hue Bridge 3A1F', '_hap', '_tcp', 'local'], type: TXT, cls: FLUSH, ttl: 4500, data: rdata.txt(['c#=2', 'ff=0', 'id=B7:7A:2E:3F:11:C2', 'md=BSB002', 'pv=1.1', 's#=1', 'sf=0', 'ci=2', 'sh=hgXQ2g==']) },
    { name: 'ecb5fa3a1f00.local', type: A, cls: FLUSH, data: rdata.a('10.0.0.5') },
  ],
});
// Google Cast answers with SRV and TXT only, no PTR in this packet.
const CAST = ['Chromecast-9b1f2e7c0a5d4e3f8a1b2c3d4e5f6a7b', '_googlecast', '_tcp', 'local'];
const cast = dnsMessage({
  flags: RESPONSE,
  answers: [
    { name: CAST, type: TXT, cls: FLUSH, ttl: 4500, data: rdata.txt(['id=9b1f2e7c0a5d4e3f8a1b2c3d4e5f6a7b', 'cd=5A8C3E1B2D4F6A7C9E0B1D3F5A7C9E1B', 'rm=', 've=05', 'md=Chromecast', 'ic=/setup/icon.png', 'fn=Living Room TV', 'ca=465413', 'st=0', 'bs=FA8FCA5D1E23', 'nf=1', 'rs=']) },
    { name: CAST, type: SRV, cls: FLUSH, data: rdata.srv(0, 0, 8009, '9b1f2e7c-0a5d-4e3f-8a1b-2c3d4e5f6a7b.local') },
  ],
});
// Matter: a commissionable node (_matterc._udp, RFC-shaped per Matter Core §4.3.1) and an operational one (_matter._tcp).
const matter = dnsMessage({
  flags: RESPONSE,
  answers: [
    { name: '_matterc._udp.local', type: PTR, data: rdata.name('9A3F2B1C0D4E5F60._matterc._udp.local') },
    { name: '9A3F2B1C0D4E5F60._matterc._udp.local', type: SRV, cls: FLUSH, data: rdata.srv(0, 0, 5540, 'B827EB123456.local') },
    { name: '9A3F2B1C0D4E5F60._matterc._udp.local', type: TXT, cls: FLUSH, data: rdata.txt(['D=3840', 'CM=1', 'VP=65521+32769', 'DT=266', 'DN=Smart Plug', 'SII=5000', 'SAI=300', 'T=1', 'PH=33']) },
    { name: '2906C908D115D362-8FC7772401CD0696._matter._tcp.local', type: SRV, cls: FLUSH, data: rdata.srv(0, 0, 5540, 'B827EB123456.local') },
    { name: '2906C908D115D362-8FC7772401CD0696._matter._tcp.local', type: TXT, cls: FLUSH, data: rdata.txt(['SII=5000', 'SAI=300', 'T=0']) },
  ],
});
// avahi's workstation record: "host [mac]", and a bare "[mac]" instance.
const workstation = dnsMessage({
  flags: RESPONSE,
  answers: [
    { name: '_workstation._tcp.local', type: PTR, data: rdata.name(['nas [00:11:22:33:44:55]', '_workstation', '_tcp', 'local']) },
    { name: '_workstation._tcp.local', type: PTR, data: rdata.name(['[00:11:22:33:44:55]', '_workstation', '_tcp', 'local']) },
    { name: ['nas [00:11:22:33:44:55]', '_workstation', '_tcp', 'local'], type: SRV, cls: FLUSH, data: rdata.srv(0, 0, 9, 'nas.local') },
    { name: 'nas.local', type: A, cls: FLUSH, data: rdata.a('10.0.0.9') },
    { name: '9.0.0.10.in-addr.arpa', type: PTR, cls: FLUSH, data: rdata.name('nas.local') },
  ],
});
// A printer whose TXT carries credentials, and an instance label with dots in it.
const printer = dnsMessage({
  flags: RESPONSE,
  answers: [
    { name: ['Office Printer v2.1', '_ipp', '_tcp', 'local'], type: TXT, data: rdata.txt(['txtvers=1', 'ty=ACME LaserJet 400', 'pw=hunter2', 'adminToken=abc123', 'user=jdoe', 'email=jdoe@example.com', 'Color=T', 'duplex', '']) },
    { name: ['Office Printer v2.1', '_ipp', '_tcp', 'local'], type: SRV, data: rdata.srv(0, 0, 631, 'office-printer.local') },
  ],
});
// A laptop browsing for printers: a PTR question and a known answer (another device's printer).
const browse = dnsMessage({
  flags: 0,
  questions: [
    { name: '_ipp._tcp.local', type: PTR },
    { name: '_printer._sub._http._tcp.local', type: PTR },
    { name: '_services._dns-sd._udp.local', type: PTR },
    { name: 'some-host.local', type: A },
  ],
  answers: [{ name: '_ipp._tcp.local', type: PTR, ttl: 4000, data: rdata.name(['Office Printer v2.1', '_ipp', '_tcp', 'local']) }],
});
// A probe (RFC 6762 §8.1): the proposed records in the Authority section.
const probe = dnsMessage({
  flags: 0,
  questions: [
    { name: ['Kitchen Speaker', '_raop', '_tcp', 'local'], type: ANY, cls: 0x8001 },
    { name: 'kitchen.local', type: ANY, cls: 0x8001 },
  ],
  authorities: [
    { name: ['Kitchen Speaker', '_raop', '_tcp', 'local'], type: SRV, data: rdata.srv(0, 0, 7000, 'kitchen.local') },
    { name: 'kitchen.local', type: A, data: rdata.a('10.0.0.11') },
  ],
});
const mdnsTruncated = hap.subarray(0, hap.length - 7);

const llmnrQuery = dnsMessage({ id: 0x4a21, flags: 0, questions: [{ name: 'desktop-7q2k', type: A }] });
const llmnrResponse = dnsMessage({ id: 0x4a21, flags: 0x8000, questions: [{ name: 'desktop-7q2k', type: A }], answers: [{ name: 'desktop-7q2k', type: A, ttl: 30, data: rdata.a('10.0.0.12') }] });
const llmnrTruncated = llmnrResponse.subarray(0, llmnrResponse.length - 3);

const nbQuery = nbnsPacket({ id: 0x8101, flags: 0x0110, question: { name: nbName('FILESERVER', 0x20), type: 0x20 } });
const nbPositive = nbnsPacket({ id: 0x8101, flags: 0x8500, answer: { name: nbName('FILESERVER', 0x20), type: 0x20, data: nbAddress(false, '10.0.0.20') } });
// A registration (§4.2.2): the Additional record names the question by a pointer to offset 12.
const nbRegistration = nbnsPacket({ id: 0x8102, flags: 0x2910, question: { name: nbName('LAPTOP-7', 0x00), type: 0x20 }, additional: { name: Buffer.from([0xc0, 0x0c]), type: 0x20, data: nbAddress(false, '10.0.0.21') } });
const nbGroupRegistration = nbnsPacket({ id: 0x8103, flags: 0x2910, question: { name: nbName('WORKGROUP', 0x00), type: 0x20 }, additional: { name: Buffer.from([0xc0, 0x0c]), type: 0x20, data: nbAddress(true, '10.0.0.21') } });
const nbstatQuery = nbnsPacket({ id: 0x8104, flags: 0x0000, question: { name: nbName('*', 0x00, 0x00), type: 0x21 } });
const nbstatResponse = nbnsPacket({
  id: 0x8104,
  flags: 0x8400,
  answer: {
    name: nbName('*', 0x00, 0x00),
    type: 0x21,
    ttl: 0,
    data: nbstatData(
      [
        { name: 'PRINTSRV', suffix: 0x00, group: false },
        { name: 'PRINTSRV', suffix: 0x20, group: false },
        { name: 'WORKGROUP', suffix: 0x00, group: true },
        { name: 'WORKGROUP', suffix: 0x1e, group: true },
      ],
      '00:1a:2b:3c:4d:5e',
    ),
  },
});
const nbBadEncoding = Buffer.from(nbQuery);
nbBadEncoding[13] = 0x5a; // 'Z' is not a first-level half-byte
const nbTruncated = nbstatResponse.subarray(0, 80);

const tok = Buffer.from('a1b2c3d4', 'hex');
const LINKS = '</sensors/temp>;rt="temperature-c";if="sensor";obs,</sensors/light>;rt="light-lux core.s";ct=0,</fw>;rt=firmware';
const coapGetCore = coapMessage(0, 1, 0x1001, tok, [
  [11, '.well-known'],
  [11, 'core'],
]);
const coapCore = coapMessage(2, 69, 0x1001, tok, [[12, 40]], LINKS);
const coapGetTemp = coapMessage(0, 1, 0x1002, Buffer.from([7]), [
  [3, 'sensor.local'],
  [6, 0],
  [11, 'sensors'],
  [11, 'temp'],
  [15, 'key=s3cr3t'],
  [15, 'unit=c'],
]);
const coapTemp = coapMessage(2, 69, 0x1002, Buffer.from([7]), [
  [6, 5],
  [12, 50],
], '{"t":21.5}');
// Block2 (RFC 7959): the link-format answer in two 64-byte blocks, and a 2-byte option extension (No-Response 258).
const LONG = `${LINKS},</a/very/long/resource/path/name>;rt="x.long"`;
const coapBlock0 = coapMessage(2, 69, 0x2001, Buffer.from([9]), [
  [12, 40],
  [23, 0x0a],
], LONG.slice(0, 64));
const coapBlock1 = coapMessage(2, 69, 0x2002, Buffer.from([9]), [
  [12, 40],
  [23, 0x1a],
], LONG.slice(64, 128));
const coapBlock2 = coapMessage(2, 69, 0x2003, Buffer.from([9]), [
  [12, 40],
  [23, 0x22],
], LONG.slice(128));
const coapNoResponse = coapMessage(1, 2, 0x3001, Buffer.alloc(0), [
  [11, 'events'],
  [258, 26],
], 'x');
const coapTkl9 = Buffer.from([0x49, 0x01, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
const coapMarkerOnly = Buffer.from([0x40, 0x01, 0x00, 0x02, 0xff]);
const coapNibble15 = Buffer.from([0x40, 0x01, 0x00, 0x03, 0xf1, 0x00]);
const coapPastEnd = Buffer.from([0x40, 0x01, 0x00, 0x04, 0xb5, 0x61, 0x62]);
const coapEmptyWithToken = Buffer.from([0x61, 0x00, 0x00, 0x05, 0x01]);

const LAPTOP = '10.232.9.7';
const DATAGRAMS: (UdpDatagram & { id: string })[] = [
  { id: 'hap', src: '10.0.0.5', dst: MDNS, sport: 5353, dport: 5353, payload: hap },
  { id: 'cast', src: '10.0.0.6', dst: MDNS, sport: 5353, dport: 5353, payload: cast },
  { id: 'matter', src: '10.0.0.7', dst: MDNS, sport: 5353, dport: 5353, payload: matter },
  { id: 'workstation', src: '10.0.0.9', dst: MDNS, sport: 5353, dport: 5353, payload: workstation },
  { id: 'printer', src: '10.0.0.10', dst: MDNS, sport: 5353, dport: 5353, payload: printer },
  { id: 'browse', src: LAPTOP, dst: MDNS, sport: 5353, dport: 5353, payload: browse },
  { id: 'probe', src: '10.0.0.11', dst: MDNS, sport: 5353, dport: 5353, payload: probe },
  { id: 'mdnsTruncated', src: '10.0.0.13', dst: MDNS, sport: 5353, dport: 5353, payload: mdnsTruncated },
  { id: 'llmnrQuery', src: LAPTOP, dst: '224.0.0.252', sport: 51000, dport: 5355, payload: llmnrQuery },
  { id: 'llmnrResponse', src: '10.0.0.12', dst: LAPTOP, sport: 5355, dport: 51000, payload: llmnrResponse },
  { id: 'llmnrTruncated', src: '10.0.0.12', dst: LAPTOP, sport: 5355, dport: 51001, payload: llmnrTruncated },
  { id: 'nbQuery', src: LAPTOP, dst: '10.0.0.255', sport: 137, dport: 137, payload: nbQuery },
  { id: 'nbPositive', src: '10.0.0.20', dst: LAPTOP, sport: 137, dport: 137, payload: nbPositive },
  { id: 'nbRegistration', src: '10.0.0.21', dst: '10.0.0.255', sport: 137, dport: 137, payload: nbRegistration },
  { id: 'nbGroupRegistration', src: '10.0.0.21', dst: '10.0.0.255', sport: 137, dport: 137, payload: nbGroupRegistration },
  { id: 'nbstatQuery', src: LAPTOP, dst: '10.0.0.22', sport: 40137, dport: 137, payload: nbstatQuery },
  { id: 'nbstatResponse', src: '10.0.0.22', dst: LAPTOP, sport: 137, dport: 40137, payload: nbstatResponse },
  { id: 'nbBadEncoding', src: '10.0.0.23', dst: '10.0.0.255', sport: 137, dport: 137, payload: nbBadEncoding },
  { id: 'nbTruncated', src: '10.0.0.22', dst: LAPTOP, sport: 137, dport: 40137, payload: nbTruncated },
  { id: 'coapGetCore', src: LAPTOP, dst: '10.0.0.30', sport: 45000, dport: 5683, payload: coapGetCore },
  { id: 'coapCore', src: '10.0.0.30', dst: LAPTOP, sport: 5683, dport: 45000, payload: coapCore },
  { id: 'coapGetTemp', src: LAPTOP, dst: '10.0.0.30', sport: 45000, dport: 5683, payload: coapGetTemp },
  { id: 'coapTemp', src: '10.0.0.30', dst: LAPTOP, sport: 5683, dport: 45000, payload: coapTemp },
  { id: 'coapBlock0', src: '10.0.0.31', dst: LAPTOP, sport: 5683, dport: 45001, payload: coapBlock0 },
  { id: 'coapBlock1', src: '10.0.0.31', dst: LAPTOP, sport: 5683, dport: 45001, payload: coapBlock1 },
  { id: 'coapBlock2', src: '10.0.0.31', dst: LAPTOP, sport: 5683, dport: 45001, payload: coapBlock2 },
  // CoAP on a port that is not 5683: found by content.
  { id: 'coapNoResponse', src: LAPTOP, dst: '10.0.0.32', sport: 45002, dport: 61616, payload: coapNoResponse },
  { id: 'coapTkl9', src: LAPTOP, dst: '10.0.0.33', sport: 45003, dport: 5683, payload: coapTkl9 },
  { id: 'coapMarkerOnly', src: LAPTOP, dst: '10.0.0.33', sport: 45003, dport: 5683, payload: coapMarkerOnly },
  { id: 'coapNibble15', src: LAPTOP, dst: '10.0.0.33', sport: 45003, dport: 5683, payload: coapNibble15 },
  { id: 'coapPastEnd', src: LAPTOP, dst: '10.0.0.33', sport: 45003, dport: 5683, payload: coapPastEnd },
  { id: 'coapEmptyWithToken', src: LAPTOP, dst: '10.0.0.33', sport: 45003, dport: 5683, payload: coapEmptyWithToken },
];
const frameOf = (id: string) => DATAGRAMS.findIndex((d) => d.id === id) + 1;

let pcap: string;
let events: ProtocolEvent[];
let report: AnalysisReport;

beforeAll(async () => {
  pcap = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-names-')), 'names.pcap');
  writeUdpPcap(pcap, DATAGRAMS);
  ({ events, report } = await eventsOf(pcap));
});

type Facts = Record<string, Record<string, unknown>>;
const factsOf = (key: string, src: string, sport?: number) =>
  report.flows.filter((f) => (f.orig.ip === src || f.resp.ip === src) && (sport === undefined || f.orig.port === sport || f.resp.port === sport)).map((f) => (f.protocol as Facts | null)?.[key]).find(Boolean) as Record<string, unknown>;
const eventAt = (id: string) => events.find((e) => e.frame === frameOf(id))!;

describe('mDNS: what a device offers, apart from what it looks for', () => {
  it('HomeKit: PTR, SRV, TXT (md, ci, id kept) and the A record that names the host', () => {
    const m = factsOf('mdns', '10.0.0.5');
    expect(m.offered).toEqual([{ service: '_hap._tcp.local', instance: 'Hue Bridge 3A1F', target: 'ecb5fa3a1f00.local', port: 8080, txt: ['c#=2', 'ff=0', 'id=B7:7A:2E:3F:11:C2', 'md=BSB002', 'pv=1.1', 's#=1', 'sf=0', 'ci=2', 'sh=hgXQ2g=='] }]);
    expect(m.hosts).toEqual(['ecb5fa3a1f00.local']);
    expect([m.services, m.instances, m.models, m.browses, m.responder, m.querier]).toEqual([['_hap._tcp.local'], ['Hue Bridge 3A1F._hap._tcp.local'], ['md=BSB002'], [], 'orig', null]);
  });

  it('Google Cast: SRV and TXT without PTR still make the service; id= and cd= are dropped', () => {
    const m = factsOf('mdns', '10.0.0.6');
    const [s] = m.offered as { service: string; instance: string; target: string; port: number; txt: string[] }[];
    expect([s.service, s.instance, s.target, s.port]).toEqual(['_googlecast._tcp.local', 'Chromecast-9b1f2e7c0a5d4e3f8a1b2c3d4e5f6a7b', '9b1f2e7c-0a5d-4e3f-8a1b-2c3d4e5f6a7b.local', 8009]);
    expect(s.txt).toEqual(['id=<redacted>', 'cd=<redacted>', 'rm=', 've=05', 'md=Chromecast', 'ic=/setup/icon.png', 'fn=Living Room TV', 'ca=465413', 'st=0', 'bs=FA8FCA5D1E23', 'nf=1', 'rs=']);
    expect(m.models).toEqual(['md=Chromecast']);
    expect(JSON.stringify(events)).not.toContain('9b1f2e7c0a5d4e3f8a1b2c3d4e5f6a7b"'); // the TXT id in the events is redacted too
  });

  it('Matter: commissionable (_matterc._udp) and operational (_matter._tcp) nodes with VP, DT, DN', () => {
    const m = factsOf('mdns', '10.0.0.7');
    expect(m.offered).toEqual([
      { service: '_matterc._udp.local', instance: '9A3F2B1C0D4E5F60', target: 'B827EB123456.local', port: 5540, txt: ['D=3840', 'CM=1', 'VP=65521+32769', 'DT=266', 'DN=Smart Plug', 'SII=5000', 'SAI=300', 'T=1', 'PH=33'] },
      { service: '_matter._tcp.local', instance: '2906C908D115D362-8FC7772401CD0696', target: 'B827EB123456.local', port: 5540, txt: ['SII=5000', 'SAI=300', 'T=0'] },
    ]);
    expect(m.hosts).toEqual(['B827EB123456.local']);
  });

  it('a bracketed MAC address is no host name: the host is the A owner and the SRV target', () => {
    const m = factsOf('mdns', '10.0.0.9');
    expect((m.offered as { instance: string }[]).map((o) => o.instance)).toEqual(['nas [00:11:22:33:44:55]', '[00:11:22:33:44:55]']);
    expect(m.instances).toEqual(['nas [00:11:22:33:44:55]._workstation._tcp.local']);
    expect(m.hosts).toEqual(['nas.local']);
  });

  it('TXT: credentials and personal identifiers are said present, never kept; labels keep their dots', () => {
    const m = factsOf('mdns', '10.0.0.10');
    expect(m.offered).toEqual([{ service: '_ipp._tcp.local', instance: 'Office Printer v2.1', target: 'office-printer.local', port: 631, txt: ['txtvers=1', 'ty=ACME LaserJet 400', 'pw=<redacted>', 'adminToken=<redacted>', 'user=<redacted>', 'email=<redacted>', 'Color=T', 'duplex'] }]);
    expect(m.models).toEqual(['ty=ACME LaserJet 400']);
    const all = JSON.stringify(events) + JSON.stringify(report);
    for (const secret of ['hunter2', 'abc123', 'jdoe']) expect(all).not.toContain(secret);
  });

  it('a laptop that browses for printers offers nothing: its questions and known answers are browses', () => {
    const m = factsOf('mdns', LAPTOP, 5353);
    expect([m.offered, m.services, m.instances, m.models, m.hosts]).toEqual([[], [], [], [], []]);
    expect(m.browses).toEqual(['_ipp._tcp.local', '_http._tcp.local', '_services._dns-sd._udp.local']);
    expect([m.querier, m.responder]).toEqual(['orig', null]);
  });

  it('a probe names the prober: its Authority records are its own, its questions are no search', () => {
    const m = factsOf('mdns', '10.0.0.11');
    expect(m.offered).toEqual([{ service: '_raop._tcp.local', instance: 'Kitchen Speaker', target: 'kitchen.local', port: 7000, txt: [] }]);
    expect(m.hosts).toEqual(['kitchen.local']);
    expect(m.browses).toEqual([]);
  });

  it('a truncated response is counted malformed', () => {
    expect(factsOf('mdns', '10.0.0.13').malformed).toBe(1);
    expect(eventAt('mdnsTruncated').type).toBe('anomaly');
  });

  it('bounds: at most 20 services, 16 TXT strings each cut at 128 characters', () => {
    const f = new DnsFlow(new FakeContext(5353, 5353), 'mdns', null);
    const answers = Array.from({ length: 25 }, (_, i) => ({ name: [`Dev ${i}`, '_x', '_tcp', 'local'], type: TXT, data: rdata.txt(Array.from({ length: 20 }, (_, k) => `k${k}=${'v'.repeat(200)}`)) }));
    const b = dnsMessage({ flags: RESPONSE, answers });
    f.datagram(0, b, 0, b.length);
    const offered = f.f.offered!;
    expect(offered.length).toBe(20);
    expect(offered[0].txt.length).toBe(16);
    expect(offered[0].txt[0].length).toBe(128);
  });
});

describe('LLMNR (RFC 4795)', () => {
  it('its own app: the querier asks, the responder answers for its own name', () => {
    const q = report.flows.find((f) => f.resp.port === 5355)!;
    const r = report.flows.find((f) => f.orig.port === 5355 && f.resp.port === 51000)!;
    expect([q.app, r.app]).toEqual(['llmnr', 'llmnr']);
    expect((q.protocol as Facts).llmnr).toEqual({ queries: ['desktop-7q2k'], answers: [], malformed: 0, responder: null, querier: 'orig' });
    expect((r.protocol as Facts).llmnr).toEqual({ queries: [], answers: ['desktop-7q2k'], malformed: 0, responder: 'orig', querier: null });
    expect(eventAt('llmnrResponse').llmnr).toMatchObject({ id: 0x4a21, response: true, conflict: false, tentative: false, answers: [{ name: 'desktop-7q2k', type: 'A', data: '10.0.0.12' }] });
  });

  it('a truncated response is malformed', () => {
    const f = report.flows.find((x) => x.resp.port === 51001)!;
    expect(((f.protocol as Facts).llmnr as { malformed: number }).malformed).toBe(1);
  });

  it('over TCP, framed like DNS', () => {
    const f = new LlmnrFlow(new FakeContext(50000, 5355));
    const framed = Buffer.concat([Buffer.from([0, llmnrResponse.length]), llmnrResponse]);
    f.data(1, framed, 0, 5);
    f.data(1, framed, 5, framed.length - 5);
    expect(f.f.answers).toEqual(['desktop-7q2k']);
  });
});

describe('NetBIOS Name Service (RFC 1002)', () => {
  it('first-level encoding: 32 letters A-P, two per byte, 15 characters and a suffix', () => {
    expect(decodeFirstLevel('EGEJEMEFFDEFFCFGEFFCCACACACACACA')).toEqual({ name: 'FILESERVER', suffix: 0x20 });
    expect(decodeFirstLevel('CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toEqual({ name: '*', suffix: 0 });
    expect(decodeFirstLevel('EGEJEMEFFDEFFCFGEFFCCACACACACAC')).toBeNull();
    expect(decodeFirstLevel('ZZEJEMEFFDEFFCFGEFFCCACACACACACA')).toBeNull();
  });

  it('a registration names the sender (the Additional record by a pointer); the group flag is kept', () => {
    const n = factsOf('netbios', '10.0.0.21');
    expect(n.names).toEqual([
      { name: 'LAPTOP-7', suffix: 0, group: false },
      { name: 'WORKGROUP', suffix: 0, group: true },
    ]);
    expect([n.hosts, n.queried, n.owner]).toEqual([['LAPTOP-7'], [], 'orig']);
    expect(eventAt('nbRegistration').netbios).toMatchObject({ opcode: 'registration', broadcast: true, questions: [{ name: 'LAPTOP-7<00>', type: 'NB' }], additionals: [{ name: 'LAPTOP-7<00>', addresses: [{ address: '10.0.0.21', group: false, ont: 0 }] }] });
  });

  it('query and positive response: the querier looks for a name, the responder owns it', () => {
    const q = report.flows.find((f) => f.orig.ip === LAPTOP && f.resp.port === 137 && f.resp.ip === '10.0.0.255')!;
    expect((q.protocol as Facts).netbios).toMatchObject({ names: [], queried: ['FILESERVER<20>'], querier: 'orig' });
    const r = factsOf('netbios', '10.0.0.20');
    expect([r.names, r.hosts, r.owner]).toEqual([[{ name: 'FILESERVER', suffix: 0x20, group: false }], ['FILESERVER'], 'orig']);
  });

  it('node status: the answer lists the responder names, its unit id is the MAC', () => {
    const n = factsOf('netbios', '10.0.0.22');
    expect(n.names).toEqual([
      { name: 'PRINTSRV', suffix: 0, group: false },
      { name: 'PRINTSRV', suffix: 0x20, group: false },
      { name: 'WORKGROUP', suffix: 0, group: true },
      { name: 'WORKGROUP', suffix: 0x1e, group: true },
    ]);
    expect([n.hosts, n.queried, n.owner, n.querier, n.malformed]).toEqual([['PRINTSRV'], ['*<00>'], 'resp', 'orig', 1]);
    expect((eventAt('nbstatResponse').netbios as { answers: { unitId: string }[] }).answers[0].unitId).toBe('00:1a:2b:3c:4d:5e');
  });

  it('malformed: a name not in first-level encoding, NBSTAT names past their record', () => {
    expect(() => parseNbns(nbBadEncoding, 0, nbBadEncoding.length)).toThrow(/first-level/);
    expect(() => parseNbns(nbTruncated, 0, nbTruncated.length)).toThrow(/past/);
    expect(() => parseNbns(nbQuery, 0, 30)).toThrow();
    const f = new NetbiosFlow(new FakeContext(137, 137));
    f.datagram(0, Buffer.alloc(5), 0, 5);
    expect(f.f.malformed).toBe(1);
  });
});

describe('CoAP (RFC 7252)', () => {
  it('GET /.well-known/core and its CoRE Link Format answer: links and resource types', () => {
    const c = factsOf('coap', '10.0.0.30');
    expect(c).toMatchObject({
      methods: ['GET', '2.05'],
      paths: ['/.well-known/core', '/sensors/temp'],
      queries: ['key=<redacted>', 'unit=c'],
      uriHosts: ['sensor.local'],
      contentFormats: [40, 50],
      resourceTypes: ['temperature-c', 'light-lux', 'core.s', 'firmware'],
      links: ['/sensors/temp', '/sensors/light', '/fw'],
      observe: true,
      server: 'resp',
      client: 'orig',
      malformed: 0,
    });
    expect(JSON.stringify(events)).not.toContain('s3cr3t');
  });

  it('a link-format answer in Block2 blocks is put back together', () => {
    const c = factsOf('coap', '10.0.0.31');
    expect(c.links).toEqual(['/sensors/temp', '/sensors/light', '/fw', '/a/very/long/resource/path/name']);
    expect(c.resourceTypes).toContain('x.long');
    expect(eventAt('coapBlock1').coap).toMatchObject({ block2: { num: 1, more: true, size: 64 } });
  });

  it('found by content on another port; the 2-byte option extension (No-Response, 258)', () => {
    const f = report.flows.find((x) => x.resp.port === 61616)!;
    expect(f.app).toBe('coap');
    expect(eventAt('coapNoResponse').coap).toMatchObject({ type: 'NON', code: '0.02', method: 'POST', options: ['Uri-Path', 'No-Response'], payloadLength: 1 });
  });

  it('malformed: TKL 9, a marker without payload, nibble 15, an option past the end, an Empty with a token', () => {
    for (const [b, why] of [
      [coapTkl9, /token length 9/],
      [coapMarkerOnly, /payload marker/],
      [coapNibble15, /nibble 15/],
      [coapPastEnd, /past the message/],
      [coapEmptyWithToken, /empty message/],
    ] as const) {
      expect(() => parseCoap(b, 0, b.length)).toThrow(why);
    }
    const f = report.flows.find((x) => x.orig.port === 45003)!;
    // The first (TKL 9) is no CoAP at all; the rest reach the flow's parser as malformed.
    expect(((f.protocol as Facts).coap as { malformed: number }).malformed).toBe(4);
  });

  it('detection: lenient on 5683, strict elsewhere, never a DNS, STUN or RTP packet', () => {
    expect(looksLikeCoap(coapGetCore, 0, coapGetCore.length, true)).toBe(true);
    const unknownOption = coapMessage(0, 1, 1, Buffer.alloc(0), [[2, 'x']]);
    expect(looksLikeCoap(unknownOption, 0, unknownOption.length, false)).toBe(true);
    expect(looksLikeCoap(unknownOption, 0, unknownOption.length, true)).toBe(false);
    const stun = Buffer.from('000100002112a442000102030405060708090a0b', 'hex');
    const rtp = Buffer.from('80e0000100000001deadbeef00000000', 'hex');
    for (const b of [stun, rtp, llmnrQuery, Buffer.from([0x40, 0x00, 0, 1])]) expect(looksLikeCoap(b, 0, b.length, true)).toBe(false);
  });

  it('link format: quoted values, escapes, bare attributes, a cut last link', () => {
    expect(parseLinkFormat('</a>;rt="x y";title="say \\"hi\\"";obs,</b>;ct=40,</c')).toEqual([
      { uri: '/a', params: Object.assign(Object.create(null), { rt: 'x y', title: 'say "hi"', obs: '' }) },
      { uri: '/b', params: Object.assign(Object.create(null), { ct: '40' }) },
    ]);
  });

  it('the parser state alone: requests and answers on one flow', () => {
    const f = new CoapFlow(new FakeContext(45000, 5683));
    f.datagram(0, coapGetCore, 0, coapGetCore.length);
    f.datagram(1, coapCore, 0, coapCore.length);
    expect([f.f.server, f.f.client, f.f.links.length]).toEqual(['resp', 'orig', 3]);
  });
});

describe.skipIf(!haveTool('tshark'))('the same packets read by tshark', () => {
  const rows = () => tsharkFields(pcap, ['frame.number', '_ws.col.Protocol'], ['-d', 'udp.port==61616,coap']);
  it('tshark names each protocol as we do', () => {
    const proto = new Map(rows().map((r) => [Number(r[0]), r[1]]));
    for (const id of ['hap', 'cast', 'matter', 'workstation', 'printer', 'browse', 'probe']) expect(proto.get(frameOf(id)), id).toBe('MDNS');
    for (const id of ['llmnrQuery', 'llmnrResponse']) expect(proto.get(frameOf(id)), id).toBe('LLMNR');
    for (const id of ['nbQuery', 'nbPositive', 'nbRegistration', 'nbstatQuery', 'nbstatResponse']) expect(proto.get(frameOf(id)), id).toBe('NBNS');
    for (const id of ['coapGetCore', 'coapCore', 'coapGetTemp', 'coapTemp', 'coapBlock0', 'coapNoResponse']) expect(proto.get(frameOf(id)), id).toMatch(/^CoAP/);
  });

  it('mDNS and LLMNR: names, TXT strings and SRV fields as in our events (secrets aside)', () => {
    const t = tsharkFields(pcap, ['frame.number', 'dns.qry.name', 'dns.resp.name', 'dns.txt', 'dns.srv.port', 'dns.srv.target', 'dns.a', 'dns.srv.service', 'dns.srv.proto', 'dns.srv.name']);
    for (const id of ['hap', 'cast', 'matter', 'workstation', 'printer', 'browse', 'probe', 'llmnrQuery', 'llmnrResponse']) {
      const row = t.find((r) => Number(r[0]) === frameOf(id))!;
      const e = eventAt(id);
      const d = (e.mdns ?? e.llmnr) as { questions: { name: string }[]; answers: { name: string; type: string; data: unknown }[]; authorities: { name: string; type: string; data: unknown }[]; additionals: { name: string; type: string; data: unknown }[] };
      const all = [...d.answers, ...d.authorities, ...d.additionals];
      // tshark -T fields lists some repeated values once (dns.resp.name): compare distinct values, in order.
      const uniq = (xs: unknown[]) => [...new Set(xs.map(String))].join(',');
      const u = (field: string) => uniq(field === '' ? [] : field.split(','));
      expect(uniq(d.questions.map((q) => q.name)), `${id} qname`).toBe(u(row[1]));
      // tshark splits an SRV owner into service (our instance label), protocol and name.
      expect(uniq(all.filter((r) => r.type !== 'SRV').map((r) => r.name)), `${id} rr names`).toBe(u(row[2]));
      const srvOwners = row[7] ? row[7].split(',').map((x, i) => `${x}.${row[8].split(',')[i]}.${row[9].split(',')[i]}`) : [];
      expect(uniq(all.filter((r) => r.type === 'SRV').map((r) => r.name)), `${id} SRV owners`).toBe(uniq(srvOwners));
      const offered = ((factsOf(e.type, e.src.ip) ?? {}).offered ?? []) as { instance: string | null }[];
      // tshark cuts the owner at its first dots: an instance label holding a dot (RFC 6763 §4.3
      // allows it) is split wrongly there, so only dot-free labels are compared.
      if (row[7]) for (const inst of row[7].split(',')) if (!offered.some((o) => o.instance?.includes('.'))) expect(offered.map((o) => o.instance), `${id} instance`).toContain(inst);
      if (id === 'printer') expect([row[7], offered[0].instance]).toEqual(['Office Printer v2', 'Office Printer v2.1']);
      // tshark prints the raw strings; ours are the same but for the values we redact.
      const txt = all.filter((r) => r.type === 'TXT').flatMap((r) => r.data as string[]);
      const theirs = (row[3] === '' ? [] : row[3].split(',')).map((s, i) => (txt[i]?.endsWith('=<redacted>') ? txt[i] : s));
      expect(uniq(txt.filter((s) => s !== '')), `${id} txt`).toBe(uniq(theirs.filter((s) => s !== '')));
      const srv = all.filter((r) => r.type === 'SRV').map((r) => (r.data as string).split(' '));
      expect(uniq(srv.map((x) => x[2])), `${id} srv port`).toBe(u(row[4]));
      expect(uniq(srv.map((x) => x[3])), `${id} srv target`).toBe(u(row[5]));
      expect(uniq(all.filter((r) => r.type === 'A').map((r) => r.data)), `${id} A`).toBe(u(row[6]));
    }
  });

  it('NetBIOS: names with suffixes, NB flags and addresses, NBSTAT names and unit id', () => {
    const t = tsharkFields(pcap, ['frame.number', 'nbns.name', 'nbns.addr', 'nbns.flags.opcode', 'nbns.flags.response', 'nbns.unit_id', 'nbns.count.queries', 'nbns.count.answers', 'nbns.count.add_rr', 'nbns.netbios_name', 'nbns.name_flags.group']);
    for (const id of ['nbQuery', 'nbPositive', 'nbRegistration', 'nbGroupRegistration', 'nbstatQuery', 'nbstatResponse']) {
      const row = t.find((r) => Number(r[0]) === frameOf(id))!;
      const n = eventAt(id).netbios as { response: boolean; opcode: string; counts: Record<string, number>; questions: { name: string }[]; answers: { name: string; addresses?: { address: string }[]; names?: { name: string }[]; unitId?: string }[]; additionals: { name: string; addresses?: { address: string }[] }[] };
      const names = [...n.questions.map((q) => q.name), ...[...n.answers, ...n.additionals].map((r) => r.name)];
      // tshark writes "NAME<xx>" and, for a name padded with NULs, "*<00><00>...": compare the NAME<xx> heads.
      const uniq = (xs: string[]) => [...new Set(xs)];
      expect(uniq(row[1].split(',').map((x) => x.replace(/^(.*?<[0-9a-f]{2}>).*$/, '$1'))), `${id} names`).toEqual(uniq(names));
      const status = n.answers.flatMap((r) => (r as { names?: { name: string; group: boolean }[] }).names ?? []);
      if (row[9]) {
        expect(status.map((x) => x.name.replace(/<..>$/, '')), `${id} NBSTAT names`).toEqual(row[9].split(','));
        expect(status.map((x) => (x.group ? '1' : '0')), `${id} NBSTAT groups`).toEqual(row[10].split(','));
      }
      expect([...n.answers, ...n.additionals].flatMap((r) => (r.addresses ?? []).map((a) => a.address)).join(','), `${id} addr`).toBe(row[2]);
      expect(n.response, `${id} response`).toBe(row[4] === 'True' || row[4] === '1');
      expect({ query: 0, registration: 5 }[n.opcode], `${id} opcode`).toBe(Number(row[3]));
      if (row[5]) expect(n.answers[0].unitId, `${id} unit id`).toBe(row[5]);
      expect([n.counts.questions, n.counts.answers, n.counts.additionals].join(','), `${id} counts`).toBe([row[6], row[7], row[8]].join(','));
    }
  });

  it('CoAP: type, code, token length, message id, Uri-Path, Content-Format, Block2', () => {
    const t = tsharkFields(pcap, ['frame.number', 'coap.type', 'coap.code', 'coap.token_len', 'coap.mid', 'coap.opt.uri_path', 'coap.opt.block_number', 'coap.opt.uri_host', 'coap.opt.observe'], ['-d', 'udp.port==61616,coap']);
    for (const id of ['coapGetCore', 'coapCore', 'coapGetTemp', 'coapTemp', 'coapBlock0', 'coapBlock1', 'coapBlock2', 'coapNoResponse']) {
      const row = t.find((r) => Number(r[0]) === frameOf(id))!;
      const c = eventAt(id).coap as { type: string; code: string; tokenLength: number; messageId: number; uriPath: string | null; block2: { num: number } | null; uriHost: string | null; observe: number | null };
      expect(['CON', 'NON', 'ACK', 'RST'][Number(row[1])], `${id} type`).toBe(c.type);
      const code = Number(row[2]);
      expect(`${code >> 5}.${String(code & 31).padStart(2, '0')}`, `${id} code`).toBe(c.code);
      expect([Number(row[3]), Number(row[4])], `${id} tkl, mid`).toEqual([c.tokenLength, c.messageId]);
      if (row[5]) expect(`/${row[5].split(',').join('/')}`, `${id} path`).toBe(c.uriPath);
      if (row[6]) expect(Number(row[6]), `${id} block`).toBe(c.block2?.num);
      if (row[7]) expect(row[7], `${id} host`).toBe(c.uriHost);
      if (row[8]) expect(Number(row[8]), `${id} observe`).toBe(c.observe);
    }
  });

  itCorpus('CoAP on the corpus (ndpi/coap-mqtt): every message tshark decodes, ours too, field for field', async () => {
    const { casePath } = await import('../helpers/corpus.js');
    const file = casePath('ndpi/coap-mqtt');
    const { events: ev } = await eventsOf(file);
    const t = tsharkFields(file, ['frame.number', 'coap.type', 'coap.code', 'coap.token_len', 'coap.mid', 'coap.opt.uri_path', 'coap.opt.ctype'], ['-d', 'udp.port==17500,coap', '-Y', 'coap']);
    expect(t.length).toBeGreaterThan(100);
    const byFrame = new Map(ev.filter((e) => e.type === 'coap').map((e) => [e.frame, e.coap as { type: string; code: string; tokenLength: number; messageId: number; uriPath: string | null; contentFormat: number | null }]));
    for (const row of t) {
      const c = byFrame.get(Number(row[0]));
      expect(c, `frame ${row[0]}`).toBeDefined();
      const code = Number(row[2]);
      expect([c!.type, c!.code, c!.tokenLength, c!.messageId], `frame ${row[0]}`).toEqual([['CON', 'NON', 'ACK', 'RST'][Number(row[1])], `${code >> 5}.${String(code & 31).padStart(2, '0')}`, Number(row[3]), Number(row[4])]);
      if (row[5]) expect(`/${row[5].split(',').join('/')}`, `frame ${row[0]} path`).toBe(c!.uriPath);
      if (row[6]) expect(c!.contentFormat, `frame ${row[0]} content format`).not.toBeNull();
    }
  });
});

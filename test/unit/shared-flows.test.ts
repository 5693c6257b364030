/**
 * Facts of shared broadcast and multicast flows belong to their sender. Several DHCP clients
 * share 0.0.0.0:68 -> 255.255.255.255:67, a server broadcasting its replies sends them all from
 * one address to 255.255.255.255:68, and a device that takes over another's address sends SSDP
 * and mDNS from the same 5-tuple. The captures are built byte by byte and read by tshark as the
 * oracle: per client MAC (chaddr, RFC 2131 §2) and per sender, the facts must say what tshark
 * reads in that sender's frames, and nothing of another's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../daemon/capture/reader.js';
import { Decoder } from '../../daemon/decode/decoder.js';
import { Decoded } from '../../daemon/decode/packet.js';
import { DhcpFlow, duidMac, MAX_DHCP_CLIENTS, type DhcpClientFacts, type DhcpFacts } from '../../daemon/protocols/dhcp/state.js';
import { DnsFlow, type MdnsFacts } from '../../daemon/protocols/dns/state.js';
import { LlmnrFlow, type LlmnrFacts } from '../../daemon/protocols/llmnr/state.js';
import { NetbiosFlow, type NetbiosFacts } from '../../daemon/protocols/netbios/state.js';
import type { DatagramParser, FlowContext } from '../../daemon/protocols/parser-types.js';
import { SsdpFlow, type SsdpFacts } from '../../daemon/protocols/ssdp/state.js';
import type { FlowRecord } from '../../daemon/report/types.js';
import { eventsOf } from '../helpers/events.js';
import { dnsMessage, rdata, writeUdpPcap, type UdpDatagram } from '../helpers/name-packets.js';
import { haveTool, tsharkFields } from '../helpers/tshark.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-shared-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const tshark = haveTool('tshark');

/** A DHCPv4 message (RFC 2131 §2) with its options (RFC 2132), Ethernet chaddr. */
function dhcp(m: { op: 1 | 2; xid: number; chaddr: string; yiaddr?: string; broadcast?: boolean; options: [number, Buffer | string | number[]][] }): Buffer {
  const b = Buffer.alloc(240);
  b[0] = m.op;
  b[1] = 1;
  b[2] = 6;
  b.writeUInt32BE(m.xid, 4);
  if (m.broadcast) b.writeUInt16BE(0x8000, 10);
  rdata.a(m.yiaddr ?? '0.0.0.0').copy(b, 16);
  Buffer.from(m.chaddr.split(':').map((x) => parseInt(x, 16))).copy(b, 28);
  b.writeUInt32BE(0x63825363, 236);
  const opts = m.options.map(([code, v]) => {
    const data = typeof v === 'string' ? Buffer.from(v) : Buffer.isBuffer(v) ? v : Buffer.from(v);
    return Buffer.concat([Buffer.from([code, data.length]), data]);
  });
  return Buffer.concat([b, ...opts, Buffer.from([255])]);
}

const A = { mac: '02:44:00:00:00:0a', host: 'kitchen-plug', vendor: 'udhcp 1.30.1', prl: [1, 3, 6, 12, 15, 28, 42] };
const B = { mac: '02:44:00:00:00:0b', host: 'DESKTOP-7Q2K', vendor: 'MSFT 5.0', prl: [1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252] };
const SERVER = '10.244.0.1';

/** Two clients' DORA interleaved on the shared flows; the server broadcasts (RFC 2131 §4.1). */
function twoClients(): UdpDatagram[] {
  const req = (c: typeof A, xid: number, type: number, extra: [number, Buffer | string | number[]][] = []): UdpDatagram => ({
    src: '0.0.0.0', dst: '255.255.255.255', sport: 68, dport: 67, srcMac: c.mac,
    payload: dhcp({ op: 1, xid, chaddr: c.mac, broadcast: true, options: [[53, [type]], [12, c.host], [60, c.vendor], [55, c.prl], ...extra] }),
  });
  const rep = (c: typeof A, xid: number, type: number, yiaddr: string): UdpDatagram => ({
    src: SERVER, dst: '255.255.255.255', sport: 67, dport: 68, srcMac: '02:44:00:00:00:01',
    payload: dhcp({ op: 2, xid, chaddr: c.mac, yiaddr, options: [[53, [type]], [54, rdata.a(SERVER)], [51, [0, 0, 14, 16]], [1, [255, 255, 255, 0]], [3, rdata.a(SERVER)]] }),
  });
  return [
    req(A, 0x1111, 1),
    req(B, 0x2222, 1),
    rep(A, 0x1111, 2, '10.244.0.101'),
    rep(B, 0x2222, 2, '10.244.0.102'),
    req(B, 0x2222, 3, [[50, rdata.a('10.244.0.102')], [54, rdata.a(SERVER)]]),
    req(A, 0x1111, 3, [[50, rdata.a('10.244.0.101')], [54, rdata.a(SERVER)]]),
    rep(B, 0x2222, 5, '10.244.0.102'),
    rep(A, 0x1111, 5, '10.244.0.101'),
  ];
}

const TYPES = ['', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM'];

interface TsharkClient {
  hostname: string | null;
  vendorClass: string | null;
  prl: number[] | null;
  requestedIp: string | null;
  assignedIp: string | null;
  types: Set<string>;
}

/** Per flow (src:port>dst:port) and per chaddr, what tshark reads in the DHCP frames. */
function tsharkDhcp(file: string): Map<string, Map<string, TsharkClient>> {
  const rows = tsharkFields(file, ['ip.src', 'udp.srcport', 'ip.dst', 'udp.dstport', 'dhcp.hw.mac_addr', 'dhcp.option.dhcp', 'dhcp.option.hostname', 'dhcp.option.vendor_class_id', 'dhcp.option.request_list_item', 'dhcp.option.requested_ip_address', 'dhcp.ip.your', 'dhcp.type'], ['-Y', 'dhcp']);
  const flows = new Map<string, Map<string, TsharkClient>>();
  for (const [src, sp, dst, dp, mac, type, host, vendor, prl, req, yi, op] of rows) {
    const key = `${src}:${sp}>${dst}:${dp}`;
    if (!flows.has(key)) flows.set(key, new Map());
    const clients = flows.get(key)!;
    if (!clients.has(mac)) clients.set(mac, { hostname: null, vendorClass: null, prl: null, requestedIp: null, assignedIp: null, types: new Set() });
    const c = clients.get(mac)!;
    c.types.add(TYPES[Number(type)]);
    if (op === '1') {
      if (host) c.hostname = host;
      if (vendor) c.vendorClass = vendor;
      if (prl) c.prl = prl.split(',').map(Number);
      if (req) c.requestedIp = req;
    } else if (type === '5') c.assignedIp = yi;
  }
  return flows;
}

const flowKey = (f: FlowRecord) => `${f.orig.ip}:${f.orig.port}>${f.resp.ip}:${f.resp.port}`;

describe.skipIf(!tshark)('DHCP: facts per client on shared broadcast flows (tshark as the oracle)', () => {
  const file = path.join(dir, 'dhcp-two-clients.pcap');
  writeUdpPcap(file, twoClients());

  it('each client on 0.0.0.0:68 > 255.255.255.255:67 and on the broadcast replies has its own facts, equal to what tshark reads for its chaddr', async () => {
    const oracle = tsharkDhcp(file);
    expect([...oracle.keys()].sort()).toEqual(['0.0.0.0:68>255.255.255.255:67', `${SERVER}:67>255.255.255.255:68`]);
    const { report } = await eventsOf(file);
    let compared = 0;
    for (const [key, clients] of oracle) {
      const flow = report.flows.find((f) => flowKey(f) === key)!;
      expect(flow, key).toBeDefined();
      const d = (flow.protocol as { dhcp: DhcpFacts }).dhcp;
      expect(d.clients.map((c) => c.mac).sort(), key).toEqual([...clients.keys()].sort());
      for (const [mac, t] of clients) {
        const c = d.clients.find((x) => x.mac === mac)!;
        const where = `${key} ${mac}`;
        expect(c.hostname, where).toBe(t.hostname);
        expect(c.vendorClass, where).toBe(t.vendorClass);
        expect(c.paramRequestList, where).toEqual(t.prl);
        expect(c.fingerprint, where).toBe(t.prl ? t.prl.join(',') : null);
        expect(c.requestedIp, where).toBe(t.requestedIp);
        expect(c.assignedIp, where).toBe(t.assignedIp);
        expect(new Set(c.messageTypes), where).toEqual(t.types);
        compared++;
      }
      // The flow-level fields are one client's, whole: never one's host name beside another's MAC.
      const first = d.clients.find((c) => c.mac === d.clientMac)!;
      expect([d.hostname, d.vendorClass, d.paramRequestList, d.assignedIp, d.requestedIp], key).toEqual([first.hostname, first.vendorClass, first.paramRequestList, first.assignedIp, first.requestedIp]);
    }
    expect(compared).toBe(4);
    // The requests' flow: the first client to speak is the flow-level one (A, then B spoke).
    const requests = report.flows.find((f) => flowKey(f) === '0.0.0.0:68>255.255.255.255:67')!;
    expect((requests.protocol as { dhcp: DhcpFacts }).dhcp.clientMac).toBe(A.mac);
    // The inventory (dhcpClient) still names both devices with their own host names.
    expect(report.devices.filter((x) => x.mac === A.mac || x.mac === B.mac).map((x) => [x.mac, x.hostname]).sort()).toEqual([
      [A.mac, A.host],
      [B.mac, B.host],
    ]);
  });

  it('bounded: 20 clients on one flow keep 16 entries and count the rest', async () => {
    const many: UdpDatagram[] = [];
    for (let i = 0; i < 20; i++) {
      const mac = `02:44:00:00:01:${i.toString(16).padStart(2, '0')}`;
      many.push({ src: '0.0.0.0', dst: '255.255.255.255', sport: 68, dport: 67, srcMac: mac, payload: dhcp({ op: 1, xid: 0x3000 + i, chaddr: mac, options: [[53, [1]], [12, `host-${i}`]] }) });
    }
    const f = path.join(dir, 'dhcp-many.pcap');
    writeUdpPcap(f, many);
    const rows = tsharkFields(f, ['dhcp.hw.mac_addr', 'dhcp.option.hostname'], ['-Y', 'dhcp']);
    expect(rows.length).toBe(20);
    const { report } = await eventsOf(f);
    const d = (report.flows[0].protocol as { dhcp: DhcpFacts }).dhcp;
    expect(d.clients.length).toBe(MAX_DHCP_CLIENTS);
    expect(d.unlistedMessages).toBe(20 - MAX_DHCP_CLIENTS);
    // The first 16 in capture order, each with its own name as tshark reads it.
    expect(d.clients.map((c) => [c.mac, c.hostname])).toEqual(rows.slice(0, MAX_DHCP_CLIENTS));
  });
});

/** A flow context whose stage knows the L2 source of the packet being parsed (ctx.senderMac). */
class Ctx implements FlowContext {
  mac = -1;
  events: string[] = [];
  constructor(
    readonly origPort: number,
    readonly respPort: number,
    private readonly ips: [string, string],
    withMac: boolean,
  ) {
    if (withMac) Object.assign(this, { senderMac: () => this.mac });
  }
  emit(type: string): void {
    this.events.push(type);
  }
  followAll(): void {}
  stop(): void {}
  ip(dir: number): string {
    return this.ips[dir];
  }
  answered(): void {}
  expect(): void {}
  expectedApp(): null {
    return null;
  }
  dhcpClient(): void {}
}

/**
 * Decodes a capture with our decoder and hands the UDP payloads of its first flow's two
 * directions to one parser, as the stage does, with the frame's source MAC as ctx.senderMac.
 */
async function feed(file: string, make: (ctx: Ctx) => DatagramParser, withMac: boolean): Promise<DatagramParser> {
  const decoder = new Decoder();
  let ctx: Ctx | null = null;
  let parser: DatagramParser | null = null;
  let orig = '';
  await readCapture(file, {
    packet(link, buf, off, caplen, wirelen, ts) {
      if (decoder.decode(link, buf, off, caplen, wirelen, ts) !== Decoded.Ip) return;
      const p = decoder.pkt;
      const src = `${p.src3 >>> 24}.${(p.src3 >>> 16) & 255}.${(p.src3 >>> 8) & 255}.${p.src3 & 255}`;
      const dst = `${p.dst3 >>> 24}.${(p.dst3 >>> 16) & 255}.${(p.dst3 >>> 8) & 255}.${p.dst3 & 255}`;
      if (!ctx) {
        orig = src;
        ctx = new Ctx(p.srcPort, p.dstPort, [src, dst], withMac);
        parser = make(ctx);
      }
      ctx.mac = p.srcMac;
      parser!.datagram(src === orig ? 0 : 1, p.buf, p.payloadOff, p.payloadLen);
    },
  });
  return parser!;
}

const notify = (server: string, nt: string, usn: string, location: string) =>
  Buffer.from(`NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\nLOCATION: ${location}\r\nNT: ${nt}\r\nNTS: ssdp:alive\r\nSERVER: ${server}\r\nUSN: ${usn}\r\n\r\n`);

const PLUG = { mac: '02:44:00:00:00:21', server: 'Linux/4.14 UPnP/1.0 AcmePlug/1.2', uuid: 'uuid:0b6f1c2e-0000-4000-8000-000000000021' };
const TV = { mac: '02:44:00:00:00:22', server: 'Linux/5.4 UPnP/1.0 AcmeTV/7.1', uuid: 'uuid:0b6f1c2e-0000-4000-8000-000000000022' };
const SHARED_IP = '10.244.0.50';

describe.skipIf(!tshark)('SSDP: facts per sender (tshark as the oracle)', () => {
  // A plug announces itself from 10.244.0.50:1900, leaves; a TV takes the address over and
  // announces from the same 5-tuple.
  const file = path.join(dir, 'ssdp-takeover.pcap');
  const frames: UdpDatagram[] = [];
  for (const nt of ['upnp:rootdevice', 'urn:schemas-upnp-org:device:Basic:1']) frames.push({ src: SHARED_IP, dst: '239.255.255.250', sport: 1900, dport: 1900, srcMac: PLUG.mac, payload: notify(PLUG.server, nt, `${PLUG.uuid}::${nt}`, `http://${SHARED_IP}:49152/plug.xml`) });
  for (const nt of ['upnp:rootdevice', 'urn:schemas-upnp-org:device:MediaRenderer:1']) frames.push({ src: SHARED_IP, dst: '239.255.255.250', sport: 1900, dport: 1900, srcMac: TV.mac, payload: notify(TV.server, nt, `${TV.uuid}::${nt}`, `http://${SHARED_IP}:8060/tv.xml`) });
  writeUdpPcap(file, frames);

  /** tshark's view of each NOTIFY: source MAC, SERVER, NT and USN (SSDP headers tshark leaves unnamed). */
  const oracle = () => {
    const by = new Map<string, { servers: Set<string>; nts: Set<string>; usns: Set<string>; locations: Set<string> }>();
    for (const [mac, server, unknown, location] of tsharkFields(file, ['eth.src', 'http.server', 'http.unknown_header', 'http.location'], ['-Y', 'ssdp'])) {
      if (!by.has(mac)) by.set(mac, { servers: new Set(), nts: new Set(), usns: new Set(), locations: new Set() });
      const s = by.get(mac)!;
      s.servers.add(server);
      s.locations.add(location);
      for (const h of unknown.split(',')) {
        const m = /^(NT|USN): (.*?)(\\r\\n)?$/.exec(h);
        if (m) (m[1] === 'NT' ? s.nts : s.usns).add(m[2]);
      }
    }
    return by;
  };

  it('with the sender MAC from the stage, each device has its own SERVER, NT, USN and LOCATION, as tshark reads them per source MAC', async () => {
    const t = oracle();
    expect([...t.keys()].sort()).toEqual([PLUG.mac, TV.mac]);
    const p = (await feed(file, (ctx) => new SsdpFlow(ctx), true)) as SsdpFlow;
    const f: SsdpFacts = p.facts().ssdp;
    expect(f.senders.map((s) => [s.mac, s.ip, s.side])).toEqual([
      [PLUG.mac, SHARED_IP, 'orig'],
      [TV.mac, SHARED_IP, 'orig'],
    ]);
    for (const s of f.senders) {
      const o = t.get(s.mac!)!;
      expect(new Set(s.servers), s.mac!).toEqual(o.servers);
      expect(new Set(s.notificationTypes), s.mac!).toEqual(o.nts);
      expect(new Set(s.usns), s.mac!).toEqual(o.usns);
      expect(new Set(s.locations), s.mac!).toEqual(o.locations);
      expect(s.methods).toEqual(['NOTIFY']);
      expect(s.messages).toBe(2);
    }
    // The flow-level lists stay the union, for the readers of the older form.
    expect(new Set(f.servers)).toEqual(new Set([PLUG.server, TV.server]));
  });

  it('through the engine the stage gives each packet\'s source MAC: the two devices of the one flow are two senders', async () => {
    const { report } = await eventsOf(file);
    const f = (report.flows.find((x) => x.app === 'ssdp')!.protocol as { ssdp: SsdpFacts }).ssdp;
    expect(f.senders.map((s) => [s.ip, s.mac, s.side, s.messages])).toEqual([
      [SHARED_IP, PLUG.mac, 'orig', 2],
      [SHARED_IP, TV.mac, 'orig', 2],
    ]);
    const t = oracle();
    for (const s of f.senders) expect(new Set(s.servers), s.mac!).toEqual(t.get(s.mac!)!.servers);
  });

  it('a search and the answers on one flow: the searcher and the device are two senders, each with what tshark reads from its address', async () => {
    const f2 = path.join(dir, 'ssdp-search.pcap');
    const search = Buffer.from('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\nUSER-AGENT: Acme/1.0 UPnP/1.1 Remote/2\r\n\r\n');
    const answer = Buffer.from(`HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\nLOCATION: http://10.244.0.60:8060/tv.xml\r\nSERVER: ${TV.server}\r\nST: upnp:rootdevice\r\nUSN: ${TV.uuid}::upnp:rootdevice\r\n\r\n`);
    writeUdpPcap(f2, [
      { src: '10.244.0.30', dst: '10.244.0.60', sport: 50123, dport: 1900, srcMac: '02:44:00:00:00:30', payload: search },
      { src: '10.244.0.60', dst: '10.244.0.30', sport: 1900, dport: 50123, srcMac: TV.mac, payload: answer },
    ]);
    const rows = tsharkFields(f2, ['ip.src', 'http.user_agent', 'http.server'], ['-Y', 'ssdp']);
    expect(rows).toEqual([
      ['10.244.0.30', 'Acme/1.0 UPnP/1.1 Remote/2', ''],
      ['10.244.0.60', '', TV.server],
    ]);
    const { report } = await eventsOf(f2);
    const f = (report.flows.find((x) => x.app === 'ssdp')!.protocol as { ssdp: SsdpFacts }).ssdp;
    for (const [ip, ua, server] of rows) {
      const s = f.senders.find((x) => x.ip === ip)!;
      expect(s.userAgents, ip).toEqual(ua ? [ua] : []);
      expect(s.servers, ip).toEqual(server ? [server] : []);
    }
  });
});

describe.skipIf(!tshark)('mDNS: facts per sender (tshark as the oracle)', () => {
  // Two devices, one after the other, answer from 10.244.0.70:5353 with their own services.
  const RESPONSE = 0x8400;
  const announce = (instance: string, host: string, model: string) =>
    dnsMessage({
      flags: RESPONSE,
      answers: [
        { name: '_hap._tcp.local', type: 12, data: rdata.name([instance, '_hap', '_tcp', 'local']) },
        { name: [instance, '_hap', '_tcp', 'local'], type: 33, cls: 0x8001, data: rdata.srv(0, 0, 8080, `${host}.local`) },
        { name: [instance, '_hap', '_tcp', 'local'], type: 16, cls: 0x8001, data: rdata.txt([`md=${model}`, 'c#=2']) },
        { name: `${host}.local`, type: 1, cls: 0x8001, data: rdata.a('10.244.0.70') },
      ],
    });
  const OLD = { mac: '02:44:00:00:00:31', instance: 'Hall Light', host: 'hall-light', model: 'LightA1' };
  const NEW = { mac: '02:44:00:00:00:32', instance: 'Garage Door', host: 'garage', model: 'DoorB2' };
  const file = path.join(dir, 'mdns-takeover.pcap');
  writeUdpPcap(file, [OLD, NEW].map((d) => ({ src: '10.244.0.70', dst: '224.0.0.251', sport: 5353, dport: 5353, srcMac: d.mac, payload: announce(d.instance, d.host, d.model) })));

  it('with the sender MAC, each device offers only its own instance, host and model, as tshark reads them per source MAC', async () => {
    const rows = tsharkFields(file, ['eth.src', 'dns.ptr.domain_name', 'dns.srv.target', 'dns.txt', 'dns.a'], ['-Y', 'mdns']);
    expect(rows.length).toBe(2);
    const p = (await feed(file, (ctx) => new DnsFlow(ctx, 'mdns', null), true)) as DnsFlow;
    const f = (p.facts() as { mdns: MdnsFacts }).mdns;
    expect(f.senders.map((s) => s.mac)).toEqual(rows.map((r) => r[0]));
    for (const [mac, ptr, target, txt] of rows) {
      const s = f.senders.find((x) => x.mac === mac)!;
      expect(s.instances, mac).toEqual([ptr]);
      expect(s.offered.map((o) => [`${o.instance}.${o.service}`, o.target, o.txt.join(',')]), mac).toEqual([[ptr, target, txt]]);
      expect(s.hosts, mac).toEqual([target]);
      expect(s.models, mac).toEqual(txt.split(',').filter((x) => x.startsWith('md=')));
      expect([s.responded, s.queried, s.ip, s.side], mac).toEqual([true, false, '10.244.0.70', 'orig']);
    }
    // Flow level: the union, responder side orig, as before.
    expect([f.instances.length, f.responder, f.querier]).toEqual([2, 'orig', null]);
  });

  it('a unicast query and its answer between two 5353 ports: the querier browses, the responder offers, each in its own entry', async () => {
    const f2 = path.join(dir, 'mdns-unicast.pcap');
    const query = dnsMessage({ flags: 0, questions: [{ name: '_hap._tcp.local', type: 12 }] });
    writeUdpPcap(f2, [
      { src: '10.244.0.80', dst: '10.244.0.70', sport: 5353, dport: 5353, srcMac: '02:44:00:00:00:80', payload: query },
      { src: '10.244.0.70', dst: '10.244.0.80', sport: 5353, dport: 5353, srcMac: NEW.mac, payload: announce(NEW.instance, NEW.host, NEW.model) },
    ]);
    const rows = tsharkFields(f2, ['ip.src', 'dns.flags.response', 'dns.qry.name', 'dns.ptr.domain_name'], ['-Y', 'mdns']);
    expect(rows).toEqual([
      ['10.244.0.80', '0', '_hap._tcp.local', ''],
      ['10.244.0.70', '1', '', `${NEW.instance}._hap._tcp.local`],
    ]);
    const { report } = await eventsOf(f2);
    const f = (report.flows.find((x) => x.app === 'mdns')!.protocol as { mdns: MdnsFacts }).mdns;
    const querier = f.senders.find((s) => s.ip === rows[0][0])!;
    const responder = f.senders.find((s) => s.ip === rows[1][0])!;
    expect([querier.side, querier.queried, querier.responded, querier.browses, querier.queries, querier.instances]).toEqual(['orig', true, false, ['_hap._tcp.local'], [rows[0][2]], []]);
    expect([responder.side, responder.queried, responder.responded, responder.browses, responder.instances]).toEqual(['resp', false, true, [], [rows[1][3]]]);
  });
});

describe('typed facts of the name and discovery flows', () => {
  it('facts() returns the exported interfaces under the protocol name', () => {
    const ctx = new Ctx(5355, 40000, ['10.244.0.5', '10.244.0.6'], false);
    const l: LlmnrFacts = new LlmnrFlow(ctx).facts().llmnr;
    const n: NetbiosFacts = new NetbiosFlow(ctx).facts().netbios;
    const d = new DhcpFlow(ctx, 'dhcpv6', null).facts();
    expect(Object.keys(d)).toEqual(['dhcpv6']);
    expect([l.responder, n.owner]).toEqual([null, null]);
  });

  it('DHCPv6 clients are keyed by DUID; a DUID-LLT or DUID-LL names the MAC (RFC 8415 §11.2, §11.4)', () => {
    expect(duidMac('000100012b8f3c4a02440000000a')).toBe('02:44:00:00:00:0a');
    expect(duidMac('0003000102440000000b')).toBe('02:44:00:00:00:0b');
    expect(duidMac('0002000000090c0c0c0c')).toBeNull(); // DUID-EN: no MAC inside
    const ctx = new Ctx(546, 547, ['fe80::44:ff:fe00:a', 'ff02::1:2'], false);
    const flow = new DhcpFlow(ctx, 'dhcpv6', null);
    // SOLICIT (RFC 8415 §16.2): type 1, transaction id, Client Identifier, ORO 23,24.
    const solicit = (duid: string) => {
      const id = Buffer.from(duid, 'hex');
      return Buffer.concat([Buffer.from([1, 0, 0, 7, 0, 1, 0, id.length]), id, Buffer.from([0, 6, 0, 4, 0, 23, 0, 24])]);
    };
    for (const duid of ['000100012b8f3c4a02440000000a', '0003000102440000000b']) {
      const m = solicit(duid);
      flow.datagram(0, m, 0, m.length);
    }
    const c: DhcpClientFacts[] = (flow.facts() as { dhcpv6: DhcpFacts }).dhcpv6.clients;
    expect(c.map((x) => [x.mac, x.fingerprint, x.messageTypes, x.requests])).toEqual([
      ['02:44:00:00:00:0a', '23,24', ['SOLICIT'], 1],
      ['02:44:00:00:00:0b', '23,24', ['SOLICIT'], 1],
    ]);
  });
});

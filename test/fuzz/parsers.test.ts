/**
 * Every dissector, fed mutated corpus payloads and random bytes, through the entry points the
 * engine uses: no exception escapes, every event serialises. Split into arbitrary chunks for the
 * stream parsers, so that messages cross segment boundaries anywhere. The whole engine gets
 * mutated corpus frames. FUZZ_RUNS sets the count (`npm run fuzz`: 100,000 per parser).
 */
import fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { Engine } from '../../daemon/analysis/engine.js';
import { DEFAULT_CONFIG } from '../../daemon/analysis/config.js';
import { DhcpFlow } from '../../daemon/protocols/dhcp/state.js';
import { DnsFlow } from '../../daemon/protocols/dns/state.js';
import { HttpSession } from '../../daemon/protocols/http/state.js';
import { MqttSession } from '../../daemon/protocols/mqtt/state.js';
import { LoginSession } from '../../daemon/protocols/login/state.js';
import type { DatagramParser, StreamParser } from '../../daemon/protocols/parser-types.js';
import { ppppFlow } from '../../daemon/protocols/pppp/state.js';
import { QuicFlow } from '../../daemon/protocols/quic/state.js';
import { RtpFlow } from '../../daemon/protocols/rtp/state.js';
import { RtspSession } from '../../daemon/protocols/rtsp/state.js';
import { SsdpFlow } from '../../daemon/protocols/ssdp/state.js';
import { StunFlow } from '../../daemon/protocols/stun/state.js';
import { TlsSession } from '../../daemon/protocols/tls/state.js';
import { TuyaFlow } from '../../daemon/protocols/tuya/state.js';
import { LlmnrFlow } from '../../daemon/protocols/llmnr/state.js';
import { NetbiosFlow } from '../../daemon/protocols/netbios/state.js';
import { CoapFlow } from '../../daemon/protocols/coap/state.js';
import { coapMessage, dnsMessage, nbAddress, nbName, nbnsPacket, nbstatData, rdata } from '../helpers/name-packets.js';
import { WsdFlow } from '../../daemon/protocols/wsd/state.js';
import { KasaFlow, KasaSession } from '../../daemon/protocols/kasa/state.js';
import { xorEncrypt } from '../../daemon/protocols/kasa/parser.js';
import { corpusSeeds, FakeContext, inputs, pick, RUNS, type Seeds } from './harness.js';
import { itCorpus } from '../helpers/corpus.js';

let seeds: Seeds;
beforeAll(async () => {
  seeds = await corpusSeeds();
}, 120_000);

const TIMEOUT = Math.max(60_000, RUNS * 5);

function streamProperty(make: (ctx: FakeContext) => StreamParser, ports: number[], extra: Buffer[] = []) {
  const chunks = fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 6 });
  fc.assert(
    fc.property(inputs([...pick(seeds.tcp, ports), ...extra]), chunks, fc.boolean(), (data, cuts, gap) => {
      const p = make(new FakeContext());
      let off = 0;
      for (let i = 0; off < data.length; i++) {
        const n = Math.min(cuts[i % cuts.length], data.length - off);
        p.data(i % 3 === 2 ? 1 : 0, data, off, n);
        if (gap && i === 1) p.gap(0, 10);
        off += n;
      }
      JSON.stringify(p.facts());
    }),
    { numRuns: RUNS },
  );
}

function datagramProperty(make: (ctx: FakeContext) => DatagramParser, ports: number[], extra: Buffer[] = []) {
  fc.assert(
    fc.property(fc.array(inputs([...pick(seeds.udp, ports), ...extra]), { minLength: 1, maxLength: 4 }), (datagrams) => {
      const p = make(new FakeContext(40000, ports[0] ?? 9));
      datagrams.forEach((d, i) => p.datagram(i & 1, d, 0, d.length));
      JSON.stringify(p.facts());
    }),
    { numRuns: RUNS },
  );
}

// Seeds for the discovery dissectors, which the corpus captures do not hold.
const WSD_SEEDS = [
  '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action></s:Header><s:Body><d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address>urn:uuid:1</a:Address></a:EndpointReference><d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>onvif://www.onvif.org/name/Cam%20One</d:Scopes><d:XAddrs>http://10.0.0.2/onvif/device_service</d:XAddrs></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>',
  '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsd="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01"><soap:Body><wsd:Probe><wsd:Types>wsdp:Device</wsd:Types></wsd:Probe></soap:Body></soap:Envelope>',
].map((x) => Buffer.from(x));
const KASA_SEEDS = ['{"system":{"get_sysinfo":{}}}', '{"system":{"get_sysinfo":{"model":"KP115(US)","alias":"a","mic_type":"IOT.SMARTPLUGSWITCH","hw_ver":"1.0","sw_ver":"1.0.17","err_code":0}}}'].map((x) => xorEncrypt(Buffer.from(x)));
const framed = (c: Buffer) => Buffer.concat([Buffer.from([0, 0, c.length >> 8, c.length & 255]), c]);
const TDP_SEEDS = [Buffer.from('020000010000000000000000463cb5d3', 'hex'), Buffer.concat([Buffer.from('02000001000000000000000000000000', 'hex'), Buffer.from('{"result":{"device_type":"SMART.TAPOPLUG","device_model":"P110(EU)"},"error_code":0}')])];
const UPNP_DESC = '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device><deviceType>urn:schemas-upnp-org:device:MediaRenderer:1</deviceType><friendlyName>TV</friendlyName><manufacturer>M</manufacturer><modelName>X</modelName><deviceList><device><deviceType>urn:x</deviceType></device></deviceList></device></root>';
const UPNP_SEEDS = [Buffer.from(`GET /desc.xml HTTP/1.1\r\nHost: a\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: ${UPNP_DESC.length}\r\n\r\n${UPNP_DESC}`)];

describe('fuzzing the dissectors', () => {
  it('MQTT', () => streamProperty((c) => new MqttSession(c), [1883, 17501]), TIMEOUT);
  it('TLS', () => streamProperty((c) => new TlsSession(c), [443, 4433]), TIMEOUT);
  it('HTTP and WebSocket', () => streamProperty((c) => new HttpSession(c), [80, 8000]), TIMEOUT);
  it('RTSP', () => streamProperty((c) => new RtspSession(c), [8554]), TIMEOUT);
  it('FTP, POP3, IMAP, SMTP and Telnet logins', () => {
    for (const p of ['ftp', 'pop3', 'imap', 'smtp', 'telnet'] as const) streamProperty((c) => new LoginSession(c, p), [21, 110, 143, 25, 23]);
  }, TIMEOUT);
  it('DNS over TCP', () => streamProperty((c) => DnsFlow.overTcp(c, c), [53, 1053]), TIMEOUT);
  it('DNS', () => datagramProperty((c) => new DnsFlow(c, 'dns', c), [53]), TIMEOUT);
  it('mDNS', () => datagramProperty((c) => new DnsFlow(c, 'mdns', null), [5353]), TIMEOUT);
  it('DHCP', () => datagramProperty((c) => new DhcpFlow(c, 'dhcp', c), [67, 68]), TIMEOUT);
  it('DHCPv6', () => datagramProperty((c) => new DhcpFlow(c, 'dhcpv6', null), [546, 547]), TIMEOUT);
  it('SSDP', () => datagramProperty((c) => new SsdpFlow(c), [1900, 32412]), TIMEOUT);
  it('STUN, Tuya, PPPP, QUIC', () => {
    datagramProperty((c) => new StunFlow(c), [3478]);
    datagramProperty((c) => new TuyaFlow(c), [6667, 6666]);
    datagramProperty((c) => new ppppFlow(c), [32100]);
    datagramProperty((c) => new QuicFlow(c), [443]);
  }, TIMEOUT);
  it('WS-Discovery', () => datagramProperty((c) => new WsdFlow(c), [3702], WSD_SEEDS), TIMEOUT);
  it('TP-Link Kasa over UDP, TCP and the 20002 discovery', () => {
    datagramProperty((c) => new KasaFlow(c, 'xor'), [9999], KASA_SEEDS);
    streamProperty((c) => new KasaSession(c), [9999], KASA_SEEDS.map(framed));
    datagramProperty((c) => new KasaFlow(c, 'tdp'), [20002], TDP_SEEDS);
  }, TIMEOUT);
  it('UPnP device descriptions in HTTP responses', () => streamProperty((c) => new HttpSession(c), [5000, 49152], UPNP_SEEDS), TIMEOUT);
  it('RTP and RTCP', () => datagramProperty((c) => new RtpFlow(c, null), [4376, 5000, 6000, 8000]), TIMEOUT);
  it('LLMNR', () => datagramProperty((c) => new LlmnrFlow(c), [5355, 53], [dnsMessage({ id: 7, flags: 0x8000, questions: [{ name: 'host-1', type: 1 }], answers: [{ name: 'host-1', type: 1, data: rdata.a('10.0.0.2') }] })]), TIMEOUT);
  it('NetBIOS name service', () => {
    const extra = [
      nbnsPacket({ id: 1, flags: 0x2910, question: { name: nbName('LAPTOP', 0), type: 0x20 }, additional: { name: Buffer.from([0xc0, 0x0c]), type: 0x20, data: nbAddress(false, '10.0.0.3') } }),
      nbnsPacket({ id: 2, flags: 0x8400, answer: { name: nbName('*', 0, 0), type: 0x21, data: nbstatData([{ name: 'NAS', suffix: 0x20, group: false }], '00:11:22:33:44:55') } }),
    ];
    datagramProperty((c) => new NetbiosFlow(c), [137], extra);
  }, TIMEOUT);
  it('CoAP', () => {
    const extra = [
      coapMessage(0, 1, 1, Buffer.from([1, 2]), [
        [11, '.well-known'],
        [11, 'core'],
      ]),
      coapMessage(2, 69, 1, Buffer.from([1, 2]), [
        [12, 40],
        [23, 0x0a],
      ], '</a>;rt="x y",</b>;if=s'),
    ];
    datagramProperty((c) => new CoapFlow(c), [5683, 17500], extra);
  }, TIMEOUT);

  itCorpus('the whole engine, on mutated frames of every link type', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: seeds.frames.length - 1 }), inputs([Buffer.alloc(0)]), fc.boolean()), { minLength: 1, maxLength: 20 }), (picks) => {
        const engine = new Engine({ ...DEFAULT_CONFIG, maxFlows: 64, maxDevices: 16 }, { events: (e) => void JSON.stringify(e), flowEnded: (r) => void JSON.stringify(r) });
        picks.forEach(([i, noise, mutate], n) => {
          const f = seeds.frames[i];
          let data = f.data;
          if (mutate && noise.length > 0) {
            data = Buffer.from(data);
            for (let k = 0; k < noise.length && k < 8; k++) data[(noise[k] * 7 + k) % data.length] = noise[noise.length - 1 - k];
          }
          engine.packet(f.link, data, 0, data.length, data.length + (n % 3 === 0 ? 0 : 4), 1_700_000_000 + n);
        });
        engine.finish();
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);
});

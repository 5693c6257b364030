/**
 * WS-Discovery, TP-Link Kasa and UPnP device descriptions, byte-exact: well-formed messages in
 * the forms the specifications and real devices use, then truncated and malformed ones, which
 * are counted and reported as anomalies, never thrown.
 */
import { describe, expect, it } from 'vitest';
import { HttpSession } from '../../daemon/protocols/http/state.js';
import { parseUpnpDescription } from '../../daemon/protocols/http/upnp.js';
import { looksLikeKasaTcp, looksLikeKasaUdp, looksLikeTdp, parseKasaJson, xorDecrypt, xorEncrypt } from '../../daemon/protocols/kasa/parser.js';
import { KasaFlow, KasaSession, type KasaFacts } from '../../daemon/protocols/kasa/state.js';
import type { FlowContext } from '../../daemon/protocols/parser-types.js';
import { looksLikeWsd, parseWsd, type WsdMessage } from '../../daemon/protocols/wsd/parser.js';
import { WsdFlow, type WsdFacts } from '../../daemon/protocols/wsd/state.js';

class Ctx implements FlowContext {
  events: { type: string; fields: Record<string, unknown>; dir: number }[] = [];
  constructor(
    readonly origPort = 40000,
    readonly respPort = 3702,
  ) {}
  emit(type: string, fields: Record<string, unknown> | (() => Record<string, unknown>), dir: number): void {
    const f = typeof fields === 'function' ? fields() : fields;
    JSON.stringify(f);
    this.events.push({ type, fields: f, dir });
  }
  followAll(): void {}
  stop(): void {}
  ip(dir: number): string {
    return dir === 0 ? '10.231.0.20' : '10.231.0.11';
  }
  answered(): void {}
  expect(): void {}
  senderMac(): number {
    return -1;
  }
  expectedApp(): null {
    return null;
  }
  anomalies(): string[] {
    return this.events.filter((e) => e.type === 'anomaly').map((e) => String(e.fields.event));
  }
}

// An ONVIF Probe (ONVIF Core Specification §7.3.1, WS-Discovery 2005/04 §5.2).
const PROBE = `<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header><a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action><a:MessageID>uuid:0a6dc791-2be6-4991-9af1-454778a1917a</a:MessageID><a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header><s:Body><Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"><d:Types xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dp0="http://www.onvif.org/ver10/network/wsdl">dp0:NetworkVideoTransmitter</d:Types></Probe></s:Body></s:Envelope>`;

// An ONVIF camera's ProbeMatches (ONVIF Core Specification §7.3.2 scopes, WS-Discovery §5.3).
const PROBE_MATCHES = `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope"
  xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing"
  xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"
  xmlns:dn="http://www.onvif.org/ver10/network/wsdl"
  xmlns:tds="http://www.onvif.org/ver10/device/wsdl">
 <SOAP-ENV:Header>
  <wsa:MessageID>uuid:2419d68a-2dd2-21b2-a205-ec6a6b05c2d4</wsa:MessageID>
  <wsa:RelatesTo>uuid:0a6dc791-2be6-4991-9af1-454778a1917a</wsa:RelatesTo>
  <wsa:To SOAP-ENV:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>
  <wsa:Action SOAP-ENV:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action>
  <d:AppSequence SOAP-ENV:mustUnderstand="true" MessageNumber="68" InstanceId="1"/>
 </SOAP-ENV:Header>
 <SOAP-ENV:Body>
  <d:ProbeMatches>
   <d:ProbeMatch>
    <wsa:EndpointReference><wsa:Address>urn:uuid:2419d68a-2dd2-21b2-a205-ec6a6b05c2d4</wsa:Address></wsa:EndpointReference>
    <d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>
    <d:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/Profile/Streaming onvif://www.onvif.org/hardware/IPC-HDW2431T onvif://www.onvif.org/name/Garden%20Cam onvif://www.onvif.org/location/country/france</d:Scopes>
    <d:XAddrs>http://10.231.0.11/onvif/device_service</d:XAddrs>
    <d:MetadataVersion>1</d:MetadataVersion>
   </d:ProbeMatch>
  </d:ProbeMatches>
 </SOAP-ENV:Body>
</SOAP-ENV:Envelope>`;

// A WS-Discovery 1.1 Hello (OASIS WS-Discovery 1.1 §4.1) without an Action header.
const HELLO_11 = `<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:wsd="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01" xmlns:pub="http://schemas.microsoft.com/windows/pub/2005/07" xmlns:wsdp="http://schemas.xmlsoap.org/ws/2006/02/devprof"><soap:Header><wsa:MessageID>urn:uuid:1</wsa:MessageID></soap:Header><soap:Body><wsd:Hello><wsa:EndpointReference><wsa:Address>urn:uuid:9c2b3b7e-0000-4000-8000-000000000001</wsa:Address></wsa:EndpointReference><wsd:Types>wsdp:Device pub:Computer</wsd:Types><wsd:XAddrs>http://10.231.0.10:5357/9c2b3b7e</wsd:XAddrs><wsd:MetadataVersion>1</wsd:MetadataVersion></wsd:Hello></soap:Body></soap:Envelope>`;

const b = (s: string) => Buffer.from(s, 'utf8');
const msg = (s: string) => parseWsd(b(s), 0, b(s).length) as WsdMessage;

describe('WS-Discovery', () => {
  it('reads an ONVIF ProbeMatches: action, types with namespaces, decoded scopes, XAddrs, endpoint', () => {
    expect(looksLikeWsd(b(PROBE_MATCHES), 0, b(PROBE_MATCHES).length)).toBe(true);
    const m = msg(PROBE_MATCHES);
    expect(m).toEqual({
      action: 'ProbeMatches',
      version: '2005/04',
      types: ['NetworkVideoTransmitter', 'Device'],
      qualifiedTypes: ['{http://www.onvif.org/ver10/network/wsdl}NetworkVideoTransmitter', '{http://www.onvif.org/ver10/device/wsdl}Device'],
      scopes: ['onvif://www.onvif.org/type/video_encoder', 'onvif://www.onvif.org/Profile/Streaming', 'onvif://www.onvif.org/hardware/IPC-HDW2431T', 'onvif://www.onvif.org/name/Garden Cam', 'onvif://www.onvif.org/location/country/france'],
      xaddrs: ['http://10.231.0.11/onvif/device_service'],
      endpoints: ['urn:uuid:2419d68a-2dd2-21b2-a205-ec6a6b05c2d4'],
      truncated: false,
    });
  });

  it('takes the action from the Body when there is no wsa:Action; WS-Discovery 1.1 namespace', () => {
    const m = msg(HELLO_11);
    expect([m.action, m.version, m.types, m.endpoints]).toEqual(['Hello', '2009/01', ['Device', 'Computer'], ['urn:uuid:9c2b3b7e-0000-4000-8000-000000000001']]);
  });

  it('a Probe names what its sender looks for, not what it is; the answer is the announcement', () => {
    const ctx = new Ctx();
    const f = new WsdFlow(ctx);
    f.datagram(0, b(PROBE), 0, b(PROBE).length);
    f.datagram(1, b(PROBE_MATCHES), 0, b(PROBE_MATCHES).length);
    const w = (f.facts() as { wsd: WsdFacts }).wsd;
    expect(w.messages).toEqual(['Probe', 'ProbeMatches']);
    expect(w.probedTypes).toEqual(['NetworkVideoTransmitter']);
    expect(w.types).toEqual(['NetworkVideoTransmitter', 'Device']);
    expect(w.announcer).toBe('resp');
    expect(ctx.events.map((e) => [e.type, e.fields.role, e.dir])).toEqual([
      ['wsd', 'client', 0],
      ['wsd', 'target', 1],
    ]);
    // A Probe alone announces nothing.
    const p = new WsdFlow(new Ctx());
    p.datagram(0, b(PROBE), 0, b(PROBE).length);
    const pw = (p.facts() as { wsd: WsdFacts }).wsd;
    expect([pw.announcer, pw.types, pw.scopes]).toEqual([null, [], []]);
  });

  it('entities, comments and CDATA-free oddities: &amp; decoded, comments skipped, unknown prefixes kept local', () => {
    const x = `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:d="${'http://schemas.xmlsoap.org/ws/2005/04/discovery'}"><!-- a comment <d:Types>x:Fake</d:Types> --><e:Body><d:Hello><d:Types>zz:Printer</d:Types><d:Scopes>http://example.com/a?b=1&amp;c=2</d:Scopes></d:Hello></e:Body></e:Envelope>`;
    const m = msg(x);
    expect([m.action, m.types, m.qualifiedTypes, m.scopes]).toEqual(['Hello', ['Printer'], [], ['http://example.com/a?b=1&c=2']]);
  });

  it('malformed or truncated datagrams are counted and reported, never thrown', () => {
    const ctx = new Ctx();
    const f = new WsdFlow(ctx);
    const full = b(PROBE_MATCHES);
    const cases = [
      Buffer.alloc(0),
      b('<'),
      b('<?xml version="1.0"'), // a PI that never ends
      b('<html><body>hello</body></html>'), // not an Envelope
      b('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><x/></s:Body></s:Envelope>'), // no WS-Discovery
      b('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><s:Body><d:Unknown/></s:Body></s:Envelope>'), // no action
      Buffer.from([0x3c, 0xff, 0xfe, 0x00, 0x3e]),
    ];
    for (const c of cases) expect(() => f.datagram(0, c, 0, c.length)).not.toThrow();
    expect((f.facts() as { wsd: WsdFacts }).wsd.malformed).toBe(cases.length);
    expect(ctx.anomalies()).toEqual([
      'malformed: no XML element',
      'malformed: malformed XML: unterminated tag',
      'malformed: malformed XML: unterminated processing instruction',
      'malformed: not a SOAP Envelope',
      'malformed: no WS-Discovery namespace',
      'malformed: no WS-Discovery action',
      'malformed: not a SOAP Envelope',
    ]);
    // Cut in the middle of the Scopes: what came before is read, and said to be partial.
    const cut = full.subarray(0, full.indexOf('Garden'));
    const m = parseWsd(cut, 0, cut.length) as WsdMessage;
    expect([m.action, m.types, m.truncated]).toEqual(['ProbeMatches', ['NetworkVideoTransmitter', 'Device'], false]);
    expect(m.scopes.length).toBe(4); // the text up to the cut, split, last one cut short
    // Every prefix of the message: no exception.
    for (let i = 0; i <= full.length; i += 7) expect(() => parseWsd(full, 0, i)).not.toThrow();
  });

  it('caps what it reads: 16 KB of a message, 20 values per list', () => {
    const many = Array.from({ length: 50 }, (_, i) => `onvif://www.onvif.org/name/cam${i}`).join(' ');
    const big = PROBE_MATCHES.replace('onvif://www.onvif.org/type/video_encoder', many).replace('</SOAP-ENV:Envelope>', `<!--${'x'.repeat(20000)}--></SOAP-ENV:Envelope>`);
    const m = msg(big);
    expect(m.scopes.length).toBe(20);
    expect(m.truncated).toBe(true);
  });
});

// python-kasa tests/fixtures/iot/KP115(US)_1.0_1.0.17.json, system.get_sysinfo (alias unmasked
// for the test; identifiers are the fixture's zeros).
export const KP115_SYSINFO = {
  system: {
    get_sysinfo: {
      active_mode: 'none',
      alias: 'Living Room Lamp',
      dev_name: 'Smart Wi-Fi Plug Mini',
      deviceId: '0000000000000000000000000000000000000000',
      err_code: 0,
      feature: 'TIM:ENE',
      hwId: '00000000000000000000000000000000',
      hw_ver: '1.0',
      icon_hash: '',
      latitude_i: 0,
      led_off: 0,
      longitude_i: 0,
      mac: '00:00:00:00:00:00',
      mic_type: 'IOT.SMARTPLUGSWITCH',
      model: 'KP115(US)',
      next_action: { type: -1 },
      ntc_state: 0,
      obd_src: 'tplink',
      oemId: '00000000000000000000000000000000',
      on_time: 301,
      relay_state: 1,
      rssi: -59,
      status: 'new',
      sw_ver: '1.0.17 Build 210506 Rel.075231',
      updating: 0,
    },
  },
};

const QUERY = '{"system": {"get_sysinfo": null}}'; // python-kasa Discover.DISCOVERY_QUERY, json.dumps
const enc = (s: string) => xorEncrypt(b(s));
const framed = (s: string) => {
  const c = enc(s);
  const out = Buffer.alloc(4 + c.length);
  out.writeUInt32BE(c.length, 0);
  c.copy(out, 4);
  return out;
};

describe('TP-Link Kasa', () => {
  it('the XOR autokey cipher: the known ciphertext of the discovery query', () => {
    // {"system":{"get_sysinfo":{}}} as every Kasa tool sends it (softScheck tplink-smartplug).
    expect(enc('{"system":{"get_sysinfo":{}}}').toString('hex')).toBe('d0f281f88bff9af7d5ef94b6d1b4c09fec95e68fe187e8caf08bf68bf6');
    const c = enc(QUERY);
    const out = Buffer.alloc(c.length);
    xorDecrypt(c, 0, c.length, out);
    expect(out.toString()).toBe(QUERY);
  });

  it('detects the ciphertext on UDP and TCP by content', () => {
    expect(looksLikeKasaUdp(enc(QUERY), 0, enc(QUERY).length)).toBe(true);
    expect(looksLikeKasaTcp(framed(QUERY), 0, framed(QUERY).length)).toBe(true);
    const bulb = enc('{"smartlife.iot.smartbulb.lightingservice":{"get_light_state":{}}}');
    expect(looksLikeKasaUdp(bulb, 0, bulb.length)).toBe(true);
    expect(looksLikeKasaUdp(bulb, 0, 40)).toBe(false); // the module name cut short
    expect(looksLikeKasaUdp(enc('{"unknown":{}}'), 0, 14)).toBe(false);
    expect(looksLikeKasaUdp(b('{"system":{}}'), 0, 13)).toBe(false); // clear JSON is not the cipher
    expect(looksLikeKasaUdp(Buffer.alloc(64), 0, 64)).toBe(false);
  });

  it('UDP discovery: the query names the method, the answer the device (and which side it is)', () => {
    const ctx = new Ctx(40000, 9999);
    const q = new KasaFlow(ctx);
    q.datagram(0, enc(QUERY), 0, enc(QUERY).length);
    const answer = enc(JSON.stringify(KP115_SYSINFO));
    const a = new KasaFlow(ctx);
    a.datagram(0, answer, 0, answer.length); // the unicast answer is a flow of its own, sent by its originator
    expect((q.facts() as { kasa: KasaFacts }).kasa).toMatchObject({ requests: ['system.get_sysinfo'], responder: null, model: null });
    expect((a.facts() as { kasa: KasaFacts }).kasa).toEqual({
      requests: [],
      model: 'KP115(US)',
      alias: 'Living Room Lamp',
      deviceType: 'IOT.SMARTPLUGSWITCH',
      hwVersion: '1.0',
      swVersion: '1.0.17 Build 210506 Rel.075231',
      devName: 'Smart Wi-Fi Plug Mini',
      responder: 'orig',
      transport: 'xor',
      malformed: 0,
    });
    const all = JSON.stringify(a.facts());
    expect(all).not.toContain('deviceId');
    expect(all).not.toContain('oemId');
  });

  it('TCP: length-prefixed messages split anywhere, two in one segment', () => {
    const ctx = new Ctx(40000, 9999);
    const s = new KasaSession(ctx);
    const req = Buffer.concat([framed('{"system":{"set_relay_state":{"state":1}}}'), framed(QUERY)]);
    s.data(0, req, 0, req.length);
    const resp = framed(JSON.stringify(KP115_SYSINFO));
    for (let i = 0; i < resp.length; i += 3) s.data(1, resp, i, Math.min(3, resp.length - i));
    const k = (s.facts() as { kasa: KasaFacts }).kasa;
    expect([k.requests, k.model, k.responder, k.malformed]).toEqual([['system.set_relay_state', 'system.get_sysinfo'], 'KP115(US)', 'resp', 0]);
    expect(ctx.events.filter((e) => e.type === 'kasa').map((e) => e.fields.kind)).toEqual(['request', 'request', 'response']);
  });

  it('a bulb says description where a plug says dev_name (python-kasa KL130(EU) fixture)', () => {
    const j = b(JSON.stringify({ system: { get_sysinfo: { model: 'KL130(EU)', mic_type: 'IOT.SMARTBULB', description: 'Smart Wi-Fi LED Bulb with Color Changing', hw_ver: '1.0', sw_ver: '1.8.8 Build 190613 Rel.123436', err_code: 0 } } }));
    const m = parseKasaJson(j, 0, j.length);
    expect(m).toMatchObject({ kind: 'response', sysinfo: { model: 'KL130(EU)', deviceType: 'IOT.SMARTBULB', devName: 'Smart Wi-Fi LED Bulb with Color Changing' } });
  });

  it('UDP 20002 discovery: the bare 16-byte query and the JSON answer after the header', () => {
    const query = Buffer.from('020000010000000000000000463cb5d3', 'hex'); // python-kasa DISCOVERY_QUERY_2
    expect(looksLikeTdp(query, 0, 16)).toBe(true);
    const body = b(JSON.stringify({ result: { device_id: 'x', device_type: 'SMART.TAPOPLUG', device_model: 'P110(EU)', ip: '10.231.0.12', mac: '00-00-00-00-00-00', mgt_encrypt_schm: { is_support_https: false, encrypt_type: 'KLAP', http_port: 80, lv: 2 } }, error_code: 0 }));
    const header = Buffer.from('02000001', 'hex');
    const answer = Buffer.concat([header, Buffer.from([body.length >> 8, body.length & 255]), Buffer.alloc(10), body]);
    expect(looksLikeTdp(answer, 0, answer.length)).toBe(true);
    const ctx = new Ctx(40000, 20002);
    const f = new KasaFlow(ctx, 'tdp');
    f.datagram(0, query, 0, 16);
    f.datagram(1, answer, 0, answer.length);
    const k = (f.facts() as { kasa: KasaFacts }).kasa;
    expect([k.requests, k.model, k.deviceType, k.responder, k.transport]).toEqual([['discovery'], 'P110(EU)', 'SMART.TAPOPLUG', 'resp', 'tdp']);
    expect(JSON.stringify(k)).not.toContain('device_id');
  });

  it('malformed, truncated and oversized messages are counted and skipped', () => {
    const ctx = new Ctx(40000, 9999);
    const f = new KasaFlow(ctx);
    const full = enc(JSON.stringify(KP115_SYSINFO));
    const cases = [full.subarray(0, 40), enc('{"system":'), enc('{"system":{"get_sysinfo":{}}}junk'), enc('{"system":1}'), enc('[1,2]'), Buffer.alloc(0), enc(`{"system":{"x":"${'a'.repeat(9000)}"}}`)];
    for (const c of cases) expect(() => f.datagram(0, c, 0, c.length)).not.toThrow();
    const k = (f.facts() as { kasa: KasaFacts }).kasa;
    expect(k.malformed).toBe(cases.length);
    expect(ctx.anomalies()).toEqual(['malformed: not JSON', 'malformed: not JSON', 'malformed: not JSON', 'malformed: no module', 'malformed: JSON is not an object', 'malformed: empty', 'malformed: message too large']);
    // TCP: an oversized message is skipped by its length and the next one read.
    const s = new KasaSession(new Ctx(40000, 9999));
    const big = framed(`{"emeter":{"get_daystat":{"x":"${'a'.repeat(9000)}"}}}`);
    const stream = Buffer.concat([big, framed(QUERY)]);
    for (let i = 0; i < stream.length; i += 1000) s.data(0, stream, i, Math.min(1000, stream.length - i));
    const t = (s.facts() as { kasa: KasaFacts }).kasa;
    expect([t.malformed, t.requests]).toEqual([1, ['system.get_sysinfo']]);
  });
});

// A device description in the form of UPnP Device Architecture 2.0 §2.3 (an IGD, as miniupnpd
// serves it), with an embedded device.
const DESCRIPTION = `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0" configId="1337">
<specVersion><major>1</major><minor>1</minor></specVersion>
<device>
<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
<friendlyName>Home Router &amp; Gateway</friendlyName>
<manufacturer>MiniUPnP</manufacturer>
<manufacturerURL>http://miniupnp.free.fr/</manufacturerURL>
<modelDescription>MiniUPnP daemon</modelDescription>
<modelName>MiniUPnPd</modelName>
<modelNumber>2.3.1</modelNumber>
<serialNumber>12345678</serialNumber>
<UDN>uuid:00000000-0000-0000-0000-000000000000</UDN>
<iconList><icon><mimetype>image/png</mimetype><width>16</width></icon></iconList>
<deviceList>
<device>
<deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
<friendlyName>WANDevice</friendlyName>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType></device></deviceList>
</device>
</deviceList>
<presentationURL>http://10.231.0.13/</presentationURL>
</device>
</root>`;

describe('UPnP device descriptions in HTTP responses', () => {
  it('parses the root device and lists embedded device types; never the serial, UDN or presentation URL', () => {
    const d = parseUpnpDescription(b(DESCRIPTION), 0, b(DESCRIPTION).length);
    expect(d).toEqual({
      deviceType: 'urn:schemas-upnp-org:device:InternetGatewayDevice:1',
      friendlyName: 'Home Router & Gateway',
      manufacturer: 'MiniUPnP',
      manufacturerURL: 'http://miniupnp.free.fr/',
      modelName: 'MiniUPnPd',
      modelNumber: '2.3.1',
      modelDescription: 'MiniUPnP daemon',
      embeddedDeviceTypes: ['urn:schemas-upnp-org:device:WANDevice:1', 'urn:schemas-upnp-org:device:WANConnectionDevice:1'],
    });
    expect(JSON.stringify(d)).not.toMatch(/12345678|uuid:|presentation/);
    expect(parseUpnpDescription(b('<root xmlns="urn:other"><device/></root>'), 0, 38)).toBeNull();
    expect(parseUpnpDescription(b('not xml at all'), 0, 14)).toBeNull();
    for (let i = 0; i <= DESCRIPTION.length; i += 5) expect(() => parseUpnpDescription(b(DESCRIPTION), 0, i)).not.toThrow();
  });

  const request = b('GET /rootDesc.xml HTTP/1.1\r\nHost: 10.231.0.13:5000\r\n\r\n');
  const response = (body: string, headers: string) => b(`HTTP/1.1 200 OK\r\n${headers}\r\n${body}`);

  it('the HTTP session keeps an XML body (Content-Length or chunked, split anywhere) and says who served it', () => {
    for (const framing of ['length', 'chunked'] as const) {
      const s = new HttpSession(new Ctx(40000, 5000));
      s.data(0, request, 0, request.length);
      const body = b(DESCRIPTION);
      const r =
        framing === 'length'
          ? response(DESCRIPTION, `Content-Type: text/xml; charset="utf-8"\r\nContent-Length: ${body.length}\r\n`)
          : Buffer.concat([response('', 'Content-Type: text/xml\r\nTransfer-Encoding: chunked\r\n'), b(`100\r\n`), body.subarray(0, 256), b(`\r\n${(body.length - 256).toString(16)}\r\n`), body.subarray(256), b('\r\n0\r\n\r\n')]);
      for (let i = 0; i < r.length; i += 97) s.data(1, r, i, Math.min(97, r.length - i));
      const h = (s.facts() as { http: { upnp?: Record<string, unknown> } }).http;
      expect(h.upnp, framing).toMatchObject({ side: 'resp', modelName: 'MiniUPnPd', friendlyName: 'Home Router & Gateway' });
    }
  });

  it('other bodies are not kept: HTML, and XML that is not a description', () => {
    const s = new HttpSession(new Ctx(40000, 80));
    s.data(0, request, 0, request.length);
    const html = response('<html>root</html>', 'Content-Type: text/html\r\nContent-Length: 17\r\n');
    s.data(1, html, 0, html.length);
    s.data(0, request, 0, request.length);
    const soap = response('<s:Envelope xmlns:s="x"/>', 'Content-Type: application/soap+xml\r\nContent-Length: 25\r\n');
    s.data(1, soap, 0, soap.length);
    const h = (s.facts() as { http: Record<string, unknown> }).http;
    expect('upnp' in h).toBe(false);
    expect(h.statuses).toEqual([200]);
  });

  it('a description cut by a gap or the end of the capture yields what arrived', () => {
    const s = new HttpSession(new Ctx(40000, 5000));
    s.data(0, request, 0, request.length);
    const r = response(DESCRIPTION, `Content-Type: text/xml\r\nContent-Length: ${b(DESCRIPTION).length}\r\n`);
    const cut = r.indexOf('<modelName>');
    s.data(1, r, 0, cut);
    const h = (s.facts() as { http: { upnp?: Record<string, unknown> } }).http;
    expect(h.upnp).toMatchObject({ manufacturer: 'MiniUPnP', modelName: null });
    // The rest arrives: the whole body replaces the partial reading.
    s.data(1, r, cut, r.length - cut);
    expect((s.facts() as { http: { upnp?: Record<string, unknown> } }).http.upnp).toMatchObject({ modelName: 'MiniUPnPd', modelNumber: '2.3.1' });
  });
});

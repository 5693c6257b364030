/**
 * Writes the seed inputs of every Jazzer.js target into test/fuzz/jazzer/out/seeds/<target>/
 * (gitignored), in each target's layout (common.mjs and the targets' headers):
 *
 * - from the third-party captures of ../shared/corpus (VIGIE_CORPUS elsewhere): each flow's first
 *   segments or datagrams, both ways, for the stage's detection and for each session its ports
 *   name (dissect); single frames of every link type (decode); the first frames of each capture
 *   (engine); small captures whole and the heads of larger ones (capture);
 * - from rules/ and test/fixtures: the rule files cut into files of a few rules each (rules);
 * - for the config loader: the OpenWrt UCI file, the demo config and a few written here (config);
 * - for the discovery dissectors the captures lack, the hand-made messages of parsers.test.ts.
 *
 * Usage: node test/fuzz/jazzer/seeds.mjs  (run by campaign.mjs; needs `npm run build`'s dist/).
 * FUZZ_SEEDS_DIR writes them elsewhere (the CI replay test, test/fuzz/jazzer-replay.test.ts).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, stringify } from 'yaml';
import { readCapture } from '../../../dist/capture/reader.js';
import { Decoder } from '../../../dist/decode/decoder.js';
import { xorEncrypt } from '../../../dist/protocols/kasa/parser.js';
import { encodeRecords, LINKS, ROOT } from './common.mjs';
import { SESSIONS } from './dissect.mjs';
import { KINDS } from './rules.mjs';

const OUT = process.env.FUZZ_SEEDS_DIR ? path.resolve(process.env.FUZZ_SEEDS_DIR) : path.join(path.dirname(fileURLToPath(import.meta.url)), 'out', 'seeds');
const CORPUS = process.env.VIGIE_CORPUS ? path.resolve(process.env.VIGIE_CORPUS) : path.resolve(ROOT, '../shared/corpus');

/** Per-target caps: enough variety, nothing large (the same as campaign.mjs's -max_len). */
export const MAX_LEN = { dissect: 4096, decode: 2048, engine: 8192, capture: 8192, rules: 4096, config: 2048 };
const MAX_SEEDS = { dissect: 3000, decode: 1500, engine: 400, capture: 300, rules: 900, config: 100 };

/** Ports whose flows seed a session directly (the ports parsers.test.ts picks payloads by). */
const SESSION_PORTS = {
  mqtt: [1883, 8883, 17501],
  tls: [443, 4433, 8443, 8883],
  http: [80, 8000, 8080, 5000, 49152],
  rtsp: [554, 8554],
  rtmp: [1935],
  ftp: [21],
  pop3: [110],
  imap: [143],
  smtp: [25, 587],
  telnet: [23],
  'pending-220': [21, 25],
  'dns-tcp': [53],
  'llmnr-tcp': [5355],
  'kasa-tcp': [9999],
  'stun-raw': [3478],
  'stun-rfc4571': [3478],
  'rtp-tcp': [554, 8554],
  'rtp-tcp-probation': [554, 8554],
  'tls-midstream': [443, 8883],
  'websocket-midstream': [80, 8080],
  dns: [53],
  mdns: [5353],
  dhcp: [67, 68],
  dhcpv6: [546, 547],
  ssdp: [1900],
  wsd: [3702],
  'kasa-xor': [9999],
  'kasa-tdp': [20002],
  stun: [3478, 19302],
  tuya: [6666, 6667],
  pppp: [32100],
  quic: [443],
  rtp: [],
  'rtp-announced': [],
  'rtcp-announced': [],
  llmnr: [5355],
  netbios: [137],
  coap: [5683],
};

class SeedDir {
  constructor(target) {
    this.target = target;
    this.dir = path.join(OUT, target);
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.mkdirSync(this.dir, { recursive: true });
    this.seen = new Set();
  }
  add(buf) {
    if (this.seen.size >= MAX_SEEDS[this.target] || buf.length > MAX_LEN[this.target]) return;
    const h = createHash('sha1').update(buf).digest('hex');
    if (this.seen.has(h)) return;
    this.seen.add(h);
    fs.writeFileSync(path.join(this.dir, h), buf);
  }
}

const u16 = (n) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n & 0xffff);
  return b;
};

/** A dissect input: selector, responder port, originator port, records. */
function flowInput(selector, respPort, origPort, recs) {
  return Buffer.concat([Buffer.from([selector]), u16(respPort), u16(origPort), encodeRecords(recs)]);
}

async function corpusCaptures() {
  const index = JSON.parse(fs.readFileSync(path.join(CORPUS, 'index.json'), 'utf8'));
  return index.map((c) => path.join(CORPUS, c.case, c.file)).filter((f) => fs.existsSync(f));
}

async function main() {
  const dissect = new SeedDir('dissect');
  const decode = new SeedDir('decode');
  const engine = new SeedDir('engine');
  const capture = new SeedDir('capture');
  const rules = new SeedDir('rules');
  const config = new SeedDir('config');
  const selector = new Map(SESSIONS.map(([, name], i) => [name, i]));

  const captures = fs.existsSync(path.join(CORPUS, 'index.json')) ? await corpusCaptures() : [];
  if (captures.length === 0) console.warn(`seeds: no corpus at ${CORPUS}: only hand-made seeds`);
  const flows = [];
  for (const file of captures) {
    const bytes = fs.readFileSync(file);
    // Capture files: small ones whole, the head of larger ones (cut inside a record), whole chunk sizes.
    capture.add(Buffer.concat([Buffer.from([0]), bytes.subarray(0, MAX_LEN.capture - 1)]));
    if (bytes.length > 600) capture.add(Buffer.concat([Buffer.from([3]), bytes.subarray(0, 600)]));
    const d = new Decoder();
    const byFlow = new Map();
    const frames = [];
    let link0 = -1;
    await readCapture(file, {
      packet(link, buf, off, caplen, wirelen, ts) {
        const frame = Buffer.from(buf.subarray(off, off + caplen));
        const li = LINKS.indexOf(link);
        if (link0 < 0) link0 = li;
        if (frames.length < 40 && li === link0) frames.push(frame);
        if (li >= 0 && (decode.seen.size < MAX_SEEDS.decode / 2 || frames.length < 10)) decode.add(Buffer.concat([Buffer.from([li, wirelen - caplen > 255 ? 255 : wirelen - caplen]), frame]));
        if (d.decode(link, buf, off, caplen, wirelen, ts) !== 0) return;
        const p = d.pkt;
        if (p.payloadLen === 0 || (p.ipProto !== 6 && p.ipProto !== 17)) return;
        const a = `${p.src0}.${p.src1}.${p.src2}.${p.src3}:${p.srcPort}`;
        const b = `${p.dst0}.${p.dst1}.${p.dst2}.${p.dst3}:${p.dstPort}`;
        const key = `${p.ipProto}|${[a, b].sort().join('|')}`;
        let f = byFlow.get(key);
        // The first sender is the originator (the stage knows better from SYNs; close enough for seeds).
        if (!f) byFlow.set(key, (f = { tcp: p.ipProto === 6, orig: a, origPort: p.srcPort, respPort: p.dstPort, recs: [], bytes: 0 }));
        if (f.recs.length >= 24 || f.bytes > MAX_LEN.dissect - 600) return;
        const payload = Buffer.from(p.buf.subarray(p.payloadOff, p.payloadOff + Math.min(p.payloadLen, 2048)));
        f.recs.push({ dir: a === f.orig ? 0 : 1, data: payload });
        f.bytes += payload.length + 2;
      },
    });
    if (frames.length > 0 && link0 >= 0) {
      let recs = frames.map((data) => ({ dir: 0, data }));
      while (recs.length > 1 && encodeRecords(recs).length > MAX_LEN.engine - 1) recs = recs.slice(0, -1);
      engine.add(Buffer.concat([Buffer.from([link0]), encodeRecords(recs)]));
      // A few frames alone too: short runs mutate faster.
      engine.add(Buffer.concat([Buffer.from([link0]), encodeRecords(recs.slice(0, 4))]));
    }
    flows.push(...byFlow.values());
  }

  // Flows: through the stage's detection first (the engine's path), then each session its ports name.
  for (const f of flows) dissect.add(flowInput(f.tcp ? 0 : 1, f.respPort, f.origPort, f.recs));
  for (const f of flows) {
    for (const [i, [transport, name]] of SESSIONS.entries()) {
      if (i < 2 || (transport === 'tcp') !== f.tcp) continue;
      if (SESSION_PORTS[name].includes(f.respPort) || SESSION_PORTS[name].includes(f.origPort)) dissect.add(flowInput(i, f.respPort, f.origPort, f.recs));
    }
  }
  // Media flows of RTP/RTCP (any port): the UDP flows whose first byte reads as version 2.
  for (const f of flows.filter((x) => !x.tcp && x.recs[0]?.data.length >= 12 && x.recs[0].data[0] >> 6 === 2).slice(0, 60)) {
    for (const name of ['rtp', 'rtp-announced', 'rtcp-announced']) dissect.add(flowInput(selector.get(name), f.respPort, f.origPort, f.recs));
  }
  // Hand-made messages of the discovery protocols the captures lack (as parsers.test.ts).
  const wsd = '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action></s:Header><s:Body><d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address>urn:uuid:1</a:Address></a:EndpointReference><d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>onvif://www.onvif.org/name/Cam%20One</d:Scopes><d:XAddrs>http://10.0.0.2/onvif/device_service</d:XAddrs></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>';
  const kasa = ['{"system":{"get_sysinfo":{}}}', '{"system":{"get_sysinfo":{"model":"KP115(US)","alias":"a","mic_type":"IOT.SMARTPLUGSWITCH","hw_ver":"1.0","sw_ver":"1.0.17","err_code":0}}}'].map((x) => xorEncrypt(Buffer.from(x)));
  const framed = (c) => Buffer.concat([Buffer.from([0, 0, c.length >> 8, c.length & 255]), c]);
  const tdp = [Buffer.from('020000010000000000000000463cb5d3', 'hex'), Buffer.concat([Buffer.from('02000001000000000000000000000000', 'hex'), Buffer.from('{"result":{"device_type":"SMART.TAPOPLUG","device_model":"P110(EU)"},"error_code":0}')])];
  const upnp = '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device><deviceType>urn:schemas-upnp-org:device:MediaRenderer:1</deviceType><friendlyName>TV</friendlyName><manufacturer>M</manufacturer><modelName>X</modelName></device></root>';
  const coap = Buffer.concat([Buffer.from([0x41, 0x01, 0x00, 0x01, 0xaa, 0xbb]), Buffer.from('.well-known'), Buffer.from([0x04]), Buffer.from('core')]);
  coap[4] = 0xbb;
  const coapGet = Buffer.concat([Buffer.from([0x40, 0x01, 0x12, 0x34, 0xbb]), Buffer.from('.well-known'), Buffer.from([0x04]), Buffer.from('core')]);
  const hand = [
    ['wsd', 3702, [{ dir: 0, data: Buffer.from(wsd) }]],
    ['udp', 3702, [{ dir: 0, data: Buffer.from(wsd) }]],
    ['kasa-xor', 9999, kasa.map((data, i) => ({ dir: i, data }))],
    ['udp', 9999, kasa.map((data, i) => ({ dir: i, data }))],
    ['kasa-tcp', 9999, kasa.map((data, i) => ({ dir: i, data: framed(data) }))],
    ['tcp', 9999, kasa.map((data, i) => ({ dir: i, data: framed(data) }))],
    ['kasa-tdp', 20002, tdp.map((data, i) => ({ dir: i, data }))],
    ['udp', 20002, tdp.map((data, i) => ({ dir: i, data }))],
    ['http', 49152, [{ dir: 0, data: Buffer.from('GET /desc.xml HTTP/1.1\r\nHost: a\r\n\r\n') }, { dir: 1, data: Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: ${upnp.length}\r\n\r\n${upnp}`) }]],
    ['http', 80, [{ dir: 0, data: Buffer.from('GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n') }, { dir: 1, data: Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n') }, { dir: 0, data: Buffer.from('818537fa213d7f9f4d5158', 'hex') }, { dir: 1, data: Buffer.from('8105', 'hex') }]],
    ['coap', 5683, [{ dir: 0, data: coapGet }, { dir: 1, data: Buffer.from('6045123400ff3c2f613e', 'hex') }]],
    ['udp', 5683, [{ dir: 0, data: coapGet }]],
    ['telnet', 23, [{ dir: 1, data: Buffer.from('fffb01fffb03', 'hex') }, { dir: 1, data: Buffer.from('login: ') }, { dir: 0, data: Buffer.from('admin\r\n') }, { dir: 1, data: Buffer.from('Password: ') }, { dir: 0, data: Buffer.from('secret\r\n') }]],
    ['ftp', 21, [{ dir: 1, data: Buffer.from('220 FTP ready\r\n') }, { dir: 0, data: Buffer.from('USER anonymous\r\n') }, { dir: 1, data: Buffer.from('331 Password\r\n') }, { dir: 0, data: Buffer.from('PASS a@b\r\n') }, { dir: 1, data: Buffer.from('230 OK\r\n') }]],
    ['imap', 143, [{ dir: 1, data: Buffer.from('* OK IMAP4rev1 ready\r\n') }, { dir: 0, data: Buffer.from('a1 LOGIN user pass\r\n') }, { dir: 1, data: Buffer.from('a1 OK done\r\n') }]],
    ['pop3', 110, [{ dir: 1, data: Buffer.from('+OK POP3 ready\r\n') }, { dir: 0, data: Buffer.from('USER u\r\n') }, { dir: 1, data: Buffer.from('+OK\r\n') }, { dir: 0, data: Buffer.from('PASS p\r\n') }]],
    ['smtp', 25, [{ dir: 1, data: Buffer.from('220 mail ESMTP\r\n') }, { dir: 0, data: Buffer.from('EHLO x\r\n') }, { dir: 1, data: Buffer.from('250-mail\r\n250 AUTH PLAIN LOGIN\r\n') }, { dir: 0, data: Buffer.from('AUTH PLAIN AHVzZXIAcGFzcw==\r\n') }, { dir: 1, data: Buffer.from('235 ok\r\n') }]],
    ['tcp', 21, [{ dir: 1, data: Buffer.from('220 FTP ready\r\n') }, { dir: 0, data: Buffer.from('USER u\r\n') }]],
    ['rtmp', 1935, [{ dir: 0, data: Buffer.concat([Buffer.from([3]), Buffer.alloc(1536, 1)]) }]],
    ['tcp', 1935, [{ dir: 0, data: Buffer.concat([Buffer.from([3]), Buffer.alloc(1536, 1)]) }]],
  ];
  for (const [name, port, recs] of hand) dissect.add(flowInput(selector.get(name), port, 40000, recs));
  // Gaps (empty records) in a stream, and an empty flow.
  dissect.add(flowInput(selector.get('http'), 80, 40000, [{ dir: 0, data: Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n') }, { dir: 0, data: Buffer.alloc(0) }, { dir: 0, data: Buffer.from('\r\n') }]));
  dissect.add(flowInput(0, 80, 40000, []));

  // Hand-made frames: one per link type, so that each link's decoder is reached from a seed.
  const ipv4udp = Buffer.from('450000210001000040117ccdc0a80114c6336407a0351f900000d0a0', 'hex');
  const ipv6 = Buffer.from('6000000000081140fe800000000000000000000000000001ff0200000000000000000000000000fb14e914e900080000', 'hex');
  for (const [li, frame] of [
    [0, Buffer.concat([Buffer.from('ffffffffffff0242c0a80114080045000021', 'hex'), ipv4udp.subarray(2)])],
    [1, Buffer.concat([Buffer.from('02000000', 'hex'), ipv4udp])],
    [2, ipv6],
    [3, Buffer.concat([Buffer.from('00000002', 'hex'), ipv4udp])],
    [4, Buffer.concat([Buffer.from('000000010006024200000001000008000800', 'hex').subarray(0, 16), ipv4udp])],
    [5, ipv4udp],
    [6, ipv6],
    [7, Buffer.concat([Buffer.from('08000000000000020001000602420000000100000000', 'hex').subarray(0, 20), ipv4udp])],
    [0, Buffer.concat([Buffer.from('ffffffffffff0242c0a801148100000a08004500', 'hex').subarray(0, 18), ipv4udp])],
    [0, Buffer.from('ffffffffffff0242c0a80114080600010800060400010242c0a80114c0a80114000000000000c0a80101', 'hex')],
  ]) {
    decode.add(Buffer.concat([Buffer.from([li, 0]), frame]));
  }

  // Rule files: the built-in ones and the test fixtures, a few rules a file.
  for (const [k, [sub]] of KINDS.entries()) {
    const before = rules.seen.size;
    const files = [path.join(ROOT, 'rules', sub), path.join(ROOT, 'test/fixtures/rules-all-types', sub), path.join(ROOT, 'test/fixtures/rules-knowledge', sub)].flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(d, f)) : []));
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      if (text.length < MAX_LEN.rules - 1) rules.add(Buffer.concat([Buffer.from([k]), Buffer.from(text)]));
      const doc = parseDocument(text).toJS();
      const key = Object.keys(doc ?? {}).find((x) => Array.isArray(doc[x]));
      if (!key) continue;
      const items = doc[key];
      // Spread over the file: every kind of rule it holds, not only its first ones.
      const step = Math.max(1, Math.floor(items.length / 40));
      for (let i = 0; i < items.length && rules.seen.size - before < 150; i += step) {
        for (const n of [1, 3]) rules.add(Buffer.concat([Buffer.from([k]), Buffer.from(stringify({ ...doc, [key]: items.slice(i, i + n) }))]));
      }
    }
  }

  // Config files: the OpenWrt package's UCI file, the demo's YAML, and the settings of the schema.
  for (const f of ['systemd/openwrt/files/vigie.config', 'docs/demo/vigie-demo.yaml']) {
    const p = path.join(ROOT, f);
    if (fs.existsSync(p)) config.add(fs.readFileSync(p));
  }
  for (const text of [
    'homeCountry: fr\ntrustedCountries: [eu, CH]\nlan: [100.64.0.0/10, "fd00::/8"]\nnetworks:\n  - { cidr: 203.0.113.0/24, country: CN, asn: 64500, org: "It\'s a \\"test\\" cloud" }\ndevices:\n  "AA:BB:CC:DD:EE:FF": { label: "Nursery \\"cam\\"", category: baby_monitor, zone: quarantine }\nmutes:\n  - { rule: device-joined, until: "2027-01-01" }\n',
    'communityIdSeed: 7\nlearningPeriod: 3600\nrules: [./household]\nrun:\n  interface: br-lan\n  listen: 0.0.0.0\n  port: 8080\n  allowedHosts: [vigie.lan]\n  stateDir: /var/lib/vigie\n  commitInterval: 60\n  filter: "not port 22"\n  webhook: https://example.org/hook\n  haMqtt: mqtts://broker:8883\n  haPrefix: homeassistant\nsegment:\n  learningDays: 7\n  lanInterfaces: [br-lan]\n  rollbackSeconds: 60\n  protect: ["aa:bb:cc:dd:ee:ff"]\n',
    "config vigie 'main'\n\toption home_country 'FR'\n\tlist trusted_country 'eu'\n\tlist lan '192.168.1.0/24'\n\toption port '8080'\n\nconfig device\n\toption mac 'AA:BB:CC:DD:EE:FF'\n\toption label 'Nursery \"cam\"'\n\toption category 'baby_monitor'\n\nconfig network\n\toption cidr '203.0.113.0/24'\n\toption country 'CN'\n\toption asn '64500'\n\nconfig mute\n\toption rule 'device-joined'\n\toption until '2027-01-01'\n",
    'a: &a [1, 2]\nb: *a\n',
    '',
  ]) {
    config.add(Buffer.from(text));
  }

  const counts = Object.fromEntries([dissect, decode, engine, capture, rules, config].map((s) => [s.target, s.seen.size]));
  console.log(`seeds: ${JSON.stringify(counts)} from ${captures.length} captures, ${flows.length} flows, into ${path.relative(ROOT, OUT)}/`);
  return counts;
}

export const seedCounts = await main();

/**
 * Every dissector, through the entry points the engine uses. Input: byte 0 picks the way in
 * (SESSIONS below: the stage's TCP and UDP detection orders, or one protocol's session directly,
 * so that mutations need not keep passing a probe), bytes 1-2 the responder's port and 3-4 the
 * originator's (probes take ports as hints), then the flow's segments or datagrams as records
 * (common.mjs). Then what the later stages read of the flow: facts, rule fields, evidence,
 * remote name, what the inventory learns. Any exception is a crash.
 */
import { detectDatagram, detectStream } from '../../../dist/protocols/detect.js';
import { learnFrom, protocolEvidence, protocolFields, remoteName } from '../../../dist/protocols/registry.js';
import { CoapFlow } from '../../../dist/protocols/coap/state.js';
import { DhcpFlow } from '../../../dist/protocols/dhcp/state.js';
import { DnsFlow } from '../../../dist/protocols/dns/state.js';
import { HttpSession } from '../../../dist/protocols/http/state.js';
import { KasaFlow, KasaSession } from '../../../dist/protocols/kasa/state.js';
import { LlmnrFlow } from '../../../dist/protocols/llmnr/state.js';
import { LoginSession } from '../../../dist/protocols/login/state.js';
import { MqttSession } from '../../../dist/protocols/mqtt/state.js';
import { NetbiosFlow } from '../../../dist/protocols/netbios/state.js';
import { ppppFlow } from '../../../dist/protocols/pppp/state.js';
import { QuicFlow } from '../../../dist/protocols/quic/state.js';
import { RtmpSession } from '../../../dist/protocols/rtmp/state.js';
import { RtpFlow, RtpTcpSession } from '../../../dist/protocols/rtp/state.js';
import { RtspSession } from '../../../dist/protocols/rtsp/state.js';
import { SsdpFlow } from '../../../dist/protocols/ssdp/state.js';
import { StunFlow, StunSession } from '../../../dist/protocols/stun/state.js';
import { TlsMidstream, TlsSession } from '../../../dist/protocols/tls/state.js';
import { TuyaFlow } from '../../../dist/protocols/tuya/state.js';
import { WebSocketMidstream } from '../../../dist/protocols/websocket/state.js';
import { WsdFlow } from '../../../dist/protocols/wsd/state.js';
import { FuzzContext, records } from './common.mjs';

/** As in stage.ts: bytes of a TCP direction looked at before giving up. */
const DETECT_BYTES = 2048;

/** The ways in, by name: 'tcp' and 'udp' are the stage's detection; the others one session each. */
export const SESSIONS = [
  ['tcp', 'detect', null],
  ['udp', 'detect', null],
  ['tcp', 'mqtt', (c) => new MqttSession(c)],
  ['tcp', 'tls', (c) => new TlsSession(c)],
  ['tcp', 'http', (c) => new HttpSession(c)],
  ['tcp', 'rtsp', (c) => new RtspSession(c)],
  ['tcp', 'rtmp', (c) => new RtmpSession(c)],
  ['tcp', 'ftp', (c) => new LoginSession(c, 'ftp')],
  ['tcp', 'pop3', (c) => new LoginSession(c, 'pop3')],
  ['tcp', 'imap', (c) => new LoginSession(c, 'imap')],
  ['tcp', 'smtp', (c) => new LoginSession(c, 'smtp')],
  ['tcp', 'telnet', (c) => new LoginSession(c, 'telnet')],
  ['tcp', 'pending-220', (c) => new LoginSession(c, 'pending-220')],
  ['tcp', 'dns-tcp', (c) => DnsFlow.overTcp(c, c)],
  ['tcp', 'llmnr-tcp', (c) => LlmnrFlow.overTcp(c)],
  ['tcp', 'kasa-tcp', (c) => new KasaSession(c)],
  ['tcp', 'stun-raw', (c) => new StunSession(c, 'raw')],
  ['tcp', 'stun-rfc4571', (c) => new StunSession(c, 'rfc4571')],
  ['tcp', 'rtp-tcp', (c) => new RtpTcpSession(c, true)],
  ['tcp', 'rtp-tcp-probation', (c) => new RtpTcpSession(c, false)],
  ['tcp', 'tls-midstream', (c) => new TlsMidstream(c)],
  ['tcp', 'websocket-midstream', (c) => new WebSocketMidstream(c)],
  ['udp', 'dns', (c) => new DnsFlow(c, 'dns', c)],
  ['udp', 'mdns', (c) => new DnsFlow(c, 'mdns', null)],
  ['udp', 'dhcp', (c) => new DhcpFlow(c, 'dhcp', c)],
  ['udp', 'dhcpv6', (c) => new DhcpFlow(c, 'dhcpv6', null)],
  ['udp', 'ssdp', (c) => new SsdpFlow(c)],
  ['udp', 'wsd', (c) => new WsdFlow(c)],
  ['udp', 'kasa-xor', (c) => new KasaFlow(c, 'xor')],
  ['udp', 'kasa-tdp', (c) => new KasaFlow(c, 'tdp')],
  ['udp', 'stun', (c) => new StunFlow(c)],
  ['udp', 'tuya', (c) => new TuyaFlow(c)],
  ['udp', 'pppp', (c) => new ppppFlow(c)],
  ['udp', 'quic', (c) => new QuicFlow(c)],
  ['udp', 'rtp', (c) => new RtpFlow(c, null)],
  ['udp', 'rtp-announced', (c) => new RtpFlow(c, 'rtp')],
  ['udp', 'rtcp-announced', (c) => new RtpFlow(c, 'rtcp')],
  ['udp', 'llmnr', (c) => new LlmnrFlow(c)],
  ['udp', 'netbios', (c) => new NetbiosFlow(c)],
  ['udp', 'coap', (c) => new CoapFlow(c)],
];

const learner = {
  protocol: (n) => void String(n),
  add: (list, v) => void String(v),
  hostname: (n) => void String(n),
  offer: (s, i, txt) => void txt.join(''),
  upnpField: (f, v) => void String(v),
};

/** What verdicts, alerts and the inventory read of the flow's facts (registry.ts). */
function readFacts(p) {
  if (p === null) return;
  const app = p.app;
  const facts = p.facts();
  JSON.stringify(facts);
  for (const deviceIsClient of [true, false]) {
    const view = { deviceIsClient, encrypted: p.encrypted, app, sent: 100 };
    const fields = {};
    protocolFields(facts, view, (name, v) => (fields[name] = v));
    JSON.stringify(fields);
    JSON.stringify(protocolEvidence(facts, view));
  }
  remoteName(facts);
  for (const side of ['orig', 'resp', null]) learnFrom(facts, { side, mac: side === 'orig' ? 0x0242c0a80114 : -1, isClient: side === 'orig', internet: true, app }, learner);
}

function stream(ctx, make, recs) {
  let p = make ? make(ctx) : null;
  const looked = [0, 0];
  for (const r of recs) {
    if (r.len === 0) {
      p?.gap(r.dir, 10);
      continue;
    }
    if (!p) {
      // The stage's data(): detect on each segment until a probe takes one, within DETECT_BYTES.
      p = detectStream(ctx, r.dir, r.buf, r.off, r.len);
      if (!p) {
        looked[r.dir] += r.len;
        if (looked[r.dir] >= DETECT_BYTES || looked[r.dir ^ 1] >= DETECT_BYTES || (looked[0] > 0 && looked[1] > 0)) return null;
        continue;
      }
    }
    p.data(r.dir, r.buf, r.off, r.len);
    // The reassembler stops handing bytes over once told (stop()).
    if (ctx.stopped) break;
  }
  return p;
}

function datagrams(ctx, make, recs) {
  let p = make ? make(ctx) : null;
  const looked = [0, 0];
  for (const r of recs) {
    if (!p) {
      // The stage's datagram(): datagram protocols show themselves in their first four packets.
      p = detectDatagram(ctx, r.dir, r.buf, r.off, r.len);
      if (!p) {
        if (++looked[r.dir] >= 4) return null;
        continue;
      }
    }
    if (ctx.stopped) break;
    p.datagram(r.dir, r.buf, r.off, r.len);
  }
  return p;
}

export function fuzz(data) {
  if (data.length < 5) return;
  const [transport, , make] = SESSIONS[data[0] % SESSIONS.length];
  const ctx = new FuzzContext(data.readUInt16BE(3), data.readUInt16BE(1));
  const recs = records(data, 5);
  readFacts(transport === 'tcp' ? stream(ctx, make, recs) : datagrams(ctx, make, recs));
}

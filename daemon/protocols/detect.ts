/**
 * Which protocol a flow speaks, from the content of its first bytes: ports are hints, never
 * proof (MQTT runs on any port; port 443 carries MQTT over TLS as well as HTTPS).
 */
import { isExactMqttRun, looksLikeConnect, parseMqtt } from './mqtt/parser.js';
import { MqttSession } from './mqtt/state.js';
import type { DatagramParser, FlowContext, StreamParser } from './parser-types.js';
import { looksLikeTls, TlsSession } from './tls/state.js';
import { readName } from './dns/parser.js';
import { DnsFlow } from './dns/state.js';
import { DhcpFlow, type DhcpObserver } from './dhcp/state.js';
import { parseHeaderBlock } from './http/message.js';
import { HttpSession } from './http/state.js';
import { looksLikeRtsp, RtspSession } from './rtsp/state.js';
import { looksLikeSsdp, SsdpFlow } from './ssdp/state.js';
import { ppppFlow, looksLikePppp } from './pppp/state.js';
import { looksLikeQuic, QuicFlow } from './quic/detect.js';
import { looksLikeRtmp, RtmpSession } from './rtmp/state.js';
import { parseRtcp, parseRtp } from './rtp/parser.js';
import { RtpFlow } from './rtp/state.js';
import { looksLikeStun, StunFlow } from './stun/state.js';
import { looksLikeTuya, TuyaFlow } from './tuya/state.js';
import { greetingProtocol, LoginSession } from './login/state.js';
import { LlmnrFlow } from './llmnr/state.js';
import { looksLikeNbns } from './netbios/parser.js';
import { NetbiosFlow } from './netbios/state.js';
import { looksLikeCoap, looksLikeDtls } from './coap/parser.js';
import { CoapFlow, CoapsFlow } from './coap/state.js';
import { looksLikeWsd, WsdFlow } from './wsd/state.js';
import { KasaFlow, KasaSession, looksLikeKasaTcp, looksLikeKasaUdp, looksLikeTdp } from './kasa/state.js';

/** An HTTP/1.x request or response start (RFC 9112 §3, §4). */
function looksLikeHttp(buf: Buffer, off: number, len: number): boolean {
  const head = buf.toString('latin1', off, off + Math.min(len, 16));
  if (/^HTTP\/1\.[01] \d/.test(head)) return true;
  if (!/^(GET|POST|PUT|HEAD|DELETE|OPTIONS|PATCH|CONNECT|TRACE|PROPFIND|SUBSCRIBE|NOTIFY) /.test(head)) return false;
  return parseHeaderBlock(buf, off, off + len) !== 'not-http';
}

function either(ctx: FlowContext, ports: readonly number[]): boolean {
  return ports.includes(ctx.origPort) || ports.includes(ctx.respPort);
}

const DHCP4 = [67, 68] as const;
const DHCP6 = [546, 547] as const;
const MDNS = [5353] as const;
const DNS = [53] as const;
const LLMNR = [5355] as const;
const NBNS = [137] as const;
const COAP = [5683] as const;
const COAPS = [5684] as const;
const DNS_TCP = [53] as const;
const QUIC = [443, 4433, 8443] as const;
const KASA_TDP = [20002] as const;

/**
 * The start of a length-framed DNS query over TCP (RFC 1035 §4.2.2): a length that covers at
 * least this segment, a query header with one or more questions, and a readable first name.
 */
function looksLikeDnsTcp(buf: Buffer, off: number, len: number): boolean {
  if (len < 17) return false;
  const msgLen = buf.readUInt16BE(off);
  if (msgLen < 17 || msgLen < len - 2) return false;
  const flags = buf.readUInt16BE(off + 4);
  if (flags & 0x8000) return false;
  return looksLikeDnsMessage(buf, off + 2, off + len);
}

/**
 * A DNS message (RFC 1035 §4.1.1): a known opcode, one or more questions and a readable first
 * name. Checked before the RTP heuristic on DNS ports: a transaction id from 0x8000 to 0xbfff
 * reads as RTP version 2, so a quarter of all queries would otherwise be taken for RTP.
 */
function looksLikeDnsMessage(buf: Buffer, off: number, end: number): boolean {
  if (end - off < 17) return false;
  const flags = buf.readUInt16BE(off + 2);
  if (((flags >> 11) & 15) > 6 || buf.readUInt16BE(off + 4) === 0) return false;
  try {
    readName(buf, off, off + 12, end);
    return true;
  } catch {
    return false;
  }
}

const MQTT_PORTS = new Set([1883]);

export function detectStream(ctx: FlowContext, dir: number, buf: Buffer, off: number, len: number): StreamParser | null {
  const end = off + len;
  if (looksLikeTls(buf, off, len)) return new TlsSession(ctx);
  if (looksLikeRtsp(buf, off, len)) return new RtspSession(ctx);
  if (looksLikeHttp(buf, off, len)) return new HttpSession(ctx);
  if (looksLikeKasaTcp(buf, off, len)) return new KasaSession(ctx);
  if (either(ctx, DNS_TCP)) return DnsFlow.overTcp(ctx, ctx);
  if (either(ctx, LLMNR)) return LlmnrFlow.overTcp(ctx);
  if (looksLikeConnect(buf, off, end)) return new MqttSession(ctx);
  // A session caught after its CONNECT: on the MQTT port, a well-formed packet is enough.
  if (MQTT_PORTS.has(ctx.origPort) || MQTT_PORTS.has(ctx.respPort)) {
    const r = parseMqtt(buf, off, end, 0);
    if (r.ok || (!r.ok && r.incomplete && buf[off] >> 4 !== 0)) return new MqttSession(ctx);
  }
  // Elsewhere, a segment that is exactly a run of well-formed packets with valid flag bits.
  if (isExactMqttRun(buf, off, end)) return new MqttSession(ctx);
  if (dir === 0 && looksLikeRtmp(buf, off, len, ctx.respPort)) return new RtmpSession(ctx);
  if (looksLikeDnsTcp(buf, off, len)) return DnsFlow.overTcp(ctx, ctx);
  // FTP, POP3, IMAP, SMTP and Telnet servers speak first: their greeting names them.
  if (dir === 1) {
    const login = greetingProtocol(buf, off, len, [ctx.origPort, ctx.respPort]);
    if (login) return new LoginSession(ctx, login);
  }
  return null;
}

export function detectDatagram(ctx: FlowContext & DhcpObserver, dir: number, buf: Buffer, off: number, len: number): DatagramParser | null {
  void dir;
  if (either(ctx, DHCP4) && len >= 240 && buf.readUInt32BE(off + 236) === 0x63825363) return new DhcpFlow(ctx, 'dhcp', ctx);
  if (either(ctx, DHCP6)) return new DhcpFlow(ctx, 'dhcpv6', null);
  if (either(ctx, MDNS)) return new DnsFlow(ctx, 'mdns', null);
  if (either(ctx, DNS) && looksLikeDnsMessage(buf, off, off + len)) return new DnsFlow(ctx, 'dns', ctx);
  if (either(ctx, LLMNR) && looksLikeDnsMessage(buf, off, off + len)) return new LlmnrFlow(ctx);
  if (either(ctx, NBNS) && looksLikeNbns(buf, off, len)) return new NetbiosFlow(ctx);
  if (either(ctx, COAPS) && looksLikeDtls(buf, off, len)) return new CoapsFlow();
  if (looksLikeWsd(buf, off, len)) return new WsdFlow(ctx);
  if (looksLikeSsdp(buf, off, len)) return new SsdpFlow(ctx);
  if (looksLikeKasaUdp(buf, off, len)) return new KasaFlow(ctx, 'xor');
  if (either(ctx, KASA_TDP) && looksLikeTdp(buf, off, len)) return new KasaFlow(ctx, 'tdp');
  const expected = ctx.expectedApp();
  if (expected) return new RtpFlow(ctx, expected);
  if (looksLikeStun(buf, off, len)) return new StunFlow(ctx);
  if (looksLikeTuya(buf, off, len)) return new TuyaFlow(ctx);
  if (looksLikePppp(buf, off, len)) return new ppppFlow(ctx);
  if (either(ctx, QUIC) && looksLikeQuic(buf, off, len)) return new QuicFlow(ctx);
  // CoAP (first byte 0x40-0x7f) after QUIC: a QUIC short header starts the same way.
  if (either(ctx, COAP) ? looksLikeCoap(buf, off, len, false) : !either(ctx, QUIC) && looksLikeCoap(buf, off, len, true)) return new CoapFlow(ctx);
  if (parseRtp(buf, off, len) || parseRtcp(buf, off, len)) return new RtpFlow(ctx, null);
  if (either(ctx, DNS)) return new DnsFlow(ctx, 'dns', ctx);
  if (either(ctx, LLMNR)) return new LlmnrFlow(ctx);
  if (either(ctx, NBNS)) return new NetbiosFlow(ctx);
  return null;
}

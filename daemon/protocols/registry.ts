/**
 * Every protocol Vigie dissects, and the order in which flows are tried against them: the one
 * file that knows them all. Each entry is a folder's contract (../contract.ts); the typed facts
 * of a flow (`FlowFacts`), the rule fields (and from them the alert-rule schema and the docs'
 * table), the evidence of alerts and what the inventory learns are read from this list.
 */
import type { DatagramProbe, FieldValue, FlowView, LearnView, Learner, Media, ProtocolContract, RuleField, StreamProbe } from './contract.js';
import { flag, list } from './contract.js';
import { coap } from './coap/contract.js';
import { dhcp, dhcpv6 } from './dhcp/contract.js';
import { dns, mdns } from './dns/contract.js';
import { http } from './http/contract.js';
import { kasa } from './kasa/contract.js';
import { llmnr } from './llmnr/contract.js';
import { login } from './login/contract.js';
import { mqtt } from './mqtt/contract.js';
import { netbios } from './netbios/contract.js';
import { pppp } from './pppp/contract.js';
import { quic } from './quic/contract.js';
import { rtmp } from './rtmp/contract.js';
import { rtcp, rtp } from './rtp/contract.js';
import { rtsp } from './rtsp/contract.js';
import { ssdp } from './ssdp/contract.js';
import { stun } from './stun/contract.js';
import { tls } from './tls/contract.js';
import { tuya } from './tuya/contract.js';
import { wsd } from './wsd/contract.js';
import { websocket } from './websocket/contract.js';
import { dtls, srtp } from './dtls/contract.js';
import type { DtlsFacts, SrtpFacts } from './dtls/state.js';
import type { CoapFacts } from './coap/state.js';
import type { DhcpFacts } from './dhcp/state.js';
import type { DnsFacts, MdnsFacts } from './dns/state.js';
import type { HttpFacts } from './http/state.js';
import type { KasaFacts } from './kasa/state.js';
import type { LlmnrFacts } from './llmnr/state.js';
import type { LoginFacts } from './login/state.js';
import type { MqttFacts } from './mqtt/state.js';
import type { NetbiosFacts } from './netbios/state.js';
import type { PpppFacts } from './pppp/state.js';
import type { QuicFacts } from './quic/state.js';
import type { RtmpFacts } from './rtmp/state.js';
import type { RtpFacts } from './rtp/state.js';
import type { RtspFacts } from './rtsp/state.js';
import type { SsdpFacts } from './ssdp/state.js';
import type { StunFacts } from './stun/state.js';
import type { TlsFacts } from './tls/state.js';
import type { TuyaFacts } from './tuya/state.js';
import type { WebSocketFacts } from './websocket/state.js';
import type { WsdFacts } from './wsd/state.js';


/**
 * The contracts, in the order their media and remote names are preferred: RTSP before the RTP it
 * sets up, TLS's SNI before HTTP's Host (a Host header inside TLS is never seen anyway).
 */
const CONTRACTS = [mqtt, rtsp, rtp, rtcp, rtmp, http, tls, quic, login, pppp, tuya, stun, dns, mdns, dhcp, dhcpv6, ssdp, wsd, kasa, llmnr, netbios, coap, websocket, dtls, srtp] as const;

/**
 * What the protocol stage learnt of one flow, by protocol (`protocol` in a flow record): one
 * key per contract, typed by its facts. Written out (an interface: the sessions' `facts()`
 * return it, so it cannot be inferred from the contracts without a cycle); `SameKeys` below
 * fails the build when it and the list disagree.
 */
export interface FlowFacts {
  mqtt?: MqttFacts;
  rtsp?: RtspFacts;
  rtp?: RtpFacts;
  rtcp?: RtpFacts;
  rtmp?: RtmpFacts;
  http?: HttpFacts;
  tls?: TlsFacts;
  quic?: QuicFacts;
  login?: LoginFacts;
  pppp?: PpppFacts;
  tuya?: TuyaFacts;
  stun?: StunFacts;
  dns?: DnsFacts;
  mdns?: MdnsFacts;
  dhcp?: DhcpFacts;
  dhcpv6?: DhcpFacts;
  ssdp?: SsdpFacts;
  wsd?: WsdFacts;
  kasa?: KasaFacts;
  llmnr?: LlmnrFacts;
  netbios?: NetbiosFacts;
  coap?: CoapFacts;
  websocket?: WebSocketFacts;
  dtls?: DtlsFacts;
  srtp?: SrtpFacts;
}

type ContractKey = (typeof CONTRACTS)[number]['key'];
/** FlowFacts has a key for each contract and no other (the build fails otherwise). */
type SameKeys = [ContractKey] extends [keyof FlowFacts] ? ([keyof FlowFacts] extends [ContractKey] ? true : never) : never;
const sameKeys: SameKeys = true;
void sameKeys;
export type ProtocolKey = keyof FlowFacts;

/**
 * The order TCP flows are tried in, on the first bytes of either direction (DETECT_BYTES in
 * stage.ts): the first probe that takes the bytes gives the flow its session.
 */
export const STREAM_ORDER: readonly StreamProbe[] = [
  // Records with a hello first: the commonest, and the strictest test (content type, version, hello type).
  tls.stream.hello,
  // Text protocols by their start line; RTSP before HTTP, whose methods it shares in part.
  rtsp.stream.request,
  http.stream.message,
  // Kasa's XOR framing before the port-based and binary heuristics, which could take its length prefix.
  kasa.stream.xor,
  // DNS and LLMNR on their own ports, before MQTT's run test can take a length-prefixed message.
  dns.stream.port,
  llmnr.stream.port,
  mqtt.stream.connect,
  mqtt.stream.port,
  mqtt.stream.run,
  rtmp.stream.handshake,
  // DNS off its port only with a plausible query: length-prefixed protocols look alike.
  dns.stream.message,
  // STUN/TURN over TCP: a header with the magic cookie, raw or behind a 16-bit length (ICE-TCP).
  stun.stream.tcp,
  // RFC 4571 RTP/RTCP: frames of one source in sequence, or a whole RTCP compound, behind 16-bit lengths.
  rtp.stream.rfc4571,
  // Servers that speak first.
  login.stream.greeting,
  // Record headers alone (the handshake was missed): last, as the weakest TLS evidence.
  tls.stream.midstream,
  // Bytes that are exactly whole RFC 4571 frames with RTP headers: a session on probation until a
  // source shows continuity. Before WebSocket's frame headers, a looser chain test that takes them.
  rtp.stream.rfc4571Probation,
  // Frame headers alone (the Upgrade was missed): weaker still than TLS records, so after them.
  websocket.stream.midstream,
];

/**
 * The order UDP flows are tried in, on their first datagrams (up to four): protocols fixed to
 * their ports and with a magic of their own first, heuristics that read any port last.
 */
export const DATAGRAM_ORDER: readonly DatagramProbe[] = [
  dhcp.datagram.message,
  dhcpv6.datagram.port,
  mdns.datagram.port,
  // Checked before the RTP heuristic on DNS ports: a transaction id from 0x8000 to 0xbfff reads as
  // RTP version 2, so a quarter of all queries would otherwise be taken for RTP.
  dns.datagram.message,
  llmnr.datagram.message,
  netbios.datagram.message,
  coap.datagram.dtls,
  // XML and HTTP-like text before the binary heuristics.
  wsd.datagram.envelope,
  ssdp.datagram.message,
  kasa.datagram.xor,
  kasa.datagram.tdp,
  // Ports an RTSP session announced beat every guess.
  rtp.datagram.announced,
  stun.datagram.message,
  tuya.datagram.frame,
  pppp.datagram.message,
  // QUIC on any port: a known version, the fixed bit and lengths that fit (an Initial padded to 1200 bytes).
  quic.datagram.header,
  // CoAP (first byte 0x40-0x7f) after QUIC: a QUIC short header starts the same way.
  coap.datagram.message,
  rtp.datagram.header,
  // Anything else on these ports is theirs, malformed: counted there rather than left unnamed.
  dns.datagram.port,
  llmnr.datagram.port,
  netbios.datagram.port,
];

/** The same list, seen without each one's facts type: for walks over whatever a flow holds. */
export const PROTOCOLS: readonly ProtocolContract<string, unknown>[] = CONTRACTS;

const ORDER = new Map(PROTOCOLS.map((c, i) => [c.key, i]));
const NO_FACTS: readonly (readonly [ProtocolContract<string, unknown>, unknown])[] = [];
const byOrder = (a: readonly [ProtocolContract<string, unknown>, unknown], b: readonly [ProtocolContract<string, unknown>, unknown]) => ORDER.get(a[0].key)! - ORDER.get(b[0].key)!;

/**
 * Each protocol whose facts the flow holds, with those facts, in the registry's order. A flow
 * holds one or two protocols: walking its own keys, not the whole registry, keeps this cheap on
 * the judgement path (run for every early message of a flow and at its end).
 */
export function factsOf(facts: FlowFacts | null): readonly (readonly [ProtocolContract<string, unknown>, unknown])[] {
  if (!facts) return NO_FACTS;
  // The registry's own walk by key: the only place facts are reached by a string.
  const byKey = facts as Readonly<Record<string, unknown>>;
  let out: [ProtocolContract<string, unknown>, unknown][] | null = null;
  for (const k in byKey) {
    const i = ORDER.get(k);
    const f = byKey[k];
    if (i === undefined || f === undefined || f === null) continue;
    (out ??= []).push([PROTOCOLS[i], f]);
  }
  if (out === null) return NO_FACTS;
  if (out.length > 1) out.sort(byOrder);
  return out;
}

/** How each application name reads (`imap` → IMAP). */
export const APP_NAMES: Readonly<Record<string, string>> = Object.assign({}, ...PROTOCOLS.map((c) => c.apps));

export function appName(app: string): string {
  return APP_NAMES[app] ?? app;
}

/** Audio or video in cleartext, from the first protocol of the flow that says so. */
function mediaOf(facts: FlowFacts | null, v: FlowView): Media | null {
  for (const [c, f] of factsOf(facts)) {
    const m = c.media?.(f, v);
    if (m) return m;
  }
  return null;
}

const MEDIA_NAMES: Record<string, string> = { rtsp: 'RTSP', rtp: 'RTP', rtmp: 'RTMP', flv: 'FLV over plain HTTP', mjpeg: 'MJPEG over plain HTTP' };

/** Fields that several protocols feed: which media a flow carries, whoever carries it. */
const MEDIA_FIELDS: readonly RuleField<Media>[] = [
  { name: 'media.cleartext', type: 'boolean', description: 'The flow carries audio or video in cleartext (RTSP, RTP, RTMP, FLV or MJPEG over HTTP).', value: () => true, says: flag('it sends audio or video unencrypted', 'it sends no cleartext audio or video') },
  { name: 'media.kind', type: 'string', description: 'Which: rtsp, rtp, rtmp, flv or mjpeg.', value: (m) => m.kind, says: (xs) => `it streams over ${list(xs.map((x) => MEDIA_NAMES[String(x)] ?? String(x)))}` },
  { name: 'media.outbound', type: 'boolean', description: 'The device sends it (publishes, or serves a remote viewer).', value: (m) => m.outbound, says: flag('the device is the one sending the stream', 'the device only receives the stream') },
];

/** Every rule field the protocols give, in the order of the registry. */
export const PROTOCOL_FIELDS: readonly RuleField<unknown>[] = [
  ...CONTRACTS.filter((c) => c.key === 'mqtt').flatMap((c) => (c.fields ?? []) as readonly RuleField<unknown>[]),
  ...(MEDIA_FIELDS as readonly RuleField<unknown>[]),
  ...PROTOCOLS.filter((c) => c.key !== 'mqtt').flatMap((c) => c.fields ?? []),
];

/** Sets the protocol fields of one flow into `out`; fields of protocols the flow lacks stay unset. */
export function protocolFields(facts: FlowFacts | null, v: FlowView, out: (name: string, value: FieldValue) => void): void {
  for (const [c, f] of factsOf(facts)) {
    for (const field of c.fields ?? []) {
      const x = field.value(f, v);
      if (x !== undefined) out(field.name, x);
    }
  }
  const m = mediaOf(facts, v);
  if (m) for (const field of MEDIA_FIELDS) out(field.name, field.value(m, v) ?? null);
}

/** An alert's evidence of the flow's protocols, by protocol: what a person can check, never a secret. */
export function protocolEvidence(facts: FlowFacts | null, v: FlowView): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [c, f] of factsOf(facts)) if (c.evidence) out[c.key] = c.evidence(f, v);
  return out;
}

/** The remote end's name as the flow says it, when DNS did not give one. */
export function remoteName(facts: FlowFacts | null): { name: string; source: 'sni' | 'http' } | null {
  for (const [c, f] of factsOf(facts)) {
    const name = c.remoteName?.of(f);
    if (name) return { name, source: c.remoteName!.source };
  }
  return null;
}

/** Tells the inventory what the device at one end of the flow showed of itself. */
export function learnFrom(facts: FlowFacts | null, v: LearnView, out: Learner): void {
  for (const [c, f] of factsOf(facts)) c.learn?.(f, v, out);
}

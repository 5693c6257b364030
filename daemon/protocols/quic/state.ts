/**
 * One QUIC flow: recognised from a long header on any UDP port (looksLikeQuic), then its first
 * Initial packets are decrypted (initial.ts) to read the client's hello from the crypto stream:
 * a TLS ClientHello (SNI, ALPN, offered TLS version, JA4 with the `q` prefix) or, for Google
 * QUIC before T050, a CHLO message (SNI, user agent). Only Initial packets are ever decrypted,
 * at most MAX_DECRYPTS per flow; the flow is let go once the hello is read and the server has
 * shown its version, or after MAX_DATAGRAMS datagrams.
 */
import type { DatagramParser, FlowContext } from '../parser-types.js';
import { ja4 } from '../tls/fingerprint.js';
import { type ClientHello, isGrease, parseClientHello, versionName as tlsVersionName } from '../tls/parser.js';
import { CryptoStream } from './crypto-stream.js';
import { initialKeys, openPacket, type Opened, type PacketKeys } from './initial.js';
import {
  chloLength,
  type FrameSink,
  gquicNumber,
  K_GQUIC_NIBBLE,
  K_NEGOTIATION,
  K_UNKNOWN,
  type LongHeader,
  MAX_CID,
  newLongHeader,
  nibblePnLength,
  parseChlo,
  parseLongHeader,
  parsePublicHeader,
  type PublicHeader,
  T_0RTT,
  T_HANDSHAKE,
  T_INITIAL,
  T_RETRY,
  T_VN,
  versionKind,
  versionName,
  versionString,
  walkGquicFrames,
  walkInitialFrames,
} from './parser.js';

/** What a QUIC flow showed (the `quic` key of a flow record's `protocol`). */
export interface QuicFacts {
  /**
   * The version of the client's packets: '0x00000001' style, or Google QUIC's ASCII tag
   * ('Q046', 'T051'). That of the Initial that carried the hello once read; '0x00000000' while
   * only a Version Negotiation was seen.
   */
  version: string;
  /** 'v1', 'v2', 'v2-draft', 'draft-29', 'mvfst-draft-27', 'grease', 'negotiation', 'Q046'... */
  versionName: string;
  /** The version of the server's first Initial or Handshake packet (differs from `version` after compatible version negotiation, RFC 9368). */
  serverVersion: string | null;
  /** Versions a server listed in a Version Negotiation packet (RFC 9000 §17.2.1), at most 16. */
  negotiationVersions: string[];
  /** The server answered with a Retry (address validation, RFC 9000 §8.1.2). */
  retry: boolean;
  sni: string | null;
  alpn: string[];
  /** JA4 of the ClientHello, `q` for QUIC (FoxIO JA4 technical details); null for Google's CHLO. */
  ja4: string | null;
  /** The highest TLS version the ClientHello offers (supported_versions, GREASE aside). */
  tlsVersion: string | null;
  /** encrypted_client_hello offered: the SNI above is the outer, public one. */
  ech: boolean;
  /** Google QUIC CHLO: the UAID tag (the browser's user agent). */
  userAgent: string | null;
  /** The client's hello was read. */
  helloSeen: boolean;
  /** Initial packets decrypted (or, for Google QUIC before Q050, read in cleartext). */
  initialPackets: number;
  /** Error code of a CONNECTION_CLOSE in a client Initial (RFC 9000 §19.19), null if none. */
  closeError: number | null;
}

/** Datagrams looked at before the flow is let go, hello or not. */
const MAX_DATAGRAMS = 16;
/** AEAD openings per flow: enough for a ClientHello over 2-3 packets, a Retry and a retransmission. */
const MAX_DECRYPTS = 6;
/** Largest hello assembled (post-quantum key shares make Chrome's about 1.8 KB). */
const MAX_HELLO = 16 * 1024;
/** Coalesced packets read in one datagram (RFC 9000 §12.2 puts no limit; real ones hold 2-3). */
const MAX_COALESCED = 6;
/** Versions kept from a Version Negotiation packet. */
const MAX_VN_VERSIONS = 16;
/** A CHLO is padded to at least 1024 bytes (Chromium kClientHelloMinimumSize); its datagram is larger. */
const GQUIC_MIN_HELLO = 1024;
/** Clients pad datagrams carrying Initial packets to 1200 bytes (RFC 9000 §14.1). */
const MIN_INITIAL_DATAGRAM = 1200;

export function newQuicFacts(): QuicFacts {
  return {
    version: '',
    versionName: '',
    serverVersion: null,
    negotiationVersions: [],
    retry: false,
    sni: null,
    alpn: [],
    ja4: null,
    tlsVersion: null,
    ech: false,
    userAgent: null,
    helloSeen: false,
    initialPackets: 0,
    closeError: null,
  };
}

// The probe's scratch: the probe runs once per unrecognised flow, synchronously.
const probeHeader = newLongHeader();
const probePublic: PublicHeader = { version: 0, payloadOff: 0, pnLen: 0 };

/**
 * A datagram that starts a QUIC flow. QUIC's only invariant is the long header (RFC 8999 §5.1):
 * one byte with its top bit set, a 32-bit version and the connection IDs. A random datagram
 * passes that a quarter of the time, so the rest of the packet must fit as well:
 * - a version we know (v1, v2, drafts, mvfst, reserved 0x?a?a?a?a, Google's): about 50 of 2^32;
 * - the fixed bit 0x40 set (RFC 9000 §17.2): RTP (version 2: 0b10 first bits) and RTCP never do;
 *   DTLS (20-25), STUN (0-3), CoAP (0x40-0x7f), Tuya and PPPP start below 0x80 or elsewhere;
 * - CID lengths of at most 20 (RFC 9000 §17.2), token and Length varints inside the datagram,
 *   Length leaving room for the header protection sample (RFC 9001 §5.4.2), every coalesced
 *   packet fitting likewise with the same version (RFC 9000 §12.2);
 * - a datagram with an Initial padded to 1200 bytes (RFC 9000 §14.1), unless a Handshake packet
 *   shares it (a later flight, seen when the capture missed the first);
 * - a Version Negotiation: lengths as above, a whole number of 32-bit versions, one of them
 *   known; servers set the fixed bit there too (RFC 9000 §17.2.1 asks them to, for protocol
 *   multiplexing, RFC 7983);
 * - Google QUIC before Q044 has no long header: its public header must carry the version flag,
 *   an 8-byte CID and 'Q0nn', in a datagram the size of a padded CHLO.
 * Short headers carry no version and nothing fixed: a flow seen only after its handshake is not
 * recognised. RFC 9287 lets peers that agreed to clear the fixed bit: such flows are missed too.
 */
export function looksLikeQuic(b: Buffer, off: number, len: number): boolean {
  if (len < 7) return false;
  const end = off + len;
  const first = b[off];
  if ((first & 0x80) === 0) return len >= GQUIC_MIN_HELLO && parsePublicHeader(b, off, end, probePublic);
  if ((first & 0x40) === 0) return false;
  const h = probeHeader;
  if (!parseLongHeader(b, off, end, h)) return false;
  if (h.kind === K_NEGOTIATION) return h.dcidLen <= MAX_CID && h.scidLen <= MAX_CID && listsKnownVersion(b, h.pnOff, end);
  if (h.kind === K_GQUIC_NIBBLE) return h.type === T_INITIAL && len >= GQUIC_MIN_HELLO;
  if (h.type === T_RETRY) return true;
  const v = h.version;
  const type = h.type;
  let handshake = type === T_HANDSHAKE;
  let p = h.end;
  for (let i = 1; i < MAX_COALESCED && p < end && (b[p] & 0x80) !== 0; i++) {
    if (!parseLongHeader(b, p, end, h) || h.version !== v || h.type === T_RETRY || h.type === T_VN) return false;
    if (h.type === T_HANDSHAKE) handshake = true;
    p = h.end;
  }
  return type !== T_INITIAL || len >= MIN_INITIAL_DATAGRAM || handshake;
}

function listsKnownVersion(b: Buffer, p: number, end: number): boolean {
  for (let i = 0; p + 4 <= end && i < 64; p += 4, i++) {
    const v = b.readUInt32BE(p);
    if (v !== 0 && versionKind(v) !== K_UNKNOWN) return true;
  }
  return false;
}

/** The detection step: a QuicFlow when the datagram starts a QUIC flow. */
export function quicProbe(ctx: FlowContext, dir: number, buf: Buffer, off: number, len: number): QuicFlow | null {
  void dir;
  return looksLikeQuic(buf, off, len) ? new QuicFlow(ctx) : null;
}

export class QuicFlow implements DatagramParser, FrameSink {
  readonly app = 'quic';
  readonly encrypted = true;
  readonly f: QuicFacts = newQuicFacts();
  private datagrams = 0;
  private decrypts = 0;
  /** The client's direction: confirmed by an Initial that decrypts, or presumed (see packet()). */
  private clientDir = -1;
  private confirmed = false;
  /** Client Initial keys and what they were derived from (version, DCID). */
  private keys: PacketKeys | null = null;
  private keysVersion = -1;
  private keysDcid: Buffer | null = null;
  /** A Retry came: the client's next Initial has keys of its own. */
  private rekey = false;
  private largestPn = -1;
  private stream: CryptoStream | null = null;
  /** The version whose Initials feed `stream`. */
  private streamVersion = -1;
  private helloDone = false;
  private helloFailed = false;
  private done = false;
  private readonly h: LongHeader = newLongHeader();
  private readonly opened: Opened = { pn: 0, first: 0 };
  private readonly pub: PublicHeader = { version: 0, payloadOff: 0, pnLen: 0 };

  constructor(private readonly ctx: FlowContext) {}

  datagram(dir: number, b: Buffer, off: number, len: number): void {
    if (this.done || len < 1) return;
    const end = off + len;
    if (++this.datagrams === 1) {
      // The flow's first datagram (the probe's): its version, before any hello it may complete.
      const v = b[off] & 0x80 ? (len >= 5 ? b.readUInt32BE(off + 1) : -1) : len >= 13 ? b.readUInt32BE(off + 9) : -1;
      if (v >= 0) this.ctx.emit('quic', () => ({ version: versionString(v), versionName: versionName(v) }), dir);
    }
    if (b[off] & 0x80) this.longPackets(dir, b, off, end);
    else if (!this.helloDone && !this.helloFailed && (this.clientDir < 0 || dir === this.clientDir) && parsePublicHeader(b, off, end, this.pub)) this.publicPacket(dir, b, end);
    // Short headers (RFC 9000 §17.3) carry 1-RTT data: nothing to read there.
    if (this.datagrams >= MAX_DATAGRAMS || ((this.helloDone || this.helloFailed) && this.f.serverVersion !== null)) this.finish();
  }

  private finish(): void {
    this.done = true;
    this.stream = null;
    this.keys = null;
    this.ctx.stop();
  }

  private setVersion(v: number): void {
    this.f.version = versionString(v);
    this.f.versionName = versionName(v);
  }

  /** Every long-header packet of the datagram (coalesced packets, RFC 9000 §12.2). */
  private longPackets(dir: number, b: Buffer, off: number, end: number): void {
    const h = this.h;
    let p = off;
    for (let i = 0; i < MAX_COALESCED && p < end && (b[p] & 0x80) !== 0; i++) {
      if (!parseLongHeader(b, p, end, h)) return;
      this.packet(dir, b, p, end, h);
      if (h.end >= end) return;
      p = h.end;
    }
  }

  private packet(dir: number, b: Buffer, start: number, end: number, h: LongHeader): void {
    const f = this.f;
    if (h.type === T_VN || h.type === T_RETRY) {
      // Only servers send these (RFC 9000 §17.2.1, §17.2.5).
      if (this.clientDir < 0) this.clientDir = dir ^ 1;
      if (dir === this.clientDir) return;
      if (f.version === '') this.setVersion(h.version);
      if (h.type === T_RETRY) {
        f.retry = true;
        this.rekey = true;
      }
      else this.negotiation(b, h.pnOff, end);
      return;
    }
    // The client speaks first: the sender of the first Initial or 0-RTT packet is presumed to be
    // it (a capture that starts later shows the server's packets first; decryption then decides).
    if (this.clientDir < 0 && (h.type === T_INITIAL || h.type === T_0RTT)) this.clientDir = dir;
    if (this.clientDir >= 0 && dir !== this.clientDir) {
      if (f.serverVersion === null) f.serverVersion = versionString(h.version);
      return;
    }
    if (f.version === '' || f.versionName === 'negotiation') this.setVersion(h.version);
    if (h.type !== T_INITIAL || this.helloDone || this.helloFailed) return;
    if (h.kind === K_GQUIC_NIBBLE) {
      // Q044-Q046: the client hello packet is not encrypted; a 12-byte hash precedes the frames.
      const pnLen = nibblePnLength(b, start, h.version);
      const payload = h.pnOff + pnLen + 12;
      if (payload >= end) return;
      this.feedVersion(h.version);
      f.initialPackets++;
      walkGquicFrames(b, payload, end, h.version, pnLen, this);
      this.tryHello();
      return;
    }
    if (this.decrypts >= MAX_DECRYPTS) return;
    const keys = this.keysFor(b, h);
    if (!keys) return;
    this.decrypts++;
    // Packet numbers are per connection attempt: a new version starts again from none.
    const largest = h.version === this.streamVersion ? this.largestPn : -1;
    const plain = openPacket(keys, b, start, h.pnOff, h.end, largest, this.opened);
    if (!plain) {
      // Keys for this version exist but do not open it: not the client's first DCID, so
      // probably the server's Initial taken for the client's. Let the other side try.
      if (!this.confirmed) this.clientDir = -1;
      return;
    }
    this.clientDir = dir;
    this.confirmed = true;
    this.feedVersion(h.version);
    if (this.opened.pn > this.largestPn) this.largestPn = this.opened.pn;
    f.initialPackets++;
    if (gquicNumber(h.version) >= 47) walkGquicFrames(plain, 0, plain.length, h.version, 0, this);
    else walkInitialFrames(plain, 0, plain.length, this);
    this.tryHello();
  }

  /**
   * Client Initial keys (RFC 9001 §5.2): derived from the DCID of the client's first Initial,
   * and kept when the client moves to the server's connection ID (RFC 9000 §7.2); derived again
   * only for the DCID a Retry gave it (RFC 9001 §5.2, RFC 9000 §17.2.5.2) or a new version.
   * Before any packet opened, each candidate DCID gets its own try.
   */
  private keysFor(b: Buffer, h: LongHeader): PacketKeys | null {
    const dcid = b.subarray(h.dcidOff, h.dcidOff + h.dcidLen);
    if (this.keys && this.keysVersion === h.version && (this.keysDcid!.equals(dcid) || (this.confirmed && !this.rekey))) return this.keys;
    this.rekey = false;
    this.keysDcid = Buffer.from(dcid);
    this.keysVersion = h.version;
    this.keys = initialKeys(h.version, this.keysDcid, false);
    return this.keys;
  }

  /** Versions listed by a Version Negotiation packet. */
  private negotiation(b: Buffer, p: number, end: number): void {
    const list = this.f.negotiationVersions;
    for (; p + 4 <= end && list.length < MAX_VN_VERSIONS; p += 4) {
      const s = versionString(b.readUInt32BE(p));
      if (!list.includes(s)) list.push(s);
    }
  }

  /** Google QUIC Q043 and older: the CHLO in cleartext frames after a 12-byte hash. */
  private publicPacket(dir: number, b: Buffer, end: number): void {
    const pub = this.pub;
    if (this.clientDir < 0) this.clientDir = dir;
    if (this.f.version === '') this.setVersion(pub.version);
    const payload = pub.payloadOff + 12;
    if (payload >= end || this.f.initialPackets >= MAX_DECRYPTS) return;
    this.feedVersion(pub.version);
    this.f.initialPackets++;
    walkGquicFrames(b, payload, end, pub.version, pub.pnLen, this);
    this.tryHello();
  }

  /** A new version restarts the crypto stream: the client began again after Version Negotiation. */
  private feedVersion(v: number): void {
    if (this.streamVersion === v) return;
    this.streamVersion = v;
    this.stream?.reset();
    this.largestPn = -1;
  }

  crypto(offset: number, buf: Buffer, start: number, end: number): void {
    if (this.helloDone || this.helloFailed) return;
    // The usual case: the whole hello in one frame at offset 0, read where it lies.
    if (offset === 0 && !this.stream) {
      const need = this.helloLength(buf, start, end - start);
      if (need > 0 && need <= end - start) {
        this.hello(buf, start, start + need);
        return;
      }
    }
    (this.stream ??= new CryptoStream(MAX_HELLO)).add(offset, buf, start, end);
  }

  close(code: number): void {
    if (this.f.closeError === null) this.f.closeError = code;
  }

  /** Bytes of the hello at buf[off] when its header is there, 0 while not, -1 if it is none. */
  private helloLength(buf: Buffer, off: number, avail: number): number {
    // Google QUIC up to Q050 carries its own handshake (CHLO); T050 on, TLS 1.3.
    if (this.streamVersion >>> 24 === 0x51) return chloLength(buf, off, avail);
    if (avail < 1) return 0;
    if (buf[off] !== 1) return -1; // a ClientHello (RFC 8446 §4)
    if (avail < 4) return 0;
    return 4 + buf.readUIntBE(off + 1, 3);
  }

  private tryHello(): void {
    const st = this.stream;
    if (!st || this.helloDone || this.helloFailed) return;
    const avail = st.contiguous;
    const need = this.helloLength(st.bytes, 0, avail);
    if (need < 0 || need > MAX_HELLO || (need === 0 && st.overflow) || (need > avail && st.overflow)) {
      this.helloFailed = true;
      this.stream = null;
      return;
    }
    if (need > 0 && need <= avail) {
      this.hello(st.bytes, 0, need);
      this.stream = null;
    }
  }

  /** The complete hello at buf[off, end). */
  private hello(buf: Buffer, off: number, end: number): void {
    const f = this.f;
    this.helloDone = true;
    this.setVersion(this.streamVersion);
    if (this.streamVersion >>> 24 === 0x51) {
      const c = parseChlo(buf, off, end);
      if (!c) {
        this.helloFailed = true;
        this.ctx.emit('anomaly', { protocol: 'quic', event: 'malformed CHLO' }, this.clientDir);
        return;
      }
      f.helloSeen = true;
      f.sni = c.sni;
      f.userAgent = c.userAgent;
    } else {
      let h: ClientHello;
      try {
        h = parseClientHello(buf, off + 4, end);
      } catch (e) {
        this.helloFailed = true;
        this.ctx.emit('anomaly', { protocol: 'quic', event: `malformed ClientHello: ${(e as Error).message}` }, this.clientDir);
        return;
      }
      f.helloSeen = true;
      f.sni = h.sni;
      f.alpn = h.alpn;
      f.ech = h.ech;
      f.ja4 = ja4(h, 'q');
      f.tlsVersion = offeredTlsVersion(h);
    }
    this.ctx.emit(
      'quic',
      () => ({ handshake: 'client_hello', version: f.version, versionName: f.versionName, sni: f.sni, alpn: f.alpn, tlsVersion: f.tlsVersion, ja4: f.ja4, ech: f.ech, userAgent: f.userAgent }),
      this.clientDir,
    );
  }

  facts(): { quic: QuicFacts } | null {
    return this.f.version === '' ? null : { quic: this.f };
  }
}

/** The highest version in supported_versions (RFC 8446 §4.2.1), GREASE aside; else legacy_version. */
function offeredTlsVersion(h: ClientHello): string {
  let best = 0;
  for (const v of h.supportedVersions) if (!isGrease(v) && v > best) best = v;
  return tlsVersionName(best || h.version);
}

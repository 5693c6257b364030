/**
 * STUN (RFC 8489 §5-6; RFC 5389 before it) and TURN (RFC 8656): the NAT-traversal messages
 * cameras, P2P apps and WebRTC use to reach their cloud or each other. Recognised by the magic
 * cookie; reports methods, classes, SOFTWARE and which attributes came (never their values).
 *
 * Over UDP the flow is followed past its STUN: on an ICE 5-tuple DTLS, TURN ChannelData and
 * SRTP follow on the same ports, told apart by their first byte (RFC 7983 §7). The flow keeps
 * `app` 'stun' (what recognised it; a flow's application does not change under the verdicts
 * that judged it) and its facts say what else it carried: `dtls` (version, suite, SRTP profile)
 * and `srtp` (packets and sources). It is `encrypted` once DTLS is seen (the media keys come from
 * it, RFC 5764), unless the SRTP profile chosen is a NULL one and media flowed.
 *
 * Over TCP (StunSession): messages back to back (RFC 8489 §6.2.2) with TURN ChannelData padded
 * to four bytes (RFC 8656 §12.5), or every packet framed by a 16-bit length as ICE-TCP does
 * (RFC 6544 §3, RFC 4571). A TURN TCP data connection (RFC 6062 §4.3) becomes raw relayed bytes
 * after ConnectionBind: it is not read further.
 */
import { DtlsTracker, type DtlsFacts, SrtpCounter, type SrtpFacts } from '../dtls/state.js';
import { looksLikeDtls } from '../dtls/parser.js';
import { type DatagramParser, type FlowContext, PendingBytes, type StreamParser } from '../parser-types.js';
import { CLASS_NAMES, channelDataLength, Demux, demux, Has, looksLikeStun, METHOD_NAMES, parseStun, type StunClass, StunMessage, stunClass, stunHeaderOk, stunMethod } from './parser.js';

export { looksLikeStun } from './parser.js';

export interface StunFacts {
  /** STUN messages, both directions. */
  messages: number;
  /** SOFTWARE values (RFC 8489 §14.14): client and server names and versions. */
  software: string[];
  /** Method numbers (1 binding, 3 allocate...), and their names. */
  methods: number[];
  methodNames: string[];
  classes: StunClass[];
  /** ERROR-CODE values (401 unauthenticated, 438 stale nonce...). */
  errorCodes: number[];
  /** A response gave the client its address as the server saw it (XOR-MAPPED-ADDRESS, or the old MAPPED-ADDRESS). */
  mappedAddress: boolean;
  /** USERNAME came (an ICE ufrag pair or a TURN user name): present only, its value is not kept. */
  username: boolean;
  /** MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 came: the messages are authenticated. */
  messageIntegrity: boolean;
  /** Messages with a FINGERPRINT, and how many of those held the right CRC-32 (§14.7). */
  fingerprints: number;
  fingerprintsValid: number;
  /** ICE connectivity checks (PRIORITY, ICE-CONTROLLING/CONTROLLED, USE-CANDIDATE: RFC 8445 §7.1). */
  ice: boolean;
  /** TURN methods (allocate, refresh, permissions, channels, send/data): the flow goes to a relay. */
  turn: boolean;
  /** TURN ChannelData messages (RFC 8656 §12) and their channel numbers. */
  channelData: number;
  channels: number[];
  transport: 'udp' | 'tcp';
  /** TCP only: 'rfc4571' when each packet is length-framed (ICE-TCP), else null. */
  framing: 'rfc4571' | null;
  /** Packets that were none of STUN, DTLS, TURN ChannelData or RTP. */
  other: number;
  malformed: number;
}

/** What a STUN flow reports: its STUN, and the DTLS and SRTP that followed on it. */
export type StunFlowFacts = { stun: StunFacts; dtls?: DtlsFacts; srtp?: SrtpFacts };

/** Messages read in full per flow; past it, packets are only counted (by their first byte). */
const EXAMINE = 256;
const EVENTS = 8;
const SAMPLE = 16;
const SOFTWARE_CHARS = 128;
const TURN_METHODS = new Set([0x003, 0x004, 0x006, 0x007, 0x008, 0x009, 0x00a, 0x00b, 0x00c]);

/** One scratch message for every flow: parsing is synchronous. */
const scratch = new StunMessage();

function add<T>(list: T[], v: T): void {
  if (list.length < SAMPLE && !list.includes(v)) list.push(v);
}

/** The demultiplexer behind both transports: one packet (a datagram, a framed packet, a message) at a time. */
class StunMux {
  readonly f: StunFacts;
  dtls: DtlsTracker | null = null;
  srtp: SrtpCounter | null = null;
  private examined = 0;
  /** Set when a direction carried ConnectionBind (RFC 6062 §4.3): it turns into raw data after that message. */
  connectionBound = [false, false];

  constructor(
    private readonly ctx: FlowContext,
    transport: 'udp' | 'tcp',
    framing: 'rfc4571' | null,
  ) {
    this.f = { messages: 0, software: [], methods: [], methodNames: [], classes: [], errorCodes: [], mappedAddress: false, username: false, messageIntegrity: false, fingerprints: 0, fingerprintsValid: 0, ice: false, turn: false, channelData: 0, channels: [], transport, framing, other: 0, malformed: 0 };
  }

  get encrypted(): boolean {
    if (!this.dtls) return false;
    return !(this.dtls.nullMedia && this.srtp !== null && this.srtp.f.packets > 0);
  }

  /** Any packet of a shared port (UDP datagram, RFC 4571 frame); `inner` for data relayed in ChannelData. */
  packet(dir: number, b: Buffer, off: number, len: number, inner = false): void {
    if (len <= 0) return;
    switch (demux(b[off])) {
      case Demux.Stun:
        if (inner) return; // the relayed peer's own checks: not this flow's STUN
        if (stunHeaderOk(b, off, len) && 20 + b.readUInt16BE(off + 2) <= len) this.stun(dir, b, off);
        else this.f.malformed++;
        return;
      case Demux.Dtls:
        if (looksLikeDtls(b, off, len) || (this.dtls && (b[off] & 0xe0) === 0x20)) {
          this.dtls ??= new DtlsTracker(this.ctx);
          this.dtls.packet(dir, b, off, len);
        } else if (!inner) this.f.other++;
        return;
      case Demux.TurnChannel: {
        if (inner) return;
        const n = channelDataLength(b, off, len);
        if (n < 0 || 4 + n > len) {
          this.f.other++;
          return;
        }
        this.channelData(dir, b, off, n);
        return;
      }
      case Demux.Rtp:
        if (len < 8) {
          if (!inner) this.f.other++;
          return;
        }
        this.srtp ??= new SrtpCounter(this.ctx, this.dtls !== null);
        this.srtp.packet(dir, b, off, len);
        return;
      default:
        if (!inner) this.f.other++;
    }
  }

  /** A TURN ChannelData message whose header is at `off` and `avail` data bytes are at hand. */
  channelData(dir: number, b: Buffer, off: number, avail: number): void {
    const f = this.f;
    f.channelData++;
    if (++this.examined > EXAMINE) return;
    add(f.channels, b.readUInt16BE(off));
    // The relayed data may be the peer's DTLS or SRTP (WebRTC through a TURN relay).
    this.packet(dir, b, off + 4, avail, true);
  }

  /** A whole STUN message at `off`. */
  stun(dir: number, b: Buffer, off: number): void {
    const f = this.f;
    f.messages++;
    const t = b.readUInt16BE(off);
    if (stunMethod(t) === 0x00b) this.connectionBound[dir] = true;
    if (++this.examined > EXAMINE) return;
    const m = scratch;
    parseStun(b, off, m);
    if (m.malformed) f.malformed++;
    add(f.methods, m.method);
    add(f.methodNames, METHOD_NAMES[m.method] ?? `0x${m.method.toString(16).padStart(3, '0')}`);
    add(f.classes, CLASS_NAMES[m.cls]);
    if (TURN_METHODS.has(m.method)) f.turn = true;
    if (m.has & (Has.XorMappedAddress | Has.MappedAddress)) f.mappedAddress = true;
    if (m.has & Has.Username) f.username = true;
    if (m.has & (Has.MessageIntegrity | Has.MessageIntegritySha256)) f.messageIntegrity = true;
    if (m.has & Has.Fingerprint) {
      f.fingerprints++;
      if (m.has & Has.FingerprintValid) f.fingerprintsValid++;
    }
    if (m.has & Has.Ice) f.ice = true;
    if (m.has & Has.ErrorCode) add(f.errorCodes, m.errorCode);
    if (m.has & Has.ChannelNumber) add(f.channels, m.channel);
    let software: string | null = null;
    if (m.has & Has.Software) {
      software = b.toString('utf8', m.softwareOff, m.softwareOff + m.softwareLen).slice(0, SOFTWARE_CHARS);
      add(f.software, software);
    }
    if (f.messages <= EVENTS) {
      const method = m.method;
      const cls = m.cls;
      const has = m.has;
      const errorCode = m.errorCode;
      this.ctx.emit(
        'stun',
        () => ({
          method,
          methodName: METHOD_NAMES[method] ?? null,
          class: CLASS_NAMES[cls],
          software,
          mappedAddress: (has & (Has.XorMappedAddress | Has.MappedAddress)) !== 0,
          username: (has & Has.Username) !== 0,
          messageIntegrity: (has & (Has.MessageIntegrity | Has.MessageIntegritySha256)) !== 0,
          fingerprint: has & Has.Fingerprint ? (has & Has.FingerprintValid ? 'valid' : 'invalid') : null,
          ice: (has & Has.Ice) !== 0,
          errorCode: has & Has.ErrorCode ? errorCode : null,
        }),
        dir,
      );
    }
  }

  /** A STUN message too long to hold (TCP): counted from its header. */
  stunHeaderOnly(b: Buffer, off: number): void {
    const f = this.f;
    f.messages++;
    const t = b.readUInt16BE(off);
    add(f.methods, stunMethod(t));
    add(f.classes, CLASS_NAMES[stunClass(t)]);
  }

  facts(): StunFlowFacts {
    const out: StunFlowFacts = { stun: this.f };
    if (this.dtls) out.dtls = this.dtls.f;
    if (this.srtp) out.srtp = this.srtp.f;
    return out;
  }
}

/** STUN over UDP, and what follows it on the same 5-tuple. */
export class StunFlow implements DatagramParser {
  readonly app = 'stun';
  private readonly mux: StunMux;

  constructor(ctx: FlowContext) {
    this.mux = new StunMux(ctx, 'udp', null);
  }

  get f(): StunFacts {
    return this.mux.f;
  }

  get encrypted(): boolean {
    return this.mux.encrypted;
  }

  datagram(dir: number, b: Buffer, off: number, len: number): void {
    // Over UDP a STUN message is the whole datagram (RFC 8489 §6.2.1).
    if (len > 0 && demux(b[off]) === Demux.Stun && !looksLikeStun(b, off, len)) {
      this.mux.f.malformed++;
      return;
    }
    this.mux.packet(dir, b, off, len);
  }

  facts(): StunFlowFacts {
    return this.mux.facts();
  }
}

/** Methods a STUN or TURN client opens a TCP connection with. */
const TCP_FIRST = new Set([0x001, 0x003, 0x004, 0x006, 0x008, 0x009, 0x00a, 0x00b]);

/**
 * How the first bytes of a TCP direction carry STUN: 'raw' when they start with a STUN message
 * of a known method (RFC 8489 §6.2.2; the cookie makes one header enough), 'rfc4571' when they
 * start with a 16-bit length that frames exactly one such message (RFC 6544 §3), else null.
 */
export function stunTcpFraming(b: Buffer, off: number, len: number): 'raw' | 'rfc4571' | null {
  if (stunHeaderOk(b, off, len) && TCP_FIRST.has(stunMethod(b.readUInt16BE(off)))) return 'raw';
  if (len >= 22 && stunHeaderOk(b, off + 2, len - 2) && b.readUInt16BE(off) === 20 + b.readUInt16BE(off + 4) && TCP_FIRST.has(stunMethod(b.readUInt16BE(off + 2)))) return 'rfc4571';
  return null;
}

export function looksLikeStunOverTcp(b: Buffer, off: number, len: number): boolean {
  return stunTcpFraming(b, off, len) !== null;
}

/** Bytes of a STUN message or frame held across segments; a longer one is counted from its header and skipped. */
const HOLD = 4096;

/** STUN and TURN over TCP. */
export class StunSession implements StreamParser {
  readonly app = 'stun';
  private readonly mux: StunMux;
  private readonly pending = [new PendingBytes(HOLD), new PendingBytes(HOLD)];
  private readonly skip = [0, 0];
  private readonly done = [false, false];

  constructor(
    ctx: FlowContext,
    private readonly framing: 'raw' | 'rfc4571',
  ) {
    this.mux = new StunMux(ctx, 'tcp', framing === 'rfc4571' ? 'rfc4571' : null);
  }

  get encrypted(): boolean {
    return this.mux.encrypted;
  }

  data(dir: number, data: Buffer, off: number, len: number): void {
    if (this.done[dir]) return;
    if (this.skip[dir] > 0) {
      const n = Math.min(this.skip[dir], len);
      this.skip[dir] -= n;
      off += n;
      len -= n;
      if (len === 0) return;
    }
    const v = this.pending[dir].join(data, off, len);
    const p = this.framing === 'raw' ? this.raw(dir, v.buf, v.off, v.end) : this.framed(dir, v.buf, v.off, v.end);
    if (!this.done[dir] && p < v.end && !this.pending[dir].keep(v.buf, p, v.end)) this.done[dir] = true;
  }

  /** Messages back to back; returns where the unread rest starts. */
  private raw(dir: number, b: Buffer, p: number, end: number): number {
    while (p < end && !this.done[dir]) {
      const avail = end - p;
      if (avail < 4) return p;
      const top = b[p] >> 6;
      if (top === 0) {
        if (avail < 20) return p;
        if (!stunHeaderOk(b, p, avail)) return this.lost(dir, end);
        const total = 20 + b.readUInt16BE(p + 2);
        if (avail < total) {
          if (total <= HOLD) return p;
          this.mux.stunHeaderOnly(b, p);
          this.skip[dir] = total - avail;
          return end;
        }
        this.mux.stun(dir, b, p);
        p += total;
        // RFC 6062 §4.3: after ConnectionBind and its answer, the connection carries the peer's raw bytes.
        if (this.mux.connectionBound[dir]) this.done[dir] = true;
      } else if (top === 1) {
        const n = channelDataLength(b, p, avail);
        if (n < 0) return this.lost(dir, end);
        const total = 4 + ((n + 3) & ~3);
        const have = Math.min(n, avail - 4);
        if (avail < total && total <= HOLD) return p;
        this.mux.channelData(dir, b, p, have);
        if (avail < total) {
          this.skip[dir] = total - avail;
          return end;
        }
        p += total;
      } else {
        return this.lost(dir, end);
      }
    }
    return this.done[dir] ? end : p;
  }

  /** Packets each preceded by a 16-bit length (RFC 4571 §2). */
  private framed(dir: number, b: Buffer, p: number, end: number): number {
    while (p < end) {
      const avail = end - p;
      if (avail < 2) return p;
      const n = b.readUInt16BE(p);
      if (avail - 2 < n) {
        if (2 + n <= HOLD) return p;
        // Too long to hold: what its first bytes say, then skip the rest.
        this.mux.packet(dir, b, p + 2, avail - 2);
        this.skip[dir] = 2 + n - avail;
        return end;
      }
      this.mux.packet(dir, b, p + 2, n);
      p += 2 + n;
    }
    return p;
  }

  /** Bytes that are not what the framing says: this direction cannot be read any more. */
  private lost(dir: number, end: number): number {
    this.mux.f.malformed++;
    this.done[dir] = true;
    return end;
  }

  gap(dir: number): void {
    // A hole loses the message boundaries.
    this.pending[dir].clear();
    this.skip[dir] = 0;
    this.done[dir] = true;
  }

  facts(): StunFlowFacts {
    return this.mux.facts();
  }
}

/** The detection order's step for TCP (contract.ts StreamProbe): STUN or TURN over TCP, raw or framed. */
export function stunStream(ctx: FlowContext, _dir: number, buf: Buffer, off: number, len: number): StunSession | null {
  const framing = stunTcpFraming(buf, off, len);
  return framing ? new StunSession(ctx, framing) : null;
}

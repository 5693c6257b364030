/**
 * DTLS and SRTP seen on a flow recognised by its STUN (WebRTC, ICE: RFC 8445, RFC 8842), told
 * apart by their first byte (RFC 7983 §7) by the STUN flow. DTLS is followed as far as its hellos
 * (version, suite, use_srtp); SRTP headers are in clear (RFC 3711 §3.1): sources and sequence
 * are read as RTP's, the payload never is.
 */
import type { FlowContext } from '../parser-types.js';
import { newDirection, type RtpDirection, RtpTracker } from '../rtp/state.js';
import { rtcpHeaderOk, rtpHeaderLength } from '../rtp/parser.js';
import { dtlsVersionName, isNullSrtpProfile, parseDtlsHello, srtpProfileName, walkRecords } from './parser.js';

export interface DtlsFacts {
  seen: true;
  /** The version the ServerHello chose (supported_versions for 1.3), else the one the ClientHello offered. */
  version: string | null;
  /** Datagrams (or frames) that held DTLS records; hellos are read in the first 64. */
  packets: number;
  clientHello: boolean;
  serverHello: boolean;
  /** The cipher suite the server chose (IANA TLS number). */
  cipher: number | null;
  sni: string | null;
  /** use_srtp (RFC 5764 §4.1.1): the profiles the client offered, and the one the server chose. */
  srtpProfiles: string[];
  srtpProfile: string | null;
  /** Records of application data in the first 64 DTLS datagrams (WebRTC data channels: SCTP over DTLS, RFC 8261). */
  applicationData: number;
}

export interface SrtpFacts {
  /** RTP-format packets after STUN on this flow (SRTP and SRTCP: RFC 3711 §3.1, §3.4). */
  packets: number;
  rtcpPackets: number;
  ssrcs: number[];
  payloadTypes: number[];
  codecs: string[];
  /** Sent by the flow's originator, and by its responder. */
  orig: RtpDirection;
  resp: RtpDirection;
  /**
   * A DTLS handshake came first on this flow: the media keys come from it (DTLS-SRTP, RFC 5764,
   * what WebRTC requires: RFC 8827 §6.5). False: keyed some other way (SDES) or not encrypted,
   * which cannot be told from the packets.
   */
  dtlsKeyed: boolean;
}

const EXAMINE = 64;

/** The DTLS of a flow: records counted, hellos read. */
export class DtlsTracker {
  readonly f: DtlsFacts = { seen: true, version: null, packets: 0, clientHello: false, serverHello: false, cipher: null, sni: null, srtpProfiles: [], srtpProfile: null, applicationData: 0 };
  private chosenProfile = -1;
  private offered = 0;
  private readonly counts = new Int32Array(2);
  private dir = 0;
  private readonly onHandshake = (type: number, body: number, end: number) => this.handshake(type, body, end);
  private buf: Buffer | null = null;

  constructor(private readonly ctx: FlowContext) {}

  /** Media keyed by this handshake is not encrypted (an SRTP NULL profile was chosen). */
  get nullMedia(): boolean {
    return this.chosenProfile >= 0 && isNullSrtpProfile(this.chosenProfile);
  }

  packet(dir: number, b: Buffer, off: number, len: number): void {
    const f = this.f;
    if (++f.packets > EXAMINE) return;
    this.dir = dir;
    this.buf = b;
    walkRecords(b, off, len, this.onHandshake, this.counts);
    this.buf = null;
    f.applicationData += this.counts[1];
  }

  private handshake(type: number, body: number, end: number): void {
    if ((type !== 1 && type !== 2) || !this.buf) return;
    const h = parseDtlsHello(this.buf, type, body, end);
    if (!h) return;
    const f = this.f;
    if (type === 1) {
      f.clientHello = true;
      f.sni ??= h.sni;
      if (!f.serverHello) f.version = dtlsVersionName(h.supportedVersion || h.version);
      for (const p of h.srtpProfiles) if (f.srtpProfiles.length < 16 && !f.srtpProfiles.includes(srtpProfileName(p))) f.srtpProfiles.push(srtpProfileName(p));
      // Once per flow: the first ClientHello and the one answering a HelloVerifyRequest say the same.
      if (this.offered++ < 2) this.ctx.emit('dtls', () => ({ type: 'client_hello', version: dtlsVersionName(h.version), supportedVersion: h.supportedVersion ? dtlsVersionName(h.supportedVersion) : null, sni: h.sni, srtpProfiles: h.srtpProfiles.map(srtpProfileName) }), this.dir);
    } else {
      f.serverHello = true;
      f.version = dtlsVersionName(h.supportedVersion || h.version);
      f.cipher = h.cipher;
      if (h.srtpProfiles.length > 0) {
        this.chosenProfile = h.srtpProfiles[0];
        f.srtpProfile = srtpProfileName(h.srtpProfiles[0]);
      }
      this.ctx.emit('dtls', () => ({ type: 'server_hello', version: f.version, cipher: h.cipher, srtpProfile: f.srtpProfile }), this.dir);
    }
  }
}

/** The SRTP (and SRTCP) packets of a flow, per direction and source. */
export class SrtpCounter {
  readonly f: SrtpFacts = { packets: 0, rtcpPackets: 0, ssrcs: [], payloadTypes: [], codecs: [], orig: newDirection(), resp: newDirection(), dtlsKeyed: false };
  private readonly tracker = new RtpTracker(this.f.orig, this.f.resp, this.f);

  constructor(
    private readonly ctx: FlowContext,
    dtlsKeyed: boolean,
  ) {
    this.f.dtlsKeyed = dtlsKeyed;
  }

  packet(dir: number, b: Buffer, off: number, len: number): void {
    const f = this.f;
    const d = this.tracker.dirs[dir];
    f.packets++;
    d.packets++;
    if (f.packets > EXAMINE * 4) return;
    // SRTCP: its first header and sender SSRC are in clear (RFC 3711 §3.4); RTCP types 192-223 (RFC 5761 §4).
    if (b[off + 1] >= 192 && b[off + 1] <= 223) {
      if (rtcpHeaderOk(b, off, len)) {
        f.rtcpPackets++;
        d.rtcpPackets++;
      }
      return;
    }
    if (rtpHeaderLength(b, off, len) < 0) return;
    if (this.tracker.rtp(dir, b, off)) {
      const ssrc = b.readUInt32BE(off + 8);
      const pt = b[off + 1] & 0x7f;
      this.ctx.emit('srtp', () => ({ ssrc, payloadType: pt, dtlsKeyed: f.dtlsKeyed }), dir);
    }
  }
}

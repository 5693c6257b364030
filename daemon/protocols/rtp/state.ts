/**
 * RTP and RTCP flows: confirmed by sequence continuity of one source, counted per direction,
 * tied to an RTSP session when one announced the ports. Over UDP one datagram is one packet;
 * over TCP packets are framed by a 16-bit length (RFC 4571 §2, see framing.ts).
 *
 * Each direction keeps its own sources: in a two-way call both sides send on one 5-tuple, each
 * with its own SSRC and sequence, and the packets alternate, so continuity is only visible per
 * direction and per SSRC (RFC 3550 §8.1: an SSRC is chosen by each sender).
 */
import type { DatagramParser, FlowContext, StreamParser } from '../parser-types.js';
import { FRAME_HEAD, Framed, framedKind, looksLikeRtpOverTcp, rtpOverTcpLevel, rtpOverTcpStart } from './framing.js';
import { isRtcpCompound, PAYLOAD_NAMES, rtpHeaderLength } from './parser.js';

/** What one side of the flow sent. */
export interface RtpDirection {
  /** Packets this side sent (datagrams, or RFC 4571 frames), whatever they held. */
  packets: number;
  rtcpPackets: number;
  /** Its synchronisation sources (RFC 3550 §3), at most 8. */
  ssrcs: number[];
  payloadTypes: number[];
  /** Names of the static payload types among them (RFC 3551 §6). */
  codecs: string[];
  /** One of its sources passed probation: two packets in sequence (RFC 3550 §A.1). */
  confirmed: boolean;
}

export interface RtpFacts {
  /** Both directions together (`orig` and `resp` hold each one). */
  ssrcs: number[];
  payloadTypes: number[];
  codecs: string[];
  /** Packets of the flow, both directions, whatever they held. */
  packets: number;
  /** Set up by an RTSP session that named these ports. */
  rtspSession: boolean;
  /** RTCP was seen (the flow is reported as `rtcp` when it holds only RTCP). */
  rtcp: boolean;
  rtcpPackets: number;
  /** Sent by the flow's originator, and by its responder. */
  orig: RtpDirection;
  resp: RtpDirection;
  /** `tcp`: RTP and RTCP framed on a TCP connection (RFC 4571). */
  transport: 'udp' | 'tcp';
}

/** What an RTP or RTCP flow reports: under `rtcp` when it carried RTCP only. */
export type RtpFlowFacts = { rtp: RtpFacts; rtcp?: never } | { rtcp: RtpFacts; rtp?: never };

/** Packets examined per flow: enough to confirm and sample; the rest only count. */
const EXAMINE = 64;
/** Sources on probation per direction: a few interleaved streams (audio, video, RFC 4733 events). */
const SLOTS = 4;
/** Sequence step accepted as continuity: a few lost packets between two seen ones. */
const MAX_STEP = 10;
const SAMPLE = 8;

export function newDirection(): RtpDirection {
  return { packets: 0, rtcpPackets: 0, ssrcs: [], payloadTypes: [], codecs: [], confirmed: false };
}

function addNumber(list: number[], v: number): void {
  if (list.length < SAMPLE && !list.includes(v)) list.push(v);
}

/** The aggregate lists a tracker also fills (both directions together). */
export interface RtpLists {
  ssrcs: number[];
  payloadTypes: number[];
  codecs: string[];
}

/**
 * Per-direction, per-SSRC probation (RFC 3550 §A.1 with MIN_SEQUENTIAL 2, a small loss allowed):
 * a direction is confirmed when a source's packet follows its previous one by 1..MAX_STEP. The
 * last sequence number of up to SLOTS sources per direction is kept in typed arrays, the oldest
 * replaced first: a source must show continuity within a few packets of other sources.
 * Used for RTP over UDP and TCP, and for SRTP (whose header is in clear: RFC 3711 §3.1).
 */
export class RtpTracker {
  private readonly ssrc = new Uint32Array(2 * SLOTS);
  private readonly seq = new Int32Array(2 * SLOTS).fill(-1);
  private readonly victim = new Uint8Array(2);
  readonly dirs: [RtpDirection, RtpDirection];

  constructor(
    orig: RtpDirection,
    resp: RtpDirection,
    private readonly all: RtpLists,
  ) {
    this.dirs = [orig, resp];
  }

  /**
   * An RTP packet whose header is valid, sent in direction `dir`; true when it is the one that
   * confirmed its direction.
   */
  rtp(dir: number, b: Buffer, off: number): boolean {
    const d = this.dirs[dir];
    const ssrc = b.readUInt32BE(off + 8);
    const seq = b.readUInt16BE(off + 2);
    const pt = b[off + 1] & 0x7f;
    addNumber(d.ssrcs, ssrc);
    addNumber(this.all.ssrcs, ssrc);
    if (!d.payloadTypes.includes(pt) && d.payloadTypes.length < SAMPLE) {
      d.payloadTypes.push(pt);
      addNumber(this.all.payloadTypes, pt);
      const name = PAYLOAD_NAMES[pt];
      if (name) {
        if (!d.codecs.includes(name)) d.codecs.push(name);
        if (!this.all.codecs.includes(name)) this.all.codecs.push(name);
      }
    }
    const base = dir * SLOTS;
    let slot = -1;
    for (let i = base; i < base + SLOTS; i++) {
      if (this.seq[i] >= 0 && this.ssrc[i] === ssrc) {
        slot = i;
        break;
      }
    }
    let confirmedNow = false;
    if (slot < 0) {
      slot = base + this.victim[dir];
      this.victim[dir] = (this.victim[dir] + 1) % SLOTS;
      this.ssrc[slot] = ssrc;
    } else if (!d.confirmed) {
      const step = (seq - this.seq[slot]) & 0xffff;
      if (step >= 1 && step <= MAX_STEP) confirmedNow = d.confirmed = true;
    }
    this.seq[slot] = seq;
    return confirmedNow;
  }
}

/** Fresh facts for a flow. */
function newFacts(transport: 'udp' | 'tcp'): RtpFacts {
  return { ssrcs: [], payloadTypes: [], codecs: [], packets: 0, rtspSession: false, rtcp: false, rtcpPackets: 0, orig: newDirection(), resp: newDirection(), transport };
}

/** The part common to UDP and TCP: one packet at a time, already told RTP from RTCP. */
abstract class RtpCounter {
  protected confirmed = false;
  protected seen = 0;
  readonly f: RtpFacts;
  protected readonly tracker: RtpTracker;

  constructor(
    protected readonly ctx: FlowContext,
    transport: 'udp' | 'tcp',
  ) {
    this.f = newFacts(transport);
    this.tracker = new RtpTracker(this.f.orig, this.f.resp, this.f);
  }

  get encrypted(): boolean {
    return false;
  }

  /** One packet of `dir`, of kind `kind`, starting at `off`. */
  protected packet(dir: number, kind: Framed, b: Buffer, off: number): void {
    const d = this.tracker.dirs[dir];
    this.f.packets++;
    d.packets++;
    if (++this.seen > EXAMINE) {
      if (this.seen === EXAMINE + 1 && !this.confirmed) this.giveUp();
      return;
    }
    if (kind === Framed.Rtcp) {
      this.f.rtcp = true;
      this.f.rtcpPackets++;
      d.rtcpPackets++;
      this.confirmed = true;
      if (this.f.rtcpPackets <= 4) this.ctx.emit('rtcp', () => ({ type: b[off + 1], ssrc: b.readUInt32BE(off + 4) }), dir);
      return;
    }
    if (kind !== Framed.Rtp) return;
    if (this.tracker.rtp(dir, b, off)) {
      this.confirmed = true;
      const pt = b[off + 1] & 0x7f;
      const ssrc = b.readUInt32BE(off + 8);
      this.ctx.emit('rtp', () => ({ ssrc, payloadType: pt, codec: PAYLOAD_NAMES[pt] ?? null }), dir);
    }
  }

  protected abstract giveUp(): void;

  /** `rtcp` for a flow that carried RTCP and no RTP (an RTSP-announced RTCP port, or RTCP seen alone). */
  protected get key(): 'rtp' | 'rtcp' {
    return this.f.rtcp && this.f.ssrcs.length === 0 ? 'rtcp' : 'rtp';
  }

  facts(): RtpFlowFacts | null {
    if (!this.confirmed) return null;
    return this.key === 'rtcp' ? { rtcp: this.f } : { rtp: this.f };
  }
}

export class RtpFlow extends RtpCounter implements DatagramParser {
  constructor(ctx: FlowContext, expected: 'rtp' | 'rtcp' | null) {
    super(ctx, 'udp');
    if (expected) {
      this.confirmed = true;
      this.f.rtspSession = true;
      this.f.rtcp = expected === 'rtcp';
    }
  }

  get app(): string | null {
    return this.confirmed ? this.key : null;
  }

  datagram(dir: number, buf: Buffer, off: number, len: number): void {
    // RTCP first (RFC 5761 §4: with the marker bit, RTP payload types 72-76 would read as RTCP 200-204).
    const kind = isRtcpCompound(buf, off, len) ? Framed.Rtcp : rtpHeaderLength(buf, off, len) >= 0 ? Framed.Rtp : Framed.None;
    this.packet(dir, kind, buf, off);
  }

  protected giveUp(): void {
    this.ctx.stop();
  }
}

/**
 * RTP and RTCP over TCP, framed per RFC 4571 §2 (a 16-bit length, then the packet, repeated).
 * Each direction is walked frame by frame in place: only a frame's first bytes are copied when a
 * segment ends inside them (2 of length, FRAME_HEAD of header), the rest of the frame is skipped.
 *
 * Made when the first segment of a direction held frames with evidence (rtpOverTcpLevel 2: two
 * RTP frames of a source in sequence, or a whole compound RTCP frame: RTP from the start), or was
 * exactly whole frames with valid RTP headers (level 1): a sender that writes one packet per
 * segment shows no chain in one segment, so the session is on probation until a source shows
 * continuity, and gives up (app null, flow stopped) after EXAMINE frames or at the first frame
 * that is not RTP/RTCP.
 */
export class RtpTcpSession extends RtpCounter implements StreamParser {
  /** Bytes of the current frame still to skip, per direction. */
  private readonly skip = [0, 0];
  /** The start of a frame cut by a segment end (length, then header bytes), per direction. */
  private readonly head = [Buffer.alloc(2 + FRAME_HEAD), Buffer.alloc(2 + FRAME_HEAD)];
  private readonly headLen = [0, 0];
  private readonly done = [false, false];
  private failed = false;

  constructor(ctx: FlowContext, sure: boolean) {
    super(ctx, 'tcp');
    this.confirmed = sure;
    // Media sessions last: their frames are counted, never copied.
    ctx.followAll();
  }

  /**
   * null while on probation. StreamParser types `app` as a string; the stage reads null as "not
   * recognised yet" for every parser (ProtocolStage.peek), as DatagramParser declares it.
   */
  get app(): string {
    return (this.confirmed ? this.key : null) as string;
  }

  data(dir: number, buf: Buffer, off: number, len: number): void {
    if (this.done[dir] || this.failed) return;
    const end = off + len;
    let p = off;
    while (p < end) {
      if (this.skip[dir] > 0) {
        const n = Math.min(this.skip[dir], end - p);
        this.skip[dir] -= n;
        p += n;
        continue;
      }
      let fb: Buffer;
      let fo: number;
      let fl: number;
      let have: number;
      if (this.headLen[dir] === 0 && end - p >= 2 && end - p - 2 >= Math.min(buf.readUInt16BE(p), FRAME_HEAD)) {
        fl = buf.readUInt16BE(p);
        have = Math.min(fl, end - p - 2);
        fb = buf;
        fo = p + 2;
        p += 2 + have;
      } else {
        // A frame start split across segments: gather its length and first header bytes.
        const h = this.head[dir];
        let hl = this.headLen[dir];
        if (hl < 2) {
          const n = Math.min(2 - hl, end - p);
          buf.copy(h, hl, p, p + n);
          hl += n;
          p += n;
        }
        if (hl < 2) {
          this.headLen[dir] = hl;
          continue;
        }
        fl = h.readUInt16BE(0);
        const want = 2 + Math.min(fl, FRAME_HEAD);
        const n = Math.min(want - hl, end - p);
        buf.copy(h, hl, p, p + n);
        hl += n;
        p += n;
        if (hl < want) {
          this.headLen[dir] = hl;
          continue;
        }
        this.headLen[dir] = 0;
        fb = h;
        fo = 2;
        have = want - 2;
      }
      const kind = framedKind(fb, fo, have, fl);
      if (kind === Framed.None) {
        // Out of step with the framing, or not media: nothing more can be read in this direction.
        this.done[dir] = true;
        if (!this.confirmed) this.giveUp();
        return;
      }
      this.packet(dir, kind, fb, fo);
      if (this.failed) return;
      this.skip[dir] = fl - have;
    }
  }

  gap(dir: number): void {
    // A hole loses the framing: this direction is no longer followed.
    this.done[dir] = true;
    this.skip[dir] = 0;
    this.headLen[dir] = 0;
  }

  protected giveUp(): void {
    this.failed = true;
    this.ctx.stop();
  }
}

/**
 * The detection order's steps for TCP (contract.ts StreamProbe). `rtpStream`: RFC 4571 RTP/RTCP
 * sure from the first bytes (frames with evidence across them). `rtpStreamProbation`: the bytes
 * are whole frames with valid RTP headers and nothing more: a session on probation, tried late.
 */
export function rtpStream(ctx: FlowContext, _dir: number, buf: Buffer, off: number, len: number): RtpTcpSession | null {
  return rtpOverTcpLevel(buf, off, len) === 2 ? new RtpTcpSession(ctx, true) : null;
}

export function rtpStreamProbation(ctx: FlowContext, _dir: number, buf: Buffer, off: number, len: number): RtpTcpSession | null {
  return rtpOverTcpLevel(buf, off, len) >= 1 ? new RtpTcpSession(ctx, false) : null;
}

export { looksLikeRtpOverTcp, rtpOverTcpStart };

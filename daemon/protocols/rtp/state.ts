/** RTP and RTCP flows: confirmed by consecutive packets, counted, tied to an RTSP session when one announced the ports. */
import type { DatagramParser, FlowContext } from '../parser-types.js';
import { PAYLOAD_NAMES, parseRtcp, parseRtp } from './parser.js';

export interface RtpFacts {
  ssrcs: number[];
  payloadTypes: number[];
  codecs: string[];
  packets: number;
  /** Set up by an RTSP session that named these ports. */
  rtspSession: boolean;
  rtcp: boolean;
}

/** Packets examined per flow: enough to confirm and sample; the rest only count. */
const EXAMINE = 64;

export class RtpFlow implements DatagramParser {
  readonly encrypted = false;
  private confirmed = false;
  private lastSeq = -1;
  private lastSsrc = -1;
  private seen = 0;
  readonly f: RtpFacts = { ssrcs: [], payloadTypes: [], codecs: [], packets: 0, rtspSession: false, rtcp: false };

  constructor(
    private readonly ctx: FlowContext,
    expected: 'rtp' | 'rtcp' | null,
  ) {
    if (expected) {
      this.confirmed = true;
      this.f.rtspSession = true;
      this.f.rtcp = expected === 'rtcp';
    }
  }

  get app(): string | null {
    return this.confirmed ? (this.f.rtcp ? 'rtcp' : 'rtp') : null;
  }

  datagram(dir: number, buf: Buffer, off: number, len: number): void {
    this.f.packets++;
    if (++this.seen > EXAMINE) {
      if (!this.confirmed) this.ctx.stop();
      return;
    }
    const rtcp = parseRtcp(buf, off, len);
    if (rtcp) {
      this.f.rtcp = true;
      this.confirmed = true;
      if (this.seen <= 4) this.ctx.emit('rtcp', { types: rtcp.types, ssrc: rtcp.ssrc }, dir);
      return;
    }
    const h = parseRtp(buf, off, len);
    if (!h) return;
    if (!this.confirmed && h.ssrc === this.lastSsrc && this.lastSeq >= 0) {
      const step = (h.seq - this.lastSeq) & 0xffff;
      if (step >= 1 && step <= 10) {
        this.confirmed = true;
        this.ctx.emit('rtp', { ssrc: h.ssrc, payloadType: h.payloadType, codec: PAYLOAD_NAMES[h.payloadType] ?? null }, dir);
      }
    }
    this.lastSsrc = h.ssrc;
    this.lastSeq = h.seq;
    if (!this.f.ssrcs.includes(h.ssrc) && this.f.ssrcs.length < 8) this.f.ssrcs.push(h.ssrc);
    if (!this.f.payloadTypes.includes(h.payloadType)) {
      this.f.payloadTypes.push(h.payloadType);
      const name = PAYLOAD_NAMES[h.payloadType];
      if (name && !this.f.codecs.includes(name)) this.f.codecs.push(name);
    }
  }

  facts(): Record<string, unknown> | null {
    return this.confirmed ? { [this.f.rtcp ? 'rtcp' : 'rtp']: this.f } : null;
  }
}

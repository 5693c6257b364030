/**
 * RTMP (Adobe RTMP specification 1.0 §5.2): the client opens with C0 (version 3) and C1 (1536
 * bytes: time, zero, random). Recognising it is enough to say that video leaves in cleartext;
 * RTMPS runs inside TLS and is recognised as TLS.
 */
import type { FlowContext, StreamParser } from '../parser-types.js';

export function looksLikeRtmp(b: Buffer, off: number, len: number, port: number): boolean {
  // C0 = 3; C1's second word is zero in the specification (§5.2.3), not always in practice.
  return b[off] === 3 && (port === 1935 || (len >= 9 && b.readUInt32BE(off + 5) === 0));
}

/** The handshake was seen: video in cleartext follows (nothing of it is read). */
export interface RtmpFacts {
  handshake: boolean;
}

export class RtmpSession implements StreamParser {
  readonly app = 'rtmp';
  readonly encrypted = false;
  constructor(private readonly ctx: FlowContext) {}
  data(dir: number): void {
    this.ctx.emit('rtmp', { handshake: 'C0+C1', version: 3 }, dir);
    this.ctx.stop();
  }
  gap(): void {}
  facts(): { rtmp: RtmpFacts } {
    return { rtmp: { handshake: true } };
  }
}

/**
 * RTP and RTCP over TCP framed per RFC 4571 §2: each packet is preceded by its length as a 16-bit
 * big-endian number, packets back to back. (RTSP's interleaved `$` framing, RFC 2326 §10.12, is
 * read by the RTSP session: an RTSP connection starts with text and is recognised before this.)
 */
import { isRtcpCompound, rtpHeaderLength } from './parser.js';

/** Bytes of a frame's start the TCP session keeps when a segment cuts it: enough for the RTP header, RTCP's first header and an extension header. */
export const FRAME_HEAD = 16;

export const enum Framed {
  None = 0,
  Rtp = 1,
  Rtcp = 2,
}

/**
 * What a frame of `frameLen` bytes holds, from its first `have` bytes at `off` (all of them when
 * the frame is whole): an RTP packet (RFC 3550 §5.1: version 2, CSRC list and extension header
 * inside the frame; payload types 72-76 are RTCP's, RFC 5761 §4) or an RTCP packet (§6.4: version
 * 2, type 200-206, the first header inside the frame; all parts adding up when the frame is whole).
 */
export function framedKind(b: Buffer, off: number, have: number, frameLen: number): Framed {
  if (frameLen < 8 || have < 8 || b[off] >> 6 !== 2) return Framed.None;
  const t = b[off + 1];
  if (t >= 200 && t <= 206) {
    if (have === frameLen) return isRtcpCompound(b, off, frameLen) ? Framed.Rtcp : Framed.None;
    return (b.readUInt16BE(off + 2) + 1) * 4 <= frameLen ? Framed.Rtcp : Framed.None;
  }
  if (frameLen < 12 || have < 12) return Framed.None;
  if (have === frameLen) return rtpHeaderLength(b, off, frameLen) >= 0 ? Framed.Rtp : Framed.None;
  const pt = t & 0x7f;
  if (pt >= 72 && pt <= 76) return Framed.None;
  const fixed = 12 + (b[off] & 0x0f) * 4;
  if (fixed > frameLen) return Framed.None;
  if (b[off] & 0x10 && fixed + 4 <= have && fixed + 4 + b.readUInt16BE(off + fixed + 2) * 4 > frameLen) return Framed.None;
  return Framed.Rtp;
}

const MAX_STEP = 10;

/**
 * How sure the first bytes of a TCP direction are to be RFC 4571-framed RTP/RTCP:
 * 2 (sure): a chain of frames, each a valid RTP or RTCP header, with evidence beyond one header:
 *   two RTP frames of one SSRC in sequence, or a whole compound RTCP packet whose own lengths
 *   (§6.1) add up to the frame's (as one RTCP datagram confirms an RTP flow over UDP). The last
 *   frame may be cut by the segment end.
 * 1 (plausible): the bytes are exactly a chain of whole frames with valid RTP headers and no
 *   such evidence (a sender writing one packet per segment): a session on probation
 *   (RtpTcpSession) waits for a source's continuity. A frame running past the segment is not
 *   enough here: any length-prefixed stream would pass that.
 * 0: not RTP over TCP.
 */
export function rtpOverTcpLevel(b: Buffer, off: number, len: number): 0 | 1 | 2 {
  const end = off + len;
  let p = off;
  let frames = 0;
  let evidence = false;
  let whole = true;
  let lastSsrc = -1;
  let lastSeq = -1;
  while (p + 2 <= end) {
    const fl = b.readUInt16BE(p);
    const have = Math.min(fl, end - p - 2);
    // The last frame cut short must still show its header to count.
    if (have < fl && have < 12) {
      whole = false;
      break;
    }
    const kind = framedKind(b, p + 2, have, fl);
    if (kind === Framed.None) return 0;
    frames++;
    if (have < fl) whole = false;
    if (kind === Framed.Rtcp && have === fl) evidence = true;
    if (kind === Framed.Rtp) {
      const ssrc = b.readUInt32BE(p + 2 + 8);
      const seq = b.readUInt16BE(p + 2 + 2);
      const step = (seq - lastSeq) & 0xffff;
      if (ssrc === lastSsrc && lastSeq >= 0 && step >= 1 && step <= MAX_STEP) evidence = true;
      lastSsrc = ssrc;
      lastSeq = seq;
    }
    p += 2 + have;
  }
  if (p < end) whole = false;
  if (frames === 0) return 0;
  return evidence ? 2 : whole ? 1 : 0;
}

/** RFC 4571 RTP or RTCP, sure from these bytes alone (chained frames with evidence across them). */
export function looksLikeRtpOverTcp(b: Buffer, off: number, len: number): boolean {
  return rtpOverTcpLevel(b, off, len) === 2;
}

/** The bytes start like RFC 4571 RTP or RTCP: worth a session on probation. */
export function rtpOverTcpStart(b: Buffer, off: number, len: number): boolean {
  return rtpOverTcpLevel(b, off, len) >= 1;
}

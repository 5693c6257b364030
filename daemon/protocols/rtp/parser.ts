/**
 * RTP and RTCP headers (RFC 3550 §5.1, §6.4-6.6), for recognising media streams by content: RTP
 * carries no magic, so a stream is only believed once consecutive packets agree (same SSRC,
 * sequence numbers moving forward), as tshark's and nDPI's heuristics do.
 */

export interface RtpHeader {
  payloadType: number;
  marker: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
}

/**
 * Length of the RTP header at `off` (fixed part, CSRC list, header extension: RFC 3550 §5.1,
 * §5.3.1), or -1 when these bytes are not an RTP version 2 packet. Allocation-free, for the
 * packet path; the fields are read in place (`b.readUInt16BE(off + 2)` is the sequence number,
 * `b.readUInt32BE(off + 8)` the SSRC, `b[off + 1] & 0x7f` the payload type).
 */
export function rtpHeaderLength(b: Buffer, off: number, len: number): number {
  if (len < 12 || b[off] >> 6 !== 2) return -1;
  const pt = b[off + 1] & 0x7f;
  // 72-76 would be RTCP SR/RR/SDES/BYE/APP with the marker bit set (RFC 5761 §4).
  if (pt >= 72 && pt <= 76) return -1;
  let hlen = 12 + (b[off] & 0x0f) * 4;
  if (b[off] & 0x10) {
    if (len < hlen + 4) return -1;
    hlen += 4 + b.readUInt16BE(off + hlen + 2) * 4; // header extension (§5.3.1)
  }
  return hlen > len ? -1 : hlen;
}

export function parseRtp(b: Buffer, off: number, len: number): RtpHeader | null {
  if (rtpHeaderLength(b, off, len) < 0) return null;
  return { payloadType: b[off + 1] & 0x7f, marker: (b[off + 1] & 0x80) !== 0, seq: b.readUInt16BE(off + 2), timestamp: b.readUInt32BE(off + 4), ssrc: b.readUInt32BE(off + 8) };
}

/**
 * The first RTCP packet of a compound one (RFC 3550 §6.1, §6.4): version 2, SR/RR/SDES/BYE/APP
 * or a feedback packet (RTPFB 205, PSFB 206: RFC 4585 §6.1), its length inside `len`. For SRTCP
 * (RFC 3711 §3.4) only this header is in clear, and a framed stream (RFC 4571) gives the packet's
 * end, so the first header is what can be checked there.
 */
export function rtcpHeaderOk(b: Buffer, off: number, len: number): boolean {
  if (len < 8 || b[off] >> 6 !== 2) return false;
  const t = b[off + 1];
  return t >= 200 && t <= 206 && (b.readUInt16BE(off + 2) + 1) * 4 <= len;
}

/** A whole compound RTCP packet: every part version 2, an RTCP type, lengths adding up exactly (§6.1). */
export function isRtcpCompound(b: Buffer, off: number, len: number): boolean {
  if (!rtcpHeaderOk(b, off, len)) return false;
  let p = off;
  while (p + 4 <= off + len) {
    if (b[p] >> 6 !== 2) return false;
    const t = b[p + 1];
    if (t < 192 || t > 223) return false;
    p += (b.readUInt16BE(p + 2) + 1) * 4;
  }
  return p === off + len;
}

/** RTCP: a compound packet whose first part is SR (200) or RR (201), lengths consistent (§6.1). */
export function parseRtcp(b: Buffer, off: number, len: number): { types: number[]; ssrc: number } | null {
  if (!isRtcpCompound(b, off, len)) return null;
  const types: number[] = [];
  for (let p = off; p + 4 <= off + len; p += (b.readUInt16BE(p + 2) + 1) * 4) types.push(b[p + 1]);
  return { types, ssrc: b.readUInt32BE(off + 4) };
}

/** Static payload types (RFC 3551 §6) worth naming. */
export const PAYLOAD_NAMES: Record<number, string> = { 0: 'PCMU', 3: 'GSM', 4: 'G723', 8: 'PCMA', 9: 'G722', 10: 'L16', 14: 'MPA', 15: 'G728', 18: 'G729', 26: 'JPEG', 31: 'H261', 32: 'MPV', 33: 'MP2T', 34: 'H263' };

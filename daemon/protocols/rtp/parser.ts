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

export function parseRtp(b: Buffer, off: number, len: number): RtpHeader | null {
  if (len < 12 || b[off] >> 6 !== 2) return null;
  const cc = b[off] & 0x0f;
  const pt = b[off + 1] & 0x7f;
  // 72-76 would be RTCP SR/RR/SDES/BYE/APP with the marker bit set (RFC 5761 §4).
  if (pt >= 72 && pt <= 76) return null;
  let hlen = 12 + cc * 4;
  if (b[off] & 0x10) {
    if (len < hlen + 4) return null;
    hlen += 4 + b.readUInt16BE(off + hlen + 2) * 4; // header extension (§5.3.1)
  }
  if (hlen > len) return null;
  return { payloadType: pt, marker: (b[off + 1] & 0x80) !== 0, seq: b.readUInt16BE(off + 2), timestamp: b.readUInt32BE(off + 4), ssrc: b.readUInt32BE(off + 8) };
}

/** RTCP: a compound packet whose first part is SR (200) or RR (201), lengths consistent (§6.1). */
export function parseRtcp(b: Buffer, off: number, len: number): { types: number[]; ssrc: number } | null {
  if (len < 8 || b[off] >> 6 !== 2) return null;
  const first = b[off + 1];
  if (first < 200 || first > 206) return null;
  const types: number[] = [];
  let p = off;
  while (p + 4 <= off + len) {
    if (b[p] >> 6 !== 2) return null;
    const t = b[p + 1];
    if (t < 192 || t > 223) return null;
    types.push(t);
    p += (b.readUInt16BE(p + 2) + 1) * 4;
  }
  if (p !== off + len) return null;
  return { types, ssrc: b.readUInt32BE(off + 4) };
}

/** Static payload types (RFC 3551 §6) worth naming. */
export const PAYLOAD_NAMES: Record<number, string> = { 0: 'PCMU', 3: 'GSM', 4: 'G723', 8: 'PCMA', 9: 'G722', 10: 'L16', 14: 'MPA', 15: 'G728', 18: 'G729', 26: 'JPEG', 31: 'H261', 32: 'MPV', 33: 'MP2T', 34: 'H263' };

/**
 * IPv6 (RFC 8200 §3-4) with its extension-header chain. The chain is walked to the upper-layer
 * header; a Fragment header (§4.5) with a non-zero offset means no transport header follows.
 */
import { u16, u32 } from './bytes.js';
import { Decoded, Fragment, type Packet } from './packet.js';
import { malformed } from './link.js';

const MAX_EXT = 8; // bounds the walk on crafted chains

export function decodeIpv6(pkt: Packet, off: number): number {
  const buf = pkt.buf;
  const avail = pkt.end - off;
  if (avail < 40) return pkt.snapCut ? -Decoded.SnapCut : malformed(pkt, 'ipv6: header shorter than 40 bytes');
  if (buf[off] >> 4 !== 6) return malformed(pkt, `ipv6: version field is ${buf[off] >> 4}`);
  let plen = u16(buf, off + 4);
  const wireAvail = avail + (pkt.wirelen - pkt.caplen);
  // Payload length 0 with a hop-by-hop jumbo option, or from segmentation offload: use the frame.
  if (plen === 0) plen = wireAvail - 40;
  if (40 + plen > wireAvail) return malformed(pkt, 'ipv6: payload length beyond the frame');
  pkt.ipVersion = 6;
  pkt.l3Off = off;
  pkt.ttl = buf[off + 7];
  pkt.src0 = u32(buf, off + 8);
  pkt.src1 = u32(buf, off + 12);
  pkt.src2 = u32(buf, off + 16);
  pkt.src3 = u32(buf, off + 20);
  pkt.dst0 = u32(buf, off + 24);
  pkt.dst1 = u32(buf, off + 28);
  pkt.dst2 = u32(buf, off + 32);
  pkt.dst3 = u32(buf, off + 36);
  pkt.ipEnd = off + 40 + plen;
  let next = buf[off + 6];
  let o = off + 40;
  for (let i = 0; ; i++) {
    switch (next) {
      case 0: // hop-by-hop options
      case 43: // routing
      case 60: // destination options
      case 135: // mobility
      case 139: // HIP
      case 140: {
        // shim6: all share the (next header, length in 8-octet units beyond the first) layout
        if (i >= MAX_EXT) return malformed(pkt, 'ipv6: too many extension headers');
        if (pkt.end - o < 2) return pkt.snapCut ? -Decoded.SnapCut : malformed(pkt, 'ipv6: extension header truncated');
        const len = (buf[o + 1] + 1) * 8;
        if (o + len > pkt.ipEnd) return malformed(pkt, 'ipv6: extension header beyond payload');
        next = buf[o];
        o += len;
        continue;
      }
      case 51: {
        // Authentication Header (RFC 4302 §2.2): length in 4-octet units minus 2
        if (i >= MAX_EXT) return malformed(pkt, 'ipv6: too many extension headers');
        if (pkt.end - o < 2) return pkt.snapCut ? -Decoded.SnapCut : malformed(pkt, 'ipv6: AH truncated');
        const len = (buf[o + 1] + 2) * 4;
        if (o + len > pkt.ipEnd) return malformed(pkt, 'ipv6: AH beyond payload');
        next = buf[o];
        o += len;
        continue;
      }
      case 44: {
        if (i >= MAX_EXT) return malformed(pkt, 'ipv6: too many extension headers');
        if (pkt.end - o < 8) return pkt.snapCut ? -Decoded.SnapCut : malformed(pkt, 'ipv6: fragment header truncated');
        const fo = u16(buf, o + 2);
        next = buf[o];
        o += 8;
        if (fo >> 3 !== 0) {
          pkt.fragment = Fragment.Later;
          pkt.ipProto = next;
          return o;
        }
        if (fo & 1) pkt.fragment = Fragment.First;
        continue;
      }
      default:
        pkt.ipProto = next; // 59 (no next header) and ESP (50) end the chain too
        return o;
    }
  }
}

/** IPv4 (RFC 791 §3.1). Fragments are counted; only the first carries the transport header. */
import { u16, u32 } from './bytes.js';
import { Decoded, Fragment, type Packet } from './packet.js';
import { malformed } from './link.js';

/** Returns the offset of the transport header, or a negative Decoded code; sets pkt.ipEnd. */
export function decodeIpv4(pkt: Packet, off: number): number {
  const buf = pkt.buf;
  const avail = pkt.end - off;
  if (avail < 20) return pkt.snapCut ? -Decoded.SnapCut : malformed(pkt, 'ipv4: header shorter than 20 bytes');
  const vihl = buf[off];
  if (vihl >> 4 !== 4) return malformed(pkt, `ipv4: version field is ${vihl >> 4}`);
  const hlen = (vihl & 0x0f) * 4;
  if (hlen < 20) return malformed(pkt, 'ipv4: header length below 20 bytes');
  let total = u16(buf, off + 2);
  // Total length 0 is what TCP segmentation offload leaves in locally captured packets.
  if (total === 0) total = pkt.wirelen - (off - (pkt.end - pkt.caplen));
  if (total < hlen) return malformed(pkt, 'ipv4: total length below header length');
  if (avail < hlen) return pkt.snapCut ? -Decoded.SnapCut : malformed(pkt, 'ipv4: options truncated');
  const wireAvail = avail + (pkt.wirelen - pkt.caplen);
  if (total > wireAvail) return malformed(pkt, 'ipv4: total length beyond the frame');
  pkt.ipVersion = 4;
  pkt.l3Off = off;
  pkt.ttl = buf[off + 8];
  pkt.ipProto = buf[off + 9];
  pkt.src0 = 0;
  pkt.src1 = 0;
  pkt.src2 = 0xffff;
  pkt.src3 = u32(buf, off + 12);
  pkt.dst0 = 0;
  pkt.dst1 = 0;
  pkt.dst2 = 0xffff;
  pkt.dst3 = u32(buf, off + 16);
  const frag = u16(buf, off + 6);
  const offset = frag & 0x1fff;
  if (offset !== 0) pkt.fragment = Fragment.Later;
  else if (frag & 0x2000) pkt.fragment = Fragment.First;
  // Ethernet pads short frames: the IP total length, not the frame, bounds the payload.
  pkt.ipEnd = off + total;
  return off + hlen;
}

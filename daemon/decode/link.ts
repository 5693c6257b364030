/**
 * Link layers: Ethernet II with 802.1Q/802.1ad tags and PPPoE sessions, Linux cooked capture
 * (SLL and SLL2), BSD loopback (NULL/LOOP) and raw IP. Each returns the offset of the network
 * header and sets pkt.etherType, or -1 when the frame has no network layer we decode.
 */
import { u16, u32, u48 } from './bytes.js';
import { Decoded, type Packet } from './packet.js';

export const ETH_IPV4 = 0x0800;
export const ETH_ARP = 0x0806;
export const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100; // IEEE 802.1Q
const ETH_QINQ = 0x88a8; // IEEE 802.1ad service tag
const ETH_QINQ_OLD = 0x9100; // pre-standard QinQ tag still sent by some switches
const ETH_PPPOE_SESSION = 0x8864; // RFC 2516 §4

/** At most this many stacked tags: enough for QinQ plus one, and bounds the loop. */
const MAX_TAGS = 4;

export function readMac(buf: Buffer, off: number): number {
  return u48(buf, off);
}

/** Ethernet II (and tagged frames). Returns the L3 offset, or a negative Decoded code. */
export function decodeEthernet(pkt: Packet, off: number): number {
  const buf = pkt.buf;
  const end = pkt.end;
  if (end - off < 14) return pkt.snapCut && pkt.wirelen >= 14 ? -Decoded.SnapCut : malformed(pkt, 'ethernet: frame shorter than 14 bytes');
  pkt.dstMac = readMac(buf, off);
  pkt.srcMac = readMac(buf, off + 6);
  let type = u16(buf, off + 12);
  off += 14;
  let tags = 0;
  while (type === ETH_VLAN || type === ETH_QINQ || type === ETH_QINQ_OLD) {
    if (end - off < 4) return pkt.snapCut ? -Decoded.SnapCut : malformed(pkt, 'vlan: tag truncated');
    if (++tags > MAX_TAGS) return malformed(pkt, 'vlan: too many stacked tags');
    const vid = u16(buf, off) & 0x0fff;
    if (pkt.vlanCount === 0) pkt.vlanOuter = vid;
    else pkt.vlanInner = vid;
    pkt.vlanCount++;
    type = u16(buf, off + 2);
    off += 4;
  }
  if (type === ETH_PPPOE_SESSION) {
    // PPPoE header (6 bytes) then the 2-byte PPP protocol field (RFC 1661 §2).
    if (end - off < 8) return pkt.snapCut ? -Decoded.SnapCut : malformed(pkt, 'pppoe: header truncated');
    if (buf[off] !== 0x11) return malformed(pkt, 'pppoe: version/type is not 1/1');
    pkt.pppoe = true;
    const ppp = u16(buf, off + 6);
    off += 8;
    if (ppp === 0x0021) type = ETH_IPV4;
    else if (ppp === 0x0057) type = ETH_IPV6;
    else {
      pkt.etherType = ETH_PPPOE_SESSION;
      return -Decoded.NonIp; // LCP, IPCP, CHAP...
    }
  }
  pkt.etherType = type;
  return off;
}

/** Linux cooked capture v1 (LINKTYPE_LINUX_SLL): 16-byte header, protocol at the end. */
export function decodeSll(pkt: Packet, off: number): number {
  if (pkt.end - off < 16) return malformed(pkt, 'linux-sll: header truncated');
  const buf = pkt.buf;
  const halen = u16(buf, off + 4);
  if (halen === 6) pkt.srcMac = readMac(buf, off + 6);
  pkt.etherType = u16(buf, off + 14);
  return off + 16;
}

/** Linux cooked capture v2 (LINKTYPE_LINUX_SLL2): 20-byte header, protocol first. */
export function decodeSll2(pkt: Packet, off: number): number {
  if (pkt.end - off < 20) return malformed(pkt, 'linux-sll2: header truncated');
  const buf = pkt.buf;
  pkt.etherType = u16(buf, off);
  if (buf[off + 11] === 6) pkt.srcMac = readMac(buf, off + 12);
  return off + 20;
}

/**
 * BSD loopback: a 4-byte address family in the capturing host's byte order (NULL) or in network
 * order (LOOP). AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD)
 * or 30 (macOS), so all are accepted, as libpcap's own dissectors do.
 */
export function decodeNull(pkt: Packet, off: number, networkOrder: boolean): number {
  if (pkt.end - off < 4) return malformed(pkt, 'null: header truncated');
  const buf = pkt.buf;
  let family = networkOrder ? u32(buf, off) : buf.readUInt32LE(off);
  // A NULL header written on a big-endian host: the family sits in the last byte.
  if (!networkOrder && family > 0xffff) family = u32(buf, off);
  if (family === 2) pkt.etherType = ETH_IPV4;
  else if (family === 10 || family === 24 || family === 28 || family === 30) pkt.etherType = ETH_IPV6;
  else return -Decoded.NonIp;
  return off + 4;
}

/** Raw IP: the version nibble says which. */
export function decodeRaw(pkt: Packet, off: number): number {
  if (pkt.end - off < 1) return malformed(pkt, 'raw: empty packet');
  const v = pkt.buf[off] >> 4;
  if (v === 4) pkt.etherType = ETH_IPV4;
  else if (v === 6) pkt.etherType = ETH_IPV6;
  else return malformed(pkt, `raw: IP version ${v}`);
  return off;
}

export function malformed(pkt: Packet, reason: string): number {
  pkt.malformedReason = reason;
  return -Decoded.Malformed;
}

/** The same, for decoders that return a Decoded code rather than an offset. */
export function bad(pkt: Packet, reason: string): Decoded {
  pkt.malformedReason = reason;
  return Decoded.Malformed;
}

/** ARP (RFC 826) for IPv4 over Ethernet: gives IP-to-MAC bindings for the device inventory. */
import { Decoded, type Packet } from './packet.js';
import { bad, readMac } from './link.js';

export function decodeArp(pkt: Packet, off: number): Decoded {
  const buf = pkt.buf;
  if (pkt.end - off < 8) return pkt.snapCut ? Decoded.SnapCut : bad(pkt, 'arp: header truncated');
  const htype = buf.readUInt16BE(off);
  const ptype = buf.readUInt16BE(off + 2);
  const hlen = buf[off + 4];
  const plen = buf[off + 5];
  // Other hardware/protocol pairs are valid ARP we have no use for.
  if (htype !== 1 || ptype !== 0x0800 || hlen !== 6 || plen !== 4) return Decoded.NonIp;
  if (pkt.end - off < 28) return pkt.snapCut ? Decoded.SnapCut : bad(pkt, 'arp: body truncated');
  pkt.arpOp = buf.readUInt16BE(off + 6);
  pkt.arpSenderMac = readMac(buf, off + 8);
  pkt.arpSenderIp = buf.readUInt32BE(off + 14);
  pkt.arpTargetIp = buf.readUInt32BE(off + 24);
  return Decoded.NonIp;
}

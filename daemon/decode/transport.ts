/** TCP (RFC 9293 §3.1), UDP (RFC 768) and the ICMP type/code pair (RFC 792, RFC 4443 §2.1). */
import { u16, u32 } from './bytes.js';
import { Decoded, Proto, type Packet } from './packet.js';
import { bad } from './link.js';

/** Sets payloadOff/Len from the transport header end and the IP payload end. */
function setPayload(pkt: Packet, start: number, ipEnd: number): void {
  const capEnd = ipEnd < pkt.end ? ipEnd : pkt.end;
  pkt.payloadOff = start;
  pkt.payloadLen = capEnd > start ? capEnd - start : 0;
  pkt.payloadMissing = ipEnd > pkt.end ? ipEnd - (start > pkt.end ? start : pkt.end) : 0;
}

export function decodeTransport(pkt: Packet, off: number): Decoded {
  const buf = pkt.buf;
  const ipEnd = pkt.ipEnd;
  pkt.l4Off = off;
  switch (pkt.ipProto) {
    case Proto.Tcp: {
      if (pkt.end - off < 20) return pkt.snapCut ? Decoded.SnapCut : bad(pkt, 'tcp: header shorter than 20 bytes');
      const doff = (buf[off + 12] >> 4) * 4;
      if (doff < 20) return bad(pkt, 'tcp: data offset below 20 bytes');
      if (off + doff > ipEnd) return bad(pkt, 'tcp: data offset beyond the IP payload');
      pkt.srcPort = u16(buf, off);
      pkt.dstPort = u16(buf, off + 2);
      pkt.seq = u32(buf, off + 4);
      pkt.ack = u32(buf, off + 8);
      pkt.tcpFlags = buf[off + 13];
      setPayload(pkt, off + doff, ipEnd);
      return Decoded.Ip;
    }
    case Proto.Udp: {
      if (pkt.end - off < 8) return pkt.snapCut ? Decoded.SnapCut : bad(pkt, 'udp: header shorter than 8 bytes');
      const ulen = u16(buf, off + 4);
      pkt.srcPort = u16(buf, off);
      pkt.dstPort = u16(buf, off + 2);
      // Length 0 is allowed for IPv6 jumbograms (RFC 2675 §4); else it must fit the IP payload.
      if (ulen !== 0 && (ulen < 8 || off + ulen > ipEnd)) return bad(pkt, 'udp: length field inconsistent with IP');
      setPayload(pkt, off + 8, ulen === 0 ? ipEnd : off + ulen);
      return Decoded.Ip;
    }
    case Proto.Icmp:
    case Proto.Icmpv6: {
      if (pkt.end - off < 4) return pkt.snapCut ? Decoded.SnapCut : bad(pkt, 'icmp: header truncated');
      pkt.icmpType = buf[off];
      pkt.icmpCode = buf[off + 1];
      setPayload(pkt, off + 4, ipEnd);
      return Decoded.Ip;
    }
    default:
      setPayload(pkt, off, ipEnd);
      return Decoded.Ip;
  }
}

/**
 * Decodes one captured frame into the shared Packet struct and keeps the decode counters. The
 * dispatch is a chain of switches on numbers: no objects are created per packet.
 */
import { Link } from '../capture/linktype.js';
import { decodeArp } from './arp.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodeEthernet, decodeNull, decodeRaw, decodeSll, decodeSll2, ETH_ARP, ETH_IPV4, ETH_IPV6, bad } from './link.js';
import { Decoded, DecodeStats, Fragment, Packet, Proto } from './packet.js';
import { decodeTransport } from './transport.js';

export class Decoder {
  readonly pkt = new Packet();
  readonly stats = new DecodeStats();

  /** Decodes buf[off, off+caplen) captured on a link of the given type. */
  decode(link: number, buf: Buffer, off: number, caplen: number, wirelen: number, ts: number): Decoded {
    const pkt = this.pkt;
    const st = this.stats;
    pkt.reset(buf, off, caplen, wirelen, ts, link);
    st.packets++;
    st.bytes += wirelen;
    st.capturedBytes += caplen;
    if (wirelen > 1522) st.jumbo++;
    // A reader hands NaN for a timestamp beyond the Date range: nothing downstream could use it.
    const r = Number.isNaN(ts) ? bad(pkt, 'capture: timestamp beyond the representable date range') : this.layers(pkt, off);
    if (r === Decoded.Malformed) {
      st.malformed++;
      st.malformedReasons[pkt.malformedReason] = (st.malformedReasons[pkt.malformedReason] ?? 0) + 1;
    } else if (r === Decoded.SnapCut) st.snapCut++;
    return r;
  }

  private layers(pkt: Packet, off: number): Decoded {
    const st = this.stats;
    let l3: number;
    switch (pkt.link) {
      case Link.Ethernet:
        l3 = decodeEthernet(pkt, off);
        if (pkt.vlanCount > 0) st.vlanTagged++;
        if (pkt.pppoe) st.pppoe++;
        break;
      case Link.LinuxSll:
        l3 = decodeSll(pkt, off);
        break;
      case Link.LinuxSll2:
        l3 = decodeSll2(pkt, off);
        break;
      case Link.Null:
        l3 = decodeNull(pkt, off, false);
        break;
      case Link.Loop:
        l3 = decodeNull(pkt, off, true);
        break;
      case Link.Ipv4:
      case Link.Ipv6:
      case Link.Raw:
        l3 = decodeRaw(pkt, off);
        break;
      default:
        l3 = -Decoded.NonIp;
    }
    if (l3 < 0) {
      if (l3 === -Decoded.NonIp) st.otherL3++;
      return -l3 as Decoded;
    }
    let l4: number;
    switch (pkt.etherType) {
      case ETH_IPV4:
        l4 = decodeIpv4(pkt, l3);
        if (l4 >= 0) st.ipv4++;
        break;
      case ETH_IPV6:
        l4 = decodeIpv6(pkt, l3);
        if (l4 >= 0) st.ipv6++;
        break;
      case ETH_ARP: {
        const r = decodeArp(pkt, l3);
        if (r === Decoded.NonIp) st.arp++;
        return r;
      }
      default:
        st.otherL3++;
        return Decoded.NonIp;
    }
    if (l4 < 0) return -l4 as Decoded;
    if (pkt.fragment !== Fragment.None) {
      st.fragments++;
      if (pkt.fragment === Fragment.Later) {
        st.laterFragments++;
        return Decoded.Ip;
      }
    }
    const r = decodeTransport(pkt, l4);
    if (r === Decoded.Ip) {
      switch (pkt.ipProto) {
        case Proto.Tcp:
          st.tcp++;
          break;
        case Proto.Udp:
          st.udp++;
          break;
        case Proto.Icmp:
          st.icmp++;
          break;
        case Proto.Icmpv6:
          st.icmpv6++;
          break;
        default:
          st.otherL4++;
      }
    }
    return r;
  }
}

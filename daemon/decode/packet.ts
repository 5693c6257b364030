/**
 * The decoded view of one packet. A single instance is reused for every packet: fields are plain
 * numbers that point into the capture buffer, so decoding allocates nothing. Addresses are held as
 * four 32-bit words (IPv4 as the IPv4-mapped IPv6 address ::ffff:a.b.c.d, RFC 4291 §2.5.5.2) so
 * that the flow table handles both families with one key layout.
 */
export const enum Decoded {
  /** An IP packet with its transport header (or an IP packet whose transport we do not parse). */
  Ip = 0,
  /** A valid frame that carries no IP: ARP, LLDP, PPPoE discovery, STP... */
  NonIp = 1,
  /** Headers contradict themselves or the frame: counted and skipped. */
  Malformed = 2,
  /** Cut by the capture's snap length before the headers we need: counted, not malformed. */
  SnapCut = 3,
}

export const enum Proto {
  Icmp = 1,
  Tcp = 6,
  Udp = 17,
  Icmpv6 = 58,
}

/** TCP header flags (RFC 9293 §3.1). */
export const enum TcpFlag {
  Fin = 0x01,
  Syn = 0x02,
  Rst = 0x04,
  Psh = 0x08,
  Ack = 0x10,
}

export const enum Fragment {
  None = 0,
  First = 1,
  /** A later fragment: no transport header in it. */
  Later = 2,
}

export class Packet {
  buf: Buffer = Buffer.alloc(0);
  link = 0;
  ts = 0;
  caplen = 0;
  wirelen = 0;
  /** Offset one past the last captured byte of this packet in `buf`. */
  end = 0;

  // Link layer. MACs are 48-bit numbers (exact in a double), -1 when the link type carries none.
  srcMac = -1;
  dstMac = -1;
  vlanCount = 0;
  /** Outer and inner 802.1Q VLAN ids; -1 when absent. Id 0 is a priority tag, still a tag. */
  vlanOuter = -1;
  vlanInner = -1;
  pppoe = false;
  etherType = 0;

  // Network layer.
  ipVersion = 0;
  l3Off = 0;
  src0 = 0;
  src1 = 0;
  src2 = 0;
  src3 = 0;
  dst0 = 0;
  dst1 = 0;
  dst2 = 0;
  dst3 = 0;
  ipProto = -1;
  ttl = 0;
  /** End of the IP payload in buf (exclusive); may lie past `end` when the snap length cut it. */
  ipEnd = 0;
  fragment = Fragment.None;

  // Transport layer.
  l4Off = 0;
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  seq = 0;
  ack = 0;
  icmpType = -1;
  icmpCode = -1;
  /** Application payload: offset into buf and captured length. */
  payloadOff = 0;
  payloadLen = 0;
  /** Payload bytes the headers announce but the capture does not hold (snap length). */
  payloadMissing = 0;

  // ARP (RFC 826), for IPv4 over Ethernet only.
  arpOp = 0;
  arpSenderMac = -1;
  arpSenderIp = 0;
  arpTargetIp = 0;

  /** Why the packet was malformed, when it was. */
  malformedReason = '';

  reset(buf: Buffer, off: number, caplen: number, wirelen: number, ts: number, link: number): void {
    this.buf = buf;
    this.link = link;
    this.ts = ts;
    this.caplen = caplen;
    this.wirelen = wirelen;
    this.end = off + caplen;
    this.srcMac = -1;
    this.dstMac = -1;
    this.vlanCount = 0;
    this.vlanOuter = -1;
    this.vlanInner = -1;
    this.pppoe = false;
    this.etherType = 0;
    this.ipVersion = 0;
    this.ipProto = -1;
    this.fragment = Fragment.None;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.icmpType = -1;
    this.icmpCode = -1;
    this.payloadOff = 0;
    this.payloadLen = 0;
    this.payloadMissing = 0;
    this.arpOp = 0;
    this.malformedReason = '';
  }

  /** True when the capture holds fewer bytes than were on the wire. */
  get snapCut(): boolean {
    return this.caplen < this.wirelen;
  }
}

/** Counters the decoder keeps; the analysis report publishes them under `capture`. */
export class DecodeStats {
  packets = 0;
  bytes = 0;
  capturedBytes = 0;
  ipv4 = 0;
  ipv6 = 0;
  arp = 0;
  otherL3 = 0;
  tcp = 0;
  udp = 0;
  icmp = 0;
  icmpv6 = 0;
  otherL4 = 0;
  vlanTagged = 0;
  pppoe = 0;
  fragments = 0;
  /** Fragments after the first: not reassembled (no state is kept for fragments), only counted. */
  laterFragments = 0;
  /** Frames longer on the wire than a VLAN-tagged Ethernet frame (1522 bytes): jumbo or offloaded. */
  jumbo = 0;
  malformed = 0;
  snapCut = 0;
  malformedReasons: Record<string, number> = {};
}

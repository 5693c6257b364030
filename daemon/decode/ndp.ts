/**
 * IPv6 Neighbor Discovery (RFC 4861 §4.3-4.4, §4.6.1): Neighbor Solicitations carry the sender's
 * link-layer address (option 1), Neighbor Advertisements the target's (option 2). Together with
 * ARP they bind addresses to MACs for the device inventory.
 */

export interface NdpBinding {
  /** The IPv6 address (16 bytes at this offset of the buffer) and the MAC it belongs to. */
  addrOff: number;
  mac: number;
}

/**
 * For an ICMPv6 NS (135) or NA (136) whose body starts at `off` (after type, code, checksum),
 * the binding it announces, or null. For an NS, the address is the packet's source, given as
 * `srcOff`; a solicitation from the unspecified address (duplicate address detection) binds none.
 */
export function ndpBinding(b: Buffer, type: number, off: number, end: number, srcOff: number, srcUnspecified: boolean): NdpBinding | null {
  if (end - off < 20) return null;
  const wanted = type === 135 ? 1 : 2;
  for (let p = off + 20; p + 8 <= end; ) {
    const len = b[p + 1] * 8;
    if (len === 0 || p + len > end) return null; // a zero length is invalid (§4.6)
    if (b[p] === wanted && len >= 8) {
      const mac = b.readUIntBE(p + 2, 6);
      if (type === 135) return srcUnspecified ? null : { addrOff: srcOff, mac };
      return { addrOff: off + 4, mac };
    }
    p += len;
  }
  return null;
}

/**
 * Link-layer header types we decode, by their LINKTYPE_ value as written in pcap and pcapng files
 * (tcpdump.org/linktypes.html). Classic pcap writers on some systems store the DLT_ value instead
 * of the LINKTYPE_ one for raw IP (DLT_RAW is 12 on most BSDs, 14 on OpenBSD), so both are mapped.
 */
export const enum Link {
  Null = 0, // BSD loopback: 4-byte address family in the capturing host's byte order
  Ethernet = 1,
  Raw = 101, // raw IPv4 or IPv6, version from the first nibble
  Loop = 108, // OpenBSD loopback: address family in network byte order
  LinuxSll = 113,
  Ipv4 = 228,
  Ipv6 = 229,
  LinuxSll2 = 276,
}

const NAMES: Record<number, string> = {
  0: 'null',
  1: 'ethernet',
  12: 'raw',
  14: 'raw',
  101: 'raw',
  108: 'loop',
  113: 'linux-sll',
  228: 'ipv4',
  229: 'ipv6',
  276: 'linux-sll2',
};

/** Names of link types we meet but do not decode, for clearer errors. */
const OTHER_NAMES: Record<number, string> = {
  9: 'ppp',
  50: 'ppp-hdlc',
  104: 'cisco-hdlc',
  105: 'ieee802-11',
  119: 'prism',
  127: 'ieee802-11-radiotap',
  192: 'ppi',
  195: 'ieee802-15-4',
  201: 'bluetooth-hci-h4',
  220: 'usb-linux-mmapped',
  249: 'netlink',
};

/** Normalises DLT aliases to the LINKTYPE_ value the decoder switches on; -1 if unsupported. */
export function normaliseLinkType(value: number): number {
  if (value === 12 || value === 14) return Link.Raw;
  return value in NAMES ? value : -1;
}

export function linkTypeName(value: number): string {
  return NAMES[value] ?? OTHER_NAMES[value] ?? `linktype-${value}`;
}

export function supportedLinkTypes(): string {
  return 'ethernet (1), null (0), loop (108), raw (101), ipv4 (228), ipv6 (229), linux-sll (113), linux-sll2 (276)';
}

/** Names from the libpcap `pcap` binding's LINKTYPE_* strings, for live sessions. */
export function linkTypeFromPcapBinding(name: string): number {
  switch (name) {
    case 'LINKTYPE_ETHERNET':
      return Link.Ethernet;
    case 'LINKTYPE_NULL':
      return Link.Null;
    case 'LINKTYPE_RAW':
      return Link.Raw;
    case 'LINKTYPE_LINUX_SLL':
      return Link.LinuxSll;
    default:
      return -1;
  }
}

/**
 * DHCPv4 (RFC 2131 §2 message format, RFC 2132 options) and the basics of DHCPv6 (RFC 8415 §8,
 * §21). Options are read from the options field and, under option 52 overload (RFC 2132 §9.3),
 * from the `file` and `sname` fields too, in that order.
 */

export interface Dhcp4Message {
  op: number;
  xid: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  chaddr: string;
  /** Option 53; null when absent (plain BOOTP). */
  messageType: number | null;
  hostname: string | null;
  fqdn: string | null;
  /** Option 55 exactly as sent: the order fingerprints the client's DHCP stack. */
  paramRequestList: number[] | null;
  vendorClass: string | null;
  /** Option 61, hex. */
  clientId: string | null;
  requestedIp: string | null;
  serverId: string | null;
  leaseTime: number | null;
  message: string | null;
  domain: string | null;
  routers: string[];
  dnsServers: string[];
  overload: number | null;
  /** Option codes in the order met. */
  options: number[];
  /** Options that ran past their field: the rest of the message was not read. */
  truncatedOptions: boolean;
}

export const DHCP_TYPES = ['', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM'];

export class DhcpError extends Error {}

const ip = (b: Buffer, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

/** Printable text of an option, trailing NULs dropped (some clients count the terminator). */
function text(b: Buffer, o: number, n: number): string {
  let e = o + n;
  while (e > o && b[e - 1] === 0) e--;
  return b.toString('utf8', o, e);
}

/** FQDN option 81 (RFC 4702 §2): flags, two rcodes, then the name, wire-encoded when E is set. */
function fqdn(b: Buffer, o: number, n: number): string | null {
  if (n < 3) return null;
  const flags = b[o];
  if (!(flags & 0x04)) return text(b, o + 3, n - 3);
  const labels: string[] = [];
  for (let p = o + 3; p < o + n; ) {
    const len = b[p];
    if (len === 0 || p + 1 + len > o + n) break;
    labels.push(b.toString('utf8', p + 1, p + 1 + len));
    p += 1 + len;
  }
  return labels.join('.');
}

export function parseDhcp4(b: Buffer, off: number, end: number): Dhcp4Message {
  if (end - off < 240) throw new DhcpError('shorter than a DHCP message');
  if (b.readUInt32BE(off + 236) !== 0x63825363) throw new DhcpError('no DHCP magic cookie');
  const hlen = Math.min(b[off + 2], 16);
  const chaddr = [...b.subarray(off + 28, off + 28 + hlen)].map((x) => x.toString(16).padStart(2, '0')).join(':');
  const m: Dhcp4Message = {
    op: b[off],
    xid: b.readUInt32BE(off + 4),
    ciaddr: ip(b, off + 12),
    yiaddr: ip(b, off + 16),
    siaddr: ip(b, off + 20),
    giaddr: ip(b, off + 24),
    chaddr,
    messageType: null,
    hostname: null,
    fqdn: null,
    paramRequestList: null,
    vendorClass: null,
    clientId: null,
    requestedIp: null,
    serverId: null,
    leaseTime: null,
    message: null,
    domain: null,
    routers: [],
    dnsServers: [],
    overload: null,
    options: [],
    truncatedOptions: false,
  };
  readOptions(b, off + 240, end, m);
  // Overloaded fields carry more options: file (108 bytes at 108) then sname (64 bytes at 44).
  if (m.overload === 1 || m.overload === 3) readOptions(b, off + 108, off + 236, m);
  if (m.overload === 2 || m.overload === 3) readOptions(b, off + 44, off + 108, m);
  return m;
}

function readOptions(b: Buffer, p: number, end: number, m: Dhcp4Message): void {
  while (p < end) {
    const code = b[p];
    if (code === 255) return;
    if (code === 0) {
      p++;
      continue;
    }
    if (p + 2 > end || p + 2 + b[p + 1] > end) {
      m.truncatedOptions = true;
      return;
    }
    const n = b[p + 1];
    const o = p + 2;
    m.options.push(code);
    switch (code) {
      case 53:
        if (n >= 1) m.messageType = b[o];
        break;
      case 12:
        m.hostname = text(b, o, n);
        break;
      case 81:
        m.fqdn = fqdn(b, o, n);
        break;
      case 55:
        m.paramRequestList = [...b.subarray(o, o + n)];
        break;
      case 60:
        m.vendorClass = text(b, o, n);
        break;
      case 61:
        m.clientId = b.toString('hex', o, o + n);
        break;
      case 50:
        if (n === 4) m.requestedIp = ip(b, o);
        break;
      case 54:
        if (n === 4) m.serverId = ip(b, o);
        break;
      case 51:
        if (n === 4) m.leaseTime = b.readUInt32BE(o);
        break;
      case 56:
        m.message = text(b, o, n);
        break;
      case 15:
        m.domain = text(b, o, n);
        break;
      case 3:
        for (let i = 0; i + 4 <= n; i += 4) m.routers.push(ip(b, o + i));
        break;
      case 6:
        for (let i = 0; i + 4 <= n; i += 4) m.dnsServers.push(ip(b, o + i));
        break;
      case 52:
        if (n >= 1) m.overload = b[o];
        break;
    }
    p = o + n;
  }
}

export interface Dhcp6Message {
  type: number;
  transactionId: number;
  clientDuid: string | null;
  /** Option 16 vendor class: enterprise number and strings. */
  vendorClass: string | null;
  /** Option 39 client FQDN. */
  fqdn: string | null;
  /** Option 6 (ORO), in order. */
  requestedOptions: number[] | null;
  options: number[];
}

export const DHCP6_TYPES = ['', 'SOLICIT', 'ADVERTISE', 'REQUEST', 'CONFIRM', 'RENEW', 'REBIND', 'REPLY', 'RELEASE', 'DECLINE', 'RECONFIGURE', 'INFORMATION-REQUEST', 'RELAY-FORW', 'RELAY-REPL'];

export function parseDhcp6(b: Buffer, off: number, end: number): Dhcp6Message {
  if (end - off < 4) throw new DhcpError('shorter than a DHCPv6 message');
  const m: Dhcp6Message = { type: b[off], transactionId: b.readUIntBE(off + 1, 3), clientDuid: null, vendorClass: null, fqdn: null, requestedOptions: null, options: [] };
  if (m.type === 12 || m.type === 13) return m; // relay messages: options are the relayed message
  let p = off + 4;
  while (p + 4 <= end) {
    const code = b.readUInt16BE(p);
    const n = b.readUInt16BE(p + 2);
    const o = p + 4;
    if (o + n > end) throw new DhcpError('DHCPv6 option runs past the message');
    m.options.push(code);
    if (code === 1) m.clientDuid = b.toString('hex', o, o + n);
    else if (code === 6) {
      m.requestedOptions = [];
      for (let i = 0; i + 2 <= n; i += 2) m.requestedOptions.push(b.readUInt16BE(o + i));
    } else if (code === 16 && n >= 6) {
      const parts: string[] = [];
      for (let i = o + 4; i + 2 <= o + n; ) {
        const l = b.readUInt16BE(i);
        parts.push(b.toString('utf8', i + 2, Math.min(i + 2 + l, o + n)));
        i += 2 + l;
      }
      m.vendorClass = `${b.readUInt32BE(o)}:${parts.join(',')}`;
    } else if (code === 39 && n >= 1) {
      const labels: string[] = [];
      for (let i = o + 1; i < o + n; ) {
        const l = b[i];
        if (l === 0 || i + 1 + l > o + n) break;
        labels.push(b.toString('utf8', i + 1, i + 1 + l));
        i += 1 + l;
      }
      m.fqdn = labels.join('.');
    }
    p = o + n;
  }
  return m;
}

/**
 * DHCP exchanges: each message becomes a `dhcp` event; the client's facts (host name, vendor
 * class, the ordered parameter request list that fingerprints its stack, the address it got)
 * feed the device inventory. DHCP runs between a MAC and a broadcast address, so the flow's
 * device is the client; `chaddr` names it even before it has an address.
 */
import type { DatagramParser, FlowContext } from '../parser-types.js';
import { DHCP_TYPES, DHCP6_TYPES, type Dhcp4Message, parseDhcp4, parseDhcp6 } from './parser.js';

export interface DhcpFacts {
  clientMac: string | null;
  hostname: string | null;
  fqdn: string | null;
  vendorClass: string | null;
  paramRequestList: number[] | null;
  clientId: string | null;
  assignedIp: string | null;
  requestedIp: string | null;
  messageTypes: string[];
  malformed: number;
}

export interface DhcpObserver {
  /** A client announced itself (any client message), or was given an address (ACK). */
  dhcpClient(m: Dhcp4Message): void;
}

export class DhcpFlow implements DatagramParser {
  readonly encrypted = false;
  readonly f: DhcpFacts = { clientMac: null, hostname: null, fqdn: null, vendorClass: null, paramRequestList: null, clientId: null, assignedIp: null, requestedIp: null, messageTypes: [], malformed: 0 };

  constructor(
    private readonly ctx: FlowContext,
    readonly app: 'dhcp' | 'dhcpv6',
    private readonly observer: DhcpObserver | null,
  ) {}

  datagram(dir: number, buf: Buffer, off: number, len: number): void {
    try {
      if (this.app === 'dhcpv6') this.v6(dir, buf, off, len);
      else this.v4(dir, buf, off, len);
    } catch (e) {
      this.f.malformed++;
      this.ctx.emit('anomaly', { protocol: this.app, event: `malformed: ${(e as Error).message}` }, dir);
    }
  }

  private v4(dir: number, buf: Buffer, off: number, len: number): void {
    const m = parseDhcp4(buf, off, off + len);
    const f = this.f;
    const type = m.messageType === null ? 'BOOTP' : (DHCP_TYPES[m.messageType] ?? `TYPE${m.messageType}`);
    if (!f.messageTypes.includes(type)) f.messageTypes.push(type);
    if (m.op === 1) {
      f.clientMac = m.chaddr;
      f.hostname = m.hostname ?? f.hostname;
      f.fqdn = m.fqdn ?? f.fqdn;
      f.vendorClass = m.vendorClass ?? f.vendorClass;
      f.paramRequestList = m.paramRequestList ?? f.paramRequestList;
      f.clientId = m.clientId ?? f.clientId;
      f.requestedIp = m.requestedIp ?? f.requestedIp;
    } else if (m.messageType === 5 && m.yiaddr !== '0.0.0.0') f.assignedIp = m.yiaddr;
    if (m.op === 1 || m.messageType === 5) this.observer?.dhcpClient(m);
    this.ctx.emit('dhcp', () => ({ ...m, messageType: type, messageTypeCode: m.messageType, op: m.op === 1 ? 'request' : 'reply' }), dir);
  }

  private v6(dir: number, buf: Buffer, off: number, len: number): void {
    const m = parseDhcp6(buf, off, off + len);
    const type = DHCP6_TYPES[m.type] ?? `TYPE${m.type}`;
    if (!this.f.messageTypes.includes(type)) this.f.messageTypes.push(type);
    if (m.fqdn) this.f.fqdn = m.fqdn;
    if (m.vendorClass) this.f.vendorClass = m.vendorClass;
    if (m.clientDuid) this.f.clientId = m.clientDuid;
    this.ctx.emit('dhcpv6', { ...m, type }, dir);
  }

  facts(): Record<string, unknown> {
    return { [this.app]: this.f };
  }
}

/**
 * DHCP exchanges: each message becomes a `dhcp` event; the client's facts (host name, vendor
 * class, the ordered parameter request list that fingerprints its stack, the address it got)
 * feed the device inventory. DHCP runs between a MAC and a broadcast address, so the flow's
 * device is the client; `chaddr` names it even before it has an address.
 *
 * One flow can carry several clients: every client without an address sends from 0.0.0.0:68 to
 * 255.255.255.255:67, and a server that broadcasts its replies (RFC 2131 §4.1, broadcast bit)
 * sends all of them from one address to 255.255.255.255:68. So the facts are kept per client,
 * keyed by what the message itself says the client is: `chaddr` (RFC 2131 §2) in DHCPv4, the
 * Client Identifier DUID (RFC 8415 §21.2) in DHCPv6. A server reply counts for the client it
 * names. The flow-level fields are those of one client only (see `DhcpFacts`), never a mix.
 */
import type { DatagramParser, FlowContext } from '../parser-types.js';
import { DHCP_TYPES, DHCP6_TYPES, type Dhcp4Message, parseDhcp4, parseDhcp6 } from './parser.js';

/** Clients itemised per flow; later ones are only counted (bounded state). */
export const MAX_DHCP_CLIENTS = 16;

/** What one client said on the flow, and what the server's replies to it said. */
export interface DhcpClientFacts {
  /** chaddr (DHCPv4); DHCPv6: the link-layer address inside a DUID-LLT/DUID-LL (RFC 8415 §11.2, §11.4), else null. */
  mac: string | null;
  /** Option 61 (DHCPv6: the client DUID), hex. */
  clientId: string | null;
  /** Option 12, trailing NULs removed. */
  hostname: string | null;
  /** Option 81 (DHCPv6: option 39). */
  fqdn: string | null;
  /** Option 60 (DHCPv6: option 16 as enterprise:strings). */
  vendorClass: string | null;
  /** Option 55 exactly as ordered by the client (DHCPv6: the Option Request Option, 6). */
  paramRequestList: number[] | null;
  /** The parameter request list as "1,3,6,15": the usual DHCP fingerprint of a client's stack. */
  fingerprint: string | null;
  /** Option 50 of its requests. */
  requestedIp: string | null;
  /** yiaddr of an ACK addressed to it. */
  assignedIp: string | null;
  /** Types of the messages it sent and of the replies addressed to it, in order met. */
  messageTypes: string[];
  /** Messages it sent on this flow. */
  requests: number;
  /** Server messages on this flow addressed to it. */
  replies: number;
}

/**
 * A DHCP or DHCPv6 flow. `clients` holds each client's own facts. The flow-level fields before
 * it (kept for readers of the older, single-client form) are those of the flow's first client
 * that sent a request, or, on a flow of server replies only, of the first client a reply named;
 * `messageTypes` and `malformed` count the whole flow.
 */
export interface DhcpFacts {
  clientMac: string | null;
  hostname: string | null;
  fqdn: string | null;
  vendorClass: string | null;
  paramRequestList: number[] | null;
  clientId: string | null;
  assignedIp: string | null;
  requestedIp: string | null;
  /** Every message type seen on the flow. */
  messageTypes: string[];
  malformed: number;
  /** Per client, at most MAX_DHCP_CLIENTS. */
  clients: DhcpClientFacts[];
  /** Messages of clients beyond MAX_DHCP_CLIENTS (not itemised). */
  unlistedMessages: number;
}

export interface DhcpObserver {
  /** A client announced itself (any client message), or was given an address (ACK). */
  dhcpClient(m: Dhcp4Message): void;
}

/** DHCPv6 messages a client sends (RFC 8415 §7.3); the others come from servers and relays. */
const V6_CLIENT = [false, true, false, true, true, true, true, false, true, true, false, true];

/** The MAC inside a DUID-LLT (type 1) or DUID-LL (type 3) with hardware type 1, Ethernet (RFC 8415 §11.2, §11.4). */
export function duidMac(duid: string): string | null {
  const type = duid.slice(0, 4);
  const start = type === '0001' ? 16 : type === '0003' ? 8 : -1;
  if (start < 0 || duid.slice(4, 8) !== '0001' || duid.length !== start + 12) return null;
  return duid.slice(start).replace(/(..)(?!$)/g, '$1:');
}

function newClient(mac: string | null, clientId: string | null): DhcpClientFacts {
  return { mac, clientId, hostname: null, fqdn: null, vendorClass: null, paramRequestList: null, fingerprint: null, requestedIp: null, assignedIp: null, messageTypes: [], requests: 0, replies: 0 };
}

export class DhcpFlow implements DatagramParser {
  readonly encrypted = false;
  readonly f: DhcpFacts = { clientMac: null, hostname: null, fqdn: null, vendorClass: null, paramRequestList: null, clientId: null, assignedIp: null, requestedIp: null, messageTypes: [], malformed: 0, clients: [], unlistedMessages: 0 };
  /** The client whose facts the flow-level fields show. */
  private primary: DhcpClientFacts | null = null;
  private readonly out: { dhcp: DhcpFacts } | { dhcpv6: DhcpFacts };

  constructor(
    private readonly ctx: FlowContext,
    readonly app: 'dhcp' | 'dhcpv6',
    private readonly observer: DhcpObserver | null,
  ) {
    this.out = app === 'dhcp' ? { dhcp: this.f } : { dhcpv6: this.f };
  }

  datagram(dir: number, buf: Buffer, off: number, len: number): void {
    try {
      if (this.app === 'dhcpv6') this.v6(dir, buf, off, len);
      else this.v4(dir, buf, off, len);
    } catch (e) {
      this.f.malformed++;
      this.ctx.emit('anomaly', { protocol: this.app, event: `malformed: ${(e as Error).message}` }, dir);
    }
  }

  /**
   * The entry of the client a message names: found by a scan of at most MAX_DHCP_CLIENTS entries
   * comparing the key the parser already made (no per-packet key or map), created when new.
   */
  private client(key: string, v6: boolean): DhcpClientFacts | null {
    const list = this.f.clients;
    for (let i = 0; i < list.length; i++) {
      const c = list[i];
      if ((v6 ? c.clientId : c.mac) === key) return c;
    }
    if (list.length >= MAX_DHCP_CLIENTS) return null;
    const c = v6 ? newClient(duidMac(key), key) : newClient(key, null);
    list.push(c);
    return c;
  }

  /** Counts the message for its client and shows the primary client at flow level. */
  private note(c: DhcpClientFacts | null, type: string, request: boolean): void {
    const f = this.f;
    if (!f.messageTypes.includes(type)) f.messageTypes.push(type);
    if (!c) {
      f.unlistedMessages++;
      return;
    }
    if (!c.messageTypes.includes(type)) c.messageTypes.push(type);
    if (request) c.requests++;
    else c.replies++;
    if (this.primary === null || (request && this.primary.requests === 0)) this.primary = c;
    const p = this.primary;
    f.clientMac = p.mac;
    f.hostname = p.hostname;
    f.fqdn = p.fqdn;
    f.vendorClass = p.vendorClass;
    f.paramRequestList = p.paramRequestList;
    f.clientId = p.clientId;
    f.requestedIp = p.requestedIp;
    f.assignedIp = p.assignedIp;
  }

  private v4(dir: number, buf: Buffer, off: number, len: number): void {
    const m = parseDhcp4(buf, off, off + len);
    const type = m.messageType === null ? 'BOOTP' : (DHCP_TYPES[m.messageType] ?? `TYPE${m.messageType}`);
    const request = m.op === 1;
    const c = this.client(m.chaddr, false);
    if (c && request) {
      // A later message that omits an option does not erase what the client said before.
      c.hostname = m.hostname ?? c.hostname;
      c.fqdn = m.fqdn ?? c.fqdn;
      c.vendorClass = m.vendorClass ?? c.vendorClass;
      if (m.paramRequestList) {
        c.paramRequestList = m.paramRequestList;
        c.fingerprint = m.paramRequestList.join(',');
      }
      c.clientId = m.clientId ?? c.clientId;
      c.requestedIp = m.requestedIp ?? c.requestedIp;
    } else if (c && m.messageType === 5 && m.yiaddr !== '0.0.0.0') c.assignedIp = m.yiaddr;
    this.note(c, type, request);
    if (request || m.messageType === 5) this.observer?.dhcpClient(m);
    this.ctx.emit('dhcp', () => ({ ...m, messageType: type, messageTypeCode: m.messageType, op: request ? 'request' : 'reply' }), dir);
  }

  private v6(dir: number, buf: Buffer, off: number, len: number): void {
    const m = parseDhcp6(buf, off, off + len);
    const type = DHCP6_TYPES[m.type] ?? `TYPE${m.type}`;
    const request = V6_CLIENT[m.type] === true;
    // Relay messages carry the client's message inside; the rest name the client by its DUID.
    const c = m.clientDuid ? this.client(m.clientDuid, true) : null;
    if (c && request) {
      c.fqdn = m.fqdn ?? c.fqdn;
      c.vendorClass = m.vendorClass ?? c.vendorClass;
      if (m.requestedOptions) {
        c.paramRequestList = m.requestedOptions;
        c.fingerprint = m.requestedOptions.join(',');
      }
    }
    if (c || m.clientDuid) this.note(c, type, request);
    else if (!this.f.messageTypes.includes(type)) this.f.messageTypes.push(type);
    this.ctx.emit('dhcpv6', { ...m, type }, dir);
  }

  facts(): { dhcp: DhcpFacts } | { dhcpv6: DhcpFacts } {
    return this.out;
  }
}

/**
 * SSDP (UPnP Device Architecture 2.0 §1): HTTP-formatted NOTIFY and M-SEARCH datagrams to
 * 239.255.255.250:1900 (and the unicast answers). Reports method, ST/NT/NTS/USN, SERVER,
 * USER-AGENT and LOCATION, which name the device's UPnP stack and model.
 *
 * A multicast flow's 5-tuple can be shared: a device that takes over another's address sends
 * from the same address and port. So what was said is kept per sender too (`senders`), by flow
 * side and, when the stage gives it, source MAC; the flow-level lists are the union.
 */
import { type Sender, SenderIndex } from '../dns/services.js';
import { header, parseHeaderBlock } from '../http/message.js';
import type { DatagramParser, FlowContext } from '../parser-types.js';

const SAMPLE = 20;

export interface SsdpValues {
  /** Request methods (NOTIFY, M-SEARCH) and "HTTP <status>" of search responses. */
  methods: string[];
  /** SERVER headers (NOTIFY and search responses, §1.2.2, §1.3.3). */
  servers: string[];
  /** USER-AGENT headers (M-SEARCH, §1.3.2). */
  userAgents: string[];
  /** LOCATION: the URL of the device description. */
  locations: string[];
  /** ST (M-SEARCH and its responses). */
  searchTargets: string[];
  /** NT (NOTIFY). */
  notificationTypes: string[];
  usns: string[];
}

/** What one sender said on the flow. */
export interface SsdpSender extends Sender, SsdpValues {
  messages: number;
}

export interface SsdpFacts extends SsdpValues {
  /** Each sender's own values, at most MAX_SENDERS (16) senders. */
  senders: SsdpSender[];
  /** Messages of senders beyond MAX_SENDERS (not itemised). */
  unlistedMessages: number;
}

export function looksLikeSsdp(buf: Buffer, off: number, len: number): boolean {
  const head = buf.toString('latin1', off, off + Math.min(len, 20));
  return /^(M-SEARCH \* HTTP\/1\.[01]|NOTIFY \* HTTP\/1\.[01]|HTTP\/1\.[01] 200)/.test(head);
}

function add(list: string[], v: string | null): void {
  if (v && list.length < SAMPLE && !list.includes(v)) list.push(v);
}

function record(v: SsdpValues, method: string | null, server: string | null, userAgent: string | null, location: string | null, st: string | null, nt: string | null, usn: string | null): void {
  add(v.methods, method);
  add(v.servers, server);
  add(v.userAgents, userAgent);
  add(v.locations, location);
  add(v.searchTargets, st);
  add(v.notificationTypes, nt);
  add(v.usns, usn);
}

export class SsdpFlow implements DatagramParser {
  readonly app = 'ssdp';
  readonly encrypted = false;
  readonly f: SsdpFacts = { methods: [], servers: [], userAgents: [], locations: [], searchTargets: [], notificationTypes: [], usns: [], senders: [], unlistedMessages: 0 };
  private readonly out = { ssdp: this.f };
  private readonly index: SenderIndex;

  constructor(private readonly ctx: FlowContext) {
    this.index = new SenderIndex(ctx);
  }

  private sender(dir: number): SsdpSender | null {
    const mac = this.index.mac(dir);
    const i = this.index.find(dir, mac);
    if (i >= 0) return this.f.senders[i];
    const who = this.index.add(dir, mac);
    if (!who) return null;
    const s: SsdpSender = { ...who, methods: [], servers: [], userAgents: [], locations: [], searchTargets: [], notificationTypes: [], usns: [], messages: 0 };
    this.f.senders.push(s);
    return s;
  }

  datagram(dir: number, buf: Buffer, off: number, len: number): void {
    // An SSDP datagram is a header block; a missing final blank line is tolerated.
    let b = buf;
    let o = off;
    let e = off + len;
    let r = parseHeaderBlock(b, o, e);
    if (r === 'incomplete') {
      b = Buffer.concat([buf.subarray(off, off + len), Buffer.from('\r\n\r\n')]);
      o = 0;
      e = b.length;
      r = parseHeaderBlock(b, o, e);
    }
    if (typeof r === 'string') {
      this.ctx.emit('anomaly', { protocol: 'ssdp', event: 'not an SSDP message' }, dir);
      return;
    }
    const get = (n: string) => header(r as Exclude<typeof r, string>, n);
    const method = r.start.kind === 'request' ? r.start.method : `HTTP ${r.start.status}`;
    const server = get('server');
    const userAgent = get('user-agent');
    const location = get('location');
    const st = get('st');
    const nt = get('nt');
    const usn = get('usn');
    const s = this.sender(dir);
    if (s) s.messages++;
    else this.f.unlistedMessages++;
    // The flow's union, and the sender's own lists (its values, never another sender's).
    record(this.f, method, server, userAgent, location, st, nt, usn);
    if (s) record(s, method, server, userAgent, location, st, nt, usn);
    this.ctx.emit(
      'ssdp',
      { method, uri: r.start.uri, version: r.start.version, status: r.start.status, host: get('host'), st, nt, nts: get('nts'), usn, server, userAgent, location, man: get('man') },
      dir,
    );
  }

  facts(): { ssdp: SsdpFacts } {
    return this.out;
  }
}

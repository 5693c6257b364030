/**
 * SSDP (UPnP Device Architecture 2.0 §1): HTTP-formatted NOTIFY and M-SEARCH datagrams to
 * 239.255.255.250:1900 (and the unicast answers). Reports method, ST/NT/NTS/USN, SERVER,
 * USER-AGENT and LOCATION, which name the device's UPnP stack and model.
 */
import { header, parseHeaderBlock } from '../http/message.js';
import type { DatagramParser, FlowContext } from '../parser-types.js';

const SAMPLE = 20;

export interface SsdpFacts {
  methods: string[];
  servers: string[];
  userAgents: string[];
  locations: string[];
  searchTargets: string[];
  notificationTypes: string[];
  usns: string[];
}

export function looksLikeSsdp(buf: Buffer, off: number, len: number): boolean {
  const head = buf.toString('latin1', off, off + Math.min(len, 20));
  return /^(M-SEARCH \* HTTP\/1\.[01]|NOTIFY \* HTTP\/1\.[01]|HTTP\/1\.[01] 200)/.test(head);
}

export class SsdpFlow implements DatagramParser {
  readonly app = 'ssdp';
  readonly encrypted = false;
  readonly f: SsdpFacts = { methods: [], servers: [], userAgents: [], locations: [], searchTargets: [], notificationTypes: [], usns: [] };

  constructor(private readonly ctx: FlowContext) {}

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
    const f = this.f;
    const add = (list: string[], v: string | null) => {
      if (v && list.length < SAMPLE && !list.includes(v)) list.push(v);
    };
    const method = r.start.kind === 'request' ? r.start.method : `HTTP ${r.start.status}`;
    add(f.methods, method);
    add(f.servers, get('server'));
    add(f.userAgents, get('user-agent'));
    add(f.locations, get('location'));
    add(f.searchTargets, get('st'));
    add(f.notificationTypes, get('nt'));
    add(f.usns, get('usn'));
    this.ctx.emit(
      'ssdp',
      { method, uri: r.start.uri, version: r.start.version, status: r.start.status, host: get('host'), st: get('st'), nt: get('nt'), nts: get('nts'), usn: get('usn'), server: get('server'), userAgent: get('user-agent'), location: get('location'), man: get('man') },
      dir,
    );
  }

  facts(): Record<string, unknown> {
    return { ssdp: this.f };
  }
}

/**
 * DNS and mDNS flows: each message becomes a `dns` (or `mdns`) event; answers to LAN clients feed
 * the per-device name map, so a later connection to an answered address is named by what the
 * device asked for. DNS over TCP frames each message with a 2-byte length (RFC 1035 §4.2.2).
 *
 * mDNS facts tell what the sender offers from what it looks for. Offered: the records of the
 * responses it sends (RFC 6762 §6; unsolicited announcements are responses too) and the
 * Authority section of its probes (§8.1: the records it is about to claim). Looked for: the
 * service types of its questions and of the known answers it lists in them (§7.1), which name
 * other devices' services, never its own.
 *
 * One mDNS 5-tuple can carry more than one device (an address taken over by another device, or
 * the unicast answers to a querier on port 5353), so the same facts are kept per sender as well.
 */
import { type DatagramParser, type FlowContext, PendingBytes, type StreamParser } from '../parser-types.js';
import { type DnsMessage, type DnsRecord, parseDns, typeName } from './parser.js';
import { type MdnsSender, type MdnsService, MdnsServices, redactTxt, type Side } from './services.js';

export { addSide, type MdnsSender, type MdnsService, type Sender, type Side } from './services.js';

export interface NameObserver {
  /** A LAN client at `client` was told that `name` resolves to `address`. */
  answered(clientDir: number, name: string, address: string): void;
}

const SAMPLE = 20;

/** A unicast DNS flow (app `dns`); an mDNS flow has the MdnsFacts fields as well. */
export interface DnsFacts {
  queries: string[];
  answers: number;
  rcodes: number[];
  malformed: number;
  /** mDNS: service types the sender offers (never the ones it only asks for). */
  services: string[];
  /** mDNS: full names of the instances it offers ("<Instance>.<_svc>.<_proto>.local"). */
  instances: string[];
  /** mDNS: model keys of its TXT records, "key=value" (model=, md=, mdl=, ty=, usb_MDL=, product=). */
  models: string[];
  /** mDNS: the services it offers, each with its instance, SRV target and port, and TXT strings. */
  offered?: MdnsService[];
  /** mDNS: service types it looks for (questions and known answers of its queries). */
  browses?: string[];
  /** mDNS: its own host names: owners of the A/AAAA records it answers with, SRV targets, reverse-mapping answers. */
  hosts?: string[];
  /** mDNS: the side that sent the responses and probes the offers and hosts come from. */
  responder?: Side | null;
  /** mDNS: the side that sent queries. */
  querier?: Side | null;
}

/**
 * An mDNS flow (RFC 6762). The flow-level lists are the union of what its senders said, with
 * `responder` and `querier` naming the sides; `senders` tells each sender's own (by side and,
 * when the stage gives it, MAC: one 5-tuple can carry two devices after an address change).
 */
export interface MdnsFacts extends DnsFacts {
  offered: MdnsService[];
  browses: string[];
  hosts: string[];
  responder: Side | null;
  querier: Side | null;
  /** Each sender's own offers, searches and questions, at most MAX_SENDERS (16) senders. */
  senders: MdnsSender[];
  /** Messages of senders beyond MAX_SENDERS (not itemised). */
  unlistedMessages: number;
}

export function recordEvent(r: DnsRecord): Record<string, unknown> {
  return { name: r.name, type: typeName(r.type), ttl: r.ttl, data: r.type === 16 && Array.isArray(r.data) ? redactTxt(r.data, r.name) : r.data };
}

export class DnsFlow implements DatagramParser, StreamParser {
  readonly encrypted = false;
  /** Only DNS over TCP needs to hold partial messages. */
  private pending: PendingBytes[] | null = null;
  readonly f: DnsFacts | MdnsFacts;
  private readonly mdns: MdnsServices | null = null;
  private readonly out: { dns: DnsFacts } | { mdns: MdnsFacts };

  constructor(
    private readonly ctx: FlowContext,
    readonly app: 'dns' | 'mdns',
    private readonly names: NameObserver | null,
  ) {
    const base = { queries: [], answers: 0, rcodes: [], malformed: 0, services: [], instances: [], models: [] };
    if (app === 'mdns') {
      const m: MdnsFacts = { ...base, offered: [], browses: [], hosts: [], responder: null, querier: null, senders: [], unlistedMessages: 0 };
      this.mdns = new MdnsServices(m, ctx);
      this.f = m;
      this.out = { mdns: m };
    } else {
      this.f = base;
      this.out = { dns: base };
    }
  }

  /** DNS over TCP: messages can exceed the default reassembly depth. */
  static overTcp(ctx: FlowContext, names: NameObserver | null): DnsFlow {
    ctx.followAll();
    return new DnsFlow(ctx, 'dns', names);
  }

  datagram(dir: number, buf: Buffer, off: number, len: number): void {
    this.message(dir, buf, off, off + len);
  }

  data(dir: number, data: Buffer, off: number, len: number): void {
    this.pending ??= [new PendingBytes(65537), new PendingBytes(65537)];
    const v = this.pending[dir].join(data, off, len);
    let p = v.off;
    while (v.end - p >= 2) {
      const n = v.buf.readUInt16BE(p);
      if (v.end - p < 2 + n) break;
      this.message(dir, v.buf, p + 2, p + 2 + n);
      p += 2 + n;
    }
    if (p < v.end) this.pending[dir].keep(v.buf, p, v.end);
  }

  gap(dir: number): void {
    this.pending?.[dir].clear();
  }

  private message(dir: number, buf: Buffer, off: number, end: number): void {
    let m: DnsMessage;
    try {
      m = parseDns(buf, off, end);
    } catch (e) {
      this.f.malformed++;
      this.ctx.emit('anomaly', { protocol: this.app, event: `malformed: ${(e as Error).message}` }, dir);
      return;
    }
    const f = this.f;
    for (const q of m.questions) if (f.queries.length < SAMPLE && !f.queries.includes(q.name)) f.queries.push(q.name);
    if (m.response) {
      f.answers += m.answers.length;
      if (!f.rcodes.includes(m.rcode)) f.rcodes.push(m.rcode);
      this.learn(dir, m);
    }
    this.mdns?.message(dir, m);
    this.ctx.emit(
      this.app,
      () => ({
        id: m.id,
        response: m.response,
        opcode: m.opcode,
        rcode: m.rcode,
        authoritative: m.authoritative,
        truncated: m.truncated,
        counts: m.counts,
        questions: m.questions.map((q) => ({
          name: q.name,
          type: typeName(q.type),
          ...(q.nameTruncated ? { nameTruncated: true } : {}),
          ...(this.app === 'mdns' ? { unicastResponse: q.unicastResponse } : {}),
        })),
        answers: m.answers.map(recordEvent),
        authorities: m.authorities.map(recordEvent),
        additionals: m.additionals.map(recordEvent),
      }),
      dir,
    );
  }

  /** Address answers for the names the client asked, CNAME chains followed. */
  private learn(dir: number, m: DnsMessage): void {
    if (!this.names || m.questions.length === 0) return;
    const asked = m.questions[0].name.toLowerCase();
    const aliases = new Set([asked]);
    for (const r of m.answers) if (r.type === 5 && aliases.has(r.name.toLowerCase()) && typeof r.data === 'string') aliases.add(r.data.toLowerCase());
    for (const r of m.answers) {
      if ((r.type === 1 || r.type === 28) && typeof r.data === 'string' && aliases.has(r.name.toLowerCase())) {
        this.names.answered(dir ^ 1, m.questions[0].name, r.data);
      }
    }
  }

  facts(): { dns: DnsFacts } | { mdns: MdnsFacts } {
    return this.out;
  }
}

/**
 * DNS and mDNS flows: each message becomes a `dns` (or `mdns`) event; answers to LAN clients feed
 * the per-device name map, so a later connection to an answered address is named by what the
 * device asked for. DNS over TCP frames each message with a 2-byte length (RFC 1035 §4.2.2).
 */
import { type DatagramParser, type FlowContext, PendingBytes, type StreamParser } from '../parser-types.js';
import { type DnsMessage, type DnsRecord, parseDns, typeName } from './parser.js';

export interface NameObserver {
  /** A LAN client at `client` was told that `name` resolves to `address`. */
  answered(clientDir: number, name: string, address: string): void;
}

const SAMPLE = 20;

export interface DnsFacts {
  queries: string[];
  answers: number;
  rcodes: number[];
  malformed: number;
  /** mDNS: service types and instance names announced, and TXT model keys. */
  services: string[];
  instances: string[];
  models: string[];
}

function recordEvent(r: DnsRecord): Record<string, unknown> {
  return { name: r.name, type: typeName(r.type), ttl: r.ttl, data: r.data };
}

export class DnsFlow implements DatagramParser, StreamParser {
  readonly encrypted = false;
  /** Only DNS over TCP needs to hold partial messages. */
  private pending: PendingBytes[] | null = null;
  readonly f: DnsFacts = { queries: [], answers: 0, rcodes: [], malformed: 0, services: [], instances: [], models: [] };

  constructor(
    private readonly ctx: FlowContext,
    readonly app: 'dns' | 'mdns',
    private readonly names: NameObserver | null,
  ) {}

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
    if (this.app === 'mdns') this.services(m);
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

  private services(m: DnsMessage): void {
    const f = this.f;
    const add = (list: string[], v: string) => {
      if (list.length < SAMPLE && !list.includes(v)) list.push(v);
    };
    for (const r of [...m.answers, ...m.additionals]) {
      if (r.type === 12 && typeof r.data === 'string') {
        if (r.name.startsWith('_') && !r.name.startsWith('_services._dns-sd')) {
          add(f.services, r.name);
          add(f.instances, r.data);
        }
      }
      if (r.type === 33) add(f.instances, r.name);
      if (r.type === 16 && Array.isArray(r.data)) {
        for (const kv of r.data) {
          const m2 = /^(model|md|mdl|ty|usb_MDL|product)=(.+)$/i.exec(kv);
          if (m2) add(f.models, `${m2[1]}=${m2[2]}`);
        }
      }
    }
    for (const q of m.questions) if (q.name.startsWith('_')) add(f.services, q.name);
  }

  facts(): Record<string, unknown> {
    return { [this.app]: this.f };
  }
}

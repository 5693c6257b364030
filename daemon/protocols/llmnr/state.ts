/**
 * LLMNR, Link-Local Multicast Name Resolution (RFC 4795): DNS-format messages (§2.1) on UDP and
 * TCP port 5355, queries to 224.0.0.252 / ff02::1:3, answers sent unicast by the one host that
 * owns the name (§2.4: a responder answers only for names it is authoritative for, its own).
 * So the names a responder answers with are its own host names; the querier's questions are
 * names it looks for. The header's AA bit is C (conflict) here, and RD is T (tentative, §2.1.1).
 */
import { type DatagramParser, type FlowContext, PendingBytes, type StreamParser } from '../parser-types.js';
import { type DnsMessage, parseDns, typeName } from '../dns/parser.js';
import { addSide, recordEvent, type Side } from '../dns/state.js';

const SAMPLE = 20;
export const LLMNR_PORT = 5355;

export interface LlmnrFacts {
  /** Names asked for, by the querier. */
  queries: string[];
  /** Names the responder answered for: its own host names (A/AAAA owners, reverse-lookup answers). */
  answers: string[];
  malformed: number;
  /** The side that answered (its names are `answers`). */
  responder: Side | null;
  /** The side that asked. */
  querier: Side | null;
}

const REVERSE = /\.(in-addr|ip6)\.arpa$/i;

export class LlmnrFlow implements DatagramParser, StreamParser {
  readonly app = 'llmnr';
  readonly encrypted = false;
  private pending: PendingBytes[] | null = null;
  readonly f: LlmnrFacts = { queries: [], answers: [], malformed: 0, responder: null, querier: null };
  private readonly out = { llmnr: this.f };

  constructor(private readonly ctx: FlowContext) {}

  /** LLMNR over TCP (§2.5): length-framed as DNS over TCP. */
  static overTcp(ctx: FlowContext): LlmnrFlow {
    return new LlmnrFlow(ctx);
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
      this.ctx.emit('anomaly', { protocol: 'llmnr', event: `malformed: ${(e as Error).message}` }, dir);
      return;
    }
    const f = this.f;
    const add = (list: string[], v: string) => {
      if (list.length < SAMPLE && !list.some((x) => x.toLowerCase() === v.toLowerCase())) list.push(v);
    };
    const flags = buf.readUInt16BE(off + 2);
    if (!m.response) {
      f.querier = addSide(f.querier, dir);
      for (const q of m.questions) add(f.queries, q.name);
    } else if (m.rcode === 0) {
      let own = false;
      for (const r of m.answers) {
        if ((r.type === 1 || r.type === 28) && typeof r.data === 'string') {
          add(f.answers, r.name);
          own = true;
        } else if (r.type === 12 && typeof r.data === 'string' && REVERSE.test(r.name)) {
          add(f.answers, r.data);
          own = true;
        }
      }
      if (own || m.answers.length > 0) f.responder = addSide(f.responder, dir);
    }
    this.ctx.emit(
      'llmnr',
      () => ({
        id: m.id,
        response: m.response,
        opcode: m.opcode,
        rcode: m.rcode,
        conflict: (flags & 0x0400) !== 0,
        truncated: (flags & 0x0200) !== 0,
        tentative: (flags & 0x0100) !== 0,
        counts: m.counts,
        questions: m.questions.map((q) => ({ name: q.name, type: typeName(q.type), ...(q.nameTruncated ? { nameTruncated: true } : {}) })),
        answers: m.answers.map(recordEvent),
        authorities: m.authorities.map(recordEvent),
        additionals: m.additionals.map(recordEvent),
      }),
      dir,
    );
  }

  facts(): { llmnr: LlmnrFacts } {
    return this.out;
  }
}

/**
 * NetBIOS Name Service flows (RFC 1002 §4.2): who claims which name. A node registers its own
 * names (registration, refresh and multi-homed registration requests, §4.2.2, §4.2.4: question
 * and NB record of the Additional section), defends them (a negative registration response with
 * ACT_ERR, §5.1.1.5), answers queries for them (positive name query response, §4.2.13) and lists
 * them in a node status response (§4.2.18). All of those are names of the sender: its computer
 * name (suffix 0x00, unique) and its server service (0x20) are host names of that device.
 * Queries (§4.2.12) and node status requests name what the sender looks for.
 */
import { addSide, type Side } from '../dns/state.js';
import type { DatagramParser, FlowContext } from '../parser-types.js';
import { formatName, type NbnsMessage, type NbnsRecord, OPCODE_NAMES, parseNbns, TYPE_NB, TYPE_NBSTAT } from './parser.js';

const SAMPLE = 20;

export interface NetbiosFacts {
  /** Names the owner registered, defended or answered for itself. */
  names: { name: string; suffix: number; group: boolean }[];
  /** Host names among them: unique names with suffix 0x00 (workstation) or 0x20 (server). */
  hosts: string[];
  /** Names asked for ("NAME<xx>"; "*<00>" for a node status request). */
  queried: string[];
  malformed: number;
  /** The side whose names `names` are. */
  owner: Side | null;
  /** The side that asked. */
  querier: Side | null;
}

/** A registration of one's own name (RFC 1002 §4.2.2, §4.2.4, §4.2.5 release is one's own too). */
const CLAIMS = new Set([5, 6, 8, 9, 15]);
const ACT_ERR = 6;

function recordEvent(r: NbnsRecord): Record<string, unknown> {
  return {
    name: formatName(r.name, r.suffix),
    ...(r.scope ? { scope: r.scope } : {}),
    type: r.type === TYPE_NB ? 'NB' : r.type === TYPE_NBSTAT ? 'NBSTAT' : r.type,
    ttl: r.ttl,
    ...(r.addresses ? { addresses: r.addresses } : {}),
    ...(r.names ? { names: r.names.map((n) => ({ name: formatName(n.name, n.suffix), group: n.group, active: n.active })) } : {}),
    ...(r.unitId !== undefined ? { unitId: r.unitId } : {}),
  };
}

export class NetbiosFlow implements DatagramParser {
  readonly app = 'netbios';
  readonly encrypted = false;
  readonly f: NetbiosFacts = { names: [], hosts: [], queried: [], malformed: 0, owner: null, querier: null };
  private readonly out = { netbios: this.f };

  constructor(private readonly ctx: FlowContext) {}

  datagram(dir: number, buf: Buffer, off: number, len: number): void {
    let m: NbnsMessage;
    try {
      m = parseNbns(buf, off, off + len);
    } catch (e) {
      this.f.malformed++;
      this.ctx.emit('anomaly', { protocol: 'netbios', event: `malformed: ${(e as Error).message}` }, dir);
      return;
    }
    this.learn(dir, m);
    this.ctx.emit(
      'netbios',
      () => ({
        id: m.id,
        response: m.response,
        opcode: OPCODE_NAMES[m.opcode] ?? m.opcode,
        rcode: m.rcode,
        authoritative: m.authoritative,
        truncated: m.truncated,
        recursionDesired: m.recursionDesired,
        broadcast: m.broadcast,
        counts: m.counts,
        questions: m.questions.map((q) => ({ name: formatName(q.name, q.suffix), ...(q.scope ? { scope: q.scope } : {}), type: q.type === TYPE_NB ? 'NB' : q.type === TYPE_NBSTAT ? 'NBSTAT' : q.type })),
        answers: m.answers.map(recordEvent),
        authorities: m.authorities.map(recordEvent),
        additionals: m.additionals.map(recordEvent),
      }),
      dir,
    );
  }

  private learn(dir: number, m: NbnsMessage): void {
    const f = this.f;
    const own = (name: string, suffix: number, group: boolean) => {
      f.owner = addSide(f.owner, dir);
      if (f.names.length < SAMPLE && !f.names.some((n) => n.name === name && n.suffix === suffix)) f.names.push({ name, suffix, group });
      if (!group && (suffix === 0x00 || suffix === 0x20) && name !== '*' && f.hosts.length < SAMPLE && !f.hosts.includes(name)) f.hosts.push(name);
    };
    if (!m.response) {
      if (m.opcode === 0) {
        f.querier = addSide(f.querier, dir);
        for (const q of m.questions) if (f.queried.length < SAMPLE && !f.queried.includes(formatName(q.name, q.suffix))) f.queried.push(formatName(q.name, q.suffix));
      } else if (CLAIMS.has(m.opcode)) {
        // The NB record of the Additional section carries the name's flags.
        for (const r of m.additionals) if (r.type === TYPE_NB) own(r.name, r.suffix, r.addresses?.[0]?.group ?? false);
        if (m.additionals.length === 0) for (const q of m.questions) own(q.name, q.suffix, false);
      }
      return;
    }
    if (m.opcode === 0 && m.rcode === 0) {
      for (const r of m.answers) {
        if (r.type === TYPE_NB && r.addresses && r.addresses.length > 0) own(r.name, r.suffix, r.addresses[0].group);
        if (r.type === TYPE_NBSTAT) for (const n of r.names ?? []) own(n.name, n.suffix, n.group);
      }
    } else if (CLAIMS.has(m.opcode) && m.rcode === ACT_ERR) {
      // The owner defending its name against a registration (§5.1.1.5).
      for (const r of m.answers) if (r.type === TYPE_NB) own(r.name, r.suffix, r.addresses?.[0]?.group ?? false);
    }
  }

  facts(): { netbios: NetbiosFacts } {
    return this.out;
  }
}

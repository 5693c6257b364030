/**
 * TP-Link Kasa per flow: UDP datagrams (9999 discovery and answers, 20002 discovery) and TCP
 * sessions (9999, length-prefixed), decrypted into a bounded scratch buffer and parsed. The side
 * that answers get_sysinfo is the Kasa device: the facts say which side that was (`responder`)
 * and what it said about itself.
 */
import { type FlowContext, type DatagramParser, PendingBytes, type StreamParser } from '../parser-types.js';
import { type KasaMessage, type KasaSysinfo, MAX_JSON, parseKasaJson, parseTdp, xorDecrypt } from './parser.js';

export { looksLikeKasaTcp, looksLikeKasaUdp, looksLikeTdp } from './parser.js';

const LIST_MAX = 20;
const MAX_EVENTS = 64;

/** What the device's own get_sysinfo (or 20002 discovery) answer said, its MAC left out. */
export interface KasaFacts extends Omit<KasaSysinfo, 'mac'> {
  /** Methods requested (`module.method`: system.get_sysinfo, system.set_relay_state...). */
  requests: string[];
  /** Side of the flow that answered (the Kasa device), null when no answer was seen. */
  responder: 'orig' | 'resp' | 'both' | null;
  /** `xor` for the 9999 protocol, `tdp` for the 20002 discovery. */
  transport: 'xor' | 'tdp';
  /** Messages that did not decrypt to a readable one. */
  malformed: number;
}

/** One scratch buffer for every flow: messages are decrypted and parsed at once. */
const scratch = Buffer.allocUnsafe(MAX_JSON);

class KasaState {
  readonly f: KasaFacts;
  private events = 0;

  constructor(
    private readonly ctx: FlowContext,
    transport: 'xor' | 'tdp',
  ) {
    this.f = { requests: [], model: null, alias: null, deviceType: null, hwVersion: null, swVersion: null, devName: null, responder: null, transport, malformed: 0 };
  }

  bad(dir: number, why: string): void {
    this.f.malformed++;
    this.ctx.emit('anomaly', { protocol: 'kasa', event: `malformed: ${why}` }, dir);
  }

  /** A decrypted (or, for 20002, clear) message. */
  message(dir: number, m: KasaMessage | string, length: number): void {
    if (typeof m === 'string') return this.bad(dir, m);
    const f = this.f;
    if (m.kind === 'request') {
      for (const r of m.methods) if (f.requests.length < LIST_MAX && !f.requests.includes(r)) f.requests.push(r);
    } else {
      const side = dir === 0 ? 'orig' : 'resp';
      f.responder = f.responder === null || f.responder === side ? side : 'both';
      const s = m.sysinfo;
      if (s) {
        f.model ??= s.model;
        f.alias ??= s.alias;
        f.deviceType ??= s.deviceType;
        f.hwVersion ??= s.hwVersion;
        f.swVersion ??= s.swVersion;
        f.devName ??= s.devName;
      }
    }
    if (++this.events <= MAX_EVENTS) this.ctx.emit('kasa', () => ({ kind: m.kind, transport: f.transport, methods: m.methods, length, errCode: m.errCode, ...(m.sysinfo ?? {}) }), dir);
  }
}

/** Decrypts and parses one ciphertext of `len` bytes. */
function decode(buf: Buffer, off: number, len: number): KasaMessage | string {
  if (len > MAX_JSON) return 'message too large';
  const n = xorDecrypt(buf, off, len, scratch);
  return parseKasaJson(scratch, 0, n);
}

export class KasaFlow implements DatagramParser {
  readonly app = 'kasa';
  readonly encrypted = false;
  private readonly s: KasaState;

  constructor(
    ctx: FlowContext,
    private readonly transport: 'xor' | 'tdp' = 'xor',
  ) {
    this.s = new KasaState(ctx, transport);
  }

  datagram(dir: number, buf: Buffer, off: number, len: number): void {
    if (this.transport === 'tdp') return this.s.message(dir, parseTdp(buf, off, len), len);
    // Tolerated: a datagram carrying the TCP length prefix.
    if (len > 4 && buf.readUInt32BE(off) === len - 4) {
      off += 4;
      len -= 4;
    }
    if (len === 0) return this.s.bad(dir, 'empty');
    this.s.message(dir, decode(buf, off, len), len);
  }

  facts(): Record<string, unknown> {
    return { kasa: this.s.f };
  }
}

/** TCP 9999: messages framed by a 4-byte big-endian length (python-kasa XorTransport). */
export class KasaSession implements StreamParser {
  readonly app = 'kasa';
  readonly encrypted = false;
  private readonly s: KasaState;
  private readonly pending = [new PendingBytes(MAX_JSON + 4), new PendingBytes(MAX_JSON + 4)];
  /** Bytes of an oversized message still to skip, per direction. */
  private readonly skip = [0, 0];
  private readonly done = [false, false];
  private messages = 0;

  constructor(private readonly ctx: FlowContext) {
    this.s = new KasaState(ctx, 'xor');
  }

  data(dir: number, data: Buffer, off: number, len: number): void {
    if (this.done[dir]) return;
    if (this.skip[dir] > 0) {
      const n = Math.min(this.skip[dir], len);
      this.skip[dir] -= n;
      off += n;
      len -= n;
      if (len === 0) return;
    }
    const v = this.pending[dir].join(data, off, len);
    let p = v.off;
    while (v.end - p >= 4) {
      const n = v.buf.readUInt32BE(p);
      if (n === 0) {
        this.s.bad(dir, 'empty message');
        p += 4;
        continue;
      }
      if (n > MAX_JSON) {
        // Too large to be worth reading (a long statistics answer): skipped, not buffered.
        this.s.bad(dir, 'message too large');
        const have = Math.min(n, v.end - p - 4);
        this.skip[dir] = n - have;
        p += 4 + have;
        if (n > 1 << 20) this.done[dir] = true; // not a length: the framing is lost
        continue;
      }
      if (v.end - p - 4 < n) break;
      this.s.message(dir, decode(v.buf, p + 4, n), n);
      p += 4 + n;
      if (++this.messages > 1000) {
        this.done[0] = this.done[1] = true;
        this.ctx.stop();
        return;
      }
    }
    if (p < v.end && !this.done[dir] && !this.pending[dir].keep(v.buf, p, v.end)) this.done[dir] = true;
  }

  gap(dir: number): void {
    // After a hole the message boundaries are lost.
    this.pending[dir].clear();
    this.done[dir] = true;
  }

  facts(): Record<string, unknown> {
    return { kasa: this.s.f };
  }
}

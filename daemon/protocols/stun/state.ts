/**
 * STUN (RFC 8489 §5-6; RFC 5389 before it): the NAT-traversal messages cameras and P2P apps use to
 * reach their cloud. Recognised by the magic cookie; reports the method, class and SOFTWARE.
 */
import type { DatagramParser, FlowContext } from '../parser-types.js';

const COOKIE = 0x2112a442;

export function looksLikeStun(b: Buffer, off: number, len: number): boolean {
  return len >= 20 && (b[off] & 0xc0) === 0 && b.readUInt32BE(off + 4) === COOKIE && b.readUInt16BE(off + 2) === len - 20 && (len - 20) % 4 === 0;
}

const CLASSES = ['request', 'indication', 'success', 'error'];

export class StunFlow implements DatagramParser {
  readonly app = 'stun';
  readonly encrypted = false;
  readonly f = { messages: 0, software: [] as string[], methods: [] as number[] };

  constructor(private readonly ctx: FlowContext) {}

  datagram(dir: number, b: Buffer, off: number, len: number): void {
    if (!looksLikeStun(b, off, len)) return;
    this.f.messages++;
    const t = b.readUInt16BE(off);
    const method = (t & 0x000f) | ((t & 0x00e0) >> 1) | ((t & 0x3e00) >> 2);
    const cls = ((t & 0x0100) >> 7) | ((t & 0x0010) >> 4);
    if (!this.f.methods.includes(method)) this.f.methods.push(method);
    let software: string | null = null;
    for (let p = off + 20; p + 4 <= off + len; ) {
      const type = b.readUInt16BE(p);
      const n = b.readUInt16BE(p + 2);
      if (p + 4 + n > off + len) break;
      if (type === 0x8022) software = b.toString('utf8', p + 4, p + 4 + n);
      p += 4 + ((n + 3) & ~3);
    }
    if (software && !this.f.software.includes(software)) this.f.software.push(software);
    if (this.f.messages <= 8) this.ctx.emit('stun', { method, class: CLASSES[cls], software }, dir);
  }

  facts(): Record<string, unknown> {
    return { stun: this.f };
  }
}

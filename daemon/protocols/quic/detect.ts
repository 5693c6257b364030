/**
 * QUIC long-header packets (RFC 9000 §17.2; version 1 and 2, RFC 9369): recognised so that the
 * flow is known to be encrypted. The Initial's ClientHello is not decrypted here.
 */
import type { DatagramParser, FlowContext } from '../parser-types.js';

const VERSIONS = new Set([0x00000001, 0x6b3343cf]);

export function looksLikeQuic(b: Buffer, off: number, len: number): boolean {
  if (len < 7 || (b[off] & 0xc0) !== 0xc0) return false;
  const v = b.readUInt32BE(off + 1);
  return VERSIONS.has(v) || (v & 0xff000000) === 0xff000000; // drafts: 0xff0000xx
}

export class QuicFlow implements DatagramParser {
  readonly app = 'quic';
  readonly encrypted = true;
  private packets = 0;
  constructor(private readonly ctx: FlowContext) {}
  datagram(dir: number, b: Buffer, off: number, len: number): void {
    if (++this.packets === 1 && looksLikeQuic(b, off, len)) this.ctx.emit('quic', { version: `0x${b.readUInt32BE(off + 1).toString(16).padStart(8, '0')}` }, dir);
    if (this.packets > 2) this.ctx.stop();
  }
  facts(): Record<string, unknown> | null {
    return null;
  }
}

/**
 * WebSocket framing (RFC 6455 §5.2): FIN/opcode, mask bit and key, 7/16/64-bit payload length.
 * Used to unwrap MQTT carried over WebSocket (MQTT 3.1.1 §6, MQTT 5.0 §6: binary frames).
 */
import { PendingBytes } from '../parser-types.js';

export interface WsSink {
  /** Unmasked payload bytes of a binary or continuation frame. */
  payload(dir: number, buf: Buffer, off: number, len: number): void;
  /** Every frame: its opcode, payload length, mask bit, FIN bit and RSV1 (permessage-deflate, RFC 7692). */
  frame(dir: number, opcode: number, length: number, masked: boolean, fin: boolean, rsv1: boolean): void;
  /** Whether payloads are wanted (unmasking a client frame costs a copy); always when absent. */
  wants?(dir: number): boolean;
  /** A close frame's status code (§5.5.1, §7.4), or 1005 (none given, §7.1.5). */
  close?(dir: number, code: number): void;
}

const MAX_FRAME = 1 << 20;

export class WebSocketFramer {
  private readonly pending = [new PendingBytes(MAX_FRAME + 14), new PendingBytes(MAX_FRAME + 14)];
  private readonly broken = [false, false];

  constructor(private readonly sink: WsSink) {}

  data(dir: number, data: Buffer, off: number, len: number): void {
    if (this.broken[dir]) return;
    const v = this.pending[dir].join(data, off, len);
    const b = v.buf;
    let p = v.off;
    while (v.end - p >= 2) {
      const opcode = b[p] & 0x0f;
      const masked = (b[p + 1] & 0x80) !== 0;
      let n = b[p + 1] & 0x7f;
      let h = 2;
      if (n === 126) {
        if (v.end - p < 4) break;
        n = b.readUInt16BE(p + 2);
        h = 4;
      } else if (n === 127) {
        if (v.end - p < 10) break;
        const big = b.readBigUInt64BE(p + 2);
        if (big > BigInt(MAX_FRAME)) {
          this.broken[dir] = true;
          return;
        }
        n = Number(big);
        h = 10;
      }
      if (n > MAX_FRAME) {
        this.broken[dir] = true;
        return;
      }
      const keyAt = p + h;
      if (masked) h += 4;
      if (v.end - p < h + n) break;
      this.sink.frame(dir, opcode, n, masked, (b[p] & 0x80) !== 0, (b[p] & 0x40) !== 0);
      if (opcode === 8 && this.sink.close) {
        const at = p + h;
        this.sink.close(dir, n >= 2 ? ((b[at] ^ (masked ? b[keyAt] : 0)) << 8) | (b[at + 1] ^ (masked ? b[keyAt + 1] : 0)) : 1005);
      }
      if ((opcode === 0 || opcode === 2 || opcode === 1) && (!this.sink.wants || this.sink.wants(dir))) {
        const start = p + h;
        if (masked) {
          const out = Buffer.allocUnsafe(n);
          for (let i = 0; i < n; i++) out[i] = b[start + i] ^ b[keyAt + (i & 3)];
          this.sink.payload(dir, out, 0, n);
        } else this.sink.payload(dir, b, start, n);
      }
      p += h + n;
    }
    if (p < v.end && !this.pending[dir].keep(b, p, v.end)) this.broken[dir] = true;
  }

  /** Bytes were lost in this direction: its frame boundaries with them. */
  gap(dir: number): void {
    this.pending[dir].clear();
    this.broken[dir] = true;
  }
}

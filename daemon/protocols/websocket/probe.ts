/**
 * WebSocket recognised from its frames alone (RFC 6455 §5.2), for a connection whose HTTP
 * Upgrade was not seen. Pure byte checks; the session that confirms the guess is in state.ts.
 *
 * What one frame header must be (§5.2, §5.4, §5.5):
 * - opcode 0 (continuation), 1 (text), 2 (binary), 8 (close), 9 (ping) or 10 (pong);
 * - RSV2 and RSV3 clear; RSV1 only on a whole (FIN) text or binary frame, where
 *   permessage-deflate (RFC 7692 §6) puts it, since no extension negotiation was seen;
 * - a control frame has FIN and at most 125 bytes; a close body is empty or a status code
 *   (§7.4) and UTF-8 text;
 * - the length in its shortest form (16 bits only from 126, 64 bits only from 65,536, top bit 0);
 * - one direction masks every frame (the client's, §5.3), the other none;
 * - fragments follow §5.4: a continuation only inside a message, a new message only after one ended;
 * - a text frame's payload is UTF-8 (§5.6, §8.1), checked as it passes (unmasked on the fly).
 * One header alone is a couple of bytes that fit; a stream is WebSocket when the lengths chain
 * (see FrameWalker.points).
 */

export const BROKEN = -1;

/** A close status code that may be sent (RFC 6455 §7.4.1-7.4.2, IANA registry: 1012-1014). */
function closeCodeOk(c: number): boolean {
  return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

/** Largest frame accepted from a stream recognised without its upgrade. */
const MAX_FRAME = 1 << 30;

/**
 * The frame chain of one direction across calls. Headers are gathered in 14 fixed bytes, payload
 * skipped by arithmetic unless it must be read (text and close bodies, while the session is a
 * candidate). Nothing is allocated per call.
 */
export class FrameWalker {
  /** Payload bytes of the current frame still to come. */
  left = 0;
  private readonly h = new Uint8Array(14);
  private have = 0;
  private need = 2;
  headers = 0;
  /** This direction's mask bit once a frame showed it (1: the client's side), else -1. */
  mask: number;
  /** Inside a fragmented message (a non-FIN data frame seen): 1; between messages: 0; unknown at the start: -1. */
  private inMessage = -1;
  /** The current frame: opcode, payload offset (for the mask), whether its bytes are read. */
  private op = 0;
  private pos = 0;
  private read = false;
  private textMessage = false;
  /** UTF-8 decoder state (continuation bytes expected, and bounds of the next one: RFC 3629 §4). */
  private cont = 0;
  private lo = 0x80;
  private hi = 0xbf;
  private code = 0;
  broken = false;
  /** The frame ended exactly where a call's bytes ended (lengths that agree with the segments). */
  exactEnds = 0;
  compressed = false;

  /** `mask`: the mask bit this direction must carry (the opposite of the other's), or -1. */
  constructor(mask = -1) {
    this.mask = mask;
  }

  /** Walks buf[off, end); returns the headers validated so far, or BROKEN. */
  walk(buf: Buffer, off: number, end: number): number {
    if (this.broken) return BROKEN;
    let p = off;
    while (p < end) {
      if (this.left > 0) {
        const n = Math.min(this.left, end - p);
        if (this.read && !this.payload(buf, p, p + n)) return this.fail();
        this.left -= n;
        p += n;
        if (this.left === 0 && !this.frameEnd()) return this.fail();
        continue;
      }
      this.h[this.have++] = buf[p++];
      if (this.have === 2) {
        const len7 = this.h[1] & 0x7f;
        this.need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (this.h[1] & 0x80 ? 4 : 0);
        if (!this.first()) return this.fail();
      }
      if (this.have >= 2 && this.have === this.need) {
        this.have = 0;
        if (!this.header()) return this.fail();
        // An empty frame ends where its header does.
        if (this.left === 0 && !this.frameEnd()) return this.fail();
      }
    }
    if (end > off && this.left === 0 && this.have === 0) this.exactEnds++;
    return this.headers;
  }

  /** The first two bytes: flags, opcode, mask bit. */
  private first(): boolean {
    const b0 = this.h[0];
    const fin = b0 >> 7;
    const rsv = (b0 >> 4) & 7;
    const op = b0 & 15;
    const m = this.h[1] >> 7;
    if (this.mask >= 0 && m !== this.mask) return false;
    if (op >= 8) return op <= 10 && fin === 1 && rsv === 0 && (this.h[1] & 0x7f) <= 125;
    if (op > 2) return false;
    if (rsv !== 0 && !(rsv === 4 && fin === 1 && op !== 0)) return false;
    // §5.4: a continuation only inside a message, a new message only outside one.
    if (op === 0 && this.inMessage === 0) return false;
    if (op !== 0 && this.inMessage === 1) return false;
    return true;
  }

  private header(): boolean {
    const h = this.h;
    const len7 = h[1] & 0x7f;
    let n = len7;
    if (len7 === 126) {
      n = (h[2] << 8) | h[3];
      if (n < 126) return false;
    } else if (len7 === 127) {
      const hi = ((h[2] << 24) | (h[3] << 16) | (h[4] << 8) | h[5]) >>> 0;
      const lo = ((h[6] << 24) | (h[7] << 16) | (h[8] << 8) | h[9]) >>> 0;
      if (hi !== 0 || lo < 65536 || lo > MAX_FRAME) return false;
      n = lo;
    }
    const fin = h[0] >> 7;
    const op = h[0] & 15;
    this.mask = h[1] >> 7;
    this.op = op;
    this.pos = 0;
    this.code = 0;
    if (h[0] & 0x40) this.compressed = true;
    if (op === 8 && n === 1) return false;
    if (op < 8) {
      if (op !== 0) this.textMessage = op === 1 && (h[0] & 0x40) === 0;
      else if (this.inMessage === -1) this.textMessage = false; // a message begun before the capture: its text state is unknown
      this.inMessage = fin ? 0 : 1;
    }
    // Text (uncompressed) and close bodies are read; a new text message starts a clean decoder.
    this.read = (op < 8 && this.textMessage) || op === 8;
    if (op === 1 || op === 8) this.cont = 0;
    this.left = n;
    this.headers++;
    return true;
  }

  /** Payload bytes buf[p, end) of the current frame, unmasked on the fly. */
  private payload(buf: Buffer, p: number, end: number): boolean {
    const masked = this.h[1] & 0x80;
    const k = this.need - 4;
    for (; p < end; p++, this.pos++) {
      const c = masked ? buf[p] ^ this.h[k + (this.pos & 3)] : buf[p];
      if (this.op === 8 && this.pos < 2) {
        this.code = (this.code << 8) | c;
        continue;
      }
      if (!this.utf8(c)) return false;
    }
    return true;
  }

  /** One byte through a UTF-8 validator (RFC 3629 §4: shortest forms, no surrogates, ≤ U+10FFFF). */
  private utf8(c: number): boolean {
    if (this.cont > 0) {
      if (c < this.lo || c > this.hi) return false;
      this.cont--;
      this.lo = 0x80;
      this.hi = 0xbf;
      return true;
    }
    if (c < 0x80) return true;
    if (c < 0xc2 || c > 0xf4) return false;
    if (c < 0xe0) this.cont = 1;
    else if (c < 0xf0) {
      this.cont = 2;
      if (c === 0xe0) this.lo = 0xa0;
      else if (c === 0xed) this.hi = 0x9f;
    } else {
      this.cont = 3;
      if (c === 0xf0) this.lo = 0x90;
      else if (c === 0xf4) this.hi = 0x8f;
    }
    return true;
  }

  /** The current frame's payload ended: a close code must be valid, a text message whole. */
  private frameEnd(): boolean {
    if (this.op === 8) return this.pos === 0 || (this.pos >= 2 && closeCodeOk(this.code) && this.cont === 0);
    if (this.op < 8 && this.inMessage === 0 && this.read && this.cont !== 0) return false;
    return true;
  }

  private fail(): number {
    this.broken = true;
    return BROKEN;
  }
}

/**
 * The first bytes of a direction: whether they start a frame chain (every header they hold
 * valid). A quick look in place, before any session exists; FrameWalker does the full check.
 */
export function startsFrames(buf: Buffer, off: number, len: number): boolean {
  const end = off + len;
  let p = off;
  let mask = -1;
  let frames = 0;
  while (end - p >= 2) {
    const b0 = buf[p];
    const b1 = buf[p + 1];
    const op = b0 & 15;
    const fin = b0 >> 7;
    const rsv = (b0 >> 4) & 7;
    const m = b1 >> 7;
    if (mask >= 0 && m !== mask) return false;
    mask = m;
    const len7 = b1 & 0x7f;
    if (op >= 8 ? op > 10 || !fin || rsv !== 0 || len7 > 125 : op > 2 || (rsv !== 0 && !(rsv === 4 && fin && op !== 0))) return false;
    let n = len7;
    let h = 2;
    if (len7 === 126) {
      if (end - p < 4) break;
      n = buf.readUInt16BE(p + 2);
      if (n < 126) return false;
      h = 4;
    } else if (len7 === 127) {
      if (end - p < 10) break;
      if (buf.readUInt32BE(p + 2) !== 0) return false;
      n = buf.readUInt32BE(p + 6);
      if (n < 65536 || n > MAX_FRAME) return false;
      h = 10;
    }
    if (m) h += 4;
    frames++;
    p += h + n;
  }
  return frames > 0;
}

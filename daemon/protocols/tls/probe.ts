/**
 * TLS recognised from its record layer alone, for a connection seen after its handshake (the
 * monitor started late, or the hellos were lost). Pure byte checks; the session that confirms
 * the guess across segments is in state.ts.
 *
 * A record header (RFC 8446 §5.1, RFC 5246 §6.2.1) is content type (1) | legacy version (2) |
 * length (2). One header says little: five bytes that happen to fit. What makes a stream TLS is
 * that the lengths chain: each header's length lands exactly on the next valid header. The rule
 * (TlsMidstream in state.ts applies it) is two valid headers linked by a length in one
 * direction, or a header at the start of each direction with a record that ended exactly at its
 * segment's end (the length agreeing with the segmentation); every header has the same version. For
 * random bytes one header passes with a probability of about 3e-7 (type 20-24: 5/256, major 3:
 * 1/256, minor 1-4: 4/256, a plausible length: ~1/4), two in a chain about 1e-13; text protocols
 * never start with bytes 0x14-0x18 then 0x03. A segment that holds a single record is therefore
 * not enough: the next header must be where its length says.
 */
import { versionName } from './parser.js';

/** Largest TLSCiphertext: 2^14 + 256 in TLS 1.3 (RFC 8446 §5.2), 2^14 + 2048 before (RFC 5246 §6.2.3). */
const MAX_13 = 16384 + 256;
const MAX_12 = 16384 + 2048;

/**
 * Whether a record header (its type, version bytes and length) is plausible after the handshake.
 * Returns the record length, or -1. The smallest lengths are what the content needs: a ChangeCipherSpec is one byte, a
 * cleartext alert two, a handshake message has its 4-byte header, and anything encrypted carries
 * at least a 16-byte MAC or AEAD tag (RFC 5246 §6.2.3, RFC 8446 §5.2; heartbeats have 16 bytes
 * of padding, RFC 6520 §4).
 */
export function recordLength(type: number, major: number, minor: number, len: number): number {
  if (major !== 3 || minor < 1 || minor > 4) return -1;
  if (len > (minor === 4 ? MAX_13 : MAX_12)) return -1;
  switch (type) {
    case 20:
      return len === 1 ? len : -1;
    case 21:
      return len === 2 || len >= 16 ? len : -1;
    case 22:
      return len >= 4 ? len : -1;
    case 23:
    case 24:
      return len >= 16 ? len : -1;
    default:
      return -1;
  }
}

/** Verdict of a walk: the bytes broke the chain, or how many headers chained so far. */
export const BROKEN = -1;

/**
 * Follows the record chain of one direction across calls, without copying: the bytes left of
 * the current record are skipped by arithmetic, a header split across segments is gathered in
 * five fixed bytes.
 */
export class RecordWalker {
  /** Bytes of the current record's body still to come. */
  left = 0;
  /** Header bytes gathered so far (0-4) when a header spans segments. */
  private have = 0;
  private readonly head = [0, 0, 0, 0, 0];
  /** Headers validated so far. */
  headers = 0;
  /** The record version all headers must share, (major << 8) | minor, or 0 before the first. */
  version = 0;
  broken = false;

  constructor(version = 0) {
    this.version = version;
  }

  /** Walks buf[off, end); returns the headers validated so far, or BROKEN. */
  walk(buf: Buffer, off: number, end: number): number {
    if (this.broken) return BROKEN;
    let p = off;
    while (p < end) {
      if (this.left > 0) {
        const n = Math.min(this.left, end - p);
        this.left -= n;
        p += n;
        continue;
      }
      // A whole header in place (the usual case), or gather it byte by byte.
      if (this.have === 0 && end - p >= 5) {
        if (!this.header(buf[p], buf[p + 1], buf[p + 2], buf.readUInt16BE(p + 3))) return BROKEN;
        p += 5;
        continue;
      }
      this.head[this.have++] = buf[p++];
      // Check each byte as it comes: a bad type or version need not wait for the rest.
      if (!this.prefixOk()) return this.fail();
      if (this.have === 5) {
        this.have = 0;
        if (!this.header(this.head[0], this.head[1], this.head[2], (this.head[3] << 8) | this.head[4])) return BROKEN;
      }
    }
    return this.headers;
  }

  /** At a record boundary (nothing of the next header seen yet). */
  get atBoundary(): boolean {
    return this.left === 0 && this.have === 0;
  }

  private prefixOk(): boolean {
    const h = this.head;
    if (h[0] < 20 || h[0] > 24) return false;
    if (this.have >= 2 && h[1] !== 3) return false;
    if (this.have >= 3 && (h[2] < 1 || h[2] > 4 || (this.version !== 0 && h[2] !== (this.version & 0xff)))) return false;
    return true;
  }

  private header(type: number, major: number, minor: number, len: number): boolean {
    const n = recordLength(type, major, minor, len);
    const v = (major << 8) | minor;
    if (n < 0 || (this.version !== 0 && v !== this.version)) {
      this.fail();
      return false;
    }
    this.version = v;
    this.headers++;
    this.left = n;
    return true;
  }

  private fail(): number {
    this.broken = true;
    return BROKEN;
  }
}

/** What the first bytes of a direction say: not TLS records, maybe (one header), or TLS (a chain). */
export const RUN_NO = 0;
export const RUN_MAYBE = 1;
export const RUN_YES = 2;

/**
 * The first segment of a direction: two chained headers make it TLS; one valid header (its
 * record ending at or after the segment's end, or followed by the valid start of the next
 * header) makes it a candidate that the next segment must confirm. Anything else is not TLS.
 * Reads the bytes in place; nothing is allocated.
 */
export function recordRun(buf: Buffer, off: number, len: number): number {
  const end = off + len;
  let p = off;
  let version = 0;
  let headers = 0;
  while (end - p >= 5) {
    const v = (buf[p + 1] << 8) | buf[p + 2];
    const n = recordLength(buf[p], buf[p + 1], buf[p + 2], buf.readUInt16BE(p + 3));
    if (n < 0 || (version !== 0 && v !== version)) return RUN_NO;
    version = v;
    if (++headers >= 2) return RUN_YES;
    p += 5 + n;
  }
  if (headers === 0) return RUN_NO;
  // 1-4 bytes of the next header at the end: what is there must fit.
  if (p < end && (buf[p] < 20 || buf[p] > 24)) return RUN_NO;
  if (p + 1 < end && buf[p + 1] !== 3) return RUN_NO;
  if (p + 2 < end && buf[p + 2] !== (version & 0xff)) return RUN_NO;
  return RUN_MAYBE;
}

/** A record-layer version as TLS names it (the four a record header may carry, RFC 8446 §5.1). */
export function recordVersionName(v: number): string | null {
  return v >= 0x0301 && v <= 0x0304 ? versionName(v) : null;
}

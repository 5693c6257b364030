/**
 * The client's crypto stream of the Initial packet number space, rebuilt from CRYPTO frames by
 * offset (RFC 9000 §19.6, §7.5): frames may arrive out of order, overlap, repeat, span several
 * packets of one datagram (coalesced, §12.2) or several datagrams (Chrome splits its
 * post-quantum ClientHello over two, and since 2023 scatters it in small out-of-order CRYPTO
 * frames among PING and PADDING). Bounded: bytes past `limit` and more than MAX_RANGES separate
 * pieces are refused (the stream is then abandoned), so a peer cannot make it grow.
 */

/** Separate received ranges kept at once; Chrome's scattering uses a dozen or so. */
const MAX_RANGES = 64;

export class CryptoStream {
  private buf: Buffer | null = null;
  /** Received ranges [start, end), sorted and disjoint, as pairs. */
  private readonly ranges: number[] = [];
  /** A piece fell past the limit, or too many ranges: what is missing will never come. */
  overflow = false;

  constructor(readonly limit: number) {}

  /** Bytes received from offset 0 without a hole. */
  get contiguous(): number {
    return this.ranges.length > 0 && this.ranges[0] === 0 ? this.ranges[1] : 0;
  }

  /** The stream's bytes; valid in [0, contiguous). */
  get bytes(): Buffer {
    return this.buf ?? EMPTY;
  }

  /** Stores src[start, end) at stream offset `offset`. */
  add(offset: number, src: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n <= 0 || this.overflow) return;
    if (offset + n > this.limit) {
      this.overflow = true;
      return;
    }
    const stop = offset + n;
    if (!this.buf || this.buf.length < stop) {
      const bigger = Buffer.allocUnsafe(Math.min(this.limit, Math.max(stop, 2 * (this.buf?.length ?? 0), 2048)));
      if (this.buf) this.buf.copy(bigger, 0, 0, this.buf.length);
      this.buf = bigger;
    }
    // Overlapping bytes are copied again: retransmissions carry the same data (§19.6), and the
    // hello is read only once it is whole, so which copy wins does not matter.
    src.copy(this.buf, offset, start, end);
    this.insert(offset, stop);
  }

  private insert(s: number, e: number): void {
    const r = this.ranges;
    // First range that ends at or after s: everything before stays.
    let i = 0;
    while (i < r.length && r[i + 1] < s) i += 2;
    let j = i;
    // Merge every range that touches [s, e).
    while (j < r.length && r[j] <= e) {
      s = Math.min(s, r[j]);
      e = Math.max(e, r[j + 1]);
      j += 2;
    }
    r.splice(i, j - i, s, e);
    if (r.length > 2 * MAX_RANGES) this.overflow = true;
  }

  reset(): void {
    this.ranges.length = 0;
    this.overflow = false;
  }
}

const EMPTY = Buffer.alloc(0);

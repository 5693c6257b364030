/**
 * QUIC packet headers and Initial frames, parsed in place (no copies, no per-packet objects: the
 * caller passes one reusable LongHeader). Covers:
 * - the version-independent invariants (RFC 8999 §5): long header form, version, CID lengths;
 * - version 1 long headers (RFC 9000 §17.2) and their coalescing in one datagram (§12.2);
 * - version 2 (RFC 9369 §3.2: the long packet types are renumbered), the IETF drafts, Facebook
 *   mvfst, and Google QUIC: Q044-Q046 long headers with 4-bit CID lengths, Q050/T050/T051 with the
 *   IETF layout, and the public header of Q043 and older (Chromium's "QUIC wire layout");
 * - the frames an Initial may carry (RFC 9000 §19, §12.4 table 3), Google QUIC's frames in a
 *   client hello packet, and Google's CHLO handshake message (tag/value map).
 */

// ---------------------------------------------------------------------------------------------
// Versions (RFC 9000 §15; IANA "QUIC Versions" registry; Wireshark's quic_version_vals)

export const V1 = 0x00000001;
export const V2 = 0x6b3343cf;
/** The provisional number of RFC 9369's drafts (ngtcp2 0.12's "v2draft", Wireshark 4.0's v2): v2 rules, a salt of its own. */
export const V2_DRAFT = 0x709a50c4;
export const V2_DRAFT_00 = 0xff020000;

/** What a version number says about the packet layout and the Initial protection. */
export const K_UNKNOWN = 0;
/** Version Negotiation (version 0, RFC 9000 §17.2.1). */
export const K_NEGOTIATION = 1;
/** IETF-style long header: v1, v2, drafts 22+, mvfst, reserved (greasing) versions, Q050/T05x. */
export const K_IETF = 2;
/** Google QUIC Q044-Q046: long header with one byte of two 4-bit CID lengths, no Length field. */
export const K_GQUIC_NIBBLE = 3;
/** Google QUIC Q043 and older: the public header (flags, 64-bit CID, version), no long header. */
export const K_GQUIC_PUBLIC = 4;

export function versionKind(v: number): number {
  if (v === 0) return K_NEGOTIATION;
  if (v === V1 || v === V2 || v === V2_DRAFT || v === V2_DRAFT_00) return K_IETF;
  const top = v >>> 24;
  // draft-ietf-quic-transport-NN: from draft-22 on, the invariant layout (separate CID length
  // bytes); the drafts before packed both lengths in one byte, and are long gone.
  if (top === 0xff) return (v >>> 8) === 0xff0000 && (v & 0xff) >= 22 ? K_IETF : K_UNKNOWN;
  if (v >>> 4 === 0xfaceb00) return K_IETF; // mvfst
  if ((v & 0x0f0f0f0f) === 0x0a0a0a0a) return K_IETF; // reserved for greasing: 0x?a?a?a?a (RFC 9000 §15)
  const g = gquicNumber(v);
  if (g < 0) return K_UNKNOWN;
  const q = top === 0x51; // 'Q' (else 'T', TLS-based)
  if (!q) return g >= 48 ? K_IETF : K_UNKNOWN;
  if (g <= 43) return K_GQUIC_PUBLIC;
  if (g <= 46) return K_GQUIC_NIBBLE;
  return K_IETF; // Q047-Q050: the IETF invariant layout
}

/** The number of a Google QUIC version ('Q046' → 46, 'T051' → 51), else -1. */
export function gquicNumber(v: number): number {
  const a = v >>> 24;
  if (a !== 0x51 && a !== 0x54) return -1;
  const b = (v >>> 16) & 0xff;
  const c = (v >>> 8) & 0xff;
  const d = v & 0xff;
  if (b !== 0x30 || c < 0x30 || c > 0x39 || d < 0x30 || d > 0x39) return -1;
  const n = (c - 0x30) * 10 + (d - 0x30);
  return n === 0 ? -1 : n;
}

/** RFC 9369 rules (renumbered packet types, "quicv2" labels). */
export function isV2(v: number): boolean {
  return v === V2 || v === V2_DRAFT;
}

/** How a version is written in facts: the ASCII tag for Google QUIC, hex for the rest. */
export function versionString(v: number): string {
  if (gquicNumber(v) > 0) return String.fromCharCode(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  return `0x${v.toString(16).padStart(8, '0')}`;
}

/** A short name: v1, v2, v2-draft, draft-29, mvfst-draft-27, grease, negotiation, Q046, T051. */
export function versionName(v: number): string {
  if (v === 0) return 'negotiation';
  if (v === V1) return 'v1';
  if (v === V2) return 'v2';
  if (v === V2_DRAFT) return 'v2-draft';
  if (v === V2_DRAFT_00) return 'v2-draft-00';
  if ((v >>> 8) === 0xff0000) return `draft-${v & 0xff}`;
  if (v === 0xfaceb001) return 'mvfst-draft-22';
  if (v === 0xfaceb002) return 'mvfst-draft-27';
  if (v >>> 4 === 0xfaceb00) return 'mvfst';
  if ((v & 0x0f0f0f0f) === 0x0a0a0a0a) return 'grease';
  if (gquicNumber(v) > 0) return versionString(v);
  return 'unknown';
}

// ---------------------------------------------------------------------------------------------
// Variable-length integers (RFC 9000 §16)

/** Length in bytes of the varint starting with byte `b`. */
export function varintSize(b: number): number {
  return 1 << (b >> 6);
}

/**
 * The varint at buf[p], or -1 when it does not fit before `end`. Values above 2^53 lose
 * precision; every use compares them with byte counts, for which that is harmless.
 */
export function readVarint(buf: Buffer, p: number, end: number): number {
  if (p >= end) return -1;
  const n = varintSize(buf[p]);
  if (p + n > end) return -1;
  switch (n) {
    case 1:
      return buf[p] & 0x3f;
    case 2:
      return ((buf[p] & 0x3f) << 8) | buf[p + 1];
    case 4:
      return (buf.readUInt32BE(p) & 0x3fffffff) >>> 0;
    default:
      return (buf.readUInt32BE(p) & 0x3fffffff) * 0x100000000 + buf.readUInt32BE(p + 4);
  }
}

// ---------------------------------------------------------------------------------------------
// Long headers

/** Long packet types, numbered as in version 1 (RFC 9000 §17.2, table 5). */
export const T_INITIAL = 0;
export const T_0RTT = 1;
export const T_HANDSHAKE = 2;
export const T_RETRY = 3;
/** Version Negotiation: no type bits of its own. */
export const T_VN = 4;

/** The largest CID of versions 1 and 2 (RFC 9000 §17.2): longer ones are for future versions. */
export const MAX_CID = 20;

export interface LongHeader {
  version: number;
  kind: number;
  /** T_INITIAL..T_RETRY in version 1 numbering, or T_VN. */
  type: number;
  dcidOff: number;
  dcidLen: number;
  scidOff: number;
  scidLen: number;
  /** Initial only: the token (RFC 9000 §17.2.2); Retry: its token, before the 16-byte tag. */
  tokenOff: number;
  tokenLen: number;
  /** Start of the (protected) packet number. */
  pnOff: number;
  /** End of this packet: where a coalesced packet would start (RFC 9000 §12.2). */
  end: number;
}

export function newLongHeader(): LongHeader {
  return { version: 0, kind: K_UNKNOWN, type: 0, dcidOff: 0, dcidLen: 0, scidOff: 0, scidLen: 0, tokenOff: 0, tokenLen: 0, pnOff: 0, end: 0 };
}

/**
 * Parses the long header at buf[off] of a datagram ending at `end` into `h`. False when the
 * bytes do not form a well-sized packet of a version we know: CID lengths within limits, token
 * and Length fields inside the datagram, room for the header-protection sample (RFC 9001
 * §5.4.2: 4 bytes of packet number and 16 of sample, so Length is at least 20).
 */
export function parseLongHeader(buf: Buffer, off: number, end: number, h: LongHeader): boolean {
  if (end - off < 7 || (buf[off] & 0x80) === 0) return false;
  const first = buf[off];
  const v = buf.readUInt32BE(off + 1);
  const kind = versionKind(v);
  h.version = v;
  h.kind = kind;
  h.tokenOff = h.tokenLen = 0;
  if (kind === K_UNKNOWN || kind === K_GQUIC_PUBLIC) return false;
  if (kind === K_GQUIC_NIBBLE) return parseNibbleHeader(buf, off, end, first, h);
  // Invariant layout (RFC 8999 §5.1): DCID length and DCID, SCID length and SCID.
  let p = off + 5;
  h.dcidLen = buf[p++];
  h.dcidOff = p;
  p += h.dcidLen;
  if (p >= end) return false;
  h.scidLen = buf[p++];
  h.scidOff = p;
  p += h.scidLen;
  if (p > end) return false;
  if (kind === K_NEGOTIATION) {
    // RFC 9000 §17.2.1: the rest is a list of 32-bit versions, at least one.
    h.type = T_VN;
    h.pnOff = p;
    h.end = end;
    return h.dcidLen <= 255 && end - p >= 4 && (end - p) % 4 === 0;
  }
  if (h.dcidLen > MAX_CID || h.scidLen > MAX_CID) return false;
  const bits = (first >> 4) & 3;
  // RFC 9369 §3.2: Initial 0b01, 0-RTT 0b10, Handshake 0b11, Retry 0b00.
  h.type = isV2(v) ? (bits + 3) & 3 : bits;
  if (h.type === T_RETRY) {
    // RFC 9000 §17.2.5: a token (never empty, §17.2.5.2) then the 16-byte integrity tag.
    h.tokenOff = p;
    h.tokenLen = end - p - 16;
    h.pnOff = end;
    h.end = end;
    return h.tokenLen >= 1;
  }
  if (h.type === T_INITIAL) {
    const tl = readVarint(buf, p, end);
    if (tl < 0) return false;
    p += varintSize(buf[p]);
    if (tl > end - p) return false;
    h.tokenOff = p;
    h.tokenLen = tl;
    p += tl;
  }
  const length = readVarint(buf, p, end);
  if (length < 20) return false;
  p += varintSize(buf[p]);
  if (length > end - p) return false;
  h.pnOff = p;
  h.end = p + length;
  return true;
}

/**
 * Google QUIC Q044-Q046 (Chromium quic_framer "IETF invariant header" of those versions): one
 * byte holds both CID lengths as 4-bit values plus 3 (0 meaning absent), then a packet number
 * of 1-4 bytes and no Length: the packet fills the datagram. Q044/Q045 number the types in the
 * low 7 bits (0x7f Initial); Q046 uses the IETF type bits.
 */
function parseNibbleHeader(buf: Buffer, off: number, end: number, first: number, h: LongHeader): boolean {
  const lens = buf[off + 5];
  const d = lens >> 4;
  const s = lens & 15;
  h.dcidLen = d ? d + 3 : 0;
  h.scidLen = s ? s + 3 : 0;
  h.dcidOff = off + 6;
  h.scidOff = h.dcidOff + h.dcidLen;
  const q046 = h.version === 0x51303436;
  if (q046) h.type = (first >> 4) & 3;
  else h.type = first === 0xff ? T_INITIAL : first === 0xfe ? T_RETRY : first === 0xfd ? T_HANDSHAKE : first === 0xfc ? T_0RTT : -1;
  if (h.type < 0 || (first & 0x40) === 0) return false;
  h.pnOff = h.scidOff + h.scidLen;
  h.end = end;
  return h.pnOff + (q046 ? (first & 3) + 1 : 4) <= end;
}

/** Bytes of packet number of a Google QUIC long-header packet (not protected in these versions). */
export function nibblePnLength(buf: Buffer, off: number, version: number): number {
  return version === 0x51303436 ? (buf[off] & 3) + 1 : 4;
}

// ---------------------------------------------------------------------------------------------
// Google QUIC public header (Q043 and older)

export interface PublicHeader {
  version: number;
  /** Offset of the first byte after the packet number. */
  payloadOff: number;
  pnLen: number;
}

/** Public flags (Chromium "QUIC Wire Layout" §Public Header). */
const PF_VERSION = 0x01;
const PF_RESET = 0x02;
const PF_NONCE = 0x04;
const PF_CID8 = 0x08;

/**
 * A client packet with the public header of Google QUIC Q043 or older: the version flag and an
 * 8-byte connection ID, no reset flag, the two reserved high bits clear, 'Q0nn' as the version.
 * From Q033 on, flag 0x04 announces a diversification nonce, which only servers send; before,
 * 0x0c together meant the 8-byte CID. Fills `out`; false when it is not such a packet.
 */
export function parsePublicHeader(buf: Buffer, off: number, end: number, out: PublicHeader): boolean {
  if (end - off < 14) return false;
  const f = buf[off];
  if ((f & 0xc0) !== 0 || (f & PF_RESET) !== 0 || (f & (PF_VERSION | PF_CID8)) !== (PF_VERSION | PF_CID8)) return false;
  const v = buf.readUInt32BE(off + 9);
  const n = gquicNumber(v);
  if (n < 0 || v >>> 24 !== 0x51 || n > 43) return false;
  if (n >= 33 && (f & PF_NONCE) !== 0) return false;
  // Packet number length: 0x30 bits give 1, 2, 4 or 6 bytes.
  const pnLen = [1, 2, 4, 6][(f >> 4) & 3];
  // Before Q034 a private flags byte follows the packet number.
  const payloadOff = off + 13 + pnLen + (n < 34 ? 1 : 0);
  if (payloadOff > end) return false;
  out.version = v;
  out.pnLen = pnLen;
  out.payloadOff = payloadOff;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Frames

/** Where the frame walkers hand what they find: CRYPTO data and CONNECTION_CLOSE codes. */
export interface FrameSink {
  /** Crypto stream bytes buf[start, end) at stream offset `offset`. */
  crypto(offset: number, buf: Buffer, start: number, end: number): void;
  close(code: number): void;
}

/** The walk ended on the payload's end (or padding to it). */
export const FRAMES_OK = 0;
/** A frame did not fit, or a frame type that cannot be there: the rest was not read. */
export const FRAMES_BAD = 1;

/** Skips `n` varints from p; the position after them, or -1. */
function skipVarints(buf: Buffer, p: number, end: number, n: number): number {
  for (let i = 0; i < n; i++) {
    if (p >= end) return -1;
    p += varintSize(buf[p]);
    if (p > end) return -1;
  }
  return p;
}

/**
 * The frames of a decrypted Initial payload (RFC 9000 §19, allowed in Initial by §12.4 table 3):
 * PADDING, PING, ACK (with or without ECN counts), CRYPTO and CONNECTION_CLOSE (transport).
 * Anything else is a protocol violation in an Initial: the walk stops there.
 */
export function walkInitialFrames(buf: Buffer, p: number, end: number, sink: FrameSink): number {
  while (p < end) {
    const t = buf[p++];
    switch (t) {
      case 0x00: // PADDING (§19.1)
      case 0x01: // PING (§19.2)
        break;
      case 0x02:
      case 0x03: {
        // ACK (§19.3): largest, delay, range count, first range, (gap, length) per range, ECN counts.
        p = skipVarints(buf, p, end, 2);
        if (p < 0) return FRAMES_BAD;
        const ranges = readVarint(buf, p, end);
        // Each range takes at least 2 bytes: a count beyond that cannot fit.
        if (ranges < 0 || ranges > (end - p) / 2) return FRAMES_BAD;
        p = skipVarints(buf, p, end, 2 + 2 * ranges + (t === 0x03 ? 3 : 0));
        if (p < 0) return FRAMES_BAD;
        break;
      }
      case 0x06: {
        // CRYPTO (§19.6): offset, length, data.
        const o = readVarint(buf, p, end);
        if (o < 0) return FRAMES_BAD;
        p += varintSize(buf[p]);
        const n = readVarint(buf, p, end);
        if (n < 0) return FRAMES_BAD;
        p += varintSize(buf[p]);
        if (n > end - p) return FRAMES_BAD;
        sink.crypto(o, buf, p, p + n);
        p += n;
        break;
      }
      case 0x1c: {
        // CONNECTION_CLOSE (§19.19): error code, frame type, reason phrase (free text from the peer: not kept).
        const code = readVarint(buf, p, end);
        if (code < 0) return FRAMES_BAD;
        p = skipVarints(buf, p, end, 2);
        if (p < 0) return FRAMES_BAD;
        const r = readVarint(buf, p, end);
        if (r < 0) return FRAMES_BAD;
        p += varintSize(buf[p]);
        if (r > end - p) return FRAMES_BAD;
        sink.close(code);
        p += r;
        break;
      }
      default:
        return FRAMES_BAD;
    }
  }
  return FRAMES_OK;
}

/** Google QUIC's 1, 2, 4 or 6-byte fields selected by two bits. */
const GQ_LEN = [1, 2, 4, 6];

/**
 * The frames of a Google QUIC client hello packet, after the 12-byte message authentication
 * hash for Q043-Q046 (Chromium "QUIC Wire Layout" §Frame Types; quic_framer.cc):
 * - PADDING 0x00: the rest of the packet;
 * - PING 0x07; STOP_WAITING 0x06 (before Q044): least-unacked delta of `pnLen` bytes;
 * - ACK 0b01ntllmm: largest acked (ll), delay (2), block count (1, if n), first block (mm),
 *   (gap (1), block (mm)) per block, timestamp count (1), then 5 bytes for the first timestamp
 *   and 3 for each other;
 * - STREAM 0b1fdooo ss: stream id (ss+1 bytes), offset (ooo: 0 or ooo+1 bytes), data length
 *   (2, if d; else to the end of the packet), data. Stream 1 is the crypto stream;
 * - CRYPTO 0x08 (Q048 on, IETF style): varint offset, varint length, data.
 * Multi-byte fields are big-endian from Q039 on, little-endian before.
 */
export function walkGquicFrames(buf: Buffer, p: number, end: number, version: number, pnLen: number, sink: FrameSink): number {
  const n = gquicNumber(version);
  const be = n >= 39;
  while (p < end) {
    const t = buf[p++];
    if (t === 0x00) return FRAMES_OK;
    if (t === 0x07) continue;
    if (t === 0x06 && n < 44) {
      p += pnLen;
      if (p > end) return FRAMES_BAD;
      continue;
    }
    if (t === 0x08 && n >= 47) {
      const o = readVarint(buf, p, end);
      if (o < 0) return FRAMES_BAD;
      p += varintSize(buf[p]);
      const len = readVarint(buf, p, end);
      if (len < 0) return FRAMES_BAD;
      p += varintSize(buf[p]);
      if (len > end - p) return FRAMES_BAD;
      sink.crypto(o, buf, p, p + len);
      p += len;
      continue;
    }
    if ((t & 0xc0) === 0x40) {
      const largest = GQ_LEN[(t >> 2) & 3];
      const block = GQ_LEN[t & 3];
      p += largest + 2;
      if (p >= end) return FRAMES_BAD;
      let blocks = 0;
      if (t & 0x20) blocks = buf[p++];
      p += block + blocks * (1 + block);
      if (p >= end) return FRAMES_BAD;
      const stamps = buf[p++];
      if (stamps > 0) p += 5 + (stamps - 1) * 3;
      if (p > end) return FRAMES_BAD;
      continue;
    }
    if (t & 0x80) {
      const idLen = (t & 3) + 1;
      const ooo = (t >> 2) & 7;
      const offLen = ooo === 0 ? 0 : ooo + 1;
      if (p + idLen + offLen + (t & 0x20 ? 2 : 0) > end) return FRAMES_BAD;
      const id = buf.readUIntBE(p, idLen);
      p += idLen;
      // Offsets past 2^48 are past any hello: read as "too far" rather than exactly.
      const offset = offLen === 0 ? 0 : offLen > 6 ? Number.MAX_SAFE_INTEGER : be ? buf.readUIntBE(p, offLen) : buf.readUIntLE(p, offLen);
      p += offLen;
      let len = end - p;
      if (t & 0x20) {
        len = be ? buf.readUInt16BE(p) : buf.readUInt16LE(p);
        p += 2;
        if (len > end - p) return FRAMES_BAD;
      }
      if (id === 1) sink.crypto(offset, buf, p, p + len);
      p += len;
      continue;
    }
    return FRAMES_BAD;
  }
  return FRAMES_OK;
}

// ---------------------------------------------------------------------------------------------
// Google QUIC handshake messages (Chromium "QUIC Crypto" §Messages)

const CHLO = 0x43484c4f; // 'CHLO'
const TAG_SNI = 0x534e4900; // 'SNI\0'
const TAG_UAID = 0x55414944; // 'UAID'

/**
 * The length of the handshake message at buf[off] once its header is there: tag (4), entry
 * count (u16 LE), padding (2), `count` entries of tag (4) and end offset (u32 LE), then the
 * values. 0 while the header is not complete, -1 when it is not a CHLO or is malformed.
 */
export function chloLength(buf: Buffer, off: number, avail: number): number {
  if (avail < 8) return avail >= 4 && buf.readUInt32BE(off) !== CHLO ? -1 : 0;
  if (buf.readUInt32BE(off) !== CHLO) return -1;
  const count = buf.readUInt16LE(off + 4);
  if (count === 0 || count > 128) return -1;
  const head = 8 + 8 * count;
  if (avail < head) return 0;
  const last = buf.readUInt32LE(off + head - 4);
  return head + last;
}

export interface Chlo {
  sni: string | null;
  userAgent: string | null;
}

/** SNI and UAID of a complete CHLO at buf[off, end) (offsets ascending, values within the message). */
export function parseChlo(buf: Buffer, off: number, end: number): Chlo | null {
  const count = buf.readUInt16LE(off + 4);
  const values = off + 8 + 8 * count;
  const out: Chlo = { sni: null, userAgent: null };
  let prev = 0;
  for (let i = 0; i < count; i++) {
    const e = off + 8 + 8 * i;
    const tag = buf.readUInt32BE(e);
    const stop = buf.readUInt32LE(e + 4);
    if (stop < prev || values + stop > end) return null;
    if (tag === TAG_SNI) out.sni = buf.toString('latin1', values + prev, values + stop);
    else if (tag === TAG_UAID) out.userAgent = buf.toString('latin1', values + prev, values + stop);
    prev = stop;
  }
  return out;
}

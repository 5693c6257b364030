/**
 * STUN messages (RFC 8489 §5, §14; RFC 5389 before it), shared by UDP and TCP: header, method and
 * class, and which attributes a message carries. Pure and allocation-free: a message is read
 * into a caller's StunMessage; SOFTWARE is given as a byte range, decoded only by who keeps it.
 * Also the first-byte demultiplexing of a port shared with DTLS, TURN channels and RTP (RFC 7983
 * §7) and TURN's ChannelData framing (RFC 8656 §12).
 */

export const COOKIE = 0x2112a442;
/** XORed into the CRC-32 of a FINGERPRINT attribute (RFC 8489 §14.7). */
const FINGERPRINT_XOR = 0x5354554e;

/** Methods (RFC 8489 §18.2, RFC 8656 §17, RFC 6062 §6.1). */
export const METHOD_NAMES: Readonly<Record<number, string>> = {
  0x001: 'binding',
  0x002: 'shared-secret',
  0x003: 'allocate',
  0x004: 'refresh',
  0x006: 'send',
  0x007: 'data',
  0x008: 'create-permission',
  0x009: 'channel-bind',
  0x00a: 'connect',
  0x00b: 'connection-bind',
  0x00c: 'connection-attempt',
};
export const CLASS_NAMES = ['request', 'indication', 'success', 'error'] as const;
export type StunClass = (typeof CLASS_NAMES)[number];

/** Attributes a message is noted for (RFC 8489 §18.3, RFC 8445 §16.1, RFC 8656 §18). */
export const enum Has {
  MappedAddress = 1 << 0,
  XorMappedAddress = 1 << 1,
  Username = 1 << 2,
  MessageIntegrity = 1 << 3,
  MessageIntegritySha256 = 1 << 4,
  Fingerprint = 1 << 5,
  /** The FINGERPRINT attribute holds the message's CRC-32 (checked, §14.7). */
  FingerprintValid = 1 << 6,
  ErrorCode = 1 << 7,
  /** PRIORITY, USE-CANDIDATE, ICE-CONTROLLED or ICE-CONTROLLING: an ICE connectivity check (RFC 8445 §7.1). */
  Ice = 1 << 8,
  Realm = 1 << 9,
  Nonce = 1 << 10,
  XorRelayedAddress = 1 << 11,
  XorPeerAddress = 1 << 12,
  ChannelNumber = 1 << 13,
  Data = 1 << 14,
  Software = 1 << 15,
}

/** One message, filled in place by parseStun. */
export class StunMessage {
  method = 0;
  /** 0 request, 1 indication, 2 success response, 3 error response (§5). */
  cls = 0;
  /** Bytes of the whole message (20 + the header's length). */
  length = 0;
  has = 0;
  /** ERROR-CODE as class * 100 + number (§14.8), or 0. */
  errorCode = 0;
  /** CHANNEL-NUMBER (RFC 8656 §18.1), or 0. */
  channel = 0;
  /** SOFTWARE's bytes (§14.14), when has & Has.Software. */
  softwareOff = 0;
  softwareLen = 0;
  /** Attributes cut by the message end, or a FINGERPRINT that is not last: the message is still counted. */
  malformed = false;
}

/**
 * A STUN header at `off` (§5): top two bits zero, the magic cookie, a length that is a multiple of
 * four. `avail` bytes are at hand; the message may extend beyond them (TCP).
 */
export function stunHeaderOk(b: Buffer, off: number, avail: number): boolean {
  return avail >= 20 && (b[off] & 0xc0) === 0 && b.readUInt32BE(off + 4) === COOKIE && (b.readUInt16BE(off + 2) & 3) === 0;
}

/** A datagram that is exactly one STUN message. */
export function looksLikeStun(b: Buffer, off: number, len: number): boolean {
  return stunHeaderOk(b, off, len) && b.readUInt16BE(off + 2) === len - 20;
}

/** The message type's method and class bits, interleaved (§5, figure 3). */
export function stunMethod(t: number): number {
  return (t & 0x000f) | ((t & 0x00e0) >> 1) | ((t & 0x3e00) >> 2);
}
export function stunClass(t: number): number {
  return ((t & 0x0100) >> 7) | ((t & 0x0010) >> 4);
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 of ISO/IEC 13239 (the one of zlib and PNG), as FINGERPRINT uses it. */
export function crc32(b: Buffer, off: number, end: number): number {
  let c = -1;
  for (let i = off; i < end; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/**
 * Reads the whole message at `off` (the caller has checked stunHeaderOk and that `20 + length`
 * bytes are at hand) into `m`. Attribute values are not kept: USERNAME (an ICE ufrag pair or a
 * TURN user name), the integrity HMACs, NONCE and the addresses are noted as present only.
 */
export function parseStun(b: Buffer, off: number, m: StunMessage): void {
  const t = b.readUInt16BE(off);
  const end = off + 20 + b.readUInt16BE(off + 2);
  m.method = stunMethod(t);
  m.cls = stunClass(t);
  m.length = end - off;
  m.has = 0;
  m.errorCode = 0;
  m.channel = 0;
  m.softwareOff = m.softwareLen = 0;
  m.malformed = false;
  let p = off + 20;
  while (p + 4 <= end) {
    const type = b.readUInt16BE(p);
    const n = b.readUInt16BE(p + 2);
    const v = p + 4;
    if (v + n > end) {
      m.malformed = true;
      break;
    }
    switch (type) {
      case 0x0001:
        m.has |= Has.MappedAddress;
        break;
      case 0x0020:
        m.has |= Has.XorMappedAddress;
        break;
      case 0x0006:
        m.has |= Has.Username;
        break;
      case 0x0008:
        m.has |= Has.MessageIntegrity;
        break;
      case 0x001c:
        m.has |= Has.MessageIntegritySha256;
        break;
      case 0x0009:
        if (n >= 4) {
          m.has |= Has.ErrorCode;
          m.errorCode = (b[v + 2] & 7) * 100 + b[v + 3];
        }
        break;
      case 0x0024:
      case 0x0025:
      case 0x8029:
      case 0x802a:
        m.has |= Has.Ice;
        break;
      case 0x0014:
        m.has |= Has.Realm;
        break;
      case 0x0015:
        m.has |= Has.Nonce;
        break;
      case 0x0016:
        m.has |= Has.XorRelayedAddress;
        break;
      case 0x0012:
        m.has |= Has.XorPeerAddress;
        break;
      case 0x000c:
        if (n >= 2) {
          m.has |= Has.ChannelNumber;
          m.channel = b.readUInt16BE(v);
        }
        break;
      case 0x0013:
        m.has |= Has.Data;
        break;
      case 0x8022:
        m.has |= Has.Software;
        m.softwareOff = v;
        m.softwareLen = n;
        break;
      case 0x8028:
        // The last attribute (§14.7): CRC-32 of the message up to it, length field included as sent.
        m.has |= Has.Fingerprint;
        if (n === 4 && v + 4 === end && (b.readUInt32BE(v) ^ FINGERPRINT_XOR) >>> 0 === crc32(b, off, p)) m.has |= Has.FingerprintValid;
        else if (v + 4 !== end) m.malformed = true;
        break;
    }
    p = v + ((n + 3) & ~3);
  }
}

/** What a packet on a port shared by STUN, DTLS, TURN channels and RTP is, by its first byte (RFC 7983 §7). */
export const enum Demux {
  Stun = 0,
  Zrtp = 1,
  Dtls = 2,
  TurnChannel = 3,
  Rtp = 4,
  Other = 5,
}

/**
 * RFC 7983 gives TURN channels 64-79; RFC 5766 §11 allowed channel numbers up to 0x7FFF, and
 * clients still pick them there (coturn's turnutils_uclient does), so 64-127 are taken as channels.
 */
export function demux(firstByte: number): Demux {
  if (firstByte <= 3) return Demux.Stun;
  if (firstByte >= 16 && firstByte <= 19) return Demux.Zrtp;
  if (firstByte >= 20 && firstByte <= 63) return Demux.Dtls;
  if (firstByte >= 64 && firstByte <= 127) return Demux.TurnChannel;
  if (firstByte >= 128 && firstByte <= 191) return Demux.Rtp;
  return Demux.Other;
}

/**
 * A TURN ChannelData header (RFC 8656 §12.4): a channel number and the data's length. The
 * number is 0x4000-0x4FFF since RFC 8656, 0x4000-0x7FFF in RFC 5766 §11, which servers still
 * accept. Over UDP the datagram may be padded to four bytes; over TCP it always is (§12.5).
 * Returns the data length, or -1.
 */
export function channelDataLength(b: Buffer, off: number, avail: number): number {
  if (avail < 4) return -1;
  const ch = b.readUInt16BE(off);
  return ch >= 0x4000 && ch <= 0x7fff ? b.readUInt16BE(off + 2) : -1;
}

/**
 * DTLS records and hellos (RFC 6347 §4.1-4.2 for DTLS 1.0/1.2, RFC 9147 §4, §5.3 for 1.3), as far
 * as a monitor reads them on a WebRTC or CoAPS flow: the version, the cipher suite, the SNI, and
 * the use_srtp extension that keys SRTP from the handshake (RFC 5764 §4.1). Pure; records are
 * walked in place. A hello is read only when it is one unfragmented handshake message.
 */
export { looksLikeDtls } from '../coap/parser.js';

/** DTLS ProtocolVersion values (RFC 6347 §4.1, RFC 9147 §5.3: 1's complement of the TLS ones). */
export function dtlsVersionName(v: number): string {
  switch (v) {
    case 0xfeff:
      return 'DTLSv1.0';
    case 0xfefd:
      return 'DTLSv1.2';
    case 0xfefc:
      return 'DTLSv1.3';
    default:
      return `0x${v.toString(16).padStart(4, '0')}`;
  }
}

/** SRTPProtectionProfile values (RFC 5764 §4.1.2, RFC 7714 §14.2). */
export const SRTP_PROFILES: Readonly<Record<number, string>> = {
  0x0001: 'SRTP_AES128_CM_HMAC_SHA1_80',
  0x0002: 'SRTP_AES128_CM_HMAC_SHA1_32',
  0x0005: 'SRTP_NULL_HMAC_SHA1_80',
  0x0006: 'SRTP_NULL_HMAC_SHA1_32',
  0x0007: 'SRTP_AEAD_AES_128_GCM',
  0x0008: 'SRTP_AEAD_AES_256_GCM',
};

export function srtpProfileName(p: number): string {
  return SRTP_PROFILES[p] ?? `0x${p.toString(16).padStart(4, '0')}`;
}

/** Profiles that authenticate but do not encrypt the media (RFC 5764 §4.1.2). */
export function isNullSrtpProfile(p: number): boolean {
  return p === 0x0005 || p === 0x0006;
}

export interface DtlsHello {
  /** 1 ClientHello, 2 ServerHello. */
  type: 1 | 2;
  /** client_version / server_version. */
  version: number;
  /** supported_versions (RFC 9147 §5.3, RFC 8446 §4.2.1): the highest offered, or the one chosen; 0 when absent. */
  supportedVersion: number;
  /** ServerHello: the chosen suite; ClientHello: 0. */
  cipher: number;
  /** use_srtp: the profiles offered (ClientHello) or the one chosen (ServerHello). */
  srtpProfiles: number[];
  sni: string | null;
}

/**
 * Whether `b[off]` starts a DTLS 1.3 record with the unified header (RFC 9147 §4: 001CSLEE),
 * which carries encrypted data.
 */
export function isUnifiedHeader(first: number): boolean {
  return (first & 0xe0) === 0x20;
}

/**
 * Walks the records of one datagram (or one RFC 4571 frame). `onHandshake` is given each whole
 * handshake message of epoch 0 (its type and body range); returns the number of records read,
 * and the count of application-data ones in `appData` (a two-slot array the caller owns).
 */
export function walkRecords(b: Buffer, off: number, len: number, onHandshake: (type: number, body: number, end: number) => void, counts: Int32Array): void {
  const end = off + len;
  let p = off;
  counts[0] = counts[1] = 0;
  while (p < end) {
    const first = b[p];
    if (isUnifiedHeader(first)) {
      // Encrypted 1.3 record: with a connection id (C) its length cannot be known here.
      counts[0]++;
      counts[1]++;
      const seqLen = first & 0x08 ? 2 : 1;
      if (first & 0x10 || !(first & 0x04)) return;
      const h = 1 + seqLen + 2;
      if (p + h > end) return;
      p += h + b.readUInt16BE(p + 1 + seqLen);
      continue;
    }
    if (p + 13 > end || first < 20 || first > 25 || b[p + 1] !== 0xfe) return;
    const epoch = b.readUInt16BE(p + 3);
    const rlen = b.readUInt16BE(p + 11);
    const body = p + 13;
    const rend = Math.min(body + rlen, end);
    counts[0]++;
    if (first === 23) counts[1]++;
    if (first === 22 && epoch === 0) {
      // Handshake messages (RFC 6347 §4.2.2): type, length(3), message_seq(2), fragment_offset(3), fragment_length(3).
      let q = body;
      while (q + 12 <= rend) {
        const mlen = b.readUIntBE(q + 1, 3);
        const foff = b.readUIntBE(q + 6, 3);
        const flen = b.readUIntBE(q + 9, 3);
        if (foff === 0 && flen === mlen && q + 12 + mlen <= rend) onHandshake(b[q], q + 12, q + 12 + mlen);
        q += 12 + flen;
      }
    }
    p = body + rlen;
  }
}

/**
 * A ClientHello (type 1) or ServerHello (type 2) body (RFC 6347 §4.2.1: a ClientHello has a
 * cookie after its session id; RFC 5246 §7.4.1.2-3 otherwise). Null when cut short.
 */
export function parseDtlsHello(b: Buffer, type: 1 | 2, off: number, end: number): DtlsHello | null {
  const h: DtlsHello = { type, version: 0, supportedVersion: 0, cipher: 0, srtpProfiles: [], sni: null };
  let p = off;
  if (p + 35 > end) return null;
  h.version = b.readUInt16BE(p);
  p += 34; // version, random
  p += 1 + b[p]; // session id
  if (type === 1) {
    if (p + 1 > end) return null;
    p += 1 + b[p]; // cookie
    if (p + 2 > end) return null;
    p += 2 + b.readUInt16BE(p); // cipher suites
    if (p + 1 > end) return null;
    p += 1 + b[p]; // compression methods
  } else {
    if (p + 3 > end) return null;
    h.cipher = b.readUInt16BE(p);
    p += 3;
  }
  if (p > end) return null;
  if (p + 2 > end) return h;
  const xend = Math.min(p + 2 + b.readUInt16BE(p), end);
  p += 2;
  while (p + 4 <= xend) {
    const t = b.readUInt16BE(p);
    const n = b.readUInt16BE(p + 2);
    const v = p + 4;
    const vend = v + n;
    if (vend > xend) break;
    if (t === 14 && n >= 2) {
      // use_srtp (RFC 5764 §4.1.1): SRTPProtectionProfiles<2..2^16-1>, srtp_mki<0..255>.
      const plen = b.readUInt16BE(v);
      for (let q = v + 2; q + 2 <= Math.min(v + 2 + plen, vend); q += 2) if (h.srtpProfiles.length < 16) h.srtpProfiles.push(b.readUInt16BE(q));
    } else if (t === 43) {
      if (type === 2 && n >= 2) h.supportedVersion = b.readUInt16BE(v);
      else if (type === 1 && n >= 1) {
        // The highest version offered: DTLS versions count down (0xfefc is newer than 0xfefd).
        for (let q = v + 1; q + 2 <= Math.min(v + 1 + b[v], vend); q += 2) {
          const x = b.readUInt16BE(q);
          if (x >> 8 === 0xfe && (h.supportedVersion === 0 || x < h.supportedVersion)) h.supportedVersion = x;
        }
      }
    } else if (t === 0 && type === 1 && n >= 5) {
      // server_name (RFC 6066 §3): host_name is type 0.
      const nlen = b.readUInt16BE(v + 3);
      if (b[v + 2] === 0 && v + 5 + nlen <= vend) h.sni = b.toString('latin1', v + 5, v + 5 + Math.min(nlen, 255));
    }
    p = vend;
  }
  return h;
}

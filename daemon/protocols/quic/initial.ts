/**
 * Initial packet protection (RFC 9001 §5): keys derived from the client's first Destination
 * Connection ID with the version's salt (§5.2), header protection with AES-128-ECB over a
 * 16-byte sample (§5.4.1-5.4.3), payload protection with AEAD_AES_128_GCM and the packet number
 * as nonce (§5.3). Version 2 (RFC 9369 §3.3) has its own salt and "quicv2" labels; the drafts
 * and Google's Q050/T050/T051 their own salts (as listed by Wireshark's packet-quic.c).
 *
 * Anyone who sees the client's first packet can derive these keys: Initial packets are not
 * protected with a secret (RFC 9001 §7). Reading the ClientHello needs nothing more.
 */
import crypto from 'node:crypto';
import { gquicNumber, isV2, V1, V2, V2_DRAFT } from './parser.js';

const hex = (s: string) => Buffer.from(s, 'hex');
/** RFC 9001 §5.2 (also drafts 33 and 34). */
const SALT_V1 = hex('38762cf7f55934b34d179ae6a4c80cadccbb7f0a');
/** RFC 9369 §3.3.1. */
const SALT_V2 = hex('0dede3def700a6db819381be6e269dcbf9bd2ed9');
/** The RFC 9369 drafts' provisional version 0x709a50c4 (Wireshark's handshake_salt_v2_draft_00; ngtcp2 0.12 has it too). */
const SALT_V2_DRAFT = hex('a707c203a59b47184a1d62ca570406ea7ae3e5d3');
/** draft-ietf-quic-tls-29 §5.2, kept to draft-32. */
const SALT_D29 = hex('afbfec289993d24c9e9786f19c6111e04390a899');
/** draft-ietf-quic-tls-23 §5.2, kept to draft-28. */
const SALT_D23 = hex('c3eef712c72ebb5a11a7d2432bb46365bef9f502');
/** draft-ietf-quic-tls-22 (and mvfst's draft-22 version). */
const SALT_D22 = hex('7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a');
/** Google QUIC Q050, T050, T051 (Chromium's InitialSaltForVersion, as in Wireshark's packet-quic.c). */
const SALT_Q050 = hex('504574efd066fe2f9d945cfcdbd3a7f0d3b56b45');
const SALT_T050 = hex('7ff579e5acd072915580304c43a2367c60488310');
const SALT_T051 = hex('7a4edef4e7ccee5fa4506c19124fc8ccda6e033d');

/**
 * The Initial salt of a version, or null when none is known. Reserved (greasing) versions have
 * none by definition; clients that send them (ngtcp2, to provoke Version Negotiation) protect
 * them like draft-29, which is also what Wireshark tries: so do we.
 */
export function initialSalt(v: number): Buffer | null {
  if (v === V1) return SALT_V1;
  if (v === V2) return SALT_V2;
  if (v === V2_DRAFT) return SALT_V2_DRAFT;
  if (v >>> 8 === 0xff0000) {
    const d = v & 0xff;
    if (d < 22 || d > 34) return null; // before 22 the header layout differs
    return d >= 33 ? SALT_V1 : d >= 29 ? SALT_D29 : d >= 23 ? SALT_D23 : SALT_D22;
  }
  if (v === 0xfaceb001) return SALT_D22;
  if (v === 0xfaceb002 || v === 0xfaceb00e) return SALT_D23;
  if ((v & 0x0f0f0f0f) === 0x0a0a0a0a) return SALT_D29;
  if (gquicNumber(v) > 0) {
    if (v === 0x51303530) return SALT_Q050;
    if (v === 0x54303530) return SALT_T050;
    if (v === 0x54303531) return SALT_T051;
  }
  return null;
}

/** Keys of one direction's Initial packets. */
export interface PacketKeys {
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
  /** AES-128-ECB with the header protection key, reused for every sample of the flow. */
  hpCipher: crypto.Cipher;
}

/** HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, for outputs of at most 32 bytes (one HKDF-Expand block, RFC 5869 §2.3). */
export function hkdfExpandLabel(secret: Buffer, label: string, length: number): Buffer {
  const full = `tls13 ${label}`;
  const info = Buffer.allocUnsafe(4 + full.length + 1);
  info.writeUInt16BE(length, 0);
  info[2] = full.length;
  info.write(full, 3, 'latin1');
  info[3 + full.length] = 0; // context: empty
  info[4 + full.length] = 1; // HKDF-Expand's counter for T(1)
  return crypto.createHmac('sha256', secret).update(info).digest().subarray(0, length);
}

/** initial_secret = HKDF-Extract(salt, client DCID) (RFC 9001 §5.2). */
export function initialSecret(salt: Buffer, dcid: Buffer): Buffer {
  return crypto.createHmac('sha256', salt).update(dcid).digest();
}

/** The Initial keys of the client (`server` false) or the server for this version and client DCID. */
export function initialKeys(version: number, dcid: Buffer, server: boolean): PacketKeys | null {
  const salt = initialSalt(version);
  if (!salt) return null;
  const secret = hkdfExpandLabel(initialSecret(salt, dcid), server ? 'server in' : 'client in', 32);
  const pre = isV2(version) ? 'quicv2 ' : 'quic ';
  const key = hkdfExpandLabel(secret, `${pre}key`, 16);
  const iv = hkdfExpandLabel(secret, `${pre}iv`, 12);
  const hp = hkdfExpandLabel(secret, `${pre}hp`, 16);
  const hpCipher = crypto.createCipheriv('aes-128-ecb', hp, null).setAutoPadding(false);
  return { key, iv, hp, hpCipher };
}

/**
 * Full packet number from its truncated form and the largest number received so far in the
 * packet number space, -1 when none (RFC 9000 §17.1, Appendix A.3).
 */
export function decodePacketNumber(largest: number, truncated: number, bits: number): number {
  const expected = largest + 1;
  const win = 2 ** bits;
  const hwin = win / 2;
  let candidate = Math.floor(expected / win) * win + truncated;
  if (candidate <= expected - hwin && candidate < 2 ** 62 - win) candidate += win;
  else if (candidate > expected + hwin && candidate >= win) candidate -= win;
  return candidate;
}

/** Header copies for the AEAD's associated data: one buffer for the process, headers are small. */
let aadScratch = Buffer.allocUnsafe(2048);
const nonce = Buffer.allocUnsafe(12);

export interface Opened {
  /** The full packet number. */
  pn: number;
  /** The first byte with its protection removed. */
  first: number;
}

/**
 * Removes header protection from the long-header packet buf[start, end) whose packet number
 * starts at pnOff, then decrypts its payload. The captured bytes are not modified. Returns the
 * plaintext (a new buffer: node's AEAD has no in-place API), or null when the packet is too
 * short for a sample or the tag does not verify (wrong keys, version or direction).
 */
export function openPacket(keys: PacketKeys, buf: Buffer, start: number, pnOff: number, end: number, largestPn: number, out: Opened): Buffer | null {
  // §5.4.2: the sample starts 4 bytes after the packet number's start, whatever its length.
  if (pnOff + 20 > end) return null;
  const mask = keys.hpCipher.update(buf.subarray(pnOff + 4, pnOff + 20));
  // §5.4.1: long headers protect the low 4 bits of the first byte.
  const first = buf[start] ^ (mask[0] & 0x0f);
  const pnLen = (first & 3) + 1;
  if (pnOff + pnLen + 16 > end) return null;
  let truncated = 0;
  for (let i = 0; i < pnLen; i++) truncated = truncated * 256 + (buf[pnOff + i] ^ mask[1 + i]);
  const pn = decodePacketNumber(largestPn, truncated, pnLen * 8);
  const headLen = pnOff + pnLen - start;
  if (aadScratch.length < headLen) aadScratch = Buffer.allocUnsafe(headLen);
  const aad = aadScratch.subarray(0, headLen);
  buf.copy(aad, 0, start, pnOff);
  aad[0] = first;
  for (let i = 0; i < pnLen; i++) aad[pnOff - start + i] = buf[pnOff + i] ^ mask[1 + i];
  // §5.3: the nonce is the IV XORed with the packet number, left-padded to 12 bytes.
  keys.iv.copy(nonce, 0, 0, 12);
  const lo = pn % 0x100000000;
  const hi = Math.floor(pn / 0x100000000);
  nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ lo) >>> 0, 8);
  nonce.writeUInt32BE((nonce.readUInt32BE(4) ^ hi) >>> 0, 4);
  try {
    const d = crypto.createDecipheriv('aes-128-gcm', keys.key, nonce, { authTagLength: 16 });
    d.setAAD(aad);
    d.setAuthTag(buf.subarray(end - 16, end));
    const plain = d.update(buf.subarray(pnOff + pnLen, end - 16));
    d.final();
    out.pn = pn;
    out.first = first;
    return plain;
  } catch {
    return null;
  }
}

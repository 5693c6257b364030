/**
 * Which addresses belong to the home side. Everything that is not routable on the internet counts
 * as local: RFC 1918 private ranges, CGNAT shared space (RFC 6598), loopback, link-local (RFC 3927,
 * RFC 4291 §2.5.6), unique local IPv6 (RFC 4193), multicast and broadcast, the unspecified
 * address; plus any prefix the user declares as LAN (a delegated IPv6 prefix, a public IPv4 LAN).
 */
import { type AddrWords, parseAddr } from '../decode/address.js';

export interface Prefix {
  words: AddrWords;
  /** Prefix length counted on the 128-bit form (IPv4 prefixes are offset by 96). */
  bits: number;
}

export function parseCidr(text: string): Prefix {
  const [addr, len, extra] = text.trim().split('/');
  if (extra !== undefined || !addr) throw new Error(`bad prefix: ${text}`);
  const words = parseAddr(addr);
  const v4 = !addr.includes(':');
  const max = v4 ? 32 : 128;
  const n = len === undefined ? max : Number(len);
  if (!Number.isInteger(n) || n < 0 || n > max || (len !== undefined && !/^\d+$/.test(len))) throw new Error(`bad prefix length in ${text}`);
  return { words, bits: v4 ? n + 96 : n };
}

export function inPrefix(p: Prefix, w0: number, w1: number, w2: number, w3: number): boolean {
  const w = [w0, w1, w2, w3];
  let bits = p.bits;
  for (let i = 0; i < 4 && bits > 0; i++, bits -= 32) {
    const m = bits >= 32 ? 0xffffffff : ~(0xffffffff >>> bits) >>> 0;
    if (((w[i] ^ p.words[i]) & m) >>> 0 !== 0) return false;
  }
  return true;
}

export function isLocalV4(a: number): boolean {
  const o1 = a >>> 24;
  const o2 = (a >>> 16) & 255;
  return (
    o1 === 10 ||
    o1 === 127 ||
    o1 === 0 ||
    o1 >= 224 || // multicast, reserved, broadcast
    (o1 === 172 && o2 >= 16 && o2 <= 31) ||
    (o1 === 192 && o2 === 168) ||
    (o1 === 169 && o2 === 254) ||
    (o1 === 100 && o2 >= 64 && o2 <= 127)
  );
}

export function isLocalV6(w0: number, w1: number, w2: number, w3: number): boolean {
  const top = w0 >>> 16;
  if ((top & 0xffc0) === 0xfe80) return true; // link-local fe80::/10
  if ((top & 0xfe00) === 0xfc00) return true; // unique local fc00::/7
  if ((top & 0xff00) === 0xff00) return true; // multicast
  return w0 === 0 && w1 === 0 && w2 === 0 && (w3 === 0 || w3 === 1); // :: and ::1
}

/** Multicast, broadcast or unspecified: local but not a device's own address. */
export function isGroupOrUnspecified(w0: number, w1: number, w2: number, w3: number): boolean {
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) {
    const o1 = w3 >>> 24;
    return w3 === 0 || o1 >= 224 || (w3 & 0xff) === 0xff;
  }
  return (w0 >>> 24) === 0xff || (w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0);
}

export class Locality {
  constructor(private readonly lan: Prefix[] = []) {}

  isLocal(w0: number, w1: number, w2: number, w3: number): boolean {
    const local = w0 === 0 && w1 === 0 && w2 === 0xffff ? isLocalV4(w3) : isLocalV6(w0, w1, w2, w3);
    if (local) return true;
    for (let i = 0; i < this.lan.length; i++) if (inPrefix(this.lan[i], w0, w1, w2, w3)) return true;
    return false;
  }
}

/**
 * TLS client and server fingerprints.
 * - JA3 / JA3S (Salesforce, github.com/salesforce/ja3): MD5 of decimal fields joined by commas and
 *   dashes, GREASE values removed.
 * - JA4 (FoxIO, github.com/FoxIO-LLC/ja4, JA4 technical details): `a_b_c` where a is protocol,
 *   version, SNI presence, cipher and extension counts and ALPN first/last characters; b is the
 *   first 12 hex digits of SHA-256 over the sorted cipher list; c the same over the sorted
 *   extension list (without SNI and ALPN) then `_` and the signature algorithms in order.
 */
import crypto from 'node:crypto';
import { type ClientHello, isGrease, type ServerHello } from './parser.js';

// One-shot crypto.hash (Node >= 20.12) avoids a Hash object per call; older Node falls back.
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash;
const digest = (alg: string, s: string) => (oneShot ? oneShot(alg, s, 'hex') : crypto.createHash(alg).update(s).digest('hex'));
const md5 = (s: string) => digest('md5', s);
const sha12 = (s: string) => digest('sha256', s).slice(0, 12);
function noGrease(a: number[]): number[] {
  // Most lists carry no GREASE or one value: avoid a copy when there is none.
  for (let i = 0; i < a.length; i++) if (isGrease(a[i])) return a.filter((v) => !isGrease(v));
  return a;
}

export function ja3String(h: ClientHello): string {
  return [h.version, noGrease(h.ciphers).join('-'), noGrease(h.extensions).join('-'), noGrease(h.groups).join('-'), h.pointFormats.join('-')].join(',');
}

export function ja3(h: ClientHello): string {
  return md5(ja3String(h));
}

export function ja3sString(h: ServerHello): string {
  return [h.version, h.cipher, h.extensions.join('-')].join(',');
}

export function ja3s(h: ServerHello): string {
  return md5(ja3sString(h));
}

const JA4_VERSIONS: Record<number, string> = { 0x0304: '13', 0x0303: '12', 0x0302: '11', 0x0301: '10', 0x0300: 's3', 0x0002: 's2', 0xfeff: 'd1', 0xfefd: 'd2', 0xfefc: 'd3' };

const hex4 = (v: number) => v.toString(16).padStart(4, '0');
const alnum = (c: string) => /^[0-9A-Za-z]$/.test(c);

export function ja4(h: ClientHello, transport: 't' | 'q' | 'd' = 't'): string {
  const versions = noGrease(h.supportedVersions);
  const v = versions.length > 0 ? Math.max(...versions) : h.version;
  const version = JA4_VERSIONS[v] ?? '00';
  const ciphers = noGrease(h.ciphers);
  const exts = noGrease(h.extensions);
  const count = (n: number) => String(Math.min(n, 99)).padStart(2, '0');
  let alpn = '00';
  const first = h.alpn[0];
  if (first && first.length > 0) {
    const a = first[0];
    const z = first[first.length - 1];
    if (alnum(a) && alnum(z)) alpn = a + z;
    else {
      const hex = Buffer.from(first, 'latin1').toString('hex');
      alpn = hex[0] + hex[hex.length - 1];
    }
  }
  const partA = `${transport}${version}${h.sni !== null ? 'd' : 'i'}${count(ciphers.length)}${count(exts.length)}${alpn}`;
  const partB = ciphers.length === 0 ? '000000000000' : sha12(ciphers.map(hex4).sort().join(','));
  const extList = exts.filter((e) => e !== 0x0000 && e !== 0x0010).map(hex4).sort().join(',');
  const sigs = h.signatureAlgorithms.map(hex4).join(',');
  const partC = extList.length === 0 ? '000000000000' : sha12(sigs ? `${extList}_${sigs}` : extList);
  return `${partA}_${partB}_${partC}`;
}

export interface ClientFingerprints {
  ja3: string;
  ja3String: string;
  ja4: string;
}

/**
 * A home's devices repeat the same few TLS stacks thousands of times: fingerprints are computed
 * once per distinct hello shape (everything JA3 and JA4 read) and then looked up.
 */
const cache = new Map<string, ClientFingerprints>();
const CACHE_LIMIT = 4096;

export function clientFingerprints(h: ClientHello): ClientFingerprints {
  const j3 = ja3String(h);
  const key = `${j3}|${h.signatureAlgorithms.join('-')}|${h.alpn[0] ?? ''}|${h.sni !== null ? 1 : 0}|${h.supportedVersions.join('-')}`;
  let fp = cache.get(key);
  if (!fp) {
    fp = { ja3: md5(j3), ja3String: j3, ja4: ja4(h) };
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, fp);
  }
  return fp;
}

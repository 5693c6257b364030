/**
 * CoAP messages (RFC 7252 §3): a 4-byte header (Ver = 1, T, TKL, Code as class.detail, Message
 * ID), a token of TKL bytes (9 to 15 are a format error, §3), options in delta/length encoding
 * (§3.1: nibble values 13 and 14 announce a 1- or 2-byte extension, minus 13 and 269; 15 is
 * reserved and only appears as the 0xFF payload marker), then the payload after 0xFF. A marker
 * followed by nothing is a format error (§3).
 */

export class CoapError extends Error {}

export const TYPES = ['CON', 'NON', 'ACK', 'RST'] as const;

/** Request codes 0.01-0.07 (RFC 7252 §12.1.1, FETCH/PATCH/iPATCH from RFC 8132). */
export const METHODS: Record<number, string> = { 1: 'GET', 2: 'POST', 3: 'PUT', 4: 'DELETE', 5: 'FETCH', 6: 'PATCH', 7: 'iPATCH' };

/** Response codes of RFC 7252 §12.1.2, RFC 7959 (2.31, 4.08, 4.13) and RFC 8132 (4.09, 4.22). */
const RESPONSES: Record<number, readonly number[]> = {
  2: [1, 2, 3, 4, 5, 31],
  4: [0, 1, 2, 3, 4, 5, 6, 8, 9, 12, 13, 15, 22, 29],
  5: [0, 1, 2, 3, 4, 5, 8],
};

/** Option numbers (RFC 7252 §5.10, §12.2 and the registry: Observe 6, Block2 23, Block1 27, Size2 28, No-Response 258...). */
export const OPTION_NAMES: Record<number, string> = {
  1: 'If-Match',
  3: 'Uri-Host',
  4: 'ETag',
  5: 'If-None-Match',
  6: 'Observe',
  7: 'Uri-Port',
  8: 'Location-Path',
  9: 'OSCORE',
  11: 'Uri-Path',
  12: 'Content-Format',
  14: 'Max-Age',
  15: 'Uri-Query',
  16: 'Hop-Limit',
  17: 'Accept',
  19: 'Q-Block1',
  20: 'Location-Query',
  21: 'EDHOC',
  23: 'Block2',
  27: 'Block1',
  28: 'Size2',
  31: 'Q-Block2',
  35: 'Proxy-Uri',
  39: 'Proxy-Scheme',
  60: 'Size1',
  252: 'Echo',
  258: 'No-Response',
  292: 'Request-Tag',
};

export interface CoapOption {
  number: number;
  value: Buffer;
}

export interface CoapMessage {
  version: number;
  type: (typeof TYPES)[number];
  tokenLength: number;
  token: Buffer;
  /** class * 32 + detail. */
  code: number;
  messageId: number;
  options: CoapOption[];
  payload: Buffer;
}

/** "2.05" for 69. */
export function codeText(code: number): string {
  return `${code >> 5}.${String(code & 31).padStart(2, '0')}`;
}

/** A code a message may carry over UDP: Empty, a request method, or a known response. */
export function knownCode(code: number): boolean {
  const cls = code >> 5;
  const detail = code & 31;
  if (cls === 0) return detail <= 7;
  return RESPONSES[cls]?.includes(detail) ?? false;
}

/** Unsigned integer option value (§3.2: 0 to 4 bytes, big-endian, leading zeros may be dropped). */
export function uint(v: Buffer): number {
  let n = 0;
  for (const x of v.subarray(0, 4)) n = n * 256 + x;
  return n;
}

const MAX_OPTIONS = 64;

/** Parses the CoAP message in b[off, end). Throws CoapError on malformed input. */
export function parseCoap(b: Buffer, off: number, end: number): CoapMessage {
  if (end - off < 4) throw new CoapError('shorter than a CoAP header');
  const version = b[off] >> 6;
  if (version !== 1) throw new CoapError(`version ${version}`);
  const tokenLength = b[off] & 15;
  if (tokenLength > 8) throw new CoapError(`token length ${tokenLength}`);
  const code = b[off + 1];
  let p = off + 4;
  if (p + tokenLength > end) throw new CoapError('token runs past the message');
  const m: CoapMessage = {
    version,
    type: TYPES[(b[off] >> 4) & 3],
    tokenLength,
    token: b.subarray(p, p + tokenLength),
    code,
    messageId: b.readUInt16BE(off + 2),
    options: [],
    payload: b.subarray(end, end),
  };
  p += tokenLength;
  // An Empty message (0.00) is the header alone (§4.1).
  if (code === 0 && (tokenLength !== 0 || p !== end)) throw new CoapError('empty message with token or options');
  let number = 0;
  while (p < end) {
    const first = b[p];
    if (first === 0xff) {
      if (p + 1 >= end) throw new CoapError('payload marker without a payload');
      m.payload = b.subarray(p + 1, end);
      break;
    }
    if (m.options.length >= MAX_OPTIONS) throw new CoapError('too many options');
    p++;
    let delta = first >> 4;
    let len = first & 15;
    if (delta === 15 || len === 15) throw new CoapError('reserved option nibble 15');
    [delta, p] = extended(b, delta, p, end);
    [len, p] = extended(b, len, p, end);
    number += delta;
    if (p + len > end) throw new CoapError('option value runs past the message');
    m.options.push({ number, value: b.subarray(p, p + len) });
    p += len;
  }
  return m;
}

function extended(b: Buffer, nibble: number, p: number, end: number): [number, number] {
  if (nibble === 13) {
    if (p + 1 > end) throw new CoapError('option extension runs past the message');
    return [b[p] + 13, p + 1];
  }
  if (nibble === 14) {
    if (p + 2 > end) throw new CoapError('option extension runs past the message');
    return [b.readUInt16BE(p) + 269, p + 2];
  }
  return [nibble, p];
}

/**
 * Whether a datagram is CoAP: version 1, a token that fits, a known code. On the CoAP port that
 * is enough; elsewhere (`strict`) the whole message must parse, every option number be a known
 * one and the message carry more than an Empty header.
 */
export function looksLikeCoap(b: Buffer, off: number, len: number, strict: boolean): boolean {
  if (len < 4 || b[off] >> 6 !== 1 || (b[off] & 15) > 8 || !knownCode(b[off + 1])) return false;
  if (!strict) return 4 + (b[off] & 15) <= len;
  try {
    const m = parseCoap(b, off, off + len);
    return m.code !== 0 && m.options.length > 0 && m.options.every((o) => o.number in OPTION_NAMES);
  } catch {
    return false;
  }
}

/** A DTLS record header (RFC 6347 §4.1): content type 20-25, version 254.x. */
export function looksLikeDtls(b: Buffer, off: number, len: number): boolean {
  return len >= 13 && b[off] >= 20 && b[off] <= 25 && b[off + 1] === 0xfe && (b[off + 2] === 0xff || b[off + 2] === 0xfd || b[off + 2] === 0xfc);
}

export interface Link {
  uri: string;
  params: Record<string, string>;
}

/**
 * CoRE Link Format (RFC 6690 §2): `<uri>;attr=value;attr="quoted",<uri2>...`. Links are split at
 * commas outside quotes and angle brackets; a cut last link (a block boundary) is kept as far as
 * it goes. At most `limit` links.
 */
export function parseLinkFormat(text: string, limit = 64): Link[] {
  const links: Link[] = [];
  let i = 0;
  const n = text.length;
  while (i < n && links.length < limit) {
    while (i < n && (text[i] === ',' || text[i] === ' ' || text[i] === '\n' || text[i] === '\r')) i++;
    if (text[i] !== '<') break;
    const close = text.indexOf('>', i);
    if (close < 0) break;
    const link: Link = { uri: text.slice(i + 1, close), params: Object.create(null) as Record<string, string> };
    i = close + 1;
    while (i < n && text[i] === ';') {
      i++;
      let k = '';
      while (i < n && !'=;,'.includes(text[i])) k += text[i++];
      let v = '';
      if (text[i] === '=') {
        i++;
        if (text[i] === '"') {
          i++;
          while (i < n && text[i] !== '"') {
            if (text[i] === '\\' && i + 1 < n) i++;
            v += text[i++];
          }
          i++;
        } else {
          while (i < n && text[i] !== ';' && text[i] !== ',') v += text[i++];
        }
      }
      k = k.trim();
      if (k && !(k in link.params)) link.params[k] = v;
    }
    links.push(link);
  }
  return links;
}

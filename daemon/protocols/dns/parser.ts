/**
 * DNS messages (RFC 1035 §4.1) as used by unicast DNS and multicast DNS (RFC 6762): header,
 * questions and resource records, with name compression (§4.1.4). Compression pointers may point
 * anywhere inside the message; a name is refused when it follows more than MAX_JUMPS pointers (a
 * loop). A name longer than the 255 octets of §2.3.4 is read to its end but kept truncated and
 * flagged, as Suricata does (its rrname_truncated), so that one oversized name does not hide the
 * rest of the message.
 */

export interface DnsQuestion {
  name: string;
  /** The name broke the 255-octet limit; `name` holds its first MAX_NAME_TEXT characters. */
  nameTruncated?: boolean;
  type: number;
  /** mDNS: the unicast-response bit in the class field (RFC 6762 §5.4). */
  unicastResponse: boolean;
}

export interface DnsRecord {
  name: string;
  type: number;
  ttl: number;
  /** Decoded data: an address, a name, SRV "priority weight port target", TXT strings, else null. */
  data: string | string[] | null;
  /** mDNS: the cache-flush bit (RFC 6762 §10.2). */
  cacheFlush: boolean;
}

export interface DnsMessage {
  id: number;
  response: boolean;
  opcode: number;
  authoritative: boolean;
  truncated: boolean;
  rcode: number;
  counts: { questions: number; answers: number; authorities: number; additionals: number };
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

const MAX_JUMPS = 32;
/** Characters of an over-long name that are kept. */
export const MAX_NAME_TEXT = 1024;
/** Limits on what one message may make us build. */
const MAX_ITEMS = 4096;

export const TYPE_NAMES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 41: 'OPT', 47: 'NSEC', 64: 'SVCB', 65: 'HTTPS', 255: 'ANY' };

export class DnsError extends Error {}

/** Reads a possibly compressed name at `off`; returns it, the offset after it, and whether it was cut. */
export function readName(b: Buffer, start: number, off: number, end: number): [string, number, boolean] {
  const labels: string[] = [];
  let p = off;
  let after = -1;
  let jumps = 0;
  let length = 0;
  let text = 0;
  let cut = false;
  for (;;) {
    if (p >= end) throw new DnsError('name runs past the message');
    const len = b[p];
    if ((len & 0xc0) === 0xc0) {
      if (p + 1 >= end) throw new DnsError('truncated compression pointer');
      if (++jumps > MAX_JUMPS) throw new DnsError('compression pointer loop');
      const target = start + (((len & 0x3f) << 8) | b[p + 1]);
      if (after < 0) after = p + 2;
      if (target >= end) throw new DnsError('compression pointer beyond the message');
      p = target;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new DnsError(`reserved label type 0x${(len & 0xc0).toString(16)}`);
    if (len === 0) {
      p += 1;
      break;
    }
    if (p + 1 + len > end) throw new DnsError('label runs past the message');
    length += len + 1;
    if (length > 255) cut = true;
    if (text < MAX_NAME_TEXT) {
      labels.push(b.toString('utf8', p + 1, p + 1 + len));
      text += len + 1;
    }
    p += 1 + len;
  }
  let name = labels.length === 0 ? '<Root>' : labels.join('.');
  if (cut) name = name.slice(0, MAX_NAME_TEXT);
  return [name, after >= 0 ? after : p, cut];
}

function formatV6(b: Buffer, off: number): string {
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(off + i).toString(16));
  // RFC 5952: compress the longest run of zero groups.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return g.join(':');
  return `${g.slice(0, best).join(':')}::${g.slice(best + bestLen).join(':')}`;
}

function record(b: Buffer, start: number, p: number, end: number): [DnsRecord, number] {
  const [name, q] = readName(b, start, p, end);
  if (q + 10 > end) throw new DnsError('record header runs past the message');
  const type = b.readUInt16BE(q);
  const cls = b.readUInt16BE(q + 2);
  const ttl = b.readUInt32BE(q + 4);
  const rdlen = b.readUInt16BE(q + 8);
  const d = q + 10;
  if (d + rdlen > end) throw new DnsError('record data runs past the message');
  let data: string | string[] | null = null;
  switch (type) {
    case 1:
      if (rdlen === 4) data = `${b[d]}.${b[d + 1]}.${b[d + 2]}.${b[d + 3]}`;
      break;
    case 28:
      if (rdlen === 16) data = formatV6(b, d);
      break;
    case 2:
    case 5:
    case 12:
      data = readName(b, start, d, d + rdlen)[0];
      break;
    case 33:
      if (rdlen >= 7) data = `${b.readUInt16BE(d)} ${b.readUInt16BE(d + 2)} ${b.readUInt16BE(d + 4)} ${readName(b, start, d + 6, d + rdlen)[0]}`;
      break;
    case 16: {
      const strings: string[] = [];
      for (let i = d; i < d + rdlen; ) {
        const n = b[i];
        if (i + 1 + n > d + rdlen) throw new DnsError('TXT string runs past its record');
        strings.push(b.toString('utf8', i + 1, i + 1 + n));
        i += 1 + n;
      }
      data = strings;
      break;
    }
  }
  return [{ name, type, ttl, data, cacheFlush: type !== 41 && (cls & 0x8000) !== 0 }, d + rdlen];
}

/** Parses the DNS message in b[off, end). Throws DnsError on malformed input. */
export function parseDns(b: Buffer, off: number, end: number): DnsMessage {
  if (end - off < 12) throw new DnsError('shorter than a DNS header');
  const flags = b.readUInt16BE(off + 2);
  const counts = { questions: b.readUInt16BE(off + 4), answers: b.readUInt16BE(off + 6), authorities: b.readUInt16BE(off + 8), additionals: b.readUInt16BE(off + 10) };
  const m: DnsMessage = {
    id: b.readUInt16BE(off),
    response: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 15,
    authoritative: (flags & 0x0400) !== 0,
    truncated: (flags & 0x0200) !== 0,
    rcode: flags & 15,
    counts,
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
  };
  let p = off + 12;
  for (let i = 0; i < counts.questions; i++) {
    if (i >= MAX_ITEMS) throw new DnsError('too many questions');
    const [name, q, cut] = readName(b, off, p, end);
    if (q + 4 > end) throw new DnsError('question runs past the message');
    m.questions.push({ name, type: b.readUInt16BE(q), unicastResponse: (b.readUInt16BE(q + 2) & 0x8000) !== 0, ...(cut ? { nameTruncated: true } : {}) });
    p = q + 4;
  }
  const sections: [number, DnsRecord[]][] = [
    [counts.answers, m.answers],
    [counts.authorities, m.authorities],
    [counts.additionals, m.additionals],
  ];
  for (const [n, list] of sections) {
    for (let i = 0; i < n; i++) {
      if (list.length >= MAX_ITEMS) throw new DnsError('too many records');
      const [r, q] = record(b, off, p, end);
      list.push(r);
      p = q;
    }
  }
  return m;
}

export function typeName(t: number): string {
  return TYPE_NAMES[t] ?? `TYPE${t}`;
}

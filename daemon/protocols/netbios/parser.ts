/**
 * NetBIOS Name Service packets (RFC 1002 §4.2), UDP 137. The header is DNS-shaped (§4.2.1.1):
 * NAME_TRN_ID, then R, OPCODE (0 query, 5 registration, 6 release, 7 WACK, 8/9 refresh, 15
 * multi-homed registration), NM_FLAGS (AA TC RD RA 0 0 B) and RCODE, then the four counts.
 * Names are DNS names (compression pointers allowed, §4.1) whose first label is the 16-byte
 * NetBIOS name in first-level encoding (RFC 1001 §14.1): each byte split in two nibbles, each
 * written as 'A' + nibble, 32 characters; the rest of the name is the scope. The 16th byte of a
 * NetBIOS name is its suffix (0x00 workstation, 0x20 server, 0x1d master browser...).
 *
 * Resource records (§4.2.1.3): NB (0x20) RDATA is a list of NB_FLAGS (G bit = group name) and
 * IPv4 address; NBSTAT (0x21) RDATA (§4.2.18) is a count, the node's names with NAME_FLAGS, and
 * statistics starting with the 6-byte unit id (the adapter's MAC address).
 */
import { readName } from '../dns/parser.js';

export class NbnsError extends Error {}

export interface NetbiosName {
  /** The name without its padding (15 characters at most). */
  name: string;
  /** The 16th byte. */
  suffix: number;
  /** Scope id (the DNS labels after the encoded name), '' when none. */
  scope: string;
}

export interface NbnsQuestion extends NetbiosName {
  type: number;
}

export interface NbnsRecord extends NetbiosName {
  type: number;
  ttl: number;
  /** NB: one entry per address. */
  addresses?: { address: string; group: boolean; ont: number }[];
  /** NBSTAT: the node's names. */
  names?: { name: string; suffix: number; group: boolean; active: boolean }[];
  /** NBSTAT: the unit id (MAC address) of the statistics, when present. */
  unitId?: string | null;
}

export interface NbnsMessage {
  id: number;
  response: boolean;
  opcode: number;
  authoritative: boolean;
  truncated: boolean;
  recursionDesired: boolean;
  recursionAvailable: boolean;
  broadcast: boolean;
  rcode: number;
  counts: { questions: number; answers: number; authorities: number; additionals: number };
  questions: NbnsQuestion[];
  answers: NbnsRecord[];
  authorities: NbnsRecord[];
  additionals: NbnsRecord[];
}

export const NBNS_PORT = 137;
export const TYPE_NB = 0x20;
export const TYPE_NBSTAT = 0x21;
export const OPCODE_NAMES: Record<number, string> = { 0: 'query', 5: 'registration', 6: 'release', 7: 'wack', 8: 'refresh', 9: 'refresh', 15: 'multihomed-registration' };

/** More records than a real packet carries are refused (a 576-byte datagram holds a few dozen). */
const MAX_ITEMS = 64;

/** Decodes 16 bytes from their 32-character first-level encoding; null when not one. */
export function decodeFirstLevel(label: string): { name: string; suffix: number } | null {
  if (label.length !== 32) return null;
  const bytes = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) {
    const hi = label.charCodeAt(2 * i) - 0x41;
    const lo = label.charCodeAt(2 * i + 1) - 0x41;
    if (hi < 0 || hi > 15 || lo < 0 || lo > 15) return null;
    bytes[i] = (hi << 4) | lo;
  }
  return { name: netbiosText(bytes, 0), suffix: bytes[15] };
}

/** The first 15 bytes of a NetBIOS name, padding (spaces, and NULs after '*') removed. */
function netbiosText(b: Buffer, off: number): string {
  let end = off + 15;
  while (end > off && (b[end - 1] === 0x20 || b[end - 1] === 0)) end--;
  return b.toString('latin1', off, end);
}

/** "NAME<1d>": the usual way of writing a NetBIOS name with its suffix (Wireshark, nbtstat). */
export function formatName(name: string, suffix: number): string {
  return `${name}<${suffix.toString(16).padStart(2, '0')}>`;
}

function readNbName(b: Buffer, start: number, p: number, end: number): [NetbiosName, number] {
  let full: string;
  let after: number;
  try {
    [full, after] = readName(b, start, p, end);
  } catch (e) {
    throw new NbnsError((e as Error).message);
  }
  const dot = full.indexOf('.');
  const first = dot < 0 ? full : full.slice(0, dot);
  const d = decodeFirstLevel(first);
  if (!d) throw new NbnsError('name is not first-level encoded');
  return [{ name: d.name, suffix: d.suffix, scope: dot < 0 ? '' : full.slice(dot + 1) }, after];
}

function record(b: Buffer, start: number, p: number, end: number): [NbnsRecord, number] {
  const [n, q] = readNbName(b, start, p, end);
  if (q + 10 > end) throw new NbnsError('record header runs past the packet');
  const type = b.readUInt16BE(q);
  const ttl = b.readUInt32BE(q + 4);
  const rdlen = b.readUInt16BE(q + 8);
  const d = q + 10;
  if (d + rdlen > end) throw new NbnsError('record data runs past the packet');
  const r: NbnsRecord = { ...n, type, ttl };
  if (type === TYPE_NB) {
    if (rdlen % 6 !== 0) throw new NbnsError('NB data is not a list of flags and addresses');
    r.addresses = [];
    for (let i = d; i + 6 <= d + rdlen && r.addresses.length < MAX_ITEMS; i += 6) {
      const flags = b.readUInt16BE(i);
      r.addresses.push({ address: `${b[i + 2]}.${b[i + 3]}.${b[i + 4]}.${b[i + 5]}`, group: (flags & 0x8000) !== 0, ont: (flags >> 13) & 3 });
    }
  } else if (type === TYPE_NBSTAT && rdlen > 0) {
    const count = b[d];
    if (1 + count * 18 > rdlen) throw new NbnsError('NBSTAT names run past their record');
    r.names = [];
    for (let i = 0; i < count; i++) {
      const o = d + 1 + i * 18;
      const flags = b.readUInt16BE(o + 16);
      r.names.push({ name: netbiosText(b, o), suffix: b[o + 15], group: (flags & 0x8000) !== 0, active: (flags & 0x0400) !== 0 });
    }
    const s = d + 1 + count * 18;
    r.unitId = s + 6 <= d + rdlen ? [...b.subarray(s, s + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':') : null;
  }
  return [r, d + rdlen];
}

/** Parses the NBNS packet in b[off, end). Throws NbnsError on malformed input. */
export function parseNbns(b: Buffer, off: number, end: number): NbnsMessage {
  if (end - off < 12) throw new NbnsError('shorter than a name service header');
  const flags = b.readUInt16BE(off + 2);
  const counts = { questions: b.readUInt16BE(off + 4), answers: b.readUInt16BE(off + 6), authorities: b.readUInt16BE(off + 8), additionals: b.readUInt16BE(off + 10) };
  if (counts.questions + counts.answers + counts.authorities + counts.additionals > MAX_ITEMS) throw new NbnsError('too many entries');
  const m: NbnsMessage = {
    id: b.readUInt16BE(off),
    response: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 15,
    authoritative: (flags & 0x0400) !== 0,
    truncated: (flags & 0x0200) !== 0,
    recursionDesired: (flags & 0x0100) !== 0,
    recursionAvailable: (flags & 0x0080) !== 0,
    broadcast: (flags & 0x0010) !== 0,
    rcode: flags & 15,
    counts,
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
  };
  let p = off + 12;
  for (let i = 0; i < counts.questions; i++) {
    const [n, q] = readNbName(b, off, p, end);
    if (q + 4 > end) throw new NbnsError('question runs past the packet');
    m.questions.push({ ...n, type: b.readUInt16BE(q) });
    p = q + 4;
  }
  for (const [count, list] of [
    [counts.answers, m.answers],
    [counts.authorities, m.authorities],
    [counts.additionals, m.additionals],
  ] as const) {
    for (let i = 0; i < count; i++) {
      const [r, q] = record(b, off, p, end);
      list.push(r);
      p = q;
    }
  }
  return m;
}

/**
 * A name service packet: a known opcode, at least one entry, counts a small packet can hold,
 * and a first name that decodes. Enough to tell NBNS on port 137.
 */
export function looksLikeNbns(b: Buffer, off: number, len: number): boolean {
  if (len < 50) return false;
  const flags = b.readUInt16BE(off + 2);
  if (!(((flags >> 11) & 15) in OPCODE_NAMES)) return false;
  try {
    readNbName(b, off, off + 12, off + len);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether bytes are a DNS message (RFC 1035 §4.1), for the detection order: a plausible header,
 * one question with a well-formed name and a type and class in use, and resource records that
 * fit the message. Length-prefixed binary protocols (XMPP-style framings on 5222 and 443, RPCs)
 * passed the older check, which only read a length, a non-zero question count and one name;
 * the counts and the exact end of the message are what they cannot fake. Reads in place,
 * allocates nothing, throws nothing.
 */

/** Opcodes in use (RFC 1035 §4.1.1, RFC 1996 NOTIFY, RFC 2136 UPDATE). */
function opcodeOk(op: number): boolean {
  return op === 0 || op === 1 || op === 2 || op === 4 || op === 5;
}

/** Classes a question or record carries: IN, CH, HS (RFC 1035 §3.2.4), NONE (RFC 2136 §2.4), ANY. */
function classOk(c: number): boolean {
  return c === 1 || c === 3 || c === 4 || c === 254 || c === 255;
}

/**
 * Types: the data and meta types assigned so far (1-511 covers them, RFC 6895 §3.1 and the IANA
 * registry: URI 256, CAA 257...), TA and DLV (32768, 32769), and the private-use range.
 */
function typeOk(t: number): boolean {
  return (t >= 1 && t <= 511) || t === 32768 || t === 32769 || (t >= 65280 && t <= 65534);
}

/**
 * An uncompressed name (the question's: nothing precedes it to point to, §4.1.4): labels of
 * 1-63 octets, 255 octets at most (§2.3.4), ending inside buf[..end). Returns the offset after
 * it, or -1.
 */
function plainName(b: Buffer, p: number, end: number): number {
  let total = 0;
  for (;;) {
    if (p >= end) return -1;
    const n = b[p];
    if (n === 0) return p + 1;
    if (n > 63) return -1;
    total += n + 1;
    if (total > 255 || p + 1 + n > end) return -1;
    p += 1 + n;
  }
}

/** A record's owner name: labels, ending with the root or a pointer into the message (§4.1.4). */
function recordName(b: Buffer, msg: number, p: number, end: number): number {
  let total = 0;
  for (;;) {
    if (p >= end) return -1;
    const n = b[p];
    if (n === 0) return p + 1;
    if ((n & 0xc0) === 0xc0) {
      if (p + 1 >= end) return -1;
      const target = msg + (((n & 0x3f) << 8) | b[p + 1]);
      // Past the header, inside the message, not to itself. §4.1.4 means a prior occurrence, but
      // forward pointers are met (suricata-verify/dns-forward-pointer) and the parser reads them.
      return target >= msg + 12 && target < end && target !== p ? p + 2 : -1;
    }
    if (n > 63) return -1;
    total += n + 1;
    if (total > 255 || p + 1 + n > end) return -1;
    p += 1 + n;
  }
}

/** Questions a datagram on a DNS port may carry (one in practice; a few in crafted or old queries). */
const MAX_QUESTIONS = 4;

/** Records walked at most: a longer message is judged on its first ones. */
const MAX_WALK = 64;

/**
 * The DNS message at buf[off, end). `complete`: end is the message's end (a datagram, or a TCP
 * message wholly in the segment), so the records must end exactly there; otherwise the bytes
 * stop inside the message and a record cut by the end is fine. `responses`: a response may be
 * accepted (where the port says DNS); elsewhere only a query opens a DNS connection. `loose`
 * (a datagram on a DNS port): up to MAX_QUESTIONS questions, compressed question names.
 */
export function plausibleDns(b: Buffer, off: number, end: number, responses: boolean, complete: boolean, loose = false): boolean {
  if (end - off < 12) return false;
  const flags = b.readUInt16BE(off + 2);
  const qr = flags >> 15;
  const op = (flags >> 11) & 15;
  const rcode = flags & 15;
  // The Z bit is zero (AD and CD beside it are RFC 4035 §3.2's).
  if (!opcodeOk(op) || flags & 0x40) return false;
  const qd = b.readUInt16BE(off + 4);
  const an = b.readUInt16BE(off + 6);
  const ns = b.readUInt16BE(off + 8);
  const ar = b.readUInt16BE(off + 10);
  if (qr === 0) {
    if (rcode !== 0) return false;
    switch (op) {
      case 0: // a standard query: one question, an OPT record (RFC 6891) and/or a TSIG (RFC 8945)
        if (qd < 1 || qd > (loose ? MAX_QUESTIONS : 1) || an !== 0 || ns !== 0 || ar > 2) return false;
        break;
      case 4: // NOTIFY (RFC 1996 §3.7): the zone, maybe its SOA
        if (qd !== 1 || an > 1 || ns !== 0 || ar > 2) return false;
        break;
      case 5: // UPDATE (RFC 2136 §2.3): exactly one zone
        if (qd !== 1) return false;
        break;
      case 1: // inverse query (RFC 1035 §6.4.1, obsolete): no question, one answer
        if (qd !== 0 || an !== 1) return false;
        break;
      default: // STATUS: never specified
        if (qd > 1) return false;
    }
  } else {
    if (!responses) return false;
    // A response repeats the question; only an error may come without it.
    if (qd > (loose ? MAX_QUESTIONS : 1) || (qd === 0 && rcode === 0 && op === 0)) return false;
  }
  const records = an + ns + ar;
  // Each record takes at least 11 octets (a root owner and the fixed fields).
  if (complete && 12 + qd * 5 + records * 11 > end - off) return false;
  if (qd > MAX_QUESTIONS) return false;
  let p = off + 12;
  for (let i = 0; i < qd; i++) {
    // The first name has nothing before it to point to (§4.1.4): a strict check wants it whole.
    const q = loose ? recordName(b, off, p, end) : plainName(b, p, end);
    if (q < 0) return !complete && cutName(b, p, end, loose);
    if (end - q < 4) return !complete;
    if (!typeOk(b.readUInt16BE(q)) || !classOk(b.readUInt16BE(q + 2))) return false;
    p = q + 4;
  }
  for (let i = 0; i < records && i < MAX_WALK; i++) {
    if (p >= end) return !complete;
    const q = recordName(b, off, p, end);
    if (q < 0) return !complete && cutName(b, p, end, true);
    if (end - q < 10) return !complete;
    const type = b.readUInt16BE(q);
    const cls = b.readUInt16BE(q + 2);
    const rdlen = b.readUInt16BE(q + 8);
    if (type === 41) {
      // OPT (RFC 6891 §6.1.2): owned by the root, version 0 (§6.1.3).
      if (q !== p + 1 || b[q + 5] !== 0) return false;
    } else if (type === 0 || !classOk(cls)) return false;
    p = q + 10 + rdlen;
    if (p > end) return !complete;
  }
  return !complete || records > MAX_WALK || p === end;
}

/** A name that only ran out of bytes (well-formed labels up to the end), not a malformed one. */
function cutName(b: Buffer, p: number, end: number, pointers: boolean): boolean {
  let total = 0;
  while (p < end) {
    const n = b[p];
    if (n === 0) return false; // it ended: what failed was something else
    if (pointers && (n & 0xc0) === 0xc0) return p + 1 >= end;
    if (n > 63) return false;
    total += n + 1;
    if (total > 255) return false;
    p += 1 + n;
  }
  return true;
}

/**
 * A DNS datagram (UDP on the DNS or LLMNR port): a query or a response, whole. Checked before the
 * RTP heuristic on those ports: a transaction id from 0x8000 to 0xbfff reads as RTP version 2,
 * so a quarter of all queries would otherwise be taken for RTP. LLMNR (RFC 4795 §2.1.1) has the
 * same header; its C and T flags sit where AA and RD are.
 */
export function looksLikeDnsMessage(buf: Buffer, off: number, end: number): boolean {
  return plausibleDns(buf, off, end, true, true, true);
}

/**
 * The start of a DNS-over-TCP stream (RFC 1035 §4.2.2: each message after a two-octet length).
 * `onDnsPort`: the connection uses port 53, where a response may come first (the capture started
 * mid-connection), a message may run past this segment, and a client may send the length alone
 * first; the content must still read as DNS. Elsewhere: a whole query, its length prefix equal
 * to the message (pipelined queries may follow in the segment).
 */
export function looksLikeDnsTcp(buf: Buffer, off: number, len: number, onDnsPort: boolean): boolean {
  if (len < 2) return false;
  const msgLen = buf.readUInt16BE(off);
  if (msgLen < 12) return false;
  if (onDnsPort && len === 2) return true;
  if (2 + msgLen <= len) return plausibleDns(buf, off + 2, off + 2 + msgLen, onDnsPort, true);
  return onDnsPort && plausibleDns(buf, off + 2, off + len, true, false);
}

/** Formatting and classification of addresses held as four 32-bit words (see Packet). */

export type AddrWords = [number, number, number, number];

export function isV4Mapped(w0: number, w1: number, w2: number): boolean {
  return w0 === 0 && w1 === 0 && w2 === 0xffff;
}

export function formatIpv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** RFC 5952 text form: lower case, longest run of two or more zero groups compressed. */
export function formatIpv6(w0: number, w1: number, w2: number, w3: number): string {
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

export function formatAddr(w0: number, w1: number, w2: number, w3: number): string {
  return isV4Mapped(w0, w1, w2) ? formatIpv4(w3) : formatIpv6(w0, w1, w2, w3);
}

/** Recently formatted MACs: a home has few, and reports name each one many times. */
const macText = new Map<number, string>();

export function formatMac(mac: number): string {
  if (mac < 0) return '';
  const known = macText.get(mac);
  if (known !== undefined) return known;
  if (macText.size > 4096) macText.clear();
  const text = formatMacUncached(mac);
  macText.set(mac, text);
  return text;
}

function formatMacUncached(mac: number): string {
  const hi = Math.floor(mac / 4294967296);
  const lo = mac >>> 0;
  const b = [hi >>> 8, hi & 255, lo >>> 24, (lo >>> 16) & 255, (lo >>> 8) & 255, lo & 255];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function parseMac(text: string): number {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new Error(`not a MAC address: ${text}`);
  return parts.reduce((acc, p) => acc * 256 + parseInt(p, 16), 0);
}

/** Parses IPv4 or IPv6 text into words (IPv4 as v4-mapped); throws on bad input. */
export function parseAddr(text: string): AddrWords {
  if (text.includes(':')) {
    let s = text;
    let tailV4: number | null = null;
    const lastColon = s.lastIndexOf(':');
    if (s.slice(lastColon + 1).includes('.')) {
      tailV4 = parseIpv4(s.slice(lastColon + 1));
      s = `${s.slice(0, lastColon + 1)}0:0`;
    }
    const halves = s.split('::');
    if (halves.length > 2) throw new Error(`bad IPv6 address: ${text}`);
    const head = halves[0] ? halves[0].split(':') : [];
    const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
    const fill = 8 - head.length - tail.length;
    if ((halves.length === 1 && fill !== 0) || fill < 0) throw new Error(`bad IPv6 address: ${text}`);
    const groups = [...head, ...Array(halves.length === 2 ? fill : 0).fill('0'), ...tail].map((h) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(h)) throw new Error(`bad IPv6 address: ${text}`);
      return parseInt(h, 16);
    });
    const w: AddrWords = [0, 0, 0, 0];
    for (let i = 0; i < 4; i++) w[i] = ((groups[2 * i] << 16) | groups[2 * i + 1]) >>> 0;
    if (tailV4 !== null) w[3] = tailV4;
    return w;
  }
  return [0, 0, 0xffff, parseIpv4(text)];
}

export function parseIpv4(text: string): number {
  const p = text.split('.');
  if (p.length !== 4 || p.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) throw new Error(`bad IPv4 address: ${text}`);
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

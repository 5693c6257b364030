/**
 * Names shared by the UCI and MUD renderers: device ids from MACs, DNS names checked against
 * what dnsmasq and the MUD modules accept, and free text made safe for config comments.
 */
import { isIP } from 'node:net';

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** `aa:bb:cc:dd:ee:ff` → `aabbccddeeff`: usable in UCI section names, nft set names and file names. */
export function macId(mac: string): string {
  const m = mac.toLowerCase().replace(/-/g, ':');
  if (!MAC.test(m)) throw new Error(`"${mac}" is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  return m.replace(/:/g, '');
}

export function normalMac(mac: string): string | null {
  const m = mac.toLowerCase().replace(/-/g, ':');
  return MAC.test(m) ? m : null;
}

/**
 * A label as ietf-inet-types `domain-name` allows it (RFC 6991 §4: each label starts with a
 * letter, digit or underscore and ends with a letter or digit, at most 63 characters), which
 * is also what dnsmasq takes in `--nftset=/name/`.
 */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?$/;

/**
 * The host name in the form both outputs use (lower case, no trailing dot), or null when it
 * cannot be one: a label the YANG type refuses, more than 253 characters, or an IP address.
 */
export function dnsName(name: string): string | null {
  const n = name.trim().toLowerCase().replace(/\.$/, '');
  if (n === '' || n.length > 253 || !n.split('.').every((l) => LABEL.test(l))) return null;
  // Only digits and dots can still be an IPv4 address (an IPv6 one has colons, refused above).
  return /^[0-9.]+$/.test(n) && isIP(n) !== 0 ? null : n;
}

export function ipFamily(ip: string): 4 | 6 | null {
  const f = isIP(ip);
  return f === 4 || f === 6 ? f : null;
}

/** Link-local and unspecified addresses name no destination a rule should hold. */
export function usableAddress(ip: string): boolean {
  const f = ipFamily(ip);
  if (f === 4) return !ip.startsWith('169.254.') && ip !== '0.0.0.0';
  if (f === 6) return !/^fe[89ab][0-9a-f]:/i.test(ip) && ip !== '::';
  return false;
}

/** One line of free text (device names come from DHCP and mDNS): no control characters. */
export function oneLine(s: string, max = 160): string {
  if (s.length <= max && /^[\x21-\x7e]+( [\x21-\x7e]+)*$/.test(s)) return s; // already plain
  const t = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/**
 * Printable ASCII without quotes or backslashes, at most `maxBytes`: what survives as an fw4 rule
 * name, which fw4 copies into an nft comment (`comment "!fw4: NAME"`, templates/rule.uc).
 */
export function asciiLabel(s: string, maxBytes: number): string {
  const t = oneLine(s, 400)
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9 ._:()+/,-]+/g, '_')
    .replace(/_+/g, '_')
    .trim();
  return t.length > maxBytes ? t.slice(0, maxBytes).trimEnd() : t;
}

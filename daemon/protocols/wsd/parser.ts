/**
 * WS-Discovery messages (SOAP-over-UDP on port 3702, to 239.255.255.250 / ff02::c and unicast
 * answers): OASIS WS-Discovery 1.1 (namespace .../ws-dd/ns/discovery/2009/01) and the April 2005
 * draft (schemas.xmlsoap.org/ws/2005/04/discovery) that ONVIF (Core Specification §7.3) and
 * Windows (WSD, wsdd) use. Pure parsing: bytes in, one message's fields out.
 *
 * What is read (WS-Discovery 1.1 §4-6): the action, from the wsa:Action header (§4.1 Hello,
 * §4.2 Bye, §5.2 Probe, §5.3 ProbeMatches, §6.1 Resolve, §6.2 ResolveMatches) or else from the
 * Body's first element; d:Types (a list of QNames, §4.1: prefixes resolved with the message's
 * namespace declarations), d:Scopes (a list of URIs, §4.1; %-escapes decoded), d:XAddrs (a list
 * of transport addresses, §4.1) and the wsa:EndpointReference/wsa:Address (the endpoint's stable
 * identifier, usually urn:uuid:..., §2.4).
 */
import { MAX_TEXT, Tok, XmlScanner } from './xml.js';

export const WSD_2005 = 'http://schemas.xmlsoap.org/ws/2005/04/discovery';
export const WSD_2009 = 'http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01';
const NS_2005 = Buffer.from(WSD_2005);
const NS_2009 = Buffer.from(WSD_2009);
const ENVELOPE = Buffer.from('Envelope');

/** Bytes of a message looked at; the rest of a larger one is ignored (and said to be). */
export const MAX_MESSAGE = 16 * 1024;
/** Values kept per list. */
export const LIST_MAX = 20;
const ITEM_MAX = 1024;

const N = (s: string) => Buffer.from(s);
const E_HEADER = N('Header');
const E_BODY = N('Body');
const E_ACTION = N('Action');
const E_TYPES = N('Types');
const E_SCOPES = N('Scopes');
const E_XADDRS = N('XAddrs');
const E_EPR = N('EndpointReference');
const E_ADDRESS = N('Address');

const ACTIONS = new Set(['Hello', 'Bye', 'Probe', 'ProbeMatches', 'Resolve', 'ResolveMatches']);
/** Messages a target sends about itself (WS-Discovery 1.1 §4, §5.3, §6.2). */
export const ANNOUNCING = new Set(['Hello', 'Bye', 'ProbeMatches', 'ResolveMatches']);

export interface WsdMessage {
  /** Short action name: Hello, Bye, Probe, ProbeMatches, Resolve, ResolveMatches (or another). */
  action: string | null;
  /** Which WS-Discovery namespace the message uses. */
  version: '2005/04' | '2009/01';
  /** Local names of the Types QNames, and `{namespace}local` when the prefix was declared. */
  types: string[];
  qualifiedTypes: string[];
  scopes: string[];
  xaddrs: string[];
  endpoints: string[];
  /** The message was longer than MAX_MESSAGE, or its XML broke off: fields are partial. */
  truncated: boolean;
}

/** Where `needle` first occurs in buf[off, end), or -1. */
function indexIn(buf: Buffer, needle: Buffer, off: number, end: number): number {
  const i = buf.indexOf(needle, off);
  return i >= 0 && i + needle.length <= end ? i : -1;
}

/**
 * An XML document (optional BOM, white space, `<?xml`) whose first 2 KB hold a SOAP `Envelope`
 * tag and a WS-Discovery namespace.
 */
export function looksLikeWsd(buf: Buffer, off: number, len: number): boolean {
  let p = off;
  const end = off + Math.min(len, 2048);
  if (end - p >= 3 && buf[p] === 0xef && buf[p + 1] === 0xbb && buf[p + 2] === 0xbf) p += 3;
  while (p < end && (buf[p] === 0x20 || buf[p] === 0x09 || buf[p] === 0x0a || buf[p] === 0x0d)) p++;
  if (p >= end || buf[p] !== 0x3c) return false;
  if (indexIn(buf, ENVELOPE, p, end) < 0) return false;
  return indexIn(buf, NS_2005, p, end) >= 0 || indexIn(buf, NS_2009, p, end) >= 0;
}

function push(list: string[], v: string): void {
  if (v.length === 0 || list.length >= LIST_MAX || list.includes(v)) return;
  list.push(v.length > ITEM_MAX ? v.slice(0, ITEM_MAX) : v);
}

/** A whitespace-separated list (xs:list, XML Schema Part 2 §3.2.18 / §4.1.7 whiteSpace collapse). */
function tokens(text: string | null): string[] {
  if (!text) return [];
  const out: string[] = [];
  for (const t of text.split(/[ \t\r\n]+/)) {
    if (t) out.push(t);
    if (out.length >= LIST_MAX * 2) break;
  }
  return out;
}

function unescapeUri(s: string): string {
  if (s.indexOf('%') < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a stray '%' or bytes that are not UTF-8: kept as sent
  }
}

/** Decodes one datagram; a string says why it is not a readable WS-Discovery message. */
export function parseWsd(buf: Buffer, off: number, len: number): WsdMessage | string {
  const end = off + Math.min(len, MAX_MESSAGE);
  const sc = new XmlScanner(buf, off, end);
  const ns = new Map<string, string>();
  const m: WsdMessage = { action: null, version: '2005/04', types: [], qualifiedTypes: [], scopes: [], xaddrs: [], endpoints: [], truncated: len > MAX_MESSAGE };
  let first = true;
  let inHeader = false;
  let inBody = false;
  let bodyDepth = -1;
  let eprDepth = -1;
  let actionUri: string | null = null;
  let bodyElement: string | null = null;
  for (let n = 0; n < 4096; n++) {
    const t = sc.next();
    if (t === Tok.End) break;
    if (t === Tok.Error) {
      if (first) return `malformed XML: ${sc.error}`;
      m.truncated = true;
      break;
    }
    if (t === Tok.Close) {
      if (sc.localIs(E_HEADER)) inHeader = false;
      else if (sc.localIs(E_BODY)) inBody = false;
      else if (eprDepth >= 0 && sc.depth < eprDepth) eprDepth = -1;
      continue;
    }
    sc.declarations(ns);
    const depth = sc.selfClosing ? sc.depth + 1 : sc.depth;
    if (first) {
      if (!sc.localIs(ENVELOPE)) return 'not a SOAP Envelope';
      first = false;
      continue;
    }
    if (depth === 2) {
      if (sc.localIs(E_HEADER)) inHeader = !sc.selfClosing;
      else if (sc.localIs(E_BODY)) {
        inBody = !sc.selfClosing;
        bodyDepth = depth;
      }
      continue;
    }
    if (inHeader) {
      if (depth === 3 && sc.localIs(E_ACTION)) actionUri = sc.text();
      continue;
    }
    if (!inBody) continue;
    if (depth === bodyDepth + 1 && bodyElement === null) bodyElement = sc.localName().slice(0, 64);
    if (sc.localIs(E_TYPES)) {
      for (const q of tokens(sc.text())) {
        const c = q.indexOf(':');
        const local = c >= 0 ? q.slice(c + 1) : q;
        push(m.types, local);
        const uri = ns.get(c >= 0 ? q.slice(0, c) : '');
        if (uri) push(m.qualifiedTypes, `{${uri}}${local}`);
      }
    } else if (sc.localIs(E_SCOPES)) {
      for (const s of tokens(sc.text())) push(m.scopes, unescapeUri(s));
    } else if (sc.localIs(E_XADDRS)) {
      for (const s of tokens(sc.text())) push(m.xaddrs, s);
    } else if (sc.localIs(E_EPR)) {
      if (!sc.selfClosing) eprDepth = sc.depth;
    } else if (eprDepth >= 0 && sc.localIs(E_ADDRESS)) {
      const a = sc.text();
      if (a) push(m.endpoints, a);
    }
  }
  if (first) return 'no XML element';
  let version: WsdMessage['version'] | null = null;
  for (const uri of ns.values()) {
    if (uri === WSD_2009) version = '2009/01';
    else if (uri === WSD_2005 && version === null) version = '2005/04';
  }
  if (actionUri) {
    const u = actionUri.slice(0, MAX_TEXT);
    if (u.startsWith(`${WSD_2009}/`)) version = '2009/01';
    else if (u.startsWith(`${WSD_2005}/`)) version ??= '2005/04';
    const last = u.slice(u.lastIndexOf('/') + 1);
    if (/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(last)) m.action = last;
  }
  if (m.action === null && bodyElement !== null && ACTIONS.has(bodyElement)) m.action = bodyElement;
  if (version === null) return 'no WS-Discovery namespace';
  if (m.action === null) return 'no WS-Discovery action';
  m.version = version;
  return m;
}

/**
 * CoAP flows (RFC 7252) on UDP 5683: what is asked (methods, Uri-Path, Uri-Query with secret
 * values redacted, Uri-Host), what is answered (response codes, Content-Formats) and, from a
 * CoRE Link Format answer (RFC 6690, Content-Format 40, the reply to GET /.well-known/core), the
 * resources the server lists and their resource types (`rt=`), which name what the device is.
 * A link-format answer split with Block2 (RFC 7959 §2.2) is put back together before it is read.
 * CoAP over DTLS (coaps, UDP 5684) is only recognised: it is encrypted.
 */
import { addSide, type Side } from '../dns/state.js';
import { REDACTED } from '../redact.js';
import type { DatagramParser, FlowContext } from '../parser-types.js';
import { type CoapMessage, codeText, METHODS, OPTION_NAMES, parseCoap, parseLinkFormat, uint } from './parser.js';

export const COAP_PORT = 5683;
export const COAPS_PORT = 5684;

const SAMPLE = 20;
const PATH_CHARS = 256;
const LINK_BYTES = 16 * 1024;
const CONTENT_FORMAT_LINK = 40;
const SECRET_PARAM = /^(pass|passwd|password|pwd|pw|psw|passphrase|secret|token|access_token|auth|key|apikey|api_key|sig|signature|psk|pin)$/i;

export interface CoapFacts {
  messages: number;
  /** Request methods (GET, POST...) and response codes ("2.05"). */
  methods: string[];
  /** Requested paths, Uri-Path options joined with "/" ("/.well-known/core"). */
  paths: string[];
  /** Uri-Query options ("rt=light"), values of secret-looking keys redacted. */
  queries: string[];
  /** Uri-Host options of the requests. */
  uriHosts: string[];
  /** Content-Format numbers (0 text/plain, 40 link-format, 50 JSON, 60 CBOR...). */
  contentFormats: number[];
  /** `rt=` values of the links the server listed (RFC 6690 §3.1). */
  resourceTypes: string[];
  /** Paths of the links the server listed. */
  links: string[];
  /** An Observe option was seen (RFC 7641): a subscription to a resource. */
  observe: boolean;
  /** The side that sent responses (the CoAP server: the device the resources are on). */
  server: Side | null;
  /** The side that sent requests. */
  client: Side | null;
  malformed: number;
}

function option(m: CoapMessage, n: number): Buffer | null {
  return m.options.find((o) => o.number === n)?.value ?? null;
}

function redactQuery(q: string): string {
  const eq = q.indexOf('=');
  if (eq <= 0 || eq === q.length - 1) return q;
  return SECRET_PARAM.test(q.slice(0, eq)) ? `${q.slice(0, eq)}=${REDACTED}` : q;
}

function block(v: Buffer | null): { num: number; more: boolean; size: number } | null {
  if (!v) return null;
  const x = uint(v);
  return { num: Math.floor(x / 16), more: (x & 8) !== 0, size: 1 << ((x & 7) + 4) };
}

export class CoapFlow implements DatagramParser {
  readonly app = 'coap';
  readonly encrypted = false;
  readonly f: CoapFacts = { messages: 0, methods: [], paths: [], queries: [], uriHosts: [], contentFormats: [], resourceTypes: [], links: [], observe: false, server: null, client: null, malformed: 0 };
  /** Path of each recent request, by token. */
  private readonly asked = new Map<string, string>();
  /** A link-format answer being put back together from its blocks, per direction. */
  private readonly linkText: ({ next: number; parts: Buffer[]; bytes: number } | null)[] = [null, null];

  constructor(private readonly ctx: FlowContext) {}

  datagram(dir: number, buf: Buffer, off: number, len: number): void {
    let m: CoapMessage;
    try {
      m = parseCoap(buf, off, off + len);
    } catch (e) {
      this.f.malformed++;
      this.ctx.emit('anomaly', { protocol: 'coap', event: `malformed: ${(e as Error).message}` }, dir);
      return;
    }
    const f = this.f;
    f.messages++;
    const add = <T>(list: T[], v: T) => {
      if (list.length < SAMPLE && !list.includes(v)) list.push(v);
    };
    const cls = m.code >> 5;
    const method = cls === 0 ? (METHODS[m.code & 31] ?? null) : null;
    const strings = (n: number) => m.options.filter((o) => o.number === n).map((o) => o.value.toString('utf8'));
    const path = `/${strings(11).join('/')}`.slice(0, PATH_CHARS);
    const queries = strings(15).map(redactQuery);
    const cfv = option(m, 12);
    const contentFormat = cfv ? uint(cfv) : null;
    const observe = option(m, 6);
    const tokenKey = m.token.toString('hex');
    if (method) {
      f.client = addSide(f.client, dir);
      add(f.methods, method);
      add(f.paths, path);
      for (const q of queries) add(f.queries, q.slice(0, PATH_CHARS));
      for (const h of strings(3)) add(f.uriHosts, h);
      if (this.asked.size >= 32) this.asked.delete(this.asked.keys().next().value as string);
      this.asked.set(tokenKey, path);
    } else if (cls >= 2) {
      f.server = addSide(f.server, dir);
      add(f.methods, codeText(m.code));
      const request = this.asked.get(tokenKey) ?? null;
      const isLinks = contentFormat === CONTENT_FORMAT_LINK || (contentFormat === null && request === '/.well-known/core');
      if (isLinks && m.payload.length > 0) this.links(dir, m);
    }
    if (contentFormat !== null) add(f.contentFormats, contentFormat);
    if (observe) f.observe = true;
    this.ctx.emit(
      'coap',
      () => ({
        type: m.type,
        code: codeText(m.code),
        method,
        messageId: m.messageId,
        tokenLength: m.tokenLength,
        options: m.options.map((o) => OPTION_NAMES[o.number] ?? o.number),
        uriHost: strings(3)[0] ?? null,
        uriPath: method ? path : null,
        uriQuery: queries,
        contentFormat,
        accept: option(m, 17) ? uint(option(m, 17)!) : null,
        observe: observe ? uint(observe) : null,
        block1: block(option(m, 27)),
        block2: block(option(m, 23)),
        payloadLength: m.payload.length,
      }),
      dir,
    );
  }

  /** A link-format payload, or one block of it. */
  private links(dir: number, m: CoapMessage): void {
    const b2 = block(option(m, 23));
    let text: Buffer;
    if (!b2 || (b2.num === 0 && !b2.more)) {
      text = m.payload;
    } else {
      let acc = this.linkText[dir];
      if (b2.num === 0) acc = this.linkText[dir] = { next: 0, parts: [], bytes: 0 };
      if (!acc || acc.next !== b2.num) return; // a block out of order or a retransmission
      if (acc.bytes + m.payload.length <= LINK_BYTES) {
        acc.parts.push(m.payload);
        acc.bytes += m.payload.length;
      }
      acc.next++;
      if (b2.more) return;
      this.linkText[dir] = null;
      text = Buffer.concat(acc.parts);
    }
    const f = this.f;
    for (const l of parseLinkFormat(text.toString('utf8'))) {
      const uri = l.uri.slice(0, PATH_CHARS);
      if (f.links.length < SAMPLE * 2 && !f.links.includes(uri)) f.links.push(uri);
      for (const t of (l.params.rt ?? '').split(' ')) {
        const rt = t.slice(0, PATH_CHARS);
        if (rt && f.resourceTypes.length < SAMPLE * 2 && !f.resourceTypes.includes(rt)) f.resourceTypes.push(rt);
      }
    }
  }

  facts(): Record<string, unknown> {
    return { coap: this.f };
  }
}

/** CoAP over DTLS (RFC 7252 §9): recognised, never read. */
export class CoapsFlow implements DatagramParser {
  readonly app = 'coaps';
  readonly encrypted = true;

  datagram(): void {
    /* encrypted */
  }

  facts(): null {
    return null;
  }
}

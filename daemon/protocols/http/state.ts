/**
 * HTTP/1.x connections: requests and responses in order (pipelining included), bodies skipped by
 * Content-Length or chunked framing. Reports method, Host, path, User-Agent, Content-Type, status,
 * whether credentials were sent (`Authorization`: the scheme only, never the value) and MJPEG
 * streams (multipart/x-mixed-replace). A `101 Switching Protocols` to WebSocket hands the frames
 * over: to the MQTT dissector when the subprotocol is MQTT.
 */
import { MqttSession } from '../mqtt/state.js';
import { type FlowContext, PendingBytes, type StreamParser } from '../parser-types.js';
import { type HeaderBlock, header, parseHeaderBlock } from './message.js';
import { WebSocketFramer } from './websocket.js';
import { MAX_DESCRIPTION, parseUpnpDescription, type UpnpDescription } from './upnp.js';
import { redactUrl } from '../redact.js';

const SAMPLE = 20;
const MAX_MESSAGES = 100;

export interface HttpFacts {
  host: string | null;
  userAgent: string | null;
  requests: number;
  methods: string[];
  paths: string[];
  statuses: number[];
  contentTypes: string[];
  /** Authorization schemes sent (Basic, Digest, Bearer...): credentials crossed this flow. */
  authorization: string[];
  /** A multipart/x-mixed-replace response: an MJPEG camera stream. */
  mjpeg: boolean;
  /** FLV video (video/x-flv or an FLV signature) in a response. */
  flv: boolean;
  websocket: boolean;
  websocketProtocol: string | null;
  anomalies: string[];
  /**
   * A UPnP device description served in a response (UPnP Device Architecture 2.0 §2.3): the
   * device it describes is the response's sender, `side` of the flow (normally `resp`).
   */
  upnp?: UpnpDescription & { side: 'orig' | 'resp' };
}

/** XML response bodies read, at most, per connection, looking for a UPnP device description. */
const MAX_XML_BODIES = 4;

const enum Body {
  None,
  Length,
  Chunked,
  /** Until the connection closes (a response with neither length nor chunking), or a stream. */
  Unbounded,
}

export class HttpSession implements StreamParser {
  app = 'http';
  readonly encrypted = false;
  private readonly pending = [new PendingBytes(64 * 1024), new PendingBytes(64 * 1024)];
  private readonly bodyKind = [Body.None, Body.None];
  private readonly bodyLeft = [0, 0];
  private readonly chunkState = [0, 0];
  private readonly methods: string[] = [];
  private ws: WebSocketFramer | null = null;
  private mqtt: MqttSession | null = null;
  private wsRequested: string | null = null;
  private readonly done = [false, false];
  /** The XML body being kept (first MAX_DESCRIPTION bytes), its direction, or -1. */
  private xml: Buffer | null = null;
  private xmlLen = 0;
  private xmlDir = -1;
  private xmlBodies = 0;
  private upnpDone = false;
  readonly f: HttpFacts = { host: null, userAgent: null, requests: 0, methods: [], paths: [], statuses: [], contentTypes: [], authorization: [], mjpeg: false, flv: false, websocket: false, websocketProtocol: null, anomalies: [] };

  constructor(private readonly ctx: FlowContext) {
    // Header blocks are small and bodies are skipped by arithmetic: follow the connection past the
    // default depth, up to MAX_MESSAGES each way, so keep-alive connections are seen whole.
    ctx.followAll();
  }

  private readonly messages = [0, 0];

  data(dir: number, data: Buffer, off: number, len: number): void {
    if (this.ws) return this.ws.data(dir, data, off, len);
    if (this.done[dir]) return;
    const v = this.pending[dir].join(data, off, len);
    let p = v.off;
    while (p < v.end && !this.done[dir] && !this.ws) {
      if (this.bodyKind[dir] !== Body.None) {
        p = this.skipBody(dir, v.buf, p, v.end);
        continue;
      }
      const r = parseHeaderBlock(v.buf, p, v.end);
      if (r === 'incomplete') break;
      if (r === 'not-http' || r === 'too-large') {
        this.note(dir, r === 'too-large' ? 'header block too large' : 'not an HTTP message');
        this.done[dir] = true;
        break;
      }
      p = r.end;
      if (r.start.kind === 'request') this.request(dir, r);
      else this.response(dir, r);
      if (++this.messages[dir] >= MAX_MESSAGES) this.done[dir] = true;
    }
    const ws = this.ws as WebSocketFramer | null; // set inside the loop by a 101 response
    if (ws && p < v.end) {
      ws.data(dir, v.buf, p, v.end - p);
      return;
    }
    if (!this.done[dir] && p < v.end && !this.pending[dir].keep(v.buf, p, v.end)) this.done[dir] = true;
    if (this.done[0] && this.done[1]) this.ctx.stop();
  }

  gap(dir: number): void {
    if (this.xmlDir === dir) this.endXml();
    this.pending[dir].clear();
    // After a hole the message boundaries are lost.
    if (!this.ws) this.done[dir] = true;
  }

  private note(dir: number, anomaly: string): void {
    if (!this.f.anomalies.includes(anomaly)) this.f.anomalies.push(anomaly);
    this.ctx.emit('anomaly', { protocol: 'http', event: anomaly }, dir);
  }

  private request(dir: number, b: HeaderBlock): void {
    const f = this.f;
    const s = b.start;
    f.requests++;
    if (s.method && !f.methods.includes(s.method)) f.methods.push(s.method);
    this.methods.push(s.method ?? '');
    const path = redactUrl(s.uri ?? '').url;
    if (f.paths.length < SAMPLE && !f.paths.includes(path)) f.paths.push(path);
    const host = header(b, 'host');
    const ua = header(b, 'user-agent');
    if (host && !f.host) f.host = host;
    if (ua && !f.userAgent) f.userAgent = ua;
    const auth = header(b, 'authorization');
    const scheme = auth ? auth.split(' ')[0] : null;
    if (scheme && !f.authorization.includes(scheme)) f.authorization.push(scheme);
    if (!s.version) this.note(dir, 'request line without protocol version');
    const upgrade = header(b, 'upgrade');
    if (upgrade?.toLowerCase() === 'websocket') this.wsRequested = header(b, 'sec-websocket-protocol');
    this.ctx.emit(
      'http',
      {
        kind: 'request',
        method: s.method,
        uri: s.uri === null || s.uri === undefined ? s.uri : redactUrl(s.uri).url,
        version: s.version,
        host,
        userAgent: ua,
        contentType: header(b, 'content-type'),
        contentLength: numberOrNull(header(b, 'content-length')),
        // The scheme says credentials were sent; the credentials themselves are never kept.
        authorization: scheme,
        upgrade,
        websocketProtocol: header(b, 'sec-websocket-protocol'),
        headers: b.headers.length,
      },
      dir,
    );
    this.startBody(dir, b, false, s.method ?? '');
  }

  private response(dir: number, b: HeaderBlock): void {
    const f = this.f;
    const status = b.start.status ?? 0;
    if (!f.statuses.includes(status) && f.statuses.length < SAMPLE) f.statuses.push(status);
    const ctype = header(b, 'content-type');
    if (ctype && !f.contentTypes.includes(ctype) && f.contentTypes.length < SAMPLE) f.contentTypes.push(ctype);
    if (ctype && /multipart\/x-mixed-replace/i.test(ctype)) f.mjpeg = true;
    if (ctype && /video\/x-flv/i.test(ctype)) f.flv = true;
    const upgrade = header(b, 'upgrade');
    const method = status >= 200 || status === 101 ? (this.methods.shift() ?? '') : (this.methods[0] ?? '');
    this.ctx.emit(
      'http',
      { kind: 'response', status, reason: b.start.reason, version: b.start.version, server: header(b, 'server'), contentType: ctype, contentLength: numberOrNull(header(b, 'content-length')), upgrade, websocketProtocol: header(b, 'sec-websocket-protocol') },
      dir,
    );
    if (status === 101 && upgrade?.toLowerCase() === 'websocket') {
      this.startWebSocket(header(b, 'sec-websocket-protocol') ?? this.wsRequested);
      return;
    }
    const noBody = method === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304;
    if (!noBody) this.startBody(dir, b, true, method);
    // A 200 with an XML body may be a UPnP device description: keep its first bytes.
    if (!noBody && status === 200 && ctype && /xml/i.test(ctype) && this.bodyKind[dir] !== Body.None && !this.upnpDone && this.xmlDir < 0 && this.xmlBodies < MAX_XML_BODIES) {
      this.xmlBodies++;
      const cl = numberOrNull(header(b, 'content-length'));
      this.xml = Buffer.allocUnsafe(Math.min(cl !== null && this.bodyKind[dir] === Body.Length ? cl : MAX_DESCRIPTION, MAX_DESCRIPTION));
      this.xmlLen = 0;
      this.xmlDir = dir;
    }
  }

  /** Keeps body bytes of the XML response being read; true once the kept bytes are full. */
  private keepXml(dir: number, buf: Buffer, p: number, n: number): boolean {
    if (this.xmlDir !== dir || !this.xml) return false;
    const take = Math.min(n, this.xml.length - this.xmlLen);
    buf.copy(this.xml, this.xmlLen, p, p + take);
    this.xmlLen += take;
    if (this.xmlLen < this.xml.length) return false;
    this.endXml();
    return true;
  }

  /** The XML body ended (or was cut): read it as a device description, then drop it. */
  private endXml(): void {
    if (this.xmlDir < 0 || !this.xml) return;
    const d = parseUpnpDescription(this.xml, 0, this.xmlLen);
    // The whole body replaces what facts() may have read from a part of it.
    if (d) {
      this.f.upnp = { ...d, side: this.xmlDir === 0 ? 'orig' : 'resp' };
      this.upnpDone = true;
    }
    this.xml = null;
    this.xmlLen = 0;
    this.xmlDir = -1;
  }

  private startBody(dir: number, b: HeaderBlock, isResponse: boolean, method: string): void {
    const te = header(b, 'transfer-encoding');
    const cl = numberOrNull(header(b, 'content-length'));
    if (te && /chunked/i.test(te)) {
      this.bodyKind[dir] = Body.Chunked;
      this.chunkState[dir] = 0;
    } else if (cl !== null && cl > 0) {
      this.bodyKind[dir] = Body.Length;
      this.bodyLeft[dir] = cl;
    } else if (isResponse && cl === null && method !== 'CONNECT') {
      this.bodyKind[dir] = Body.Unbounded;
    }
    // The first body bytes of a response say what it carries when its headers do not.
    this.sniff[dir] = isResponse && this.bodyKind[dir] !== Body.None;
  }

  private readonly sniff = [false, false];

  private sniffData(dir: number, buf: Buffer, p: number, end: number): void {
    if (!this.sniff[dir] || p >= end) return;
    this.sniff[dir] = false;
    if (this.sniffFlv(buf, p, end)) this.f.flv = true;
  }

  private skipBody(dir: number, buf: Buffer, p: number, end: number): number {
    switch (this.bodyKind[dir]) {
      case Body.Length: {
        this.sniffData(dir, buf, p, end);
        const n = Math.min(this.bodyLeft[dir], end - p);
        this.keepXml(dir, buf, p, n);
        this.bodyLeft[dir] -= n;
        if (this.bodyLeft[dir] === 0) {
          this.bodyKind[dir] = Body.None;
          if (this.xmlDir === dir) this.endXml();
        }
        return p + n;
      }
      case Body.Chunked:
        return this.skipChunked(dir, buf, p, end);
      default:
        this.sniffData(dir, buf, p, end);
        // An XML body without length is read until the kept bytes are full (or the end).
        if (this.xmlDir === dir && !this.keepXml(dir, buf, p, end - p)) return end;
        this.done[dir] = true; // a streamed body: nothing more to read in this direction
        return end;
    }
  }

  private sniffFlv(buf: Buffer, p: number, end: number): boolean {
    // FLV header (Adobe FLV spec §E.2): "FLV", version 1.
    return end - p >= 4 && buf[p] === 0x46 && buf[p + 1] === 0x4c && buf[p + 2] === 0x56 && buf[p + 3] === 1;
  }

  /** Chunked transfer coding (RFC 9112 §7.1): size line, data, CRLF; size 0 then trailers end it. */
  private skipChunked(dir: number, buf: Buffer, p: number, end: number): number {
    while (p < end) {
      if (this.bodyLeft[dir] > 0) {
        this.sniffData(dir, buf, p, end);
        const n = Math.min(this.bodyLeft[dir], end - p);
        this.keepXml(dir, buf, p, n);
        this.bodyLeft[dir] -= n;
        p += n;
        continue;
      }
      const nl = buf.indexOf(10, p);
      if (nl < 0 || nl >= end) {
        if (end - p > 1024) this.done[dir] = true;
        this.pending[dir].keep(buf, p, end);
        return end;
      }
      const line = buf.toString('latin1', p, nl).trim();
      p = nl + 1;
      if (this.chunkState[dir] === 2) {
        // trailers: end at the empty line
        if (line === '') {
          this.bodyKind[dir] = Body.None;
          return p;
        }
        continue;
      }
      if (line === '' && this.chunkState[dir] === 1) {
        this.chunkState[dir] = 0; // CRLF after chunk data
        continue;
      }
      const size = parseInt(line.split(';')[0], 16);
      if (!Number.isFinite(size) || size < 0) {
        this.note(dir, 'bad chunk size');
        this.done[dir] = true;
        return end;
      }
      if (size === 0) {
        this.chunkState[dir] = 2;
        if (this.xmlDir === dir) this.endXml();
      } else {
        this.bodyLeft[dir] = size;
        this.chunkState[dir] = 1;
      }
    }
    return p;
  }

  private startWebSocket(protocol: string | null): void {
    this.f.websocket = true;
    this.f.websocketProtocol = protocol;
    const isMqtt = protocol !== null && /(^|,\s*)mqtt(v3\.1)?(\s*,|$)/i.test(protocol);
    if (isMqtt) {
      this.app = 'mqtt-ws';
      this.mqtt = new MqttSession(this.ctx);
    } else {
      this.app = 'websocket';
      this.ctx.followAll();
    }
    this.ws = new WebSocketFramer({
      payload: (dir, buf, off, len) => this.mqtt?.data(dir, buf, off, len),
      frame: (dir, opcode, length, masked) => {
        if (!this.mqtt) this.ctx.emit('websocket', { opcode, length, masked }, dir);
      },
    });
  }

  facts(): Record<string, unknown> {
    // A description still arriving (or cut by the end of the capture): what came so far.
    if (this.xmlDir >= 0 && this.xml && !this.upnpDone) {
      const d = parseUpnpDescription(this.xml, 0, this.xmlLen);
      if (d) this.f.upnp = { ...d, side: this.xmlDir === 0 ? 'orig' : 'resp' };
    }
    const out: Record<string, unknown> = { http: this.f };
    if (this.mqtt) Object.assign(out, this.mqtt.facts());
    return out;
  }
}

function numberOrNull(v: string | null): number | null {
  if (v === null) return null;
  const n = Number(v.trim());
  return Number.isFinite(n) && n >= 0 ? n : null;
}

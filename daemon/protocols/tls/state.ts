/**
 * One TLS connection: reads records (RFC 8446 §5.1) of each direction until the ClientHello and
 * ServerHello are complete (a hello may span records and TCP segments), reports them, then lets
 * the rest of the encrypted stream go by unread.
 */
import { type FlowContext, PendingBytes, type StreamParser } from '../parser-types.js';
import { clientFingerprints, ja3s, ja3sString } from './fingerprint.js';
import { type ClientHello, parseClientHello, parseServerHello, type ServerHello, versionName } from './parser.js';

/** Largest handshake message we assemble: hellos are far smaller (post-quantum key shares included). */
const MAX_HELLO = 64 * 1024;

/** Ports and ALPN values that say the encrypted stream is MQTT (IANA: 8883 secure-mqtt). */
const MQTT_TLS_PORTS = new Set([8883]);
const MQTT_ALPN = new Set(['mqtt', 'x-amzn-mqtt-ca']);

export interface TlsFacts {
  sni: string | null;
  alpn: string[];
  version: string | null;
  cipher: number | null;
  ja3: string | null;
  ja3s: string | null;
  ja4: string | null;
  ech: boolean;
  esni: boolean;
  /** The encrypted stream carries MQTT (port 8883 or an MQTT ALPN). */
  mqtt: boolean;
}

export function looksLikeTls(buf: Buffer, off: number, len: number): boolean {
  // A handshake record, version 3.x (SSL 3.0 to TLS 1.3 legacy values), then a hello.
  return len >= 6 && buf[off] === 0x16 && buf[off + 1] === 3 && buf[off + 2] <= 4 && (buf[off + 5] === 1 || buf[off + 5] === 2);
}

export class TlsSession implements StreamParser {
  app = 'tls';
  readonly encrypted = true;
  private readonly records = [new PendingBytes(MAX_HELLO), new PendingBytes(MAX_HELLO)];
  /** Handshake bytes gathered from successive records, per direction. */
  private readonly hs: Buffer[][] = [[], []];
  private readonly done = [false, false];
  readonly f: TlsFacts = { sni: null, alpn: [], version: null, cipher: null, ja3: null, ja3s: null, ja4: null, ech: false, esni: false, mqtt: false };

  constructor(private readonly ctx: FlowContext) {
    if (MQTT_TLS_PORTS.has(ctx.respPort) || MQTT_TLS_PORTS.has(ctx.origPort)) this.markMqtt();
  }

  private markMqtt(): void {
    this.f.mqtt = true;
    this.app = 'mqtt-tls';
  }

  data(dir: number, data: Buffer, off: number, len: number): void {
    if (this.done[dir]) return;
    const v = this.records[dir].join(data, off, len);
    let p = v.off;
    while (v.end - p >= 5 && !this.done[dir]) {
      const type = v.buf[p];
      const rlen = v.buf.readUInt16BE(p + 3);
      if (v.buf[p + 1] !== 3 || rlen > 18432) {
        this.done[dir] = true; // not TLS framing (or SSLv2): stop reading this side
        break;
      }
      if (v.end - p < 5 + rlen) break;
      if (type === 22) this.handshake(dir, v.buf, p + 5, rlen);
      else if (type === 20 || type === 23 || type === 21) this.done[dir] = true; // past the hellos
      p += 5 + rlen;
    }
    if (!this.done[dir] && p < v.end && !this.records[dir].keep(v.buf, p, v.end)) this.done[dir] = true;
    if (this.done[0] && this.done[1]) this.ctx.stop();
  }

  gap(dir: number): void {
    this.records[dir].clear();
    this.done[dir] = true;
    if (this.done[0] && this.done[1]) this.ctx.stop();
  }

  private handshake(dir: number, buf: Buffer, off: number, len: number): void {
    // The usual case: the whole hello in one record, parsed where it lies.
    if (this.hs[dir].length === 0 && len >= 4 && 4 + buf.readUIntBE(off + 1, 3) <= len) {
      this.message(dir, buf, off);
      return;
    }
    this.hs[dir].push(Buffer.from(buf.subarray(off, off + len)));
    const all = this.hs[dir].length === 1 ? this.hs[dir][0] : Buffer.concat(this.hs[dir]);
    this.hs[dir] = [all];
    if (all.length < 4) return;
    const msgLen = all.readUIntBE(1, 3);
    if (msgLen > MAX_HELLO) {
      this.done[dir] = true;
      return;
    }
    if (all.length < 4 + msgLen) return;
    this.message(dir, all, 0);
    this.hs[dir] = [];
  }

  /** One complete handshake message at buf[off]. */
  private message(dir: number, buf: Buffer, off: number): void {
    const type = buf[off];
    const end = off + 4 + buf.readUIntBE(off + 1, 3);
    try {
      if (type === 1) this.clientHello(dir, parseClientHello(buf, off + 4, end));
      else if (type === 2) this.serverHello(dir, parseServerHello(buf, off + 4, end));
      else this.done[dir] = true;
    } catch (e) {
      this.ctx.emit('anomaly', { protocol: 'tls', event: `malformed ${type === 1 ? 'ClientHello' : 'ServerHello'}: ${(e as Error).message}` }, dir);
      this.done[dir] = true;
    }
  }

  private clientHello(dir: number, h: ClientHello): void {
    this.done[dir] = true;
    const f = this.f;
    f.sni = h.sni;
    f.alpn = h.alpn;
    const fp = clientFingerprints(h);
    f.ja3 = fp.ja3;
    f.ja4 = fp.ja4;
    f.ech = h.ech;
    f.esni = h.esni;
    if (h.alpn.some((a) => MQTT_ALPN.has(a))) this.markMqtt();
    this.ctx.emit(
      'tls',
      () => ({
        handshake: 'client_hello',
        version: versionName(h.version),
        supportedVersions: h.supportedVersions.map(versionName),
        sni: h.sni,
        alpn: h.alpn,
        ciphers: h.ciphers.length,
        ja3: f.ja3,
        ja3String: fp.ja3String,
        ja4: f.ja4,
        ech: h.ech,
        esni: h.esni,
      }),
      dir,
    );
  }

  private serverHello(dir: number, h: ServerHello): void {
    this.done[dir] = true;
    const f = this.f;
    const v = h.selectedVersion ?? h.version;
    f.version = versionName(v);
    f.cipher = h.cipher;
    f.ja3s = ja3s(h);
    this.ctx.emit(
      'tls',
      () => ({ handshake: 'server_hello', version: versionName(h.version), selectedVersion: h.selectedVersion === null ? null : versionName(h.selectedVersion), cipher: h.cipher, alpn: h.alpn, ja3s: f.ja3s, ja3sString: ja3sString(h) }),
      dir,
    );
  }

  facts(): Record<string, unknown> {
    return { tls: this.f };
  }
}

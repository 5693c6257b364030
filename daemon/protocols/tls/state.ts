/**
 * One TLS connection: reads records (RFC 8446 §5.1) of each direction until the ClientHello and
 * ServerHello are complete (a hello may span records and TCP segments), reports them, then lets
 * the rest of the encrypted stream go by unread. A connection seen after its handshake is
 * recognised from its record chain instead (TlsMidstream, probe.ts).
 */
import { type FlowContext, PendingBytes, type StreamParser } from '../parser-types.js';
import { clientFingerprints, ja3s, ja3sString } from './fingerprint.js';
import { type ClientHello, parseClientHello, parseServerHello, type ServerHello, versionName } from './parser.js';
import { BROKEN, RecordWalker, recordRun, recordVersionName, RUN_NO } from './probe.js';

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
  /**
   * A ClientHello or ServerHello was read. False for a connection recognised from its records
   * alone (seen after its handshake): no SNI, ALPN or fingerprints then.
   */
  helloSeen: boolean;
  /**
   * Without hellos: the version the record headers carry. TLS 1.3 records say TLSv1.2 (RFC 8446
   * §5.1, Appendix D), so `version` is taken from it only for TLSv1.0 and TLSv1.1: after a
   * handshake no later version writes those in its records.
   */
  recordVersion: string | null;
}

function newFacts(helloSeen: boolean): TlsFacts {
  return { sni: null, alpn: [], version: null, cipher: null, ja3: null, ja3s: null, ja4: null, ech: false, esni: false, mqtt: false, helloSeen, recordVersion: null };
}

function mqttPort(ctx: FlowContext): boolean {
  return MQTT_TLS_PORTS.has(ctx.respPort) || MQTT_TLS_PORTS.has(ctx.origPort);
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
  readonly f: TlsFacts = newFacts(false);

  constructor(private readonly ctx: FlowContext) {
    if (mqttPort(ctx)) this.markMqtt();
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
    f.helloSeen = true;
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
    f.helloSeen = true;
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

  facts(): { tls: TlsFacts } {
    return { tls: this.f };
  }
}

/** Bytes a candidate may take to prove itself before it is dropped (a record is at most ~18 KB). */
const MIDSTREAM_LIMIT = 64 * 1024;

/**
 * A connection whose first bytes are TLS records, not a hello: a candidate until the record
 * chain holds (probe.ts explains the rule), TLS once it does. While a candidate it reports no
 * application (app null, as a datagram parser not yet sure does), so a wrong guess leaves the
 * flow unrecognised rather than mislabelled.
 *
 * Confirmed by either of:
 * - two headers chained by a length in one direction (each the next one's exact start);
 * - a header in each direction (each direction's first bytes start a record), one of the two
 *   records ending exactly at its segment's end: lengths that agree with the segmentation.
 */
export class TlsMidstream implements StreamParser {
  readonly encrypted = true;
  private readonly walkers: (RecordWalker | null)[] = [null, null];
  /** The direction's first bytes did not start a record (the capture began inside one). */
  private readonly unsynced = [false, false];
  /** A record of this direction ended exactly at a segment's end. */
  private readonly exactEnd = [false, false];
  private confirmed = false;
  private done = false;
  private seen = 0;
  private name = 'tls';
  readonly f: TlsFacts = newFacts(false);

  constructor(private readonly ctx: FlowContext) {
    if (mqttPort(ctx)) {
      this.f.mqtt = true;
      this.name = 'mqtt-tls';
    }
    // A record may be larger than the reassembler's default depth: follow until decided.
    ctx.followAll();
  }

  get app(): string {
    // The StreamParser type says string; the stage treats null as "not recognised" (see peek()).
    return this.confirmed ? this.name : (null as unknown as string);
  }

  data(dir: number, buf: Buffer, off: number, len: number): void {
    if (this.done || this.unsynced[dir]) return;
    let w = this.walkers[dir];
    if (!w) {
      // This direction's first bytes: they must start a record, with the version seen so far.
      if (recordRun(buf, off, len) === RUN_NO) {
        this.unsync(dir);
        return;
      }
      const other = this.walkers[dir ^ 1];
      w = this.walkers[dir] = new RecordWalker(other ? other.version : 0);
    }
    const n = w.walk(buf, off, off + len);
    if (n === BROKEN) return this.finish(false);
    if (len > 0 && w.atBoundary) this.exactEnd[dir] = true;
    const o = this.walkers[dir ^ 1];
    if (n >= 2 || (o && o.headers >= 1 && n >= 1 && (this.exactEnd[0] || this.exactEnd[1]))) return this.finish(true);
    this.seen += len;
    if (this.seen > MIDSTREAM_LIMIT) this.finish(false);
  }

  gap(dir: number): void {
    // The chain is lost in this direction; the other may still prove it.
    if (!this.done) this.unsync(dir);
  }

  private unsync(dir: number): void {
    this.unsynced[dir] = true;
    this.walkers[dir] = null;
    if (this.unsynced[dir ^ 1]) this.finish(false);
  }

  private finish(tls: boolean): void {
    this.done = true;
    this.ctx.stop();
    if (!tls) return;
    this.confirmed = true;
    const v = (this.walkers[0] ?? this.walkers[1])!.version;
    const f = this.f;
    f.recordVersion = recordVersionName(v);
    // Only TLS 1.0 and 1.1 keep their own version in the record layer (RFC 8446 §5.1, Appendix D).
    if (v === 0x0301 || v === 0x0302) f.version = f.recordVersion;
    // No event: events are messages (hellos here), and none was read; the facts say what is known.
  }

  facts(): { tls: TlsFacts } | null {
    return this.confirmed ? { tls: this.f } : null;
  }
}

/**
 * The detection step for TLS without its hellos: a candidate session when the first bytes are a
 * valid record header, else null. Place it after every content probe (it is a fallback).
 */
export function tlsMidstream(ctx: FlowContext, dir: number, buf: Buffer, off: number, len: number): StreamParser | null {
  void dir;
  return recordRun(buf, off, len) === RUN_NO ? null : new TlsMidstream(ctx);
}

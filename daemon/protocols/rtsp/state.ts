/**
 * RTSP 1.0 (RFC 2326; §10 methods, §12.39 Transport): requests and responses over TCP, with
 * interleaved RTP/RTCP frames (`$`, channel, length: §10.12) skipped. ANNOUNCE or RECORD means the
 * device pushes video out; the Transport header's client and server ports tie the RTP/RTCP flows
 * to this session.
 */
import { header, parseHeaderBlock } from '../http/message.js';
import { type FlowContext, PendingBytes, type StreamParser } from '../parser-types.js';
import { redactUrl } from '../redact.js';

const SAMPLE = 20;

export interface RtspFacts {
  urls: string[];
  methods: string[];
  statuses: number[];
  userAgent: string | null;
  server: string | null;
  transports: string[];
  /** ANNOUNCE or RECORD: media is being pushed out by the client. */
  publishing: boolean;
  /** Basic or Digest credentials were sent (their value is never kept). */
  authorization: string[];
  interleavedFrames: number;
}

export function looksLikeRtsp(buf: Buffer, off: number, len: number): boolean {
  const head = buf.toString('latin1', off, off + Math.min(len, 256));
  return /^RTSP\/1\.0 \d{3}/.test(head) || /^(OPTIONS|DESCRIBE|SETUP|PLAY|PAUSE|TEARDOWN|ANNOUNCE|RECORD|GET_PARAMETER|SET_PARAMETER|REDIRECT) \S+ RTSP\/1\.0\r?\n/.test(head);
}

export class RtspSession implements StreamParser {
  readonly app = 'rtsp';
  readonly encrypted = false;
  private readonly pending = [new PendingBytes(64 * 1024), new PendingBytes(64 * 1024)];
  private readonly skip = [0, 0];
  private readonly done = [false, false];
  readonly f: RtspFacts = { urls: [], methods: [], statuses: [], userAgent: null, server: null, transports: [], publishing: false, authorization: [], interleavedFrames: 0 };

  constructor(private readonly ctx: FlowContext) {
    // Keep-alives (GET_PARAMETER) and teardown come late in the session.
    ctx.followAll();
  }

  data(dir: number, data: Buffer, off: number, len: number): void {
    if (this.done[dir]) return;
    if (this.skip[dir] > 0) {
      const n = Math.min(this.skip[dir], len);
      this.skip[dir] -= n;
      off += n;
      len -= n;
      if (len === 0) return;
    }
    const v = this.pending[dir].join(data, off, len);
    let p = v.off;
    while (p < v.end) {
      if (v.buf[p] === 0x24) {
        // Interleaved binary frame.
        if (v.end - p < 4) break;
        const n = v.buf.readUInt16BE(p + 2);
        this.f.interleavedFrames++;
        if (v.end - p < 4 + n) {
          this.skip[dir] = 4 + n - (v.end - p);
          p = v.end;
          break;
        }
        p += 4 + n;
        continue;
      }
      const r = parseHeaderBlock(v.buf, p, v.end);
      if (r === 'incomplete') break;
      if (typeof r === 'string') {
        this.done[dir] = true;
        break;
      }
      const get = (n: string) => header(r, n);
      const f = this.f;
      const add = <T>(list: T[], x: T | null) => {
        if (x !== null && list.length < SAMPLE && !list.includes(x)) list.push(x);
      };
      const transport = get('transport');
      add(f.transports, transport);
      if (transport) this.announce(dir, r.start.kind === 'request', transport);
      if (r.start.kind === 'request') {
        const url = r.start.uri === null ? null : redactUrl(r.start.uri).url;
        add(f.urls, url);
        add(f.methods, r.start.method);
        if (r.start.method === 'ANNOUNCE' || r.start.method === 'RECORD') f.publishing = true;
        f.userAgent ??= get('user-agent');
        const auth = get('authorization');
        add(f.authorization, auth ? auth.split(' ')[0] : null);
        this.ctx.emit('rtsp', { kind: 'request', method: r.start.method, url, version: r.start.version, cseq: get('cseq'), session: get('session'), transport, userAgent: get('user-agent'), authorization: auth ? auth.split(' ')[0] : null, contentType: get('content-type') }, dir);
      } else {
        add(f.statuses, r.start.status);
        f.server ??= get('server');
        this.ctx.emit('rtsp', { kind: 'response', status: r.start.status, reason: r.start.reason, cseq: get('cseq'), session: get('session'), transport, server: get('server'), contentType: get('content-type') }, dir);
      }
      p = r.end;
      const cl = Number(get('content-length') ?? 0);
      if (cl > 0) {
        const n = Math.min(cl, v.end - p);
        p += n;
        if (n < cl) this.skip[dir] = cl - n;
      }
    }
    if (!this.done[dir] && p < v.end && !this.pending[dir].keep(v.buf, p, v.end)) this.done[dir] = true;
  }

  gap(dir: number): void {
    this.pending[dir].clear();
    this.skip[dir] = 0;
  }

  /** Transport client_port / server_port (RFC 2326 §12.39): RTP on the even port, RTCP on the next. */
  private announce(dir: number, fromClient: boolean, transport: string): void {
    for (const [key, clientSide] of [
      ['client_port', true],
      ['server_port', false],
    ] as const) {
      const m = new RegExp(`${key}=(\\d+)(?:-(\\d+))?`).exec(transport);
      if (!m) continue;
      // The side that owns the ports: the client, or the server, of this RTSP connection.
      const senderIsOwner = fromClient === clientSide;
      const ip = this.ctx.ip(senderIsOwner ? dir : dir ^ 1);
      this.ctx.expect(ip, Number(m[1]), 'rtp');
      this.ctx.expect(ip, m[2] ? Number(m[2]) : Number(m[1]) + 1, 'rtcp');
    }
  }

  facts(): Record<string, unknown> {
    return { rtsp: this.f };
  }
}

/**
 * One MQTT session (a TCP flow): splits the two byte streams into control packets, tracks the
 * protocol version and the session's handshake, reports each packet as an event and keeps the
 * facts the verdict stage needs. Anomalies follow Suricata's MQTT events: missing_connect,
 * unintroduced_message, invalid_qos_level, unassigned_msg_type, malformed.
 */
import { type FlowContext, PendingBytes, type StreamParser } from '../parser-types.js';
import { encodeLength, fixedHeader, MAX_REMAINING, type MqttMessage, parseMqtt } from './parser.js';

/** A packet larger than this is not buffered whole: its headers are read and the rest skipped. */
const MAX_BUFFERED = 64 * 1024;
/** Bytes of a large PUBLISH kept to read its topic and payload kind. */
const HEAD_BYTES = 1024;
const SAMPLE_TOPICS = 20;

export interface MqttFacts {
  version: number | null;
  clientId: string | null;
  username: string | null;
  passwordPresent: boolean | null;
  /** CONNECT carried neither user name nor password. */
  anonymous: boolean | null;
  connackCode: number | null;
  /** The broker accepted the session (CONNACK code 0). */
  accepted: boolean | null;
  willTopic: string | null;
  subscriptions: string[];
  /** A subscription to `#` (or a filter starting with it) was requested. */
  subscribedAll: boolean;
  /** ... and granted. */
  subscribedAllGranted: boolean;
  topics: string[];
  payloadKinds: string[];
  publishes: number;
  publishedBytes: number;
  anomalies: string[];
}

export class MqttSession implements StreamParser {
  readonly app = 'mqtt';
  readonly encrypted = false;
  private readonly pending = [new PendingBytes(MAX_BUFFERED), new PendingBytes(MAX_BUFFERED)];
  /** Bytes still to skip of an oversized packet, per direction, and its parsed head. */
  private readonly skip = [0, 0];
  private readonly skipped: (MqttMessage | null)[] = [null, null];
  private readonly lost = [false, false];
  private version = 0;
  private sawConnect = false;
  private sawConnack = false;
  /** Direction of the client (sender of CONNECT), when known. */
  private clientDir: number;
  private readonly pendingSubs = new Map<number, string[]>();
  readonly f: MqttFacts = {
    version: null,
    clientId: null,
    username: null,
    passwordPresent: null,
    anonymous: null,
    connackCode: null,
    accepted: null,
    willTopic: null,
    subscriptions: [],
    subscribedAll: false,
    subscribedAllGranted: false,
    topics: [],
    payloadKinds: [],
    publishes: 0,
    publishedBytes: 0,
    anomalies: [],
  };

  constructor(private readonly ctx: FlowContext) {
    ctx.followAll();
    // Until a CONNECT says otherwise, the client is the side not on the broker port.
    this.clientDir = ctx.respPort === 1883 || ctx.origPort !== 1883 ? 0 : 1;
  }

  data(dir: number, data: Buffer, off: number, len: number): void {
    if (this.skip[dir] > 0) {
      const n = Math.min(this.skip[dir], len);
      this.skip[dir] -= n;
      off += n;
      len -= n;
      if (this.skip[dir] === 0 && this.skipped[dir]) {
        this.handle(dir, this.skipped[dir]!);
        this.skipped[dir] = null;
      }
      if (len === 0) return;
    }
    const view = this.pending[dir].join(data, off, len);
    const buf = view.buf;
    let p = view.off;
    const end = view.end;
    while (p < end) {
      if (this.lost[dir]) {
        // After a hole, wait for a chunk that starts with a sane fixed header.
        const fh = fixedHeader(buf, p, end);
        if (fh === null || fh === -1 || buf[p] >> 4 === 0) return;
        this.lost[dir] = false;
      }
      const r = parseMqtt(buf, p, end, this.version);
      if (r.ok) {
        this.handle(dir, r.msg);
        p += r.length;
        continue;
      }
      if (r.incomplete) {
        if (r.needed > MAX_BUFFERED && end - p >= HEAD_BYTES) {
          this.skipLarge(dir, buf, p, end, r.needed);
          return;
        }
        if (!this.pending[dir].keep(buf, p, end)) this.lost[dir] = true;
        return;
      }
      this.anomaly(dir, r.error);
      if (r.msg) this.handle(dir, r.msg);
      p += r.length;
    }
  }

  /** A packet too large to buffer: parse its head now, skip its body, report it when it ends. */
  private skipLarge(dir: number, buf: Buffer, p: number, end: number, total: number): void {
    const fh = fixedHeader(buf, p, end);
    if (!fh || fh === -1 || fh[0] > MAX_REMAINING) {
      this.lost[dir] = true;
      return;
    }
    const type = buf[p] >> 4;
    let head: MqttMessage | null = null;
    if (type === 3) {
      // Re-frame the head as a short PUBLISH to read its topic, then restore the real lengths.
      const avail = Math.min(end - p, total);
      const copy = Buffer.from(buf.subarray(p, p + avail));
      const hl = fh[1];
      const fake = Buffer.concat([Buffer.from([copy[0], ...encodeLength(avail - hl)]), copy.subarray(hl)]);
      const r = parseMqtt(fake, 0, fake.length, this.version);
      if (r.ok) {
        head = r.msg;
        head.remainingLength = fh[0];
        head.payloadLength = (head.payloadLength ?? 0) + (total - avail);
      }
    }
    if (!head) head = { type: 'PUBLISH', dup: false, qos: 0, retain: false, remainingLength: fh[0] };
    this.skipped[dir] = head;
    this.skip[dir] = total - (end - p);
  }

  gap(dir: number): void {
    this.pending[dir].clear();
    this.skip[dir] = 0;
    this.skipped[dir] = null;
    this.lost[dir] = true;
  }

  private anomaly(dir: number, what: string): void {
    const kind = /QoS 3/.test(what) ? 'invalid_qos_level' : /type 0/.test(what) ? 'unassigned_msg_type' : `malformed: ${what}`;
    if (!this.f.anomalies.includes(kind)) this.f.anomalies.push(kind);
    this.ctx.emit('anomaly', { protocol: 'mqtt', event: kind }, dir);
  }

  private handle(dir: number, m: MqttMessage): void {
    const f = this.f;
    switch (m.type) {
      case 'CONNECT':
        this.sawConnect = true;
        this.clientDir = dir;
        this.version = m.protocolVersion ?? 0;
        f.version = this.version;
        f.clientId = m.clientId ?? null;
        f.username = m.username ?? null;
        f.passwordPresent = m.passwordPresent ?? false;
        f.anonymous = m.username === undefined && !m.passwordPresent;
        f.willTopic = m.willTopic ?? null;
        break;
      case 'CONNACK':
        if (!this.sawConnect) this.note(dir, 'missing_connect');
        if (this.version === 0) this.version = m.properties ? 5 : 4;
        if (f.version === null) f.version = this.version;
        this.sawConnack = true;
        this.clientDir = dir ^ 1;
        f.connackCode = m.returnCode ?? null;
        f.accepted = m.returnCode === 0;
        if (m.properties?.assignedClientId && !f.clientId) f.clientId = m.properties.assignedClientId;
        break;
      case 'PUBLISH':
        f.publishes++;
        f.publishedBytes += m.payloadLength ?? 0;
        if (m.topic !== undefined && f.topics.length < SAMPLE_TOPICS && !f.topics.includes(m.topic)) f.topics.push(m.topic);
        if (m.payloadKind && !f.payloadKinds.includes(m.payloadKind)) f.payloadKinds.push(m.payloadKind);
        if (!this.sawConnack) this.note(dir, 'unintroduced_message');
        break;
      case 'SUBSCRIBE': {
        const filters = (m.topics ?? []).map((t) => t.filter);
        for (const t of filters) if (f.subscriptions.length < SAMPLE_TOPICS && !f.subscriptions.includes(t)) f.subscriptions.push(t);
        if (filters.some((t) => t === '#' || t.startsWith('#'))) f.subscribedAll = true;
        if (m.messageId !== undefined) this.pendingSubs.set(m.messageId, filters);
        if (!this.sawConnack && !this.sawConnect) this.note(dir, 'unintroduced_message');
        break;
      }
      case 'SUBACK': {
        const filters = m.messageId !== undefined ? this.pendingSubs.get(m.messageId) : undefined;
        if (filters) {
          filters.forEach((t, i) => {
            const code = m.reasonCodes?.[i];
            if ((t === '#' || t.startsWith('#')) && code !== undefined && code < 0x80) f.subscribedAllGranted = true;
          });
          this.pendingSubs.delete(m.messageId!);
        }
        break;
      }
      case 'PINGREQ':
      case 'PINGRESP':
      case 'UNSUBSCRIBE':
      case 'PUBACK':
      case 'PUBREC':
      case 'PUBREL':
      case 'PUBCOMP':
        if (!this.sawConnack && !this.sawConnect) this.note(dir, 'unintroduced_message');
        break;
      default:
        break;
    }
    const direction = dir === this.clientDir ? 'to_server' : 'to_client';
    const version = this.version || null;
    this.ctx.emit('mqtt', () => ({ direction, version, ...eventFields(m) }), dir);
  }

  private note(dir: number, anomaly: string): void {
    if (!this.f.anomalies.includes(anomaly)) this.f.anomalies.push(anomaly);
    this.ctx.emit('anomaly', { protocol: 'mqtt', event: anomaly }, dir);
  }

  facts(): Record<string, unknown> {
    return { mqtt: this.f };
  }
}


/** The message as an event: every field we parsed, nothing we did not (no payload, no password). */
function eventFields(m: MqttMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) if (v !== undefined) out[k] = v;
  return out;
}

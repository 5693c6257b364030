/**
 * MQTT control packets, versions 3.1 (MQIsdp, level 3), 3.1.1 (level 4) and 5.0 (level 5).
 * Pure parsing: bytes in, a typed message out. Follows OASIS MQTT 3.1.1 §2-3 and MQTT 5.0 §2-3.
 * Payloads are never copied out: a PUBLISH reports its length and what kind of data it carries.
 * A password is reported as present (and nothing else about it).
 */
import { isJsonText } from '../../util/json-text.js';

export const MQTT_TYPES = ['RESERVED', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'AUTH'] as const;
export type MqttType = (typeof MQTT_TYPES)[number];

export type PayloadKind = 'empty' | 'json' | 'text' | 'jpeg' | 'png' | 'gif' | 'h264' | 'binary';

export interface MqttProperties {
  /** Property identifiers in the order they appear (MQTT 5.0 §2.2.2.2). */
  ids: number[];
  assignedClientId?: string;
  reasonString?: string;
  userProperties?: [string, string][];
  contentType?: string;
  responseTopic?: string;
  authenticationMethod?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  topicAlias?: number;
  sessionExpiryInterval?: number;
  maximumPacketSize?: number;
}

export interface MqttMessage {
  type: MqttType;
  /** Why the packet is malformed; the fields before the fault are still reported. */
  malformed?: string;
  /** Fixed-header flags: dup, qos and retain are meaningful for PUBLISH only. */
  dup: boolean;
  qos: number;
  retain: boolean;
  remainingLength: number;
  protocolName?: string;
  protocolVersion?: number;
  clientId?: string;
  username?: string;
  passwordPresent?: boolean;
  willFlag?: boolean;
  willQos?: number;
  willRetain?: boolean;
  willTopic?: string;
  willPayloadLength?: number;
  cleanSession?: boolean;
  keepAlive?: number;
  sessionPresent?: boolean;
  /** CONNACK return code (3.x) or reason code (5.0); reason codes of acknowledgements. */
  returnCode?: number;
  reasonCodes?: number[];
  topic?: string;
  messageId?: number;
  payloadLength?: number;
  payloadKind?: PayloadKind;
  topics?: { filter: string; qos: number }[];
  properties?: MqttProperties;
  willProperties?: MqttProperties;
}

export type ParseResult =
  | { ok: true; msg: MqttMessage; length: number }
  | { ok: false; incomplete: true; needed: number }
  | { ok: false; incomplete: false; error: string; length: number; msg?: MqttMessage };

/** Largest remaining length the 4-byte variable integer allows (§1.5.5 / §2.2.3). */
export const MAX_REMAINING = 268_435_455;

/** Reads the fixed header: returns [remaining length, header size], or null if incomplete, -1 if bad. */
export function fixedHeader(buf: Buffer, off: number, end: number): [number, number] | null | -1 {
  let mult = 1;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    if (off + i >= end) return null;
    const b = buf[off + i];
    value += (b & 127) * mult;
    if ((b & 128) === 0) return [value, i + 1];
    mult *= 128;
  }
  return -1;
}

class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}
  left(): number {
    return this.end - this.pos;
  }
  u8(): number {
    if (this.pos + 1 > this.end) throw new RangeError('field beyond packet');
    return this.buf[this.pos++];
  }
  u16(): number {
    if (this.pos + 2 > this.end) throw new RangeError('field beyond packet');
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    if (this.pos + 4 > this.end) throw new RangeError('field beyond packet');
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  varint(): number {
    let mult = 1;
    let value = 0;
    for (let i = 0; i < 4; i++) {
      const b = this.u8();
      value += (b & 127) * mult;
      if ((b & 128) === 0) return value;
      mult *= 128;
    }
    throw new RangeError('variable byte integer longer than 4 bytes');
  }
  bytes(): number {
    // Binary data: length then bytes; returns the length, skipping the content.
    const n = this.u16();
    if (this.pos + n > this.end) throw new RangeError('field beyond packet');
    this.pos += n;
    return n;
  }
  str(): string {
    const n = this.u16();
    if (this.pos + n > this.end) throw new RangeError('string beyond packet');
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}

/** MQTT 5.0 properties (§2.2.2): a length, then identifier/value pairs. */
function properties(r: Reader): MqttProperties {
  const len = r.varint();
  if (len > r.left()) throw new RangeError('property length beyond packet');
  const end = r.pos + len;
  const p: MqttProperties = { ids: [] };
  const sub = new Reader(r.buf, r.pos, end);
  while (sub.pos < end) {
    const id = sub.varint();
    p.ids.push(id);
    switch (id) {
      case 0x01: // payload format indicator
      case 0x17: // request problem information
      case 0x19: // request response information
      case 0x24: // maximum QoS
      case 0x25: // retain available
      case 0x28: // wildcard subscription available
      case 0x29: // subscription identifiers available
      case 0x2a: // shared subscription available
        sub.u8();
        break;
      case 0x02: // message expiry interval
      case 0x18: // will delay interval
        sub.u32();
        break;
      case 0x11:
        p.sessionExpiryInterval = sub.u32();
        break;
      case 0x27:
        p.maximumPacketSize = sub.u32();
        break;
      case 0x13: // server keep alive
        sub.u16();
        break;
      case 0x21:
        p.receiveMaximum = sub.u16();
        break;
      case 0x22:
        p.topicAliasMaximum = sub.u16();
        break;
      case 0x23:
        p.topicAlias = sub.u16();
        break;
      case 0x0b: // subscription identifier
        sub.varint();
        break;
      case 0x03:
        p.contentType = sub.str();
        break;
      case 0x08:
        p.responseTopic = sub.str();
        break;
      case 0x12:
        p.assignedClientId = sub.str();
        break;
      case 0x15:
        p.authenticationMethod = sub.str();
        break;
      case 0x1f:
        p.reasonString = sub.str();
        break;
      case 0x1a: // response information
      case 0x1c: // server reference
        sub.str();
        break;
      case 0x09: // correlation data
      case 0x16: // authentication data: never kept
        sub.bytes();
        break;
      case 0x26:
        (p.userProperties ??= []).push([sub.str(), sub.str()]);
        break;
      default:
        throw new RangeError(`unknown property 0x${id.toString(16)}`);
    }
  }
  r.pos = end;
  return p;
}

/**
 * What a payload is, from its first bytes; the bytes themselves are not kept. Every PUBLISH
 * comes here: the signatures are compared as big-endian words, without a closure or an array.
 */
export function payloadKind(buf: Buffer, off: number, end: number): PayloadKind {
  const n = end - off;
  if (n <= 0) return 'empty';
  const w3 = n >= 3 ? (buf[off] << 16) | (buf[off + 1] << 8) | buf[off + 2] : -1;
  const w4 = n >= 4 ? buf.readUInt32BE(off) : -1;
  if (w3 === 0xffd8ff) return 'jpeg';
  if (w4 === 0x89504e47) return 'png';
  if (w4 === 0x47494638) return 'gif';
  // H.264 Annex B start code followed by a NAL unit header (ITU-T H.264 §B.1, §7.3.1).
  if (w4 === 0x00000001 || w3 === 0x000001) return 'h264';
  const look = Math.min(n, 512);
  let printable = 0;
  for (let i = 0; i < look; i++) {
    const c = buf[off + i];
    if ((c >= 0x20 && c < 0x7f) || c === 9 || c === 10 || c === 13 || c >= 0x80) printable++;
  }
  if (printable < look) return 'binary';
  let i = off;
  while (i < end && (buf[i] === 0x20 || buf[i] === 9 || buf[i] === 10 || buf[i] === 13)) i++;
  if (buf[i] === 0x7b || buf[i] === 0x5b) {
    // Checked in place: every PUBLISH is classified, and JSON.parse would build the whole value.
    return n > 65536 || isJsonText(buf, off, end) ? 'json' : 'text';
  }
  return 'text';
}

/**
 * Parses one control packet at buf[off, end). `version` is the session's protocol level (3, 4 or
 * 5), or 0 when unknown (then the 3.1.1 layout is used).
 */
export function parseMqtt(buf: Buffer, off: number, end: number, version: number): ParseResult {
  if (end - off < 2) return { ok: false, incomplete: true, needed: 2 };
  const fh = fixedHeader(buf, off, end);
  if (fh === null) return { ok: false, incomplete: true, needed: end - off + 1 };
  if (fh === -1) return { ok: false, incomplete: false, error: 'remaining length longer than 4 bytes', length: end - off };
  const [remaining, hlen] = fh;
  const total = hlen + remaining;
  if (end - off < total) return { ok: false, incomplete: true, needed: total };
  const b0 = buf[off];
  const typeId = b0 >> 4;
  const type = MQTT_TYPES[typeId];
  const msg: MqttMessage = { type, dup: (b0 & 8) !== 0, qos: (b0 >> 1) & 3, retain: (b0 & 1) !== 0, remainingLength: remaining };
  if (typeId === 0) return { ok: false, incomplete: false, error: 'reserved message type 0', length: total, msg: { ...msg, malformed: 'reserved message type 0' } };
  const r = new Reader(buf, off + hlen, off + total);
  const v5 = version === 5;
  try {
    switch (type) {
      case 'CONNECT': {
        msg.protocolName = r.str();
        msg.protocolVersion = r.u8();
        const flags = r.u8();
        msg.cleanSession = (flags & 2) !== 0;
        msg.willFlag = (flags & 4) !== 0;
        msg.willQos = (flags >> 3) & 3;
        msg.willRetain = (flags & 32) !== 0;
        msg.passwordPresent = (flags & 64) !== 0;
        const hasUser = (flags & 128) !== 0;
        msg.keepAlive = r.u16();
        const isV5 = msg.protocolVersion === 5;
        if (isV5) msg.properties = properties(r);
        msg.clientId = r.str();
        if (msg.willFlag) {
          if (isV5) msg.willProperties = properties(r);
          msg.willTopic = r.str();
          msg.willPayloadLength = r.bytes();
        }
        if (hasUser) msg.username = r.str();
        if (msg.passwordPresent) r.bytes(); // skipped, never read
        break;
      }
      case 'CONNACK': {
        msg.sessionPresent = (r.u8() & 1) !== 0;
        msg.returnCode = r.u8();
        // A 3.x CONNACK is exactly 2 bytes; more means 5.0 properties (used when CONNECT was missed).
        if (v5 || (version === 0 && remaining > 2)) msg.properties = properties(r);
        break;
      }
      case 'PUBLISH': {
        msg.topic = r.str();
        if (msg.qos > 0) msg.messageId = r.u16();
        if (v5) msg.properties = properties(r);
        msg.payloadLength = r.left();
        msg.payloadKind = payloadKind(buf, r.pos, r.end);
        r.pos = r.end;
        break;
      }
      case 'PUBACK':
      case 'PUBREC':
      case 'PUBREL':
      case 'PUBCOMP': {
        msg.messageId = r.u16();
        if (v5 && r.left() > 0) {
          msg.reasonCodes = [r.u8()];
          if (r.left() > 0) msg.properties = properties(r);
        }
        break;
      }
      case 'SUBSCRIBE': {
        msg.messageId = r.u16();
        if (v5) msg.properties = properties(r);
        msg.topics = [];
        while (r.left() > 0) msg.topics.push({ filter: r.str(), qos: r.u8() & 3 });
        break;
      }
      case 'SUBACK':
      case 'UNSUBACK': {
        msg.messageId = r.u16();
        if (v5) msg.properties = properties(r);
        if (type === 'SUBACK' || v5) {
          msg.reasonCodes = [];
          while (r.left() > 0) msg.reasonCodes.push(r.u8());
        }
        break;
      }
      case 'UNSUBSCRIBE': {
        msg.messageId = r.u16();
        if (v5) msg.properties = properties(r);
        msg.topics = [];
        while (r.left() > 0) msg.topics.push({ filter: r.str(), qos: 0 });
        break;
      }
      case 'DISCONNECT':
      case 'AUTH': {
        if (v5 && r.left() > 0) {
          msg.reasonCodes = [r.u8()];
          if (r.left() > 0) msg.properties = properties(r);
        }
        break;
      }
      case 'PINGREQ':
      case 'PINGRESP':
        break;
    }
  } catch (e) {
    const error = `${type}: ${(e as Error).message}`;
    return { ok: false, incomplete: false, error, length: total, msg: { ...msg, malformed: error } };
  }
  // QoS 3 is forbidden (§3.3.1.2): the packet is still read as QoS 2 would be, as tshark does.
  if (type === 'PUBLISH' && msg.qos === 3) return { ok: false, incomplete: false, error: 'PUBLISH with QoS 3', length: total, msg: { ...msg, malformed: 'PUBLISH with QoS 3' } };
  if (r.left() > 0 && type !== 'PUBLISH') {
    const error = `${type}: ${r.left()} trailing bytes`;
    return { ok: false, incomplete: false, error, length: total, msg: { ...msg, malformed: error } };
  }
  return { ok: true, msg, length: total };
}

/** The fixed-header flag bits each type requires (MQTT 3.1.1 §2.2.2 table 2.2); PUBLISH has its own. */
const REQUIRED_FLAGS = [-1, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0];

/**
 * Is buf[off, end) exactly a run of well-formed MQTT packets with correct flag bits? Used to
 * recognise a session caught after its CONNECT on a port that says nothing.
 */
export function isExactMqttRun(buf: Buffer, off: number, end: number): boolean {
  let p = off;
  let n = 0;
  while (p < end) {
    const type = buf[p] >> 4;
    const want = REQUIRED_FLAGS[type];
    if (type === 0 || (want >= 0 && (buf[p] & 15) !== want) || (type === 3 && ((buf[p] >> 1) & 3) === 3)) return false;
    const r = parseMqtt(buf, p, end, 0);
    if (!r.ok) return false;
    p += r.length;
    n++;
  }
  return n > 0;
}

/** Does this look like the start of an MQTT session (a CONNECT naming the protocol)? */
export function looksLikeConnect(buf: Buffer, off: number, end: number): boolean {
  if (end - off < 9 || buf[off] !== 0x10) return false;
  const fh = fixedHeader(buf, off, end);
  if (!fh || fh === -1) return false;
  const p = off + fh[1];
  if (p + 8 > end) return false;
  const n = buf.readUInt16BE(p);
  const name = buf.toString('latin1', p + 2, p + 2 + n);
  return (n === 4 && name === 'MQTT') || (n === 6 && name === 'MQIsdp');
}

/** The variable-length Remaining Length of a fixed header (MQTT 3.1.1 §2.2.3, 5.0 §1.5.5). */
export function encodeLength(n: number): number[] {
  const out: number[] = [];
  do {
    let d = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) d |= 128;
    out.push(d);
  } while (n > 0);
  return out;
}

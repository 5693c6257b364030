/**
 * Which protocol a flow speaks, from the content of its first bytes: ports are hints, never
 * proof (MQTT runs on any port; port 443 carries MQTT over TLS as well as HTTPS).
 */
import { isExactMqttRun, looksLikeConnect, parseMqtt } from './mqtt/parser.js';
import { MqttSession } from './mqtt/state.js';
import type { DatagramParser, FlowContext, StreamParser } from './parser-types.js';
import { looksLikeTls, TlsSession } from './tls/state.js';

const MQTT_PORTS = new Set([1883]);

export function detectStream(ctx: FlowContext, dir: number, buf: Buffer, off: number, len: number): StreamParser | null {
  const end = off + len;
  if (looksLikeTls(buf, off, len)) return new TlsSession(ctx);
  if (looksLikeConnect(buf, off, end)) return new MqttSession(ctx);
  // A session caught after its CONNECT: on the MQTT port, a well-formed packet is enough.
  if (MQTT_PORTS.has(ctx.origPort) || MQTT_PORTS.has(ctx.respPort)) {
    const r = parseMqtt(buf, off, end, 0);
    if (r.ok || (!r.ok && r.incomplete && buf[off] >> 4 !== 0)) return new MqttSession(ctx);
  }
  // Elsewhere, a segment that is exactly a run of well-formed packets with valid flag bits.
  if (isExactMqttRun(buf, off, end)) return new MqttSession(ctx);
  void dir;
  return null;
}

export function detectDatagram(ctx: FlowContext, dir: number, buf: Buffer, off: number, len: number): DatagramParser | null {
  void ctx;
  void dir;
  void buf;
  void off;
  void len;
  return null;
}

/**
 * Which protocol a flow speaks, from the content of its first bytes: ports are hints, never
 * proof (MQTT runs on any port; port 443 carries MQTT over TLS as well as HTTPS). The order is
 * the registry's (STREAM_ORDER, DATAGRAM_ORDER), with the reasons for it.
 */
import type { DatagramParser, FlowContext, StreamParser } from './parser-types.js';
import { DATAGRAM_ORDER, STREAM_ORDER } from './registry.js';

export function detectStream(ctx: FlowContext, dir: number, buf: Buffer, off: number, len: number): StreamParser | null {
  for (let i = 0; i < STREAM_ORDER.length; i++) {
    const p = STREAM_ORDER[i](ctx, dir, buf, off, len);
    if (p) return p;
  }
  return null;
}

export function detectDatagram(ctx: FlowContext, dir: number, buf: Buffer, off: number, len: number): DatagramParser | null {
  for (let i = 0; i < DATAGRAM_ORDER.length; i++) {
    const p = DATAGRAM_ORDER[i](ctx, dir, buf, off, len);
    if (p) return p;
  }
  return null;
}

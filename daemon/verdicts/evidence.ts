/**
 * What an alert shows as proof, by protocol: what a person can check in a capture. Secrets are
 * never here: a password is reported as present or not, payloads by kind only.
 */
import type { FlowRecord } from '../report/types.js';

type Facts = Record<string, Record<string, unknown> | undefined>;

const MQTT_VERSIONS: Record<number, string> = { 3: '3.1', 4: '3.1.1', 5: '5.0' };
const SAMPLE = 5;

export function flowEvidence(r: FlowRecord): Record<string, unknown> {
  const p = (r.protocol ?? {}) as Facts;
  const out: Record<string, unknown> = { flow: r.id, transport: r.proto, hostnameSource: r.hostnameSource };
  const m = p.mqtt;
  if (m) {
    out.mqtt = {
      clientId: m.clientId ?? null,
      username: m.username ?? null,
      passwordPresent: m.passwordPresent === true,
      protocolVersion: typeof m.version === 'number' ? (MQTT_VERSIONS[m.version] ?? String(m.version)) : null,
      connackCode: m.connackCode ?? null,
      accepted: m.accepted ?? null,
      anonymous: m.anonymous === true,
      subscribedAll: m.subscribedAll === true,
      subscribedAllGranted: m.subscribedAllGranted === true,
      sampleTopics: ((m.topics as string[] | undefined) ?? []).slice(0, SAMPLE),
      subscriptions: ((m.subscriptions as string[] | undefined) ?? []).slice(0, SAMPLE),
      payloadKinds: m.payloadKinds ?? [],
      publishes: m.publishes ?? 0,
    };
  }
  if (p.rtsp) {
    const x = p.rtsp;
    out.rtsp = { urls: ((x.urls as string[]) ?? []).slice(0, SAMPLE), methods: x.methods, publishing: x.publishing, userAgent: x.userAgent, server: x.server, authorization: x.authorization };
  }
  if (p.http) {
    const x = p.http;
    out.http = { host: x.host ?? null, methods: x.methods, paths: ((x.paths as string[]) ?? []).slice(0, SAMPLE), userAgent: x.userAgent ?? null, authorization: x.authorization, mjpeg: x.mjpeg, flv: x.flv };
  }
  if (p.rtp) out.rtp = p.rtp;
  if (p.rtmp) out.rtmp = p.rtmp;
  if (p.pppp) out.pppp = { deviceIds: p.pppp.deviceIds, types: p.pppp.types };
  if (p.login) out.login = p.login;
  if (p.tls) out.tls = { sni: p.tls.sni ?? null, version: p.tls.version ?? null, alpn: p.tls.alpn ?? [] };
  out.bytesUp = r.deviceSide === 'resp' ? r.counters.resp.bytes : r.counters.orig.bytes;
  out.bytesDown = r.deviceSide === 'resp' ? r.counters.orig.bytes : r.counters.resp.bytes;
  return out;
}

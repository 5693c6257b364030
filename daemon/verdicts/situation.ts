/**
 * The facts an alert rule reads about one flow (see the field list in alert-rules.schema.json),
 * from the flow record, its device, where the remote end is and which cloud it belongs to.
 */
import type { DeviceIdentity } from '../devices/identity.js';
import type { GeoInfo } from '../geo/geo.js';
import type { FlowRecord } from '../report/types.js';
import type { CloudPlatform } from '../rules/load.js';
import type { Scalar, Situation } from './condition.js';

type Facts = Record<string, Record<string, unknown> | undefined>;

/** MQTT payload kinds that are pictures or video (`mqtt.mediaPayload`). */
export const MEDIA_PAYLOADS: ReadonlySet<string> = new Set(['jpeg', 'png', 'gif', 'h264']);

export interface FlowView {
  record: FlowRecord;
  device: DeviceIdentity;
  /** The remote end: where the device's traffic goes. */
  remote: { ip: string; port: number };
  geo: GeoInfo;
  cloud: CloudPlatform | null;
  /** Countries the household trusts; empty when no home country is configured. */
  trusted: Set<string>;
}

export function remoteOf(r: FlowRecord): { ip: string; port: number } {
  const e = r.deviceSide === 'resp' ? r.orig : r.resp;
  return { ip: e.ip, port: e.port };
}

/** The application protocols a flow carries: MQTT inside WebSocket counts as MQTT too. */
export function appsOf(r: FlowRecord): string[] {
  const p = r.protocol as Facts | null;
  const apps: string[] = r.app ? [r.app] : [];
  if (p?.mqtt && r.app !== 'mqtt' && !r.encrypted) apps.push('mqtt');
  return apps;
}

export function flowSituation(v: FlowView): Situation {
  const r = v.record;
  const p = (r.protocol ?? {}) as Facts;
  const s: Situation = new Map<string, Scalar | Scalar[] | null>();
  const deviceIsClient = r.deviceSide !== 'resp';
  const apps = appsOf(r);
  s.set('app', apps.length === 1 ? apps[0] : apps.length ? apps : null);
  s.set('internet', r.internet);
  s.set('encrypted', r.encrypted ?? false);
  s.set('transport', r.proto);
  s.set('port', v.remote.port);
  s.set('country', v.geo.country);
  s.set('countryKnown', v.geo.country !== null);
  s.set('abroad', v.geo.country !== null && v.trusted.size > 0 ? !v.trusted.has(v.geo.country) : null);
  s.set('device.category', v.device.category);
  s.set('device.vendor', v.device.vendor);
  s.set('device.randomizedMac', v.device.randomizedMac);
  s.set('cloud.platform', v.cloud?.id ?? null);
  s.set('cloud.country', v.cloud?.country ?? null);

  const m = p.mqtt;
  if (m && !r.encrypted) {
    const kinds = (m.payloadKinds as string[] | undefined) ?? [];
    s.set('mqtt.usernamePresent', m.username !== null && m.username !== undefined);
    s.set('mqtt.passwordPresent', m.passwordPresent === true);
    s.set('mqtt.anonymous', m.anonymous === true);
    s.set('mqtt.accepted', m.accepted === true);
    s.set('mqtt.anonymousAccepted', m.anonymous === true && m.accepted === true);
    s.set('mqtt.subscribedAll', m.subscribedAll === true);
    s.set('mqtt.subscribedAllGranted', m.subscribedAllGranted === true);
    s.set('mqtt.payloadKinds', kinds);
    s.set('mqtt.publishes', (m.publishes as number | undefined) ?? 0);
    s.set('mqtt.mediaPayload', kinds.some((k) => MEDIA_PAYLOADS.has(k)));
  }

  const media = mediaOf(r, p, deviceIsClient);
  if (media) {
    s.set('media.cleartext', true);
    s.set('media.kind', media.kind);
    s.set('media.outbound', media.outbound);
  }
  const auth = (p.http?.authorization as string[] | undefined) ?? [];
  if (p.http) s.set('http.basicAuth', deviceIsClient && auth.some((a) => a.toLowerCase() === 'basic'));
  const login = p.login;
  if (login && !r.encrypted) {
    s.set('login.protocol', login.protocol as string);
    s.set('login.passwordPresent', deviceIsClient && login.passwordPresent === true);
    s.set('login.accepted', login.accepted === true);
  }
  if (r.app === 'cs2-p2p' || p.pppp) s.set('p2p', true);
  return s;
}

/** Cleartext audio or video in the flow, and whether the device is the one sending it. */
function mediaOf(r: FlowRecord, p: Facts, deviceIsClient: boolean): { kind: string; outbound: boolean } | null {
  const sent = deviceIsClient ? r.counters.orig.payloadBytes : r.counters.resp.payloadBytes;
  if (p.rtsp) return { kind: 'rtsp', outbound: deviceIsClient ? p.rtsp.publishing === true : true };
  if (r.app === 'rtp' || r.app === 'rtcp') return r.app === 'rtp' ? { kind: 'rtp', outbound: sent > 0 } : null;
  if (r.app === 'rtmp') return { kind: 'rtmp', outbound: deviceIsClient };
  if (p.http?.mjpeg) return { kind: 'mjpeg', outbound: !deviceIsClient };
  if (p.http?.flv) return { kind: 'flv', outbound: !deviceIsClient };
  return null;
}

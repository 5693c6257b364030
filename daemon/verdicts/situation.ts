/**
 * The facts an alert rule reads about one flow (see the field list in alert-rules.schema.json),
 * from the flow record, its device, where the remote end is and which cloud it belongs to.
 */
import type { DeviceIdentity } from '../devices/identity.js';
import type { GeoInfo } from '../geo/geo.js';
import type { FlowRecord } from '../report/types.js';
import type { CloudPlatform } from '../rules/load.js';
import type { FlowView as ProtocolView } from '../protocols/contract.js';
import { protocolFields } from '../protocols/registry.js';
import type { Scalar, Situation } from './condition.js';

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
  const apps: string[] = r.app ? [r.app] : [];
  if (r.protocol?.mqtt && r.app !== 'mqtt' && !r.encrypted) apps.push('mqtt');
  return apps;
}

/** What the protocols' rule fields know of the flow besides its facts. */
export function protocolView(r: FlowRecord): ProtocolView {
  const deviceIsClient = r.deviceSide !== 'resp';
  return { deviceIsClient, encrypted: r.encrypted ?? false, app: r.app, sent: deviceIsClient ? r.counters.orig.payloadBytes : r.counters.resp.payloadBytes };
}

export function flowSituation(v: FlowView): Situation {
  const r = v.record;
  const s: Situation = new Map<string, Scalar | Scalar[] | null>();
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
  protocolFields(r.protocol, protocolView(r), (name, value) => s.set(name, value));
  return s;
}

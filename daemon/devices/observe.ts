/**
 * What each ended flow tells about a LAN device, for the classifier: names it contacted, the
 * roles it played (RTSP server, publisher...), what it announced of itself (mDNS, SSDP, UPnP,
 * WS-Discovery, Kasa, NetBIOS, LLMNR, CoAP), its TLS fingerprints and User-Agents. A flow
 * between two LAN devices is read once for each: `side` says which end the device is, and each
 * announcement is credited to the end that made it, never to its peer.
 */
import type { FlowRecord } from '../report/types.js';
import { type Device, factsOf } from './device-table.js';
import type { DeviceFacts } from './facts.js';

type Facts = Record<string, Record<string, unknown>>;
type Side = 'orig' | 'resp';

/** A sustained upstream stream: a camera sending its video out (bytes per second, seconds). */
const STREAM_RATE = 40_000;
const STREAM_SECONDS = 60;

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
/** Whether the flow side a dissector says sent something ('orig', 'resp', 'both') is this device's. */
// null: that side never spoke; absent (facts of an older dissector): the usual sender.
const sentBy = (v: unknown, side: Side | null, otherwise: Side): boolean => (v === null ? false : v === 'both' ? side !== null : (v === 'orig' || v === 'resp' ? v : otherwise) === side);

const MODEL_KEY = /^(model|md|mdl|ty|usb_MDL|product)=(.+)$/i;
/** An instance label that is only a bracketed MAC ("host [aa:bb:...]" is fine, "[aa:...]" is not a name). */
const MAC_ONLY = /^\[?[0-9a-f]{2}(:[0-9a-f]{2}){5}\]?$/i;

/** mDNS: what the responder end offers and names itself, what the querier end looks for. */
function mdns(f: DeviceFacts, m: Record<string, unknown>, side: Side | null): void {
  const offered = Array.isArray(m.offered) ? (m.offered as Record<string, unknown>[]) : null;
  if (!offered) {
    // Facts without sides: offered-only services of the flow's opener.
    if (side !== 'orig') return;
    f.add(f.protocols, 'mdns');
    for (const s of strings(m.services)) f.offer(s, null, []);
    for (const t of strings(m.models)) f.add(f.mdnsModels, t);
    return;
  }
  if (sentBy(m.querier, side, 'orig')) for (const b of strings(m.browses)) f.add(f.mdnsBrowses, b.toLowerCase().replace(/\.$/, ''));
  if (!sentBy(m.responder, side, 'orig')) return;
  f.add(f.protocols, 'mdns');
  {
    for (const o of offered) {
      const service = str(o.service);
      if (!service) continue;
      const txt = strings(o.txt);
      const instance = str(o.instance);
      f.offer(service, instance, txt);
      for (const t of txt) {
        if (MODEL_KEY.test(t)) f.add(f.mdnsModels, t);
        const md = /^md=(.+)$/i.exec(t);
        if (md && /^_hap\._(tcp|udp)\.local$/i.test(service)) f.add(f.homekitModels, md[1]);
      }
      // A service's instance name is how the household knows the device ("John's iMac"),
      // unless it is only a MAC; avahi's "host [mac]" is the host name again.
      if (instance && !instance.startsWith('_')) {
        const name = instance.replace(/\s*\[[0-9a-f:]{17}\]$/i, '').trim();
        if (name && !MAC_ONLY.test(name)) f.hostname(name, 'mdns');
      }
    }
    for (const h of strings(m.hosts)) if (!/\.(in-addr|ip6)\.arpa\.?$/i.test(h)) f.hostname(h, 'mdns');
  }
}

export function observeFlow(d: Device, flow: FlowRecord, side: Side | null = flow.deviceSide): void {
  const p = flow.protocol as Facts | null;
  const f = factsOf(d);
  const isClient = side === 'orig';
  if (flow.internet && flow.hostname && isClient) f.add(f.domains, flow.hostname.toLowerCase());
  if (flow.internet && isClient) upstream(f, flow);
  if (!p) return;
  if (p.tls && isClient) {
    f.add(f.ja4, p.tls.ja4 as string | null);
    if (p.tls.sni) f.add(f.domains, String(p.tls.sni).toLowerCase());
  }
  if (p.http) {
    if (isClient && p.http.host && flow.internet) f.add(f.domains, String(p.http.host).replace(/:\d+$/, '').toLowerCase());
    if (isClient) f.add(f.userAgents, str(p.http.userAgent));
    if (!isClient && p.http.mjpeg) f.add(f.protocols, 'mjpeg-server');
    const upnp = p.http.upnp as Record<string, unknown> | null | undefined;
    if (upnp && sentBy(upnp.side, side, 'resp')) {
      for (const k of ['manufacturer', 'manufacturerURL', 'modelName', 'modelNumber', 'modelDescription', 'deviceType', 'friendlyName']) f.upnpField(k, str(upnp[k]));
      for (const t of strings(upnp.deviceTypes ?? upnp.embeddedDeviceTypes)) f.upnpField('deviceType', t);
    }
  }
  if (p.rtsp) {
    if (!isClient) f.add(f.protocols, 'rtsp-server');
    else if (p.rtsp.publishing) f.add(f.protocols, 'rtsp-publisher');
  }
  if (p.rtmp && isClient) f.add(f.protocols, 'rtmp-publisher');
  if (p.pppp) f.add(f.protocols, 'pppp');
  if (p.tuya) f.add(f.protocols, 'tuya');
  if (p.mqtt && isClient) {
    f.add(f.protocols, flow.app === 'mqtt-tls' ? 'mqtt-tls' : 'mqtt');
    for (const t of strings(p.mqtt.topics)) f.add(f.mqttTopics, t);
    for (const t of strings(p.mqtt.subscriptions)) f.add(f.mqttTopics, t);
  }
  if (p.tls?.mqtt && isClient) f.add(f.protocols, 'mqtt-tls');
  if (p.mdns) mdns(f, p.mdns, side);
  if (p.ssdp && isClient) {
    f.add(f.protocols, 'ssdp');
    const announces = strings(p.ssdp.methods).some((m) => m === 'NOTIFY' || m.startsWith('HTTP '));
    if (announces) {
      for (const s of strings(p.ssdp.servers)) f.add(f.ssdpServers, s);
      for (const t of [...strings(p.ssdp.notificationTypes), ...strings(p.ssdp.usns)]) {
        f.add(f.ssdpTypes, t);
        // An NT or USN naming a device type says what the description's deviceType would.
        const urn = /(urn:[^:]+:device:[^:]+:\d+)$/.exec(t);
        if (urn) f.upnpField('deviceType', urn[1]);
      }
    }
  }
  if (p.wsd) wsd(f, p.wsd, side);
  if (p.kasa) kasa(f, p.kasa, side);
  if (p.llmnr && sentBy(p.llmnr.responder, side, 'resp')) {
    f.add(f.protocols, 'llmnr');
    for (const n of strings(p.llmnr.answers)) f.hostname(n, 'llmnr');
  }
  if (p.netbios && sentBy(p.netbios.owner, side, 'orig')) {
    f.add(f.protocols, 'netbios');
    // Its unique workstation (0x00) and server (0x20) names are the host's own.
    for (const n of strings(p.netbios.hosts)) f.hostname(n, 'netbios');
  }
  if (p.coap && sentBy(p.coap.server, side, 'resp')) {
    f.add(f.protocols, 'coap-server');
    for (const path of strings(p.coap.paths)) f.add(f.coapPaths, path);
    for (const rt of strings(p.coap.resourceTypes)) f.add(f.coapPaths, rt);
  }
}

/** WS-Discovery: the types and scopes a device announced of itself (Hello, ProbeMatches...). */
function wsd(f: DeviceFacts, w: Record<string, unknown>, side: Side | null): void {
  if (!sentBy(w.announcer, side, 'orig')) return;
  const types = strings(w.types);
  if (types.length === 0 && strings(w.scopes).length === 0) return;
  for (const t of types) f.add(f.wsdTypes, t.replace(/^.*:/, ''));
  for (const s of strings(w.scopes)) f.add(f.wsdScopes, s);
  if (types.some((t) => /NetworkVideoTransmitter$/i.test(t))) f.add(f.protocols, 'onvif');
  for (const s of strings(w.scopes)) {
    const m = /^onvif:\/\/www\.onvif\.org\/name\/(.+)$/i.exec(s);
    if (m) f.hostname(m[1].replace(/[_+]/g, ' '), 'onvif');
  }
}

/** TP-Link Kasa: the answer to get_sysinfo names the model, its kind and the household's alias. */
function kasa(f: DeviceFacts, k: Record<string, unknown>, side: Side | null): void {
  if (!sentBy(k.responder, side, 'resp')) return;
  f.add(f.protocols, 'kasa');
  f.add(f.kasaModels, str(k.model));
  f.add(f.kasaTypes, str(k.deviceType));
  f.hostname(str(k.alias), 'kasa');
}

/** An upstream flow that carried at least STREAM_RATE bytes a second for a minute: video out. */
function upstream(f: DeviceFacts, flow: FlowRecord): void {
  if (flow.duration < STREAM_SECONDS || flow.proto !== 'tcp' && flow.proto !== 'udp') return;
  const up = flow.deviceSide === 'orig' ? flow.counters.orig.bytes : flow.counters.resp.bytes;
  const down = flow.deviceSide === 'orig' ? flow.counters.resp.bytes : flow.counters.orig.bytes;
  if (up / flow.duration >= STREAM_RATE && up > 8 * down) f.add(f.protocols, 'upstream-video');
}

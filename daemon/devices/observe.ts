/**
 * What each ended flow tells about its LAN device, for the classifier: names it contacted, the
 * roles it played (RTSP server, publisher...), the services it announced, its TLS fingerprints.
 */
import type { FlowRecord } from '../report/types.js';
import { type Device, factsOf } from './device-table.js';

type Facts = Record<string, Record<string, unknown>>;

export function observeFlow(d: Device, flow: FlowRecord): void {
  const p = flow.protocol as Facts | null;
  const f = factsOf(d);
  const isClient = flow.deviceSide === 'orig';
  if (flow.internet && flow.hostname && isClient) f.add(f.domains, flow.hostname.toLowerCase());
  if (!p) return;
  if (p.tls && isClient) {
    f.add(f.ja4, p.tls.ja4 as string | null);
    if (p.tls.sni) f.add(f.domains, String(p.tls.sni).toLowerCase());
  }
  if (p.http) {
    if (isClient && p.http.host && flow.internet) f.add(f.domains, String(p.http.host).replace(/:\d+$/, '').toLowerCase());
    if (!isClient && p.http.mjpeg) f.add(f.protocols, 'mjpeg-server');
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
    for (const t of (p.mqtt.topics as string[]) ?? []) f.add(f.mqttTopics, t);
    for (const t of (p.mqtt.subscriptions as string[]) ?? []) f.add(f.mqttTopics, t);
  }
  if (p.tls?.mqtt && isClient) f.add(f.protocols, 'mqtt-tls');
  if (p.mdns && isClient) {
    f.add(f.protocols, 'mdns');
    for (const s of (p.mdns.services as string[]) ?? []) f.add(f.mdnsServices, s.toLowerCase());
    for (const m of (p.mdns.models as string[]) ?? []) f.add(f.mdnsModels, m);
    // An instance name is "<device name>.<service>": the device's own name.
    for (const i of (p.mdns.instances as string[]) ?? []) {
      const m = /^(.+?)\._[a-z0-9-]+\._(tcp|udp)\.local$/i.exec(i);
      if (m && !m[1].startsWith('_')) f.hostname(m[1], 'mdns');
    }
  }
  if (p.ssdp && isClient) {
    f.add(f.protocols, 'ssdp');
    const announces = ((p.ssdp.methods as string[]) ?? []).some((m) => m === 'NOTIFY' || m.startsWith('HTTP '));
    if (announces) {
      for (const s of (p.ssdp.servers as string[]) ?? []) f.add(f.ssdpServers, s);
      for (const t of [...((p.ssdp.notificationTypes as string[]) ?? []), ...((p.ssdp.usns as string[]) ?? [])]) f.add(f.ssdpTypes, t);
    }
  }
}

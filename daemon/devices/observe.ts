/**
 * What each ended flow tells about a LAN device, for the classifier: names it contacted, the
 * roles it played (RTSP server, publisher...), what it announced of itself (mDNS, SSDP, UPnP,
 * WS-Discovery, Kasa, NetBIOS, LLMNR, CoAP), its TLS fingerprints and User-Agents. A flow
 * between two LAN devices is read once for each: `side` says which end the device is, and each
 * announcement is credited to the end that made it, never to its peer.
 */
import type { FlowRecord } from '../report/types.js';
import { type Device, factsOf } from './device-table.js';
import type { LearnedList, Learner } from '../protocols/contract.js';
import { learnFrom } from '../protocols/registry.js';
import type { DeviceFacts } from './facts.js';

type Side = 'orig' | 'resp';

/** A sustained upstream stream: a camera sending its video out (bytes per second, seconds). */
const STREAM_RATE = 40_000;
const STREAM_SECONDS = 60;

/** The inventory's side of the protocols' Learner: each list a protocol names is one of the device's facts. */
function learner(f: DeviceFacts): Learner {
  const lists: Record<LearnedList, Set<string>> = {
    domains: f.domains,
    ja4: f.ja4,
    userAgents: f.userAgents,
    mqttTopics: f.mqttTopics,
    ssdpServers: f.ssdpServers,
    ssdpTypes: f.ssdpTypes,
    mdnsBrowses: f.mdnsBrowses,
    mdnsModels: f.mdnsModels,
    homekitModels: f.homekitModels,
    wsdTypes: f.wsdTypes,
    wsdScopes: f.wsdScopes,
    kasaModels: f.kasaModels,
    kasaTypes: f.kasaTypes,
    coapPaths: f.coapPaths,
  };
  return {
    protocol: (name) => f.add(f.protocols, name),
    add: (list, value) => f.add(lists[list], value),
    hostname: (name, source) => f.hostname(name, source),
    offer: (service, instance, txt) => f.offer(service, instance, txt),
    upnpField: (field, value) => f.upnpField(field, value),
  };
}

const learners = new WeakMap<DeviceFacts, Learner>();
function learnerOf(f: DeviceFacts): Learner {
  let l = learners.get(f);
  if (!l) learners.set(f, (l = learner(f)));
  return l;
}

export function observeFlow(d: Device, flow: FlowRecord, side: Side | null = flow.deviceSide): void {
  const f = factsOf(d);
  const isClient = side === 'orig';
  if (flow.internet && flow.hostname && isClient) f.add(f.domains, flow.hostname.toLowerCase());
  if (flow.internet && isClient) upstream(f, flow);
  if (flow.protocol) learnFrom(flow.protocol, { side, mac: d.mac, isClient, internet: flow.internet, app: flow.app }, learnerOf(f));
}

/** An upstream flow that carried at least STREAM_RATE bytes a second for a minute: video out. */
function upstream(f: DeviceFacts, flow: FlowRecord): void {
  if (flow.duration < STREAM_SECONDS || flow.proto !== 'tcp' && flow.proto !== 'udp') return;
  const up = flow.deviceSide === 'orig' ? flow.counters.orig.bytes : flow.counters.resp.bytes;
  const down = flow.deviceSide === 'orig' ? flow.counters.resp.bytes : flow.counters.orig.bytes;
  if (up / flow.duration >= STREAM_RATE && up > 8 * down) f.add(f.protocols, 'upstream-video');
}

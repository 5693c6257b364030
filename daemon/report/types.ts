import type { Conflict, Evidence } from '../devices/classify.js';
import type { Alert } from '../verdicts/alert.js';
import type { DeviceProfile } from '../model/profile.js';
import type { FlowFacts } from '../protocols/registry.js';

/**
 * TypeScript view of the `vigie analyze --json` document. The normative definition is
 * analysis.schema.json beside this file; tests validate real output against it.
 */

export interface AnalysisReport {
  vigie: { version: string; schema: number };
  capture: CaptureSummary;
  devices: DeviceRecord[];
  flows: FlowRecord[];
  alerts: Alert[];
  /** What each LAN device was seen doing: the input of `vigie segment`. */
  profiles: DeviceProfile[];
}

export interface CaptureSummary {
  source: string;
  format: 'pcap' | 'pcapng' | 'live';
  linkTypes: string[];
  packets: number;
  bytes: number;
  capturedBytes: number;
  start: string | null;
  end: string | null;
  duration: number;
  malformed: number;
  malformedReasons: Record<string, number>;
  snapCut: number;
  fragments: number;
  vlanTagged: number;
  pppoe: number;
  decoded: {
    ipv4: number;
    ipv6: number;
    arp: number;
    otherL3: number;
    tcp: number;
    udp: number;
    icmp: number;
    icmpv6: number;
    otherL4: number;
  };
  flows: { total: number; expired: number; evicted: number; reused: number; maxLive: number };
  devices: { total: number; evicted: number };
  reassembly: {
    depth: number;
    delivered: number;
    segments: number;
    retransmitted: number;
    outOfOrder: number;
    gaps: number;
    gapBytes: number;
    midstream: number;
  };
  cut: { offset: number; afterPacket: number; reason: string } | null;
}

export interface DeviceRecord {
  id: string;
  mac: string | null;
  randomizedMac: boolean | null;
  ips: { ip: string; firstSeen: string; lastSeen: string; source: string }[];
  vendor: string | null;
  model: string | null;
  hostname: string | null;
  label: string | null;
  category: string;
  categorySource: 'rules' | 'user' | null;
  confidence: number;
  evidence: Evidence[];
  module: string | null;
  conflicts: Conflict[];
  observations: {
    hostnames: { name: string; source: string }[];
    dhcpVendorClass: string | null;
    dhcpParams: number[] | null;
    mdnsServices: string[];
    mdnsModels: string[];
    ssdpServers: string[];
    ssdpTypes: string[];
    domains: string[];
    protocols: string[];
    mqttTopics: string[];
    ja4: string[];
    mdnsOffers: { service: string; instances: string[]; txt: string[] }[];
    mdnsBrowses: string[];
    homekitModels: string[];
    upnp: Record<string, string[]>;
    wsdTypes: string[];
    wsdScopes: string[];
    kasaModels: string[];
    kasaTypes: string[];
    coapPaths: string[];
    userAgents: string[];
  };
  firstSeen: string;
  lastSeen: string;
  stats: { flows: number; packetsUp: number; packetsDown: number; bytesUp: number; bytesDown: number };
}

export interface Endpoint {
  ip: string;
  port: number;
  mac: string | null;
  local: boolean;
}

export interface Counters {
  packets: number;
  bytes: number;
  payloadBytes: number;
}

export interface FlowRecord {
  id: number;
  proto: string;
  ipVersion: 4 | 6;
  vlan: number[];
  orig: Endpoint;
  resp: Endpoint;
  lanSide: 'orig' | 'resp' | 'both' | 'none';
  internet: boolean;
  device: string | null;
  /** Name of the remote end: resolved by the device (dns), else TLS SNI (sni) or HTTP Host (http). */
  hostname: string | null;
  hostnameSource: 'dns' | 'sni' | 'http' | null;
  deviceSide: 'orig' | 'resp' | null;
  counters: { orig: Counters; resp: Counters };
  firstSeen: string;
  lastSeen: string;
  duration: number;
  tcp: { state: string; origFlags: string; respFlags: string } | null;
  endReason: 'idle' | 'evicted' | 'end' | 'reused';
  app: string | null;
  encrypted: boolean | null;
  /** What the protocol stage learnt, by protocol (see analysis.schema.json). */
  protocol: FlowFacts | null;
}

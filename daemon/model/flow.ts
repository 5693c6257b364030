/** A flow, as `vigie analyze --json` gives it (analysis.schema.json#/$defs/flow). */

// Layering: the facts of a flow are the protocols' typed contract (one interface per protocol,
// checked against the registry at build time), so the model takes that one type from the
// registry rather than copying twenty interfaces down here. Type-only: erased from the build and
// from the dashboard's bundle; .dependency-cruiser.cjs allows exactly this import and no other.
import type { FlowFacts } from '../protocols/registry.js';

export type { FlowFacts };

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

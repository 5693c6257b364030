/**
 * The `vigie analyze --json` document. The normative definition is
 * daemon/report/analysis.schema.json; tests validate real output against it.
 */
import type { Alert } from './alert.js';
import type { DeviceRecord } from './device.js';
import type { FlowRecord } from './flow.js';
import type { DeviceProfile } from './profile.js';

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

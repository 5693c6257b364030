/** Offline analysis: a capture in, the report document out. */
import { createRequire } from 'node:module';
import { linkTypeName } from '../capture/linktype.js';
import { type CaptureReadResult, readCapture, type ReadOptions } from '../capture/reader.js';
import { type Device, deviceKey, DeviceTable } from '../devices/device-table.js';
import type { AnalysisReport, CaptureSummary, DeviceRecord, FlowRecord } from '../report/types.js';
import { DEFAULT_CONFIG, type EngineConfig } from './config.js';
import { Engine, type EngineHooks } from './engine.js';
import { isoTime } from './flow-record.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

export const SCHEMA_VERSION = 1;

export interface AnalyzeOptions extends ReadOptions {
  config?: EngineConfig;
  stream?: EngineHooks['stream'];
  events?: EngineHooks['events'];
}

export async function analyzeCapture(source: string, opts: AnalyzeOptions = {}): Promise<AnalysisReport> {
  const flows: FlowRecord[] = [];
  const engine = new Engine(opts.config ?? DEFAULT_CONFIG, {
    stream: opts.stream,
    events: opts.events,
    flowEnded: (r) => flows.push(r),
  });
  const read = await readCapture(source, engine, opts);
  engine.finish();
  flows.sort((a, b) => a.id - b.id);
  return buildReport(read, engine, flows);
}

/**
 * The same analysis for JSON output: each flow is serialised as it ends, so that a long capture
 * keeps compact strings rather than object graphs (less memory, less garbage collection). The
 * strings are those JSON.stringify gives for report.flows, in flow id order.
 */
export async function analyzeCaptureToJson(source: string, opts: AnalyzeOptions = {}): Promise<{ report: AnalysisReport; flowJson: string[] }> {
  const flowJson: string[] = [];
  const ids: number[] = [];
  const engine = new Engine(opts.config ?? DEFAULT_CONFIG, {
    events: opts.events,
    flowEnded: (r) => {
      ids.push(r.id);
      flowJson.push(JSON.stringify(r));
    },
  });
  const read = await readCapture(source, engine, opts);
  engine.finish();
  const order = ids.map((id, i) => [id, i]).sort((a, b) => a[0] - b[0]);
  return { report: buildReport(read, engine, []), flowJson: order.map(([, i]) => flowJson[i]) };
}

export function buildReport(read: CaptureReadResult, engine: Engine, flows: FlowRecord[]): AnalysisReport {
  const st = engine.decoder.stats;
  const rs = engine.reassembler.stats;
  const hasPackets = st.packets > 0;
  const capture: CaptureSummary = {
    source: read.source,
    format: read.format,
    linkTypes: read.linkTypes.map(linkTypeName),
    packets: st.packets,
    bytes: st.bytes,
    capturedBytes: st.capturedBytes,
    start: hasPackets ? isoTime(engine.firstTs) : null,
    end: hasPackets ? isoTime(engine.lastTs) : null,
    duration: hasPackets ? Math.round((engine.lastTs - engine.firstTs) * 1e6) / 1e6 : 0,
    malformed: st.malformed,
    malformedReasons: { ...st.malformedReasons },
    snapCut: st.snapCut,
    fragments: st.fragments,
    vlanTagged: st.vlanTagged,
    pppoe: st.pppoe,
    decoded: {
      ipv4: st.ipv4,
      ipv6: st.ipv6,
      arp: st.arp,
      otherL3: st.otherL3,
      tcp: st.tcp,
      udp: st.udp,
      icmp: st.icmp,
      icmpv6: st.icmpv6,
      otherL4: st.otherL4,
    },
    flows: { total: engine.flows.created, expired: engine.flows.expired, evicted: engine.flows.evicted, maxLive: engine.flows.maxCount },
    devices: { total: engine.devices.size + engine.devices.evicted, evicted: engine.devices.evicted },
    reassembly: {
      depth: engine.config.streamDepth,
      delivered: rs.delivered,
      segments: rs.segments,
      retransmitted: rs.retransmitted,
      outOfOrder: rs.outOfOrder,
      gaps: rs.gaps,
      gapBytes: rs.gapBytes,
      midstream: rs.midstream,
    },
    cut: read.cut,
  };
  return {
    vigie: { version: pkg.version, schema: SCHEMA_VERSION },
    capture,
    devices: engine.devices
      .all()
      .sort((a, b) => a.firstSeen - b.firstSeen || a.id - b.id)
      .map(deviceRecord),
    flows,
    alerts: [],
  };
}

export function deviceRecord(d: Device): DeviceRecord {
  const mac = DeviceTable.macText(d);
  return {
    id: deviceKey(d),
    mac,
    // IEEE 802 U/L bit: set on locally administered (randomised, private) addresses.
    randomizedMac: mac ? (parseInt(mac.slice(0, 2), 16) & 0x02) !== 0 : null,
    ips: [...d.ips.values()].map((a) => ({ ip: a.ip, firstSeen: isoTime(a.firstSeen), lastSeen: isoTime(a.lastSeen), source: a.source })),
    vendor: null,
    hostname: null,
    category: 'unknown',
    confidence: 0,
    evidence: [],
    firstSeen: isoTime(d.firstSeen),
    lastSeen: isoTime(d.lastSeen),
    stats: { flows: d.flows, packetsUp: d.packetsUp, packetsDown: d.packetsDown, bytesUp: d.bytesUp, bytesDown: d.bytesDown },
  };
}

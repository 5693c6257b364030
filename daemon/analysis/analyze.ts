/** Offline analysis: a capture in, the report document out. */
import { createRequire } from 'node:module';
import { linkTypeName } from '../capture/linktype.js';
import { type CaptureReadResult, readCapture, type ReadOptions } from '../capture/reader.js';
import type { Device } from '../devices/device-table.js';
import { DeviceFacts } from '../devices/facts.js';
import { classification, identify } from '../devices/identity.js';
import type { AnalysisReport, CaptureSummary, DeviceRecord, FlowRecord } from '../report/types.js';
import type { DeviceProfile } from '../model/profile.js';
import { DEFAULT_CONFIG, type EngineConfig } from './config.js';
import { Engine, type EngineHooks } from './engine.js';
import { isoTime } from './flow-record.js';
import type { Alert } from '../verdicts/alert.js';
import { severityRank } from '../verdicts/rules.js';
import { byText } from '../util/order.js';
import { ProfileBook } from '../profiles/profile-book.js';
import { FlowSpill } from './flow-spill.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

export const SCHEMA_VERSION = 1;

export interface AnalyzeOptions extends ReadOptions {
  config?: EngineConfig;
  stream?: EngineHooks['stream'];
  events?: EngineHooks['events'];
  /** Keep every flow record in the report (default); false: only devices, alerts and profiles. */
  keepFlows?: boolean;
}

export async function analyzeCapture(source: string, opts: AnalyzeOptions = {}): Promise<AnalysisReport> {
  const flows: FlowRecord[] = [];
  const config = offline(opts.config ?? DEFAULT_CONFIG);
  const profiles = offlineProfiles(config);
  const keep = opts.keepFlows !== false;
  const engine = new Engine(config, {
    stream: opts.stream,
    events: opts.events,
    flowEnded: (r) => {
      if (keep) flows.push(r);
      profiles.add(r);
    },
  });
  const read = await readCapture(source, engine, opts);
  engine.finish();
  flows.sort((a, b) => a.id - b.id);
  return buildReport(read, engine, flows, profiles);
}

/** Offline, flows are judged once, at their end, unless the caller says otherwise (config.ts). */
function offline(config: EngineConfig): EngineConfig {
  return config.judgeRunning === undefined ? { ...config, judgeRunning: false } : config;
}

/** Offline, the whole capture is the learning window (also the daemon's warm-up: run/warm-up.ts). */
export function offlineProfiles(config: EngineConfig): ProfileBook {
  const geo = config.verdicts?.geo;
  return new ProfileBook({ learningSeconds: null, place: (ip) => (geo ? geo.lookup(ip) : { country: null, org: null }) });
}

/**
 * The same analysis for JSON output: each flow is serialised as it ends and kept out of the heap
 * (flow-spill.ts), so that a long capture holds neither object graphs nor millions of
 * strings (less memory, less garbage collection). The texts are those JSON.stringify gives for
 * report.flows, in flow id order. The caller closes the spill once written.
 */
export async function analyzeCaptureToJson(source: string, opts: AnalyzeOptions = {}): Promise<{ report: AnalysisReport; flowJson: FlowSpill }> {
  const spill = new FlowSpill();
  const config = offline(opts.config ?? DEFAULT_CONFIG);
  const profiles = offlineProfiles(config);
  const engine = new Engine(config, {
    events: opts.events,
    flowEnded: (r) => {
      spill.add(r.id, JSON.stringify(r));
      profiles.add(r);
    },
  });
  try {
    const read = await readCapture(source, engine, opts);
    engine.finish();
    return { report: buildReport(read, engine, [], profiles), flowJson: spill };
  } catch (e) {
    spill.close();
    throw e;
  }
}

export function buildReport(read: CaptureReadResult, engine: Engine, flows: FlowRecord[], profiles: ProfileBook): AnalysisReport {
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
    flows: { total: engine.flows.created, expired: engine.flows.expired, evicted: engine.flows.evicted, reused: engine.flows.reused, maxLive: engine.flows.maxCount },
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
      .map((d) => deviceRecord(d, engine.config)),
    flows,
    alerts: sortAlerts(engine.verdicts?.alerts ?? []),
    profiles: finishedProfiles(profiles, capture.end),
  };
}

export function deviceRecord(d: Device, config: EngineConfig = DEFAULT_CONFIG): DeviceRecord {
  const id = identify(d, config.deviceRules, config.deviceOverrides);
  const c = classification(d, config.deviceRules);
  const facts = d.facts ?? new DeviceFacts();
  const userCategory = id.mac ? config.deviceOverrides[id.mac]?.category : undefined;
  const names = [...facts.hostnames];
  return {
    id: id.id,
    mac: id.mac,
    randomizedMac: id.randomizedMac,
    ips: [...d.ips.values()].map((a) => ({ ip: a.ip, firstSeen: isoTime(a.firstSeen), lastSeen: isoTime(a.lastSeen), source: a.source })),
    vendor: id.vendor,
    model: id.model,
    hostname: id.hostname,
    label: id.label,
    category: id.category,
    categorySource: userCategory ? 'user' : c.category === 'unknown' ? null : 'rules',
    confidence: userCategory ? 1 : c.confidence,
    evidence: c.evidence,
    module: c.module,
    conflicts: c.conflicts,
    observations: {
      hostnames: names.map(([name, source]) => ({ name, source })),
      dhcpVendorClass: facts.dhcpVendorClass,
      dhcpParams: facts.dhcpParams,
      mdnsServices: [...facts.mdnsServices],
      mdnsModels: [...facts.mdnsModels],
      ssdpServers: [...facts.ssdpServers],
      ssdpTypes: [...facts.ssdpTypes],
      domains: [...facts.domains],
      protocols: [...facts.protocols],
      mqttTopics: [...facts.mqttTopics],
      ja4: [...facts.ja4],
      mdnsOffers: [...facts.mdnsOffers].map(([service, o]) => ({ service, instances: [...o.instances], txt: [...o.txt] })),
      mdnsBrowses: [...facts.mdnsBrowses],
      homekitModels: [...facts.homekitModels],
      upnp: Object.fromEntries([...facts.upnp].map(([k, v]) => [k, [...v]])),
      wsdTypes: [...facts.wsdTypes],
      wsdScopes: [...facts.wsdScopes],
      kasaModels: [...facts.kasaModels],
      kasaTypes: [...facts.kasaTypes],
      coapPaths: [...facts.coapPaths],
      userAgents: [...facts.userAgents],
    },
    firstSeen: isoTime(d.firstSeen),
    lastSeen: isoTime(d.lastSeen),
    stats: { flows: d.flows, packetsUp: d.packetsUp, packetsDown: d.packetsDown, bytesUp: d.bytesUp, bytesDown: d.bytesDown },
  };
}

function finishedProfiles(profiles: ProfileBook, end: string | null): DeviceProfile[] {
  if (end) profiles.freezeAll(end);
  return profiles.all();
}

/** Most severe first, then oldest first. */
export function sortAlerts(alerts: Alert[]): Alert[] {
  return [...alerts].sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || byText(a.firstSeen, b.firstSeen) || byText(a.id, b.id));
}

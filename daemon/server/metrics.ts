/**
 * Prometheus metrics (`GET /metrics`, with a bearer token or a session): packets, drops, flows,
 * devices, alerts by severity, store writes, plus the process's own CPU and memory. Read from
 * the daemon's counters when scraped: nothing is counted twice on the packet path. Made at the first
 * scrape: until a Prometheus server asks, neither prom-client nor its process collectors (event loop
 * delay histogram, GC observer) cost the router memory or CPU; GC figures start from that scrape.
 */
import client from 'prom-client';
import { SEVERITIES } from '../verdicts/rules.js';
import type { Bounds } from './api-types.js';
import type { VigieService } from './service.js';

const NO_BOUNDS: Bounds = {
  flows: { size: 0, max: 0, evicted: 0 },
  devices: { size: 0, max: 0, evicted: 0 },
  dnsNames: { size: 0, max: 0, evicted: 0 },
  reassembly: { heldBytes: 0, maxHeldBytes: 0, overBudget: 0, gaps: 0, gapBytes: 0, outOfOrder: 0 },
  decode: { fragments: 0, laterFragments: 0, snapCut: 0, jumbo: 0 },
  rtpPorts: { size: 0, max: 0, evicted: 0 },
  storeDevices: { size: 0, max: 0, evicted: 0, refused: 0 },
  recentFlows: { size: 0, max: 0, evicted: 0, devices: 0 },
};

export class Metrics {
  private readonly registry = new client.Registry();
  /** The tables' figures, read once per scrape (status() does more than one gauge needs). */
  private bounds: Bounds = NO_BOUNDS;

  constructor(private readonly daemon: Pick<VigieService, 'metrics' | 'alertSummary' | 'raised'> & Partial<Pick<VigieService, 'status'>>) {
    const r = this.registry;
    client.collectDefaultMetrics({ register: r, prefix: 'vigie_' });
    const gauge = (name: string, help: string, read: () => number) =>
      new client.Gauge({
        name,
        help,
        registers: [r],
        collect() {
          this.set(read());
        },
      });
    // Counters that the daemon keeps itself: exposed as counters, read at scrape time.
    const counter = (name: string, help: string, read: () => number) =>
      new client.Counter({
        name,
        help,
        registers: [r],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    const m = () => daemon.metrics();
    counter('vigie_packets_total', 'Packets decoded', () => m().packets);
    counter('vigie_bytes_total', 'Bytes on the wire of the packets decoded', () => m().bytes);
    counter('vigie_malformed_packets_total', 'Packets counted as malformed and skipped', () => m().malformed);
    counter('vigie_capture_received_total', 'Packets libpcap received (all reopenings)', () => m().captureReceived);
    counter('vigie_capture_dropped_total', 'Packets the kernel dropped for lack of buffer space', () => m().captureDropped);
    counter('vigie_capture_interface_dropped_total', 'Packets the interface dropped', () => m().captureInterfaceDropped);
    counter('vigie_capture_reopened_total', 'Times the capture was reopened (interface down/up, replaced)', () => m().captureReopened);
    counter('vigie_flows_total', 'Flows seen', () => m().flowsCreated);
    counter('vigie_flows_evicted_total', 'Flows evicted from the full flow table', () => m().flowsEvicted);
    gauge('vigie_flows', 'Flows in the flow table', () => m().flows);
    gauge('vigie_devices', 'Devices in the live device table', () => m().devices);
    gauge('vigie_devices_known', 'Devices the store remembers', () => m().devicesKnown);
    counter('vigie_store_writes_total', 'Store writes (atomic)', () => m().storeWrites);
    counter('vigie_store_write_errors_total', 'Store writes that failed', () => m().storeWriteErrors);
    gauge('vigie_store_write_failing', '1 while store writes fail (data kept in memory, retried)', () => (m().storeFailing ? 1 : 0));
    gauge('vigie_store_low_space', '1 when the state folder has less than twice the store size free', () => (m().storeLowSpace ? 1 : 0));
    counter('vigie_timer_errors_total', 'Timer ticks (or readings in them) that failed, e.g. out of file descriptors', () => m().timerErrors);
    gauge('vigie_live_clients', 'WebSocket clients connected', () => m().liveClients);
    counter('vigie_live_refused_total', 'WebSocket clients refused at a cap (per address or overall)', () => m().liveRefused);
    counter('vigie_live_dropped_total', 'WebSocket clients dropped for being too slow (their own limit or the shared budget)', () => m().liveDropped);
    gauge('vigie_live_queued_bytes', 'Bytes queued on all WebSocket clients together', () => m().liveQueuedBytes);
    counter('vigie_event_log_lines_total', 'Lines written to the --event-log file', () => m().eventLogWritten);
    counter('vigie_event_log_write_errors_total', 'Event-log writes that failed (the line is lost, the daemon goes on)', () => m().eventLogErrors);
    gauge('vigie_event_log_write_failing', '1 while event-log writes fail (e.g. a full disk)', () => (m().eventLogFailing ? 1 : 0));
    const b = () => this.bounds;
    counter('vigie_devices_evicted_total', 'Devices forgotten from the full live device table (least recently seen first)', () => b().devices.evicted);
    counter('vigie_dns_names_evicted_total', 'DNS answers (device, address, name) forgotten from the full name table', () => b().dnsNames.evicted);
    counter('vigie_reassembly_over_budget_total', 'TCP holes given up because the segments held out of order exceeded their budget', () => b().reassembly.overBudget);
    counter('vigie_reassembly_gaps_total', 'TCP stream holes skipped (never captured, or given up)', () => b().reassembly.gaps);
    counter('vigie_reassembly_gap_bytes_total', 'Bytes of the TCP stream holes skipped', () => b().reassembly.gapBytes);
    gauge('vigie_reassembly_held_bytes', 'Bytes of TCP segments held out of order, all flows', () => b().reassembly.heldBytes);
    counter('vigie_ip_fragments_total', 'IP fragments seen (IPv4 and IPv6)', () => b().decode.fragments);
    counter('vigie_ip_fragments_skipped_total', 'IP fragments after the first: not reassembled, their payload not dissected', () => b().decode.laterFragments);
    counter('vigie_snap_cut_packets_total', 'Packets cut by the snap length before the headers needed', () => b().decode.snapCut);
    counter('vigie_jumbo_frames_total', 'Frames longer on the wire than 1522 bytes', () => b().decode.jumbo);
    counter('vigie_rtp_ports_evicted_total', 'RTP/RTCP ports announced by RTSP and forgotten for the bound before their flow came', () => b().rtpPorts.evicted);
    counter('vigie_store_devices_evicted_total', 'Unnamed devices the store forgot to stay within its bound (seen longest ago first)', () => b().storeDevices.evicted);
    counter('vigie_store_devices_refused_total', 'New devices the store did not remember because every entry was named by the household', () => b().storeDevices.refused);
    counter('vigie_recent_flows_evicted_total', "Devices' recent-flow lists dropped to stay within their memory budget", () => b().recentFlows.evicted);
    const table = new client.Gauge({
      name: 'vigie_table_entries',
      help: 'Entries in each bounded table',
      labelNames: ['table'],
      registers: [r],
      collect() {
        const t = b();
        this.set({ table: 'flows' }, t.flows.size);
        this.set({ table: 'devices' }, t.devices.size);
        this.set({ table: 'dns_names' }, t.dnsNames.size);
        this.set({ table: 'rtp_ports' }, t.rtpPorts.size);
        this.set({ table: 'store_devices' }, t.storeDevices.size);
        this.set({ table: 'recent_flows_chars' }, t.recentFlows.size);
      },
    });
    void table;
    const bound = new client.Gauge({
      name: 'vigie_table_capacity',
      help: 'The bound of each table (entries; reassembly: bytes)',
      labelNames: ['table'],
      registers: [r],
      collect() {
        const t = b();
        this.set({ table: 'flows' }, t.flows.max);
        this.set({ table: 'devices' }, t.devices.max);
        this.set({ table: 'dns_names' }, t.dnsNames.max);
        this.set({ table: 'reassembly_bytes' }, t.reassembly.maxHeldBytes);
        this.set({ table: 'rtp_ports' }, t.rtpPorts.max);
        this.set({ table: 'store_devices' }, t.storeDevices.max);
        this.set({ table: 'recent_flows_chars' }, t.recentFlows.max);
      },
    });
    void bound;
    const open = new client.Gauge({
      name: 'vigie_alerts_open',
      help: 'Alerts neither muted nor acknowledged, by severity',
      labelNames: ['severity'],
      registers: [r],
      collect() {
        const { bySeverity } = daemon.alertSummary();
        for (const s of SEVERITIES) this.set({ severity: s }, bySeverity[s]);
      },
    });
    void open;
    const raised = new client.Counter({
      name: 'vigie_alerts_raised_total',
      help: 'New alerts since start, by severity and rule',
      labelNames: ['severity', 'rule'],
      registers: [r],
      collect() {
        this.reset();
        for (const [k, n] of daemon.raised()) {
          const [severity, rule] = k.split('\t');
          this.inc({ severity, rule }, n);
        }
      },
    });
    void raised;
  }

  text(): Promise<string> {
    this.bounds = this.daemon.status?.().bounds ?? NO_BOUNDS;
    return this.registry.metrics();
  }
}

/**
 * Prometheus metrics (`GET /metrics`, with a bearer token or a session): packets, drops, flows,
 * devices, alerts by severity, store writes, plus the process's own CPU and memory. Read from
 * the daemon's counters when scraped: nothing is counted twice on the packet path. Made at the first
 * scrape: until a Prometheus server asks, neither prom-client nor its process collectors (event loop
 * delay histogram, GC observer) cost the router memory or CPU; GC figures start from that scrape.
 */
import client from 'prom-client';
import { SEVERITIES } from '../verdicts/rules.js';
import type { Daemon } from '../run/daemon.js';

export class Metrics {
  private readonly registry = new client.Registry();

  constructor(daemon: Daemon) {
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
    const e = () => daemon.engine;
    counter('vigie_packets_total', 'Packets decoded', () => e().decoder.stats.packets);
    counter('vigie_bytes_total', 'Bytes on the wire of the packets decoded', () => e().decoder.stats.bytes);
    counter('vigie_malformed_packets_total', 'Packets counted as malformed and skipped', () => e().decoder.stats.malformed);
    counter('vigie_capture_received_total', 'Packets libpcap received (all reopenings)', () => daemon.capture?.status().received ?? 0);
    counter('vigie_capture_dropped_total', 'Packets the kernel dropped for lack of buffer space', () => daemon.capture?.status().dropped ?? 0);
    counter('vigie_capture_interface_dropped_total', 'Packets the interface dropped', () => daemon.capture?.status().interfaceDropped ?? 0);
    counter('vigie_capture_reopened_total', 'Times the capture was reopened (interface down/up, replaced)', () => daemon.capture?.status().reopened ?? 0);
    counter('vigie_flows_total', 'Flows seen', () => e().flows.created);
    counter('vigie_flows_evicted_total', 'Flows evicted from the full flow table', () => e().flows.evicted);
    gauge('vigie_flows', 'Flows in the flow table', () => e().flows.count);
    gauge('vigie_devices', 'Devices in the live device table', () => e().devices.size);
    gauge('vigie_devices_known', 'Devices the store remembers', () => Object.keys(daemon.store.data.devices).length);
    counter('vigie_store_writes_total', 'Store writes (atomic)', () => daemon.store.writes);
    counter('vigie_store_write_errors_total', 'Store writes that failed', () => daemon.store.writeErrors);
    gauge('vigie_store_write_failing', '1 while store writes fail (data kept in memory, retried)', () => (daemon.store.lastError !== null ? 1 : 0));
    gauge('vigie_store_low_space', '1 when the state folder has less than twice the store size free', () => (daemon.store.lowSpace ? 1 : 0));
    counter('vigie_timer_errors_total', 'Timer ticks (or readings in them) that failed, e.g. out of file descriptors', () => daemon.tickErrors);
    gauge('vigie_live_clients', 'WebSocket clients connected', () => daemon.hub.size);
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
        for (const [k, n] of daemon.raised) {
          const [severity, rule] = k.split('\t');
          this.inc({ severity, rule }, n);
        }
      },
    });
    void raised;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

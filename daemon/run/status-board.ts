/**
 * The daemon's figures (`/api/status`, the live feed's `stats`, /metrics): packets and rates,
 * flows, devices, alerts, capture, store health, memory; and the guard of every timer, whose
 * failures are counted and told once rather than ending the daemon (issue 16, finding 2).
 */
import os from 'node:os';
import type { Engine } from '../analysis/engine.js';
import type { CaptureStatus } from '../capture/supervisor.js';
import type { Bounds, Status } from '../server/api-types.js';
import { MAX_DEVICE_ENTRIES, type Store } from '../store/store.js';
import { EXPECTED_PORTS } from '../protocols/stage.js';
import type { Views } from './views.js';

export interface StatusSources {
  capture: () => CaptureStatus | null;
  replay: () => Status['replay'];
  rulesError: () => string | null;
  eventLog: () => Status['eventLog'];
  live: () => Status['live'];
  /** The recent-flow lists' fill (run/inventory-sync.ts). */
  recentFlows: () => Bounds['recentFlows'];
}

export class StatusBoard {
  readonly started = Date.now();
  /** Uptime and rates count on the monotonic clock: a stepped wall clock makes neither negative nor huge. */
  private readonly startedMono = performance.now();
  /** Timer ticks that threw (out of descriptors, a bug): counted, told once per reason, the timer goes on. */
  tickErrors = 0;
  private readonly tickReasons = new Set<string>();
  private lastMemory = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  private lastStats = { packets: 0, bytes: 0, at: performance.now() };
  private rates = { pps: 0, bps: 0 };

  constructor(
    private readonly engine: Engine,
    private readonly store: Store,
    private readonly views: Views,
    private readonly sources: StatusSources,
    private readonly log: (msg: string) => void,
  ) {}

  /** Runs one timer's work; what it throws is counted and told once. */
  guarded(what: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.tickFailed(what, e as Error);
    }
  }

  private tickFailed(what: string, e: Error): void {
    this.tickErrors++;
    const why = `${what}: ${e.message}`;
    if (this.tickReasons.size < 32 && !this.tickReasons.has(why)) {
      this.tickReasons.add(why);
      this.log(`WARNING: ${why} (counted in vigie_timer_errors_total; told once)`);
    }
  }

  /** process.memoryUsage() reads /proc and throws EMFILE when descriptors run out: the last figures then. */
  private memory(): Status['memory'] {
    try {
      const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
      this.lastMemory = { rss, heapTotal, heapUsed, external, arrayBuffers };
    } catch (e) {
      this.tickFailed('memory figures', e as Error);
    }
    return { ...this.lastMemory };
  }

  /** Packets and bits a second over the last second: by the clock, not by whoever asks. */
  measureRates(): void {
    const st = this.engine.decoder.stats;
    const now = performance.now();
    const dt = Math.max(0.001, (now - this.lastStats.at) / 1000);
    this.rates = { pps: (st.packets - this.lastStats.packets) / dt, bps: ((st.bytes - this.lastStats.bytes) * 8) / dt };
    this.lastStats = { packets: st.packets, bytes: st.bytes, at: now };
  }

  /**
   * Each bounded table's fill, bound and what it evicted or dropped to stay within it (issue 15,
   * floods): read from the tables' own counters, nothing counted on the packet path for this.
   */
  bounds(): Bounds {
    const e = this.engine;
    const st = e.decoder.stats;
    const r = e.reassembler.stats;
    const names = e.protocols.names;
    return {
      flows: { size: e.flows.count, max: e.config.maxFlows, evicted: e.flows.evicted },
      devices: { size: e.devices.size, max: e.devices.maxDevices, evicted: e.devices.evicted },
      dnsNames: { size: names.size, max: names.limit, evicted: names.evicted },
      reassembly: { heldBytes: e.reassembler.heldTotal, maxHeldBytes: e.reassembler.maxHeldBytes, overBudget: r.overBudget, gaps: r.gaps, gapBytes: r.gapBytes, outOfOrder: r.outOfOrder },
      decode: { fragments: st.fragments, laterFragments: st.laterFragments, snapCut: st.snapCut, jumbo: st.jumbo },
      rtpPorts: { size: e.protocols.expected.size, max: EXPECTED_PORTS, evicted: e.protocols.expectedEvicted },
      storeDevices: { size: this.store.deviceCount(), max: MAX_DEVICE_ENTRIES, evicted: this.store.devicesForgotten, refused: this.store.devicesRefused },
      recentFlows: this.sources.recentFlows(),
    };
  }

  stats(): Status {
    const st = this.engine.decoder.stats;
    const now = Date.now();
    const { open, bySeverity } = this.views.alertSummary();
    const s = this.store;
    return {
      time: new Date(now).toISOString(),
      uptime: Math.round((performance.now() - this.startedMono) / 1000),
      packets: st.packets,
      bytes: st.bytes,
      malformed: st.malformed,
      packetsPerSecond: Math.round(this.rates.pps),
      bitsPerSecond: Math.round(this.rates.bps),
      flows: this.engine.flows.count,
      flowsTotal: this.engine.flows.created,
      devices: this.engine.devices.size,
      devicesKnown: s.deviceCount(),
      alerts: { open, bySeverity, total: s.alerts().length },
      capture: this.sources.capture(),
      replay: this.sources.replay(),
      store: { writes: s.writes, errors: s.writeErrors, lastWrite: s.lastWrite, pending: s.pending, failing: s.lastError !== null, lastError: s.lastError, failingSince: s.failingSince, lowSpace: s.lowSpace, freeBytes: s.freeBytes },
      rulesError: this.sources.rulesError(),
      eventLog: this.sources.eventLog(),
      live: this.sources.live(),
      memory: this.memory(),
      load: os.loadavg()[0],
      bounds: this.bounds(),
    };
  }
}

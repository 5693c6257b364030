/**
 * Issue 15 (floods): every bounded table counts what it forgets or drops, and /metrics and
 * /api/status tell it. The name table that names flows from DNS answers, the device table, the
 * TCP reassembler's out-of-order budget, and the decoder's fragment and jumbo counters, each
 * driven past its bound; then Metrics renders them from a status carrying `bounds`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TcpFlag } from '../../daemon/decode/packet.js';
import { DeviceTable, macKey } from '../../daemon/devices/device-table.js';
import { TcpReassembler } from '../../daemon/flows/tcp-reassembly.js';
import { NameMap } from '../../daemon/protocols/dns/name-map.js';
import { type Bounds, Metrics } from '../../daemon/server/metrics.js';
import { analyzeCapture } from '../../daemon/analysis/analyze.js';
import { MAX_DEVICE_ENTRIES, Store } from '../../daemon/store/store.js';
import { EXPECTED_PORTS, ProtocolStage } from '../../daemon/protocols/stage.js';
import { oversizedFlood } from '../bench/flood/floods.mjs';
// @ts-expect-error plain JavaScript module without types
import { generate } from '../bench/home-capture.mjs';
import { decodeFrames } from '../helpers/frames.js';

describe('bounded tables count their evictions (floods)', () => {
  it('the DNS name table keeps its limit and counts what it forgets', () => {
    const m = new NameMap(1000);
    for (let i = 0; i < 5000; i++) m.set(`10.247.2.${i % 64}`, `198.18.${i >> 8}.${i & 255}`, `h${i}.flood.example`);
    expect(m.size).toBe(1000);
    expect(m.evicted).toBe(4000);
    expect(m.limit).toBe(1000);
    // The newest answers are the ones kept; answering a known pair again evicts nothing.
    expect(m.get('10.247.2.7', '198.18.19.135')).toBe('h4999.flood.example');
    expect(m.get('10.247.2.0', '198.18.0.0')).toBeNull();
    m.set('10.247.2.7', '198.18.19.135', 'again.example');
    expect(m.evicted).toBe(4000);
  });

  it('the device table keeps maxDevices under a flood of random MACs and counts the evicted', () => {
    const t = new DeviceTable(100);
    for (let i = 0; i < 1000; i++) {
      const mac = 0x02_00_00_00_00_00 + i * 7919;
      const d = t.lookup(mac, `10.247.4.${i & 255}`, i);
      t.bind(d, `10.247.4.${i & 255}`, i, 'flow');
    }
    expect(t.size).toBe(100);
    expect(t.evicted).toBe(900);
    const last = 0x02_00_00_00_00_00 + 999 * 7919;
    const text = DeviceTable.macText(t.byKey(`02:00:00:${((last >> 16) & 255).toString(16).padStart(2, '0')}:${((last >> 8) & 255).toString(16).padStart(2, '0')}:${(last & 255).toString(16).padStart(2, '0')}`)!);
    expect(text).toBe(`02:00:00:${((last >> 16) & 255).toString(16).padStart(2, '0')}:${((last >> 8) & 255).toString(16).padStart(2, '0')}:${(last & 255).toString(16).padStart(2, '0')}`);
  });

  it('parses MAC keys by hand as the regular expression did', () => {
    expect(macKey('3c:ef:8c:5a:10:01')).toBe(0x3cef8c5a1001);
    expect(macKey('ff:ff:ff:ff:ff:ff')).toBe(0xffffffffffff);
    for (const bad of ['3C:EF:8C:5A:10:01', '3c-ef-8c-5a-10-01', '3c:ef:8c:5a:10:0', '3c:ef:8c:5a:10:011', 'ip:10.247.0.21', '3c:ef:8c:5a:10:0g', '']) expect(macKey(bad), bad).toBe(-1);
  });

  it('the reassembler counts holes given up past its budget, and its held bytes stay bounded', () => {
    const gaps: number[] = [];
    const r = new TcpReassembler(64, { data: () => {}, gap: (_s, _d, n) => void gaps.push(n) }, { depth: 0, maxHeldBytes: 64 * 1024, maxHeldSegments: 16 });
    const seg = Buffer.alloc(1448, 0x5a);
    let peak = 0;
    for (let slot = 0; slot < 64; slot++) {
      r.segment(slot, 0, TcpFlag.Syn, 1000, 0, seg, 0, 0, 0);
      // Segment 0 never arrives: everything after it is held, until the budget gives the hole up.
      for (let k = 1; k <= 20; k++) {
        r.segment(slot, 0, TcpFlag.Ack, 1001 + k * 1448, 0, seg, 0, seg.length, 0);
        peak = Math.max(peak, r.heldTotal);
      }
    }
    expect(r.stats.overBudget).toBeGreaterThanOrEqual(64);
    expect(peak).toBeLessThanOrEqual(64 * 1024 + 1448);
    expect(r.maxHeldBytes).toBe(64 * 1024);
    expect(gaps.length).toBe(r.stats.gaps);
    // The same segment held twice is counted, not held again.
    r.segment(63, 1, TcpFlag.Syn, 5000, 0, seg, 0, 0, 0);
    r.segment(63, 1, TcpFlag.Ack, 9000, 0, seg, 0, 10, 0);
    r.segment(63, 1, TcpFlag.Ack, 9000, 0, seg, 0, 10, 0);
    expect(r.stats.duplicateHeld).toBe(1);
  });

  it('the decoder counts fragments it skips and jumbo frames, keeping no state for them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flood-bounds-'));
    try {
      const info = oversizedFlood(path.join(dir, 'o.pcap'), { rounds: 3, pps: 1000 });
      const { frames, decoder } = await decodeFrames(info.file);
      const st = decoder.stats;
      expect(frames.length).toBe(info.packets);
      expect(st.fragments).toBe(info.fragments);
      // First fragments (offset 0) carry the transport header: 3 per family and round; the rest are skipped.
      expect(st.laterFragments).toBe(info.fragments - 3 * 2 * 3);
      expect(st.jumbo).toBe(info.jumbo);
      // The records cut to 14, 20 and 34 bytes are malformed (their IP header is not all there), never a crash.
      expect(st.malformed).toBeGreaterThanOrEqual(info.cut - 3);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the store remembers at most MAX_DEVICE_ENTRIES devices: unnamed ones seen longest ago go, named ones stay', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flood-store-'));
    try {
      // A real device record (the analysis of a small generated home), copied under fake MACs.
      generate(path.join(dir, 'h.pcap'), { devices: 3, tlsFlows: 4, bulkPackets: 4, duration: 10 });
      const rec = (await analyzeCapture(path.join(dir, 'h.pcap'))).devices.find((d) => d.mac)!;
      const store = Store.open(path.join(dir, 'state'), { commitInterval: 3600 });
      const mac = (i: number) => `02:00:${[i >> 24, i >> 16, i >> 8, i].map((b) => (b & 255).toString(16).padStart(2, '0')).join(':')}`;
      const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
      store.updateDevice(mac(0), { label: 'the nursery camera' });
      store.recordDevice(mac(0), { ...rec, mac: mac(0), firstSeen: at(0), lastSeen: at(0) });
      const n = MAX_DEVICE_ENTRIES + 1000;
      let news = 0;
      for (let i = 1; i <= n; i++) if (store.recordDevice(mac(i), { ...rec, id: mac(i), mac: mac(i), firstSeen: at(i), lastSeen: at(i) })) news++;
      expect(news).toBe(n);
      expect(store.deviceCount()).toBeLessThanOrEqual(MAX_DEVICE_ENTRIES);
      expect(store.devicesForgotten).toBe(n + 1 - store.deviceCount());
      expect(store.devicesRefused).toBe(0);
      // The named device stays, the newest devices stay, the oldest unnamed went.
      expect(store.storedDevice(mac(0))?.label).toBe('the nursery camera');
      expect(store.storedDevice(mac(n))).toBeDefined();
      expect(store.storedDevice(mac(1))).toBeUndefined();
      // The household naming one more device makes room the same way.
      expect(store.updateDevice(mac(n + 1), { label: 'the new doorbell' }).label).toBe('the new doorbell');
      expect(store.deviceCount()).toBeLessThanOrEqual(MAX_DEVICE_ENTRIES);
      // What is left is a valid store.
      await store.commit();
      const again = Store.open(path.join(dir, 'state'));
      expect(again.opening.setAside).toBeNull();
      expect(again.deviceCount()).toBe(store.deviceCount());
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the RTP ports RTSP announced are bounded, the oldest forgotten first and counted', () => {
    const stage = new ProtocolStage(() => null as never, null);
    for (let i = 0; i < EXPECTED_PORTS + 500; i++) stage.expectPort(`198.51.100.${i & 255}`, 10000 + (i >> 8) * 2, 'rtp');
    expect(stage.expected.size).toBe(EXPECTED_PORTS);
    expect(stage.expectedEvicted).toBe(500);
    expect(stage.expected.has('198.51.100.0|10000')).toBe(false);
    expect(stage.expected.get(`198.51.100.${(EXPECTED_PORTS + 499) & 255}|${10000 + ((EXPECTED_PORTS + 499) >> 8) * 2}`)).toBe('rtp');
    // Announced again, a port moves to the newest end and nothing is evicted.
    stage.expectPort('198.51.100.255', 10000 + (EXPECTED_PORTS >> 8) * 2, 'rtcp');
    expect(stage.expectedEvicted).toBe(500);
  });

  it('/metrics tells the evictions and drops from the status `bounds`', async () => {
    const bounds: Bounds = {
      flows: { size: 2000, max: 2000, evicted: 64683 },
      devices: { size: 500, max: 500, evicted: 9510 },
      dnsNames: { size: 50000, max: 50000, evicted: 14000 },
      reassembly: { heldBytes: 1234, maxHeldBytes: 8388608, overBudget: 20, gaps: 21, gapBytes: 30000, outOfOrder: 1300 },
      decode: { fragments: 13800, laterFragments: 12900, snapCut: 3, jumbo: 300 },
      rtpPorts: { size: 10000, max: 10000, evicted: 77 },
      storeDevices: { size: 4096, max: 4096, evicted: 5210, refused: 2 },
      recentFlows: { size: 3_000_000, max: 4_194_304, evicted: 1900, devices: 480 },
    };
    const zero = new Proxy({}, { get: (_t, k) => (k === 'then' ? undefined : 0) });
    const m = new Metrics({
      metrics: () => zero as any,
      alertSummary: () => ({ open: 0, bySeverity: { info: 0, low: 0, medium: 0, high: 0, critical: 0 } as any, highest: null, last: null }),
      raised: () => new Map(),
      status: () => ({ bounds }) as any,
    });
    const text = await m.text();
    const value = (name: string) => Number(new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('vigie_devices_evicted_total')).toBe(9510);
    expect(value('vigie_dns_names_evicted_total')).toBe(14000);
    expect(value('vigie_reassembly_over_budget_total')).toBe(20);
    expect(value('vigie_reassembly_gaps_total')).toBe(21);
    expect(value('vigie_reassembly_held_bytes')).toBe(1234);
    expect(value('vigie_ip_fragments_total')).toBe(13800);
    expect(value('vigie_ip_fragments_skipped_total')).toBe(12900);
    expect(value('vigie_snap_cut_packets_total')).toBe(3);
    expect(value('vigie_jumbo_frames_total')).toBe(300);
    expect(value('vigie_table_entries{table="dns_names"}')).toBe(50000);
    expect(value('vigie_table_capacity{table="devices"}')).toBe(500);
    expect(value('vigie_table_capacity{table="reassembly_bytes"}')).toBe(8388608);
    expect(value('vigie_rtp_ports_evicted_total')).toBe(77);
    expect(value('vigie_store_devices_evicted_total')).toBe(5210);
    expect(value('vigie_store_devices_refused_total')).toBe(2);
    expect(value('vigie_recent_flows_evicted_total')).toBe(1900);
    expect(value('vigie_table_entries{table="store_devices"}')).toBe(4096);
    expect(value('vigie_table_capacity{table="recent_flows_chars"}')).toBe(4194304);
    // Without a status (an older caller), the series are there at 0.
    const bare = new Metrics({ metrics: () => zero as any, alertSummary: () => ({ open: 0, bySeverity: { info: 0, low: 0, medium: 0, high: 0, critical: 0 } as any, highest: null, last: null }), raised: () => new Map() });
    expect(await bare.text()).toMatch(/^vigie_devices_evicted_total 0$/m);
  });
});

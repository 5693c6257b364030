/**
 * The floods of issue 15 at a small scale (the full ones: `npm run bench:flood`, docs/floods.md).
 * `vigie run` captures a LAN bridge in a router namespace (test/bench/flood/lab.mjs) with small
 * bounds (2,000 flows, 500 devices; the DNS name table keeps its 50,000), while a real camera
 * publishes cleartext MQTT with a password to a real mosquitto abroad. Each flood is replayed
 * with tcpreplay for a few seconds, at lower rates than the bench's (CI shares two cores with other
 * test files): a SYN flood of 5,000 new flows a second, 5,000 fake devices, 8,000 DNS answers of
 * 8 new addresses each, 80 MQTT connections each
 * publishing 256 KB (a fourth of them with a segment never captured), and oversized, cut and
 * fragmented IPv4/IPv6 packets. Checked for each: the daemon stays up and answers, its RSS stays
 * under RSS_BOUND_MB, the tables stay within their bounds, the counters of what they evicted or
 * dropped rise in /metrics as the flood's make-up says, and every camera publish during the
 * flood reaches the WebSocket as an alert within one second. Namespaces `vflood-*`, LAN
 * 10.247.0.0/16; removed after the test, failed or not (afterAll, and the lab's exit hook).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floodCapture, SCALES } from '../bench/flood/bench.mjs';
import { FloodLab, floodLabReady } from '../bench/flood/lab.mjs';

const MAX_FLOWS = 2000;
const MAX_DEVICES = 500;
const DNS_NAMES = 50_000;
/** The daemon idles at ~80 MB; the small floods took it to ~140 MB at most on a 2-core VM. */
const RSS_BOUND_MB = 250;

type Result = Awaited<ReturnType<FloodLab['flood']>>;

describe.skipIf(!floodLabReady())('floods through the live pipeline (small)', () => {
  let lab: FloodLab;
  let dir: string;
  const results: Result[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vflood-'));
    lab = new FloodLab({ prefix: 'vflood-', port: 8095, maxFlows: MAX_FLOWS, maxDevices: MAX_DEVICES });
    await lab.start();
  }, 60_000);

  afterAll(() => {
    if (results.length) process.stdout.write(`floods (small):\n${results.map((r) => `  ${r.flood}: RSS max ${r.daemon.rssMaxMB} MB, CPU ${r.daemon.cpuPercent}%, camera p50 ${r.camera.p50ms} ms p99 ${r.camera.p99ms} ms (daemon's part p99 ${r.camera.daemonP99ms} ms; ${r.camera.events} events, ${r.camera.missed} missed), store devices ${r.store.devicesKnown}, ${JSON.stringify(Object.fromEntries(Object.entries(r.counters).filter(([, v]) => v)))}`).join('\n')}\n`);
    lab?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const flood = async (name: keyof (typeof SCALES)['small']): Promise<Result> => {
    const c = floodCapture(dir, 'small', name);
    const r = await lab.flood(name, c.file, SCALES.small[name].rate);
    results.push(r);
    const why = JSON.stringify(r);
    expect(r.sent.failed, why).toBe(0);
    expect(r.daemon.alive, why).toBe(true);
    expect(r.daemon.rssMaxMB, why).toBeLessThan(RSS_BOUND_MB);
    expect((await lab.get('/api/status')).status).toBe(200);
    // Every table within its bound, whatever came.
    expect(r.tables.flows.size).toBeLessThanOrEqual(MAX_FLOWS);
    expect(r.tables.devices.size).toBeLessThanOrEqual(MAX_DEVICES);
    expect(r.tables.dnsNames.size).toBeLessThanOrEqual(DNS_NAMES);
    expect(r.tables.reassembly.heldBytes).toBeLessThanOrEqual(r.tables.reassembly.maxHeldBytes + 65536);
    expect(r.tables.storeDevices.size).toBeLessThanOrEqual(r.tables.storeDevices.max);
    expect(r.tables.recentFlows.size).toBeLessThanOrEqual(r.tables.recentFlows.max);
    expect(r.tables.rtpPorts.size).toBeLessThanOrEqual(r.tables.rtpPorts.max);
    // The camera's alert on the WebSocket within a second, every publish during the flood.
    expect(r.camera.events, why).toBeGreaterThanOrEqual(2);
    expect(r.camera.missed, why).toBe(0);
    expect(r.camera.maxMs, why).toBeLessThan(1000);
    return r;
  };

  /** What the daemon saw of the flood's packets: the kernel's drops are counted too, never hidden. */
  const seen = (r: Result) => r.counters.captureReceived - r.counters.captureDropped;

  it('a SYN flood of 5,000 new flows a second: flows evicted, counted', async () => {
    const r = await flood('syn');
    expect(r.sent.pps).toBeGreaterThan(4500);
    expect(r.counters.flowsCreated).toBeGreaterThan(0.9 * seen(r));
    expect(r.counters.flowsEvicted).toBeGreaterThanOrEqual(r.counters.flowsCreated - MAX_FLOWS);
    expect(r.tables.flows.size).toBe(MAX_FLOWS);
  }, 60_000);

  it('5,000 fake devices with random MACs: devices evicted, counted', async () => {
    const r = await flood('devices');
    expect(r.counters.devicesEvicted).toBeGreaterThan(0.9 * (5000 - MAX_DEVICES) - r.counters.captureDropped);
    expect(r.tables.devices.evicted).toBeGreaterThanOrEqual(r.counters.devicesEvicted);
  }, 60_000);

  it('a DNS answer flood: the name table stays at its bound, names evicted, counted', async () => {
    const r = await flood('dns');
    expect(r.counters.dnsNamesEvicted).toBeGreaterThan(64_000 - DNS_NAMES - 8 * r.counters.captureDropped - 1000);
    expect(r.tables.dnsNames.size).toBe(DNS_NAMES);
  }, 60_000);

  it('MQTT PUBLISH floods of 256 KB: holes given up within the reassembly budget, counted', async () => {
    const r = await flood('mqtt');
    // 20 of the 80 connections lose a segment: what follows is held, then the hole is given up.
    expect(r.counters.reassemblyOverBudget).toBeGreaterThanOrEqual(15);
    expect(r.counters.reassemblyGaps).toBeGreaterThanOrEqual(r.counters.reassemblyOverBudget);
  }, 60_000);

  it('oversized, cut and fragmented packets: counted as fragments, jumbo frames and malformed', async () => {
    const r = await flood('oversized');
    expect(r.counters.ipFragments).toBeGreaterThan(0.9 * 150 * 92);
    expect(r.counters.ipFragmentsSkipped).toBeGreaterThan(0.9 * 150 * 86);
    expect(r.counters.jumboFrames).toBeGreaterThan(0.9 * 300);
    expect(r.counters.malformed).toBeGreaterThan(0);
  }, 60_000);
});

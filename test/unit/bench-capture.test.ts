/**
 * The benchmark's generated capture must be traffic a real dissector accepts: a small instance of
 * it, read by tshark, shows DHCP, DNS answers, TLS ClientHellos with the SNI we wrote, MQTT
 * CONNECT/PUBLISH, and no malformed packet; our analysis agrees on the counts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../daemon/analysis/analyze.js';
import { haveTool, tsharkFields } from '../helpers/tshark.js';
// @ts-expect-error plain JavaScript module without types
import { generate } from '../bench/home-capture.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-benchcap-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!haveTool('tshark'))('benchmark capture generator', () => {
  it('writes traffic that tshark dissects cleanly', async () => {
    const file = path.join(dir, 'small.pcap');
    const meta = generate(file, { devices: 20, tlsFlows: 60, bulkPackets: 40, duration: 60 });
    const rows = tsharkFields(file, ['frame.protocols', 'tls.handshake.extensions_server_name', 'mqtt.msgtype', 'dhcp.option.dhcp', 'dns.a', '_ws.malformed', '_ws.expert.severity']);
    expect(rows.length).toBe(meta.packets);
    expect(rows.filter((r) => r[5] !== '' || r[0].includes('_ws.malformed'))).toEqual([]);
    const snis = rows.map((r) => r[1]).filter(Boolean);
    expect(snis.length).toBe(60 + 16); // the HTTPS connections and the 16 video streams
    expect(snis).toContain('api1.time.example.net');
    const mqtt = rows.map((r) => r[2]).filter(Boolean).join(',').split(',');
    expect(mqtt.filter((t) => t === '1').length).toBe(10); // a CONNECT per camera
    expect(mqtt.filter((t) => t === '3').length).toBeGreaterThan(10);
    expect(rows.filter((r) => r[3] !== '').length).toBe(20 * 4); // DORA per device
    expect(rows.filter((r) => r[4] !== '').length).toBe(60 + 10);
    const report = await analyzeCapture(file);
    expect(report.capture.packets).toBe(meta.packets);
    expect(report.capture.malformed).toBe(0);
    expect(report.devices.length).toBe(21); // 20 devices and the router
  });
});

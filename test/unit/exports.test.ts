/**
 * Where alerts go besides the dashboard: the JSON-lines event log rotates at its size cap and
 * keeps N old files; syslog messages are RFC 5424 with the right PRI and structured data,
 * received by a real UDP socket; the webhook POSTs JSON, retries a failing receiver and gives up
 * after three tries, counting it.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventLog, SyslogSender, Webhook } from '../../daemon/exports/alert-exports.js';
import type { Alert } from '../../daemon/verdicts/alert.js';

const alert: Alert = {
  id: '0123456789abcdef',
  rule: 'mqtt-cleartext-internet',
  severity: 'critical',
  title: 'Device talks MQTT to the internet without encryption',
  reasons: [],
  device: { id: '3c:ef:8c:5a:10:01', mac: '3c:ef:8c:5a:10:01', ip: '192.168.1.21', vendor: 'Dahua', hostname: null, label: 'Porch "cam"', category: 'camera' },
  destination: { ip: '203.0.113.10', port: 1883, hostname: 'mqtt.cloudedge360.com', country: 'CN', asn: 64500, org: 'Example', label: null, platform: null },
  protocol: 'mqtt',
  encrypted: false,
  evidence: {},
  remediation: [],
  firstSeen: '2026-11-23T10:00:00.000Z',
  lastSeen: '2026-11-23T10:00:00.000Z',
  count: 1,
  muted: false,
};

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('exports', () => {
  it('rotates the event log at its size and keeps three old files', () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-ev-'));
    dirs.push(d);
    const file = path.join(d, 'events.jsonl');
    const log = new EventLog(file, 2000, 3);
    for (let i = 0; i < 60; i++) log.write({ type: 'alert', i, alert });
    expect(log.rotations).toBeGreaterThan(3);
    expect(fs.readdirSync(d).sort()).toEqual(['events.jsonl', 'events.jsonl.1', 'events.jsonl.2', 'events.jsonl.3']);
    for (const f of fs.readdirSync(d)) {
      const text = fs.readFileSync(path.join(d, f), 'utf8');
      expect(text.length).toBeLessThanOrEqual(2000);
      for (const line of text.trim().split('\n')) expect(JSON.parse(line).type).toBe('alert');
    }
    // The newest lines are in the live file, the oldest kept in .3.
    const last = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).i as number);
    expect(last[last.length - 1]).toBe(59);
    expect(JSON.parse(fs.readFileSync(file + '.3', 'utf8').split('\n')[0]).i).toBeLessThan(last[0]);
  });

  it('sends RFC 5424 syslog messages over UDP', async () => {
    const server = dgram.createSocket('udp4');
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    const got = new Promise<string>((r) => server.once('message', (m) => r(m.toString())));
    const s = new SyslogSender('127.0.0.1', (server.address() as { port: number }).port);
    s.alert(alert);
    const msg = await got;
    server.close();
    s.close();
    // PRI = facility 3 (daemon) * 8 + severity 2 (critical) = 26; version 1; RFC 5424 §6.
    expect(msg).toMatch(/^<26>1 \d{4}-\d\d-\d\dT[\d:.]+Z \S+ vigie \d+ ALERT \[vigie@32473 id="0123456789abcdef" rule="mqtt-cleartext-internet" severity="critical" device="3c:ef:8c:5a:10:01" destination="mqtt.cloudedge360.com" country="CN"\] critical: Device talks MQTT/);
    expect(msg).toContain('Porch "cam" -> mqtt.cloudedge360.com:1883 (CN)');
  });

  it('POSTs alerts to a webhook, retries a failing one, and counts what it gave up', async () => {
    const bodies: string[] = [];
    let fail = 2;
    const server = http.createServer((req, res) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => {
        bodies.push(b);
        res.statusCode = fail-- > 0 ? 503 : 204;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    const w = new Webhook(url);
    w.alert(alert);
    const until = Date.now() + 15_000;
    while (w.sent + w.failed < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(w.sent).toBe(1);
    expect(bodies).toHaveLength(3);
    expect(JSON.parse(bodies[2])).toMatchObject({ type: 'alert', alert: { id: alert.id, severity: 'critical' } });
    server.close();
    const dead = new Webhook('http://127.0.0.1:9/nothing');
    dead.alert(alert);
    const until2 = Date.now() + 15_000;
    while (dead.failed < 1 && Date.now() < until2) await new Promise((r) => setTimeout(r, 50));
    expect(dead.failed).toBe(1);
  }, 30_000);
});

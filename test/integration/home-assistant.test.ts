/**
 * Home Assistant MQTT discovery against a real mosquitto with TLS and a password file (on
 * loopback: no namespace needed). A subscriber (mosquitto_sub) sees the retained discovery
 * configs, `online`, and a state with the replayed capture's critical alert; a wrong password is
 * reported and retried without stopping the daemon; a cleartext broker elsewhere is refused;
 * stopping says `offline`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Daemon } from '../../daemon/run/daemon.js';
import { casePath, describeCorpus } from '../helpers/corpus.js';
import { haveCommands } from '../helpers/home-lab.js';

const ready = haveCommands('mosquitto', 'mosquitto_sub', 'mosquitto_passwd', 'openssl');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

describeCorpus.skipIf(!ready)('Home Assistant MQTT discovery', () => {
  let dir: string;
  let port: number;
  let broker: ChildProcess;
  let ca: string;
  const kids: ChildProcess[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-ha-'));
    port = await freePort();
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=broker.test', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    ca = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    execFileSync('mosquitto_passwd', ['-c', '-b', path.join(dir, 'pw'), 'vigie', 'ha-secret-123']);
    fs.writeFileSync(path.join(dir, 'm.conf'), [`listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${dir}/pw`, `certfile ${dir}/cert.pem`, `keyfile ${dir}/key.pem`, 'user root', ''].join('\n'));
    broker = spawn('mosquitto', ['-c', path.join(dir, 'm.conf')], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const up = await new Promise<boolean>((r) => {
        const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
        s.on('error', () => r(false));
      });
      if (up) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(() => {
    for (const k of [...kids, broker]) k?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const subscribe = (): { lines: string[] } => {
    const out = { lines: [] as string[] };
    const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '--cafile', path.join(dir, 'cert.pem'), '-u', 'vigie', '-P', 'ha-secret-123', '-t', 'homeassistant/#', '-t', 'vigie/#', '-v']);
    kids.push(sub);
    let buf = '';
    sub.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        out.lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    return out;
  };

  const until = async (cond: () => boolean, what: () => string) => {
    const end = Date.now() + 10_000;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out: ${what()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('announces Vigie, its state with the critical alert, and goes offline at stop', async () => {
    const logs: string[] = [];
    const d = await Daemon.start({ read: casePath('peafowl/mqtt-1'), speed: 0, filter: '', stateDir: path.join(dir, 's1'), listen: '127.0.0.1', port: 0, rules: [], homeCountry: 'FR', commitInterval: 3600, uiDir: null, env: { VIGIE_ADMIN_PASSWORD: 'correct-horse-battery' }, log: (m) => logs.push(m), homeAssistant: { url: `mqtts://127.0.0.1:${port}`, username: 'vigie', password: 'ha-secret-123', ca, node: 'router1' } });
    await d.replayPromise;
    const sub = subscribe();
    try {
      await until(() => sub.lines.some((l) => l.startsWith('vigie/router1/state ') && l.includes('"critical":true')), () => `${sub.lines.join('\n')}\n${logs.join('\n')}`);
      const configs = sub.lines.filter((l) => /^homeassistant\/\w+\/vigie_router1\/\w+\/config /.test(l));
      expect(configs.map((l) => l.split(' ')[0]).sort()).toEqual([
        'homeassistant/binary_sensor/vigie_router1/critical/config',
        'homeassistant/sensor/vigie_router1/devices/config',
        'homeassistant/sensor/vigie_router1/highest_severity/config',
        'homeassistant/sensor/vigie_router1/last_alert/config',
        'homeassistant/sensor/vigie_router1/open_alerts/config',
      ]);
      const critical = JSON.parse(configs.find((l) => l.includes('/critical/'))!.split(' ').slice(1).join(' '));
      expect(critical).toMatchObject({ device_class: 'problem', unique_id: 'vigie_router1_critical', availability_topic: 'vigie/router1/status', state_topic: 'vigie/router1/state', device: { identifiers: ['vigie_router1'] } });
      expect(sub.lines).toContain('vigie/router1/status online');
      const state = JSON.parse(sub.lines.filter((l) => l.startsWith('vigie/router1/state ')).pop()!.slice('vigie/router1/state '.length));
      expect(state).toMatchObject({ openAlerts: 1, highest: 'critical', critical: true, lastAlert: { severity: 'critical', country: 'CA' } });
    } finally {
      await d.stop();
    }
    await until(() => sub.lines.includes('vigie/router1/status offline'), () => sub.lines.join('\n'));
  }, 30_000);

  it('reports a wrong password and keeps running', async () => {
    const logs: string[] = [];
    const d = await Daemon.start({ read: casePath('peafowl/mqtt-1'), speed: 0, filter: '', stateDir: path.join(dir, 's2'), listen: '127.0.0.1', port: 0, rules: [], commitInterval: 3600, uiDir: null, env: { VIGIE_ADMIN_PASSWORD: 'correct-horse-battery' }, log: (m) => logs.push(m), homeAssistant: { url: `mqtts://127.0.0.1:${port}`, username: 'vigie', password: 'wrong', ca, node: 'router2' } });
    try {
      await until(() => logs.some((l) => /broker refused the connection: (bad user name or password|not authorised)/.test(l)), () => logs.join('\n'));
      expect(d.homeAssistant!.isConnected).toBe(false);
      expect((await fetch(new URL('/api/session', d.url))).status).toBe(401);
    } finally {
      await d.stop();
    }
  }, 30_000);

  it('refuses to send alerts in cleartext to another machine', async () => {
    await expect(Daemon.start({ read: casePath('peafowl/mqtt-1'), speed: 0, filter: '', stateDir: path.join(dir, 's3'), listen: '127.0.0.1', port: 0, rules: [], commitInterval: 3600, uiDir: null, env: { VIGIE_ADMIN_PASSWORD: 'correct-horse-battery' }, log: () => {}, homeAssistant: { url: 'mqtt://198.51.100.5:1883', username: 'u', password: 'p' } })).rejects.toThrow(/refusing to send alerts and credentials in cleartext/);
  });
});

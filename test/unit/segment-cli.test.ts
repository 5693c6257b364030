/**
 * `vigie segment` as a user runs it: on a generated home capture (Dahua cameras publishing MQTT
 * with passwords to a broker the demo config places in China) and on a daemon's state folder,
 * in every format, each output checked by its own oracle (the plan's JSON Schema, `nft -c`,
 * yanglint); and its errors, one line each with exit code 2.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../bench/home-capture.mjs';
import { vigie } from '../helpers/cli.js';
import { ROOT } from '../helpers/corpus.js';
import { yanglintFiles, yanglintMissing } from '../helpers/yanglint.js';
import { Daemon } from '../../daemon/run/daemon.js';

const DEMO = path.join(ROOT, 'docs/demo/vigie-demo.yaml');
const CAMERA = '3c:ef:8c:20:00:00';
let dir: string;
let pcap: string;

function nftAvailable(): boolean {
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-segment-'));
  pcap = path.join(dir, 'home.pcap');
  generate(pcap, { devices: 12, tlsFlows: 60, bulkPackets: 200, duration: 30 });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('vigie segment on a capture', () => {
  it('prints the plan as JSON that matches its schema: cameras quarantined with their alert as reason', () => {
    const r = vigie(['segment', pcap, '--config', DEMO]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const plan = JSON.parse(r.stdout);
    const validate = new Ajv2020({ allErrors: true, strict: true }).compile(JSON.parse(fs.readFileSync(path.join(ROOT, 'daemon/segment/plan.schema.json'), 'utf8')));
    expect(validate(plan), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    expect(plan.source).toEqual({ kind: 'capture', path: pcap });
    const cam = plan.devices.find((d: { mac: string }) => d.mac === CAMERA);
    expect(cam).toMatchObject({ zone: 'quarantine', rule: 'camera-alert', category: 'camera', source: 'policy' });
    expect(cam.reasons[0]).toMatch(/^IPC-\S+ sends its MQTT password in cleartext to mqtt\.example-iot\.com \(China\), and it is a camera \(critical alert\): /);
    expect(cam.evidence.destinations.find((x: { port: number }) => x.port === 1883)).toMatchObject({ host: 'mqtt.example-iot.com', encrypted: false, country: 'CN', learned: true });
    expect(plan.zones.quarantine.devices).toHaveLength(10);
  });

  it('--device narrows the plan to one device; an unknown one is an error', () => {
    const one = JSON.parse(vigie(['segment', pcap, '--config', DEMO, '--device', CAMERA.toUpperCase()]).stdout);
    expect(one.devices.map((d: { mac: string }) => d.mac)).toEqual([CAMERA]);
    const r = vigie(['segment', pcap, '--device', '02:00:00:00:00:99']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^vigie: --device: no device 02:00:00:00:00:99 in /);
  });

  it.skipIf(!nftAvailable())('prints an nft ruleset that nft -c accepts', () => {
    const r = vigie(['segment', pcap, '--config', DEMO, '--format', 'nft']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('table inet vigie');
    expect(r.stdout).toContain('table bridge vigie');
    const file = path.join(dir, 'plan.nft');
    fs.writeFileSync(file, r.stdout);
    execFileSync('nft', ['-c', '-f', file]);
  });

  it('writes nft and dnsmasq files, UCI sections, and one MUD file per restricted device', () => {
    const out = path.join(dir, 'out');
    expect(vigie(['segment', pcap, '--config', DEMO, '--format', 'nft', '--out', out]).status).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['vigie-dnsmasq.conf', 'vigie.nft']);
    const uci = vigie(['segment', pcap, '--config', DEMO, '--format', 'uci', '--out', out, '--iot-network']);
    expect(uci.status).toBe(0);
    expect(fs.readFileSync(path.join(out, 'firewall.vigie'), 'utf8')).toContain("config ipset");
    expect(fs.existsSync(path.join(out, 'iot-network.recipe'))).toBe(true);
    const mud = path.join(dir, 'mud');
    expect(vigie(['segment', pcap, '--config', DEMO, '--format', 'mud', '--out', mud]).status).toBe(0);
    const files = fs.readdirSync(mud).map((f) => path.join(mud, f));
    expect(files).toHaveLength(10);
    const missing = yanglintMissing();
    if (missing) throw new Error(missing);
    const v = yanglintFiles(files);
    expect(v.message).toBe('');
    expect(v.ok).toBe(true);
    const printed = vigie(['segment', pcap, '--config', DEMO, '--format', 'mud', '--device', CAMERA]);
    expect(JSON.parse(printed.stdout)['ietf-mud:mud']['mud-url']).toMatch(/^https:\/\//);
  });

  it('says what is wrong, one line, exit 2', () => {
    for (const [args, message] of [
      [['segment', pcap, '--format', 'pdf'], /--format: one of json, nft, dnsmasq, uci, mud/],
      [['segment', pcap, '--format', 'mud'], /give --device MAC to print one, or --out DIR/],
      [['segment', pcap, '--state-dir', dir], /give a capture or --state-dir, not both/],
      [['segment', path.join(dir, 'nothing.pcap')], /nothing\.pcap: /],
      [['segment', '--state-dir', dir], /store\.json: no such file/],
      [['segment', pcap, '--apply', '--confirm'], /separate steps/],
      [['segment', pcap, '--apply', '--format', 'uci'], /what is applied is the nft plan/],
      [['segment', pcap, '--remote', 'http://router'], /--remote/],
      [['segment', pcap, '--format', 'mud', '--out', dir, '--mud-url', 'http://cams.example/'], /--mud-url/],
    ] as const) {
      const r = vigie([...args]);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('vigie segment on a daemon\'s state folder', () => {
  it('plans from the profiles the daemon kept, with the household\'s zone from the dashboard', async () => {
    const state = path.join(dir, 'state');
    const d = await Daemon.start({ read: pcap, speed: 0, filter: '', stateDir: state, listen: '127.0.0.1', port: 0, config: DEMO, rules: [], commitInterval: 3600, uiDir: null, env: { VIGIE_ADMIN_PASSWORD: 'correct-horse-battery-staple' }, log: () => {} });
    try {
      await d.replayPromise;
      d.segmentation.setZone('3c:ef:8c:20:00:01', 'blocked');
    } finally {
      await d.stop();
    }
    const stored = JSON.parse(fs.readFileSync(path.join(state, 'store.json'), 'utf8'));
    expect(Object.keys(stored.profiles).length).toBeGreaterThanOrEqual(10);
    expect(stored.profiles[CAMERA].state).toBe('learning');
    const r = vigie(['segment', '--state-dir', state, '--config', DEMO]);
    expect(r.stderr).toBe('');
    const plan = JSON.parse(r.stdout);
    expect(plan.source.kind).toBe('state');
    const by = Object.fromEntries(plan.devices.map((x: { mac: string }) => [x.mac, x]));
    expect(by[CAMERA]).toMatchObject({ zone: 'quarantine', rule: 'camera-alert' });
    expect(by[CAMERA].profile.state).toBe('learning');
    expect(by['3c:ef:8c:20:00:01']).toMatchObject({ zone: 'blocked', advised: 'quarantine', source: 'user' });
  }, 60_000);
});

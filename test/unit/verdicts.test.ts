/**
 * The verdict stage apart from the network: address data against its own source CSVs, the
 * `networks` overrides, rule conditions, rule files, mutes, new devices and upload surges
 * (synthetic frames fed to the engine with their times).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type EngineConfig } from '../../daemon/analysis/config.js';
import { Engine } from '../../daemon/analysis/engine.js';
import { loadConfig } from '../../daemon/config/load.js';
import { parseAddr } from '../../daemon/decode/address.js';
import { Geo } from '../../daemon/geo/geo.js';
import { RangeTable } from '../../daemon/geo/range-table.js';
import { OrgNames } from '../../daemon/geo/org-names.js';
import { PagedOrgNames, PagedRangeTable } from '../../daemon/geo/paged.js';
import { isMuted, type Alert } from '../../daemon/verdicts/alert.js';
import { matches } from '../../daemon/verdicts/condition.js';
import { EU_EEA, trustedSet } from '../../daemon/verdicts/countries.js';
import { vigie } from '../helpers/cli.js';

const require = createRequire(import.meta.url);
const pkgDir = (n: string) => path.dirname(require.resolve(`${n}/package.json`));

/** Every `step`-th line of a CSV, as [start, end, value...]. */
function sample(file: string, step: number): string[][] {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const out: string[][] = [];
  for (let i = 0; i < lines.length; i += step) {
    const l = lines[i];
    const [a, b, c] = l.split(',', 3);
    const rest = l.slice(a.length + b.length + 2);
    out.push([a, b, c, rest.slice(c.length + 1).replace(/^"|"$/g, '').replace(/""/g, '"')]);
  }
  return out;
}

describe('address data', () => {
  const geo = new Geo();

  it('is shipped with the build', () => {
    expect(geo.hasData).toBe(true);
  });

  it('country of the first, last and middle address of sampled ranges matches the CC0 source CSV', () => {
    const dir = pkgDir('@ip-location-db/geo-whois-asn-country');
    let checked = 0;
    // The source nests some ranges inside others (the inner one is the more specific answer):
    // compare with the innermost range holding each address.
    const v4 = sample(path.join(dir, 'geo-whois-asn-country-ipv4.csv'), 1);
    const num = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
    // Overlapping rows sit near each other in the sorted file: look at the neighbours.
    const innermost = (ip: string, i: number) => {
      const k = num(ip);
      let best: string[] | null = null;
      for (const r of v4.slice(Math.max(0, i - 64), i + 65)) if (num(r[0]) <= k && k <= num(r[1]) && (!best || num(r[1]) - num(r[0]) < num(best[1]) - num(best[0]))) best = r;
      return best?.[2] ?? null;
    };
    const special = /^(10|127|0)\.|^192\.168\.|^172\.(1[6-9]|2\d|3[01])\.|^169\.254\.|^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.|^(22[4-9]|2[3-5]\d)\./;
    for (let i = 0; i < v4.length; i += 997) {
      for (const ip of [v4[i][0], v4[i][1]]) expect(geo.lookup(ip).country, ip).toBe(special.test(ip) ? null : innermost(ip, i));
      checked++;
    }
    // IPv6 is kept at /64 granularity (3.8 % of the source's rows are finer, within /64s that
    // hold several countries): compare the rows made of whole /64s, away from finer neighbours.
    const v6 = sample(path.join(dir, 'geo-whois-asn-country-ipv6.csv'), 1);
    const whole = (r: string[]) => {
      const a = parseAddr(r[0]);
      const b = parseAddr(r[1]);
      return a[2] === 0 && a[3] === 0 && b[2] === 0xffffffff && b[3] === 0xffffffff;
    };
    let v6checked = 0;
    for (let i = 64; i < v6.length - 64; i += 499) {
      if (!v6.slice(i - 64, i + 65).every(whole)) continue;
      for (const ip of [v6[i][0], v6[i][1]]) expect(geo.lookup(ip).country, ip).toBe(v6[i][2]);
      v6checked++;
    }
    expect(v6checked).toBeGreaterThan(100);
    expect(checked).toBeGreaterThan(300);
  });

  it('AS number and organisation of sampled ranges match the source CSV', () => {
    const dir = pkgDir('@ip-location-db/asn');
    let checked = 0;
    for (const [a, b, asn, org] of sample(path.join(dir, 'asn-ipv4.csv'), 1009)) {
      for (const ip of [a, b]) {
        const g = geo.lookup(ip);
        expect(g.asn, ip).toBe(Number(asn));
        if (org) expect(g.org, ip).toBeTruthy();
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(300);
    expect(geo.lookup('1.1.1.1')).toMatchObject({ asn: 13335, org: 'Cloudflare, Inc.', source: 'data' });
  });

  it('private and documentation addresses have no country unless `networks` gives one; the longest prefix wins', () => {
    // The source wrongly gives 192.168.0.0/16 a country: special-purpose addresses never get one from it.
    for (const ip of ['192.168.1.10', '10.1.2.3', '100.64.0.1', '127.0.0.1', '169.254.1.1', '224.0.0.251', 'fd00::1', 'fe80::1', 'ff02::fb', '::1']) expect(geo.lookup(ip), ip).toMatchObject({ country: null, asn: null });
    expect(geo.lookup('203.0.113.5')).toMatchObject({ country: null, source: null });
    const g = new Geo([
      { cidr: '203.0.113.0/24', country: 'CN', org: 'Test cloud' },
      { cidr: '203.0.113.128/25', country: 'DE', label: 'lab' },
      { cidr: '2001:db8::/32', country: 'JP', asn: 64501 },
      { cidr: '1.1.1.0/24', org: 'My resolver' },
    ]);
    expect(g.lookup('203.0.113.5')).toMatchObject({ country: 'CN', org: 'Test cloud', label: null, source: 'config' });
    expect(g.lookup('203.0.113.200')).toMatchObject({ country: 'DE', org: 'Test cloud', label: 'lab' });
    expect(g.lookup('2001:db8::1')).toMatchObject({ country: 'JP', asn: 64501 });
    // A partial override keeps the shipped data for the rest.
    expect(g.lookup('1.1.1.1')).toMatchObject({ org: 'My resolver', asn: 13335, source: 'config' });
    expect(g.lookup('not an address')).toMatchObject({ country: null });
  });

  it('range tables: gaps have no value, ranges merge, a corrupt table is refused', () => {
    const buf = RangeTable.build(1, 2, [
      { start: [10], end: [19], value: 7 },
      { start: [20], end: [29], value: 7 },
      { start: [40], end: [49], value: 8 },
    ]);
    const t = RangeTable.fromBuffer(buf);
    expect([9, 10, 29, 30, 39, 40, 49, 50].map((k) => t.find(k))).toEqual([-1, 7, 7, -1, -1, 8, 8, -1]);
    expect(t.size).toBe(5); // gap, [10..29]=7, gap, [40..49]=8, gap
    // Nested ranges (the source has some): the inner one wins, the outer resumes after it.
    const n = RangeTable.fromBuffer(RangeTable.build(1, 2, [
      { start: [100], end: [199], value: 1 },
      { start: [100], end: [109], value: 2 },
      { start: [150], end: [159], value: 3 },
    ]));
    expect([99, 100, 109, 110, 149, 150, 159, 160, 199, 200].map((k) => n.find(k))).toEqual([-1, 2, 2, 1, 1, 3, 3, 1, 1, -1]);
    expect(() => RangeTable.fromBuffer(buf.subarray(0, buf.length - 4))).toThrow(/bad header or size/);
  });

  it('paged tables (read on demand) answer as the in-memory ones, at every block edge, and hold little memory', () => {
    const dir = path.resolve(path.dirname(require.resolve('../../package.json')), 'dist/geo-data');
    let rnd = 12345;
    const next = () => (rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0);
    for (const f of ['country-v4.bin', 'country-v6.bin', 'asn-v4.bin', 'asn-v6.bin']) {
      const buf = fs.readFileSync(path.join(dir, f));
      const mem = RangeTable.fromBuffer(buf);
      const paged = PagedRangeTable.open(path.join(dir, f));
      expect(paged.size).toBe(mem.size);
      const w = mem.width;
      const starts = new Uint32Array(buf.buffer, buf.byteOffset + 12, mem.size * w);
      const keys: [number, number][] = [[0, 0], [0xffffffff, 0xffffffff]];
      // Each range's first key and the key before it, around block edges and at random.
      for (let i = 0; i < mem.size; i += i % 128 === 0 ? 127 : 1 + (next() % 4000)) {
        const hi = starts[i * w];
        const lo = w === 2 ? starts[i * w + 1] : 0;
        keys.push([hi, lo]);
        if (w === 1 ? hi > 0 : lo > 0) keys.push(w === 1 ? [hi - 1, 0] : [hi, lo - 1]);
      }
      for (let i = 0; i < 2000; i++) keys.push([next(), next()]);
      for (const [hi, lo] of keys) expect(paged.find(hi, lo), `${f} ${hi}:${lo}`).toBe(mem.find(hi, lo));
      paged.close();
    }
    const namesBuf = fs.readFileSync(path.join(dir, 'asn-names.bin'));
    const names = OrgNames.fromBuffer(namesBuf);
    const pagedNames = PagedOrgNames.open(path.join(dir, 'asn-names.bin'));
    const n = namesBuf.readUInt32LE(0);
    for (let i = 0; i < n; i += 1 + (next() % 50)) {
      const asn = namesBuf.readUInt32LE(4 + 4 * i);
      expect(pagedNames.get(asn), String(asn)).toBe(names.get(asn));
    }
    expect(pagedNames.get(4294967295)).toBe(names.get(4294967295));
    pagedNames.close();
    // A truncated file is refused with its name.
    const bad = path.join(os.tmpdir(), `vigie-bad-${process.pid}.bin`);
    fs.writeFileSync(bad, fs.readFileSync(path.join(dir, 'country-v4.bin')).subarray(0, 1000));
    expect(() => PagedRangeTable.open(bad)).toThrow(/vigie-bad-.*bad header or size/);
    fs.rmSync(bad);
    // What stays in memory: the fences and AS numbers, well under the files' 13 MB.
    const before = process.memoryUsage().arrayBuffers;
    const all = ['country-v4.bin', 'country-v6.bin', 'asn-v4.bin', 'asn-v6.bin'].map((f) => PagedRangeTable.open(path.join(dir, f)));
    const on = PagedOrgNames.open(path.join(dir, 'asn-names.bin'));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1.5e6);
    for (const t of all) t.close();
    on.close();
  });

  it('stays small enough for a router (compact tables, a few MB)', () => {
    const dir = path.resolve(path.dirname(require.resolve('../../package.json')), 'dist/geo-data');
    const total = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
    expect(total).toBeLessThan(16e6);
  });
});

describe('conditions and countries', () => {
  const s = new Map<string, string | number | boolean | (string | number)[] | null>([
    ['app', 'mqtt'],
    ['abroad', true],
    ['device.category', 'camera'],
    ['mqtt.payloadKinds', ['json', 'jpeg']],
    ['upload.ratio', 7],
  ]);
  it('scalar, one-of, list overlap, ranges, any/all/not, missing fields', () => {
    expect(matches({ app: 'mqtt', abroad: true }, s)).toBe(true);
    expect(matches({ 'device.category': ['baby_monitor', 'camera'] }, s)).toBe(true);
    expect(matches({ 'mqtt.payloadKinds': ['png', 'jpeg'] }, s)).toBe(true);
    expect(matches({ 'mqtt.payloadKinds': 'png' }, s)).toBe(false);
    expect(matches({ 'upload.ratio': { min: 5, max: 10 } }, s)).toBe(true);
    expect(matches({ 'upload.ratio': { min: 8 } }, s)).toBe(false);
    expect(matches({ any: [{ app: 'rtsp' }, { abroad: true }] }, s)).toBe(true);
    expect(matches({ all: [{ app: 'mqtt' }, { abroad: false }] }, s)).toBe(false);
    expect(matches({ not: { app: 'rtsp' } }, s)).toBe(true);
    expect(matches({ 'login.protocol': 'ftp' }, s)).toBe(false);
  });

  it('trusted countries: home always, `eu` expands to the EU/EEA', () => {
    expect([...trustedSet('fr', undefined)]).toEqual(['FR']);
    const eu = trustedSet('FR', ['eu', 'ch']);
    expect(eu.size).toBe(EU_EEA.length + 1);
    expect(['DE', 'NO', 'CH', 'GR'].every((c) => eu.has(c))).toBe(true);
    expect(eu.has('GB')).toBe(false);
  });

  it('mutes: every given field must match; an expired mute no longer applies', () => {
    const a = { rule: 'r', device: { mac: 'aa:bb:cc:dd:ee:ff', id: 'aa:bb:cc:dd:ee:ff' }, destination: { hostname: 'x.example', ip: '203.0.113.1' } } as unknown as Alert;
    const now = Date.parse('2026-01-01T00:00:00Z') / 1000;
    expect(isMuted(a, [{ rule: 'r', device: 'AA:BB:CC:DD:EE:FF' }], now)).toBe(true);
    expect(isMuted(a, [{ rule: 'r', destination: '203.0.113.1' }], now)).toBe(true);
    expect(isMuted(a, [{ rule: 'other' }], now)).toBe(false);
    expect(isMuted(a, [{ device: 'aa:bb:cc:dd:ee:ff', until: '2025-12-31T00:00:00Z' }], now)).toBe(false);
    expect(isMuted(a, [{ device: 'aa:bb:cc:dd:ee:ff', until: '2026-02-01T00:00:00Z' }], now)).toBe(true);
  });
});

describe('alert rule files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-alerts-'));
  it('errors are named file:line: field: reason, and vigie rules check fails', () => {
    fs.mkdirSync(path.join(dir, 'alerts'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'alerts', 'bad.yaml'),
      'alerts:\n  - id: x\n    title: Something\n    when: { app: mqtt, apps: mqtt }\n    severity: high\n    escalate: [{ severity: low, when: { abroad: true } }]\n    remediation: [Do something]\n    source: a public source\n',
    );
    const r = vigie(['rules', 'check', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/bad\.yaml:4: alerts\.0\.when\.apps: must NOT have additional properties/);
    fs.writeFileSync(
      path.join(dir, 'alerts', 'bad.yaml'),
      'alerts:\n  - id: x\n    title: Something\n    when: { app: mqtt }\n    severity: high\n    escalate: [{ severity: low, when: { abroad: true } }]\n    remediation: [Do something]\n    source: a public source\n',
    );
    expect(vigie(['rules', 'check', dir]).stdout).toMatch(/bad\.yaml:2: alerts\.0\.escalate\.0\.severity: must be higher than the rule's severity \(high\)/);
    fs.rmSync(dir, { recursive: true });
  });

  it('a bad --home-country is named', () => {
    const r = vigie(['analyze', '--home-country', 'France', '/dev/null']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--home-country: "France" is not an ISO 3166-1 alpha-2 code/);
  });
});

// ---- synthetic traffic fed to the engine ---------------------------------------------------

const ETH = 1;

function mac(s: string): Buffer {
  return Buffer.from(s.split(':').map((h) => parseInt(h, 16)));
}

function ip4(s: string): Buffer {
  return Buffer.from(s.split('.').map(Number));
}

/** An Ethernet/IPv4/UDP frame with `size` bytes of zero payload. */
function udp(src: [string, string, number], dst: [string, string, number], size: number): Buffer {
  const b = Buffer.alloc(14 + 20 + 8 + size);
  mac(dst[0]).copy(b, 0);
  mac(src[0]).copy(b, 6);
  b.writeUInt16BE(0x0800, 12);
  b[14] = 0x45;
  b.writeUInt16BE(20 + 8 + size, 16);
  b[22] = 64;
  b[23] = 17;
  ip4(src[1]).copy(b, 26);
  ip4(dst[1]).copy(b, 30);
  b.writeUInt16BE(src[2], 34);
  b.writeUInt16BE(dst[2], 36);
  b.writeUInt16BE(8 + size, 38);
  return b;
}

const ROUTER = '00:11:22:33:44:01';
const CLOUD: [string, string, number] = [ROUTER, '198.51.100.7', 4000];

/** An Ethernet/IPv4/UDP frame carrying the given payload. */
function udpWith(src: [string, string, number], dst: [string, string, number], payload: Buffer): Buffer {
  const b = udp(src, dst, payload.length);
  payload.copy(b, 42);
  return b;
}

function engineWith(yaml: string): Engine {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-cfg-'));
  const file = path.join(dir, 'vigie.yaml');
  fs.writeFileSync(file, yaml);
  const config: EngineConfig = loadConfig(file, DEFAULT_CONFIG);
  fs.rmSync(dir, { recursive: true });
  return new Engine(config);
}

describe('device rules of the verdict stage', () => {
  it('a device that appears after the learning period joined; a camera is raised to low', () => {
    const cam = '3c:ef:8c:00:00:09';
    const e = engineWith(`homeCountry: FR\nlearningPeriod: 600\ndevices:\n  "${cam}": { category: camera }\n`);
    const send = (m: string, ip: string, ts: number) => {
      const f = udp([m, ip, 5000], CLOUD, 100);
      e.packet(ETH, f, 0, f.length, f.length, ts);
    };
    const t0 = 1_700_000_000;
    send('a4:83:e7:00:00:01', '192.168.1.10', t0); // there from the start
    for (let t = 1; t <= 700; t += 5) send('a4:83:e7:00:00:01', '192.168.1.10', t0 + t);
    send(cam, '192.168.1.20', t0 + 700); // joins after the learning period
    for (let t = 701; t <= 760; t++) send('a4:83:e7:00:00:01', '192.168.1.10', t0 + t);
    e.finish();
    const joined = e.verdicts!.alerts.filter((a) => a.rule === 'device-joined');
    expect(joined.map((a) => [a.device.mac, a.severity])).toEqual([[cam, 'low']]);
    // Only what held: the device's own category, not the list the rule accepts.
    expect(joined[0].reasons).toEqual(['the device is a camera']);
    expect(joined[0].title).toBe(`A new camera joined the network: Dahua ${cam}`);
    expect(joined[0].destination).toBeNull();
  });

  it('an hour of upload far above the device’s own baseline is flagged, ordinary hours are not', () => {
    const toy = 'a4:83:e7:00:00:07';
    const e = engineWith('homeCountry: FR\n');
    const t0 = 1_700_000_000 - (1_700_000_000 % 3600);
    let port = 10000;
    // Bursts on a fresh port each, so each ends (idle) within the hour it belongs to.
    const burst = (ts: number, packets: number) => {
      port++;
      for (let i = 0; i < packets; i++) {
        const f = udp([toy, '192.168.1.30', port], CLOUD, 1400);
        e.packet(ETH, f, 0, f.length, f.length, ts + i * 0.001);
      }
    };
    for (let h = 0; h < 4; h++) burst(t0 + h * 3600 + 10, 100); // ~143 kB an hour
    burst(t0 + 4 * 3600 + 10, 20_000); // ~28.6 MB in hour 4
    // Keep time moving so that flows expire and hours close.
    for (let t = t0 + 10; t < t0 + 6 * 3600; t += 60) {
      const f = udp(['a4:83:e7:00:00:99', '192.168.1.99', 7], CLOUD, 10);
      e.packet(ETH, f, 0, f.length, f.length, t);
    }
    e.finish();
    const surge = e.verdicts!.alerts.filter((a) => a.rule === 'upload-surge');
    expect(surge).toHaveLength(1);
    expect(surge[0].device.mac).toBe(toy);
    expect(surge[0].title).toBe(`Apple, Inc. ${toy} uploads far more than usual`);
    const ev = surge[0].evidence as { bytesUp: number; baselineBytesUp: number; hour: string };
    expect(ev.bytesUp).toBeGreaterThan(20e6);
    expect(ev.baselineBytesUp).toBeLessThan(200e3);
    expect(ev.hour).toBe(new Date((t0 + 4 * 3600) * 1000).toISOString());
  });

  it('a camera reaching a CS2 PPPP relay abroad (the published PunchPkt vector): high, CS2 platform named', () => {
    const e = engineWith('homeCountry: FR\nnetworks:\n  - { cidr: 203.0.113.0/24, country: CN }\n');
    const punch = Buffer.from('f14100144241544400000000000262ca574f4e4a4d000000', 'hex');
    const t0 = 1_700_000_000;
    for (let i = 0; i < 3; i++) {
      const f = udpWith(['3c:ef:8c:00:00:42', '192.168.1.42', 40000], [ROUTER, '203.0.113.9', 32100], punch);
      e.packet(ETH, f, 0, f.length, f.length, t0 + i);
    }
    e.finish();
    const p2p = e.verdicts!.alerts.filter((a) => a.rule === 'camera-p2p-relay-abroad');
    expect(p2p.map((a) => [a.severity, a.protocol, a.destination?.country, a.destination?.platform?.id])).toEqual([['high', 'cs2-p2p', 'CN', 'cs2-ilnkp2p']]);
    expect((p2p[0].evidence.pppp as { deviceIds: string[] }).deviceIds).toEqual(['BATD156362WONJM']);
    expect(p2p[0].title).toBe('Dahua 3c:ef:8c:00:00:42 registers with the camera P2P relay 203.0.113.9 (China)');
    expect(p2p[0].reasons).toEqual(['the P2P relay is in China, outside the trusted countries']);
  });
});

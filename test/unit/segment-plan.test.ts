/**
 * The profile stage and the plan builder on flows made by hand: what is learnt, what freezing
 * does, which zone each kind of device gets and why, bounds, and the plan's schema.
 */
import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../daemon/config/load.js';
import { ProfileBook } from '../../daemon/profiles/profile-book.js';
import { registrableDomain } from '../../daemon/profiles/domain.js';
import { buildPlan, type PlanInput } from '../../daemon/segment/plan.js';
import { loadZonePolicy } from '../../daemon/segment/policy.js';
import { loadCloudPlatforms } from '../../daemon/rules/load.js';
import type { DeviceRecord, FlowRecord } from '../../daemon/report/types.js';
import type { Alert } from '../../daemon/verdicts/alert.js';

const CAM = '02:00:00:00:00:01';
const LAPTOP = '02:00:00:00:00:02';
const PLUG = '02:00:00:00:00:03';
const HASS = '02:00:00:00:00:04';
const NVR = '02:00:00:00:00:05';
const BOX = '02:00:00:00:00:06';

let serial = 0;
function flow(o: { from: [string, string]; to: [string, string | null]; port: number; proto?: string; host?: string | null; app?: string | null; encrypted?: boolean | null; up?: number; down?: number; at?: string; internet?: boolean }): FlowRecord {
  const internet = o.internet ?? o.to[1] === null;
  const at = o.at ?? '2026-11-01T10:00:00.000Z';
  return {
    id: ++serial,
    proto: o.proto ?? 'tcp',
    ipVersion: o.to[0].includes(':') ? 6 : 4,
    vlan: [],
    orig: { ip: o.from[0], port: 40000 + serial, mac: o.from[1], local: true },
    resp: { ip: o.to[0], port: o.port, mac: o.to[1], local: !internet },
    lanSide: internet ? 'orig' : 'both',
    internet,
    device: o.from[1],
    hostname: o.host ?? null,
    hostnameSource: o.host ? 'dns' : null,
    deviceSide: 'orig',
    counters: { orig: { packets: 10, bytes: o.up ?? 1000, payloadBytes: 500 }, resp: { packets: 10, bytes: o.down ?? 2000, payloadBytes: 1500 } },
    firstSeen: at,
    lastSeen: at,
    duration: 1,
    tcp: null,
    endReason: 'end',
    app: o.app ?? null,
    encrypted: o.encrypted ?? null,
    protocol: null,
  };
}

function device(mac: string, ip: string, category: string, name: string, extra: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    id: mac, mac, randomizedMac: false,
    ips: [{ ip, firstSeen: '2026-11-01T10:00:00.000Z', lastSeen: '2026-11-01T10:00:00.000Z', source: 'dhcp' }],
    vendor: null, model: null, hostname: name, label: null, category,
    categorySource: category === 'unknown' ? null : 'rules', confidence: 0.9,
    evidence: category === 'unknown' ? [] : [{ observation: `hostname ${name}`, rule: `test-${category}`, category, weight: 0.9 }],
    observations: { hostnames: [], dhcpVendorClass: null, dhcpParams: null, mdnsServices: [], mdnsModels: [], ssdpServers: [], ssdpTypes: [], domains: [], protocols: [], mqttTopics: [], ja4: [] },
    firstSeen: '2026-11-01T10:00:00.000Z', lastSeen: '2026-11-01T10:00:00.000Z',
    stats: { flows: 1, packetsUp: 1, packetsDown: 1, bytesUp: 1, bytesDown: 1 },
    ...extra,
  };
}

function alert(mac: string, name: string, severity: Alert['severity'], rule = 'mqtt-cleartext-internet'): Alert {
  return {
    id: `${rule}-${mac}`, rule, severity, title: `${name} sends its MQTT password in cleartext to mqtt.example.cn (China)`, reasons: ['its password travels in cleartext'],
    device: { id: mac, mac, ip: null, vendor: null, hostname: name, label: null, category: 'camera' },
    destination: { ip: '203.0.113.10', port: 1883, hostname: 'mqtt.example.cn', country: 'CN', asn: null, org: null, label: null, platform: null },
    protocol: 'mqtt', encrypted: false, evidence: {}, remediation: [], firstSeen: '2026-11-01T10:00:00.000Z', lastSeen: '2026-11-01T10:00:00.000Z', count: 1, muted: false,
  };
}

const geo = (ip: string) => ({ country: ip.startsWith('203.0.113.') ? 'CN' : 'FR', org: null });

function home(): { book: ProfileBook; devices: DeviceRecord[] } {
  const book = new ProfileBook({ learningSeconds: null, place: geo });
  const cam: [string, string] = ['192.168.1.10', CAM];
  const plug: [string, string] = ['192.168.1.11', PLUG];
  const hass: [string, string] = ['192.168.1.12', HASS];
  for (let i = 0; i < 3; i++) book.add(flow({ from: cam, to: ['203.0.113.10', null], port: 1883, host: 'mqtt.example.cn', app: 'mqtt', encrypted: false }));
  book.add(flow({ from: ['192.168.1.20', LAPTOP], to: ['192.168.1.10', CAM], port: 554, app: 'rtsp' }));
  book.add(flow({ from: ['192.168.1.20', LAPTOP], to: ['198.51.100.10', null], port: 443, host: 'www.example.org', app: 'tls', encrypted: true }));
  book.add(flow({ from: plug, to: ['198.51.100.20', null], port: 443, host: 'a1.cloud.plug.test', app: 'tls', encrypted: true }));
  book.add(flow({ from: plug, to: ['198.51.100.21', null], port: 443, host: 'a1.cloud.plug.test', app: 'tls', encrypted: true }));
  book.add(flow({ from: plug, to: ['2001:db8::20', null], port: 8883, host: 'mqtt.cloud.plug.test', app: 'mqtt', encrypted: true }));
  book.add(flow({ from: hass, to: ['192.168.1.11', PLUG], port: 9999 }));
  // DNS to the router and multicast are not peers.
  book.add(flow({ from: plug, to: ['192.168.1.1', '02:00:00:00:00:fe'], port: 53, proto: 'udp' }));
  book.add(flow({ from: plug, to: ['224.0.0.251', null], port: 5353, proto: 'udp', internet: false }));
  const devices = [
    device(CAM, '192.168.1.10', 'camera', 'EZVIZ-C6N-E21067'),
    device(LAPTOP, '192.168.1.20', 'computer', 'laptop'),
    device(PLUG, '192.168.1.11', 'plug_or_light', 'KP115'),
    device(HASS, '192.168.1.12', 'hub', 'homeassistant'),
  ];
  return { book, devices };
}

function input(book: ProfileBook, devices: DeviceRecord[], more: Partial<PlanInput> = {}): PlanInput {
  return {
    devices,
    profiles: book.profiles,
    alerts: [],
    personal: (_m, c) => c === 'phone' || c === 'computer',
    policy: loadZonePolicy(),
    platforms: loadCloudPlatforms(),
    overrides: {},
    protect: new Set(),
    homeCountry: 'FR',
    lanInterfaces: ['br-lan'],
    source: { kind: 'capture', path: 'test.pcap' },
    now: new Date('2026-11-02T00:00:00Z'),
    ...more,
  };
}

describe('profiles', () => {
  it('learns internet destinations by name with their addresses, and LAN peers by direction', () => {
    const { book } = home();
    const plug = book.get(PLUG)!;
    const web = plug.destinations.find((d) => d.host === 'a1.cloud.plug.test')!;
    expect(web).toMatchObject({ domain: 'plug.test', port: 443, proto: 'tcp', initiator: 'device', country: 'FR', encrypted: true, flows: 2, learned: true });
    expect(web.addresses.sort()).toEqual(['198.51.100.20', '198.51.100.21']);
    expect(plug.peers).toEqual([expect.objectContaining({ mac: HASS, ip: '192.168.1.12', direction: 'in', port: 9999 })]);
    expect(book.get(HASS)!.peers).toEqual([expect.objectContaining({ mac: PLUG, direction: 'out', port: 9999 })]);
    // DNS to the router and mDNS are router services and group traffic, never peers.
    expect(plug.peers.some((p) => p.port === 53 || p.port === 5353)).toBe(false);
    expect(book.get(CAM)!.peers).toEqual([expect.objectContaining({ mac: LAPTOP, direction: 'in', port: 554, app: 'rtsp' })]);
  });

  it('freezes after its window: later destinations are changes, not learnt', () => {
    const book = new ProfileBook({ learningSeconds: 3600, place: geo });
    const plug: [string, string] = ['192.168.1.11', PLUG];
    book.add(flow({ from: plug, to: ['198.51.100.20', null], port: 443, host: 'cloud.plug.test', at: '2026-11-01T10:00:00.000Z' }));
    book.add(flow({ from: plug, to: ['198.51.100.99', null], port: 443, host: 'new.example.net', at: '2026-11-01T12:00:00.000Z' }));
    const p = book.get(PLUG)!;
    expect(p.state).toBe('frozen');
    expect(p.frozenAt).toBe('2026-11-01T11:00:00.000Z');
    expect(p.changes).toBe(1);
    expect(p.destinations.map((d) => [d.host, d.learned])).toEqual([['cloud.plug.test', true], ['new.example.net', false]]);
    book.reopen(PLUG, new Date('2026-11-01T13:00:00Z'));
    expect(p.state).toBe('learning');
    expect(p.changes).toBe(0);
    expect(p.destinations.every((d) => d.learned)).toBe(true);
  });

  it('keeps only volumes of personal devices', () => {
    const book = new ProfileBook({ learningSeconds: null, place: geo, keepsDetail: (m) => m !== LAPTOP });
    book.add(flow({ from: ['192.168.1.20', LAPTOP], to: ['198.51.100.10', null], port: 443, host: 'www.example.org' }));
    expect(book.get(LAPTOP)!.destinations).toEqual([]);
    expect(book.get(LAPTOP)!.volumes.flows).toBe(1);
  });

  it('is bounded and counts what the bounds cut', () => {
    const book = new ProfileBook({ learningSeconds: null, place: geo });
    for (let i = 0; i < 300; i++) book.add(flow({ from: ['192.168.1.11', PLUG], to: [`198.51.100.${i % 250}`, null], port: 1000 + i }));
    const p = book.get(PLUG)!;
    expect(p.destinations.length).toBe(128);
    expect(p.dropped.destinations).toBe(172);
  });

  it('groups names by registrable domain', () => {
    expect(registrableDomain('a1.tuyaeu.com')).toBe('tuyaeu.com');
    expect(registrableDomain('api.example.co.uk')).toBe('example.co.uk');
    expect(registrableDomain('abc-ats.iot.eu-west-1.amazonaws.com')).toBe('eu-west-1.amazonaws.com');
    expect(registrableDomain('198.51.100.1')).toBeNull();
  });
});

describe('zone policy files', () => {
  const write = (body: string): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-zones-'));
    fs.mkdirSync(path.join(dir, 'zones'));
    fs.writeFileSync(path.join(dir, 'zones', 'mine.yaml'), body);
    return dir;
  };

  it('refuses unknown zones, categories, placeholders and blanks, naming file and line', () => {
    const dir = write(['zones:', '  - id: a', '    when: { category: [fridge] }', '    zone: iot', '    because: "{device} is cold"', '    source: me', '  - id: b', '    when: { category: [tv] }', '    zone: dmz', '    because: x', '    source: me', '  - id: c', '    when: { category: [tv] }', '    zone: iot', '    because: "{device} {colour} {alert}"', '    source: me', ''].join('\n'));
    let message = '';
    try {
      loadZonePolicy([dir]);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('mine.yaml:9: zones.1.zone: must be equal to one of the allowed values');
    const dir2 = write(['zones:', '  - id: a', '    when: { category: [fridge] }', '    zone: iot', '    because: "{device} is cold"', '    source: me', '  - id: c', '    when: { category: [tv] }', '    zone: iot', '    because: "{device} {colour} {alert}"', '    source: me', ''].join('\n'));
    expect(() => loadZonePolicy([dir2])).toThrow(/mine\.yaml:2: zones\.0\.when\.category: unknown category "fridge"/);
    expect(() => loadZonePolicy([dir2])).toThrow(/mine\.yaml:7: zones\.1\.because: unknown placeholder \{colour\}/);
    expect(() => loadZonePolicy([dir2])).toThrow(/mine\.yaml:7: zones\.1\.because: \{alert\} needs an alert condition/);
  });

  it('reads the household\'s rules before the built-in ones: they refine them', () => {
    const dir = write(['zones:', '  - id: tvs-local', '    when: { category: [tv] }', '    zone: local-only', '    because: "{device} needs no internet here"', '    source: the household', ''].join('\n'));
    const cfg = path.join(dir, 'vigie.yaml');
    fs.writeFileSync(cfg, `rules: [${dir}]\n`);
    const policy = loadConfig(cfg).segment!.policy;
    expect(policy[0].id).toBe('tvs-local');
    const plan = buildPlan(input(new ProfileBook({ learningSeconds: null, place: geo }), [device(BOX, '192.168.1.31', 'tv', 'salon-tv')], { policy }));
    expect(plan.devices[0]).toMatchObject({ zone: 'local-only', rule: 'tvs-local', reasons: ['salon-tv needs no internet here'] });
  });
});

describe('plan', () => {
  it('quarantines a camera with a critical alert, limits the plug to its cloud, keeps the laptop', () => {
    const { book, devices } = home();
    book.freezeAll('2026-11-01T11:00:00.000Z');
    const plan = buildPlan(input(book, devices, { alerts: [alert(CAM, 'EZVIZ-C6N-E21067', 'critical')] }));
    const by = Object.fromEntries(plan.devices.map((d) => [d.mac, d]));
    // The laptop watches the camera's RTSP: its recordings can stay home (local-only).
    expect(by[CAM].zone).toBe('local-only');
    expect(by[CAM].rule).toBe('camera-alert-local-viewer');
    expect(by[CAM].reasons[0]).toBe('EZVIZ-C6N-E21067 sends its MQTT password in cleartext to mqtt.example.cn (China), and this camera is already watched on the LAN by laptop (critical alert): its recordings can stay at home, so it keeps those viewers and loses the internet');
    expect(by[CAM].allow.hosts).toEqual([]);
    expect(by[CAM].lan).toEqual([expect.objectContaining({ mac: LAPTOP, role: 'controller' })]);
    expect(by[CAM].evidence.alerts[0]).toMatchObject({ severity: 'critical', rule: 'mqtt-cleartext-internet' });
    expect(by[LAPTOP]).toMatchObject({ zone: 'trusted', rule: 'personal-device', profile: { state: 'none' } });
    expect(by[LAPTOP].evidence.destinations).toEqual([]);
    expect(by[PLUG].zone).toBe('iot');
    expect(by[PLUG].allow.hosts.map((h) => h.name)).toEqual(['a1.cloud.plug.test', 'mqtt.cloud.plug.test']);
    expect(by[PLUG].allow.ipv4).toEqual(['198.51.100.20', '198.51.100.21']);
    expect(by[PLUG].allow.ipv6).toEqual(['2001:db8::20']);
    expect(by[PLUG].lan).toEqual([expect.objectContaining({ mac: HASS, role: 'controller', ports: [{ proto: 'tcp', port: 9999 }] })]);
    expect(plan.zones.iot.devices).toContain(PLUG);
    expect(plan.caveats.some((c) => c.includes('client isolation'))).toBe(true);
  });

  it('quarantines the camera when nobody watches it locally', () => {
    const { book, devices } = home();
    book.profiles.get(CAM)!.peers = [];
    const plan = buildPlan(input(book, devices, { alerts: [alert(CAM, 'EZVIZ-C6N-E21067', 'high')] }));
    const cam = plan.devices.find((d) => d.mac === CAM)!;
    expect(cam).toMatchObject({ zone: 'quarantine', rule: 'camera-alert', source: 'policy' });
    expect(cam.reasons[0]).toMatch(/^EZVIZ-C6N-E21067 sends its MQTT password in cleartext to mqtt\.example\.cn \(China\), and it is a camera \(high alert\): /);
  });

  it('a muted alert does not decide a zone', () => {
    const { book, devices } = home();
    const a = { ...alert(CAM, 'EZVIZ-C6N-E21067', 'critical'), muted: true };
    const cam = buildPlan(input(book, devices, { alerts: [a] })).devices.find((d) => d.mac === CAM)!;
    expect(cam.zone).toBe('iot');
  });

  it('the household override wins, and a protected device stays trusted', () => {
    const { book, devices } = home();
    const plan = buildPlan(input(book, devices, { overrides: { [PLUG]: 'blocked', [HASS]: 'quarantine' }, protect: new Set([HASS]) }));
    const by = Object.fromEntries(plan.devices.map((d) => [d.mac, d]));
    expect(by[PLUG]).toMatchObject({ zone: 'blocked', advised: 'iot', source: 'user' });
    expect(by[PLUG].reasons[0]).toContain('The household chose blocked');
    expect(by[HASS]).toMatchObject({ zone: 'trusted', source: 'safeguard' });
    expect(by[HASS].reasons[0]).toContain('cannot lock the household out');
  });

  it('an unknown device that behaves like IoT goes to iot with the reason; one that does not stays trusted', () => {
    const { book, devices } = home();
    book.add(flow({ from: ['192.168.1.30', NVR], to: ['203.0.113.50', null], port: 1883, host: 'broker.example.net', app: 'mqtt', encrypted: false }));
    for (let i = 0; i < 30; i++) book.add(flow({ from: ['192.168.1.31', BOX], to: [`198.51.100.${100 + i}`, null], port: 443, host: `site${i}.example${i}.com` }));
    const plan = buildPlan(input(book, [...devices, device(NVR, '192.168.1.30', 'unknown', 'esp-1234'), device(BOX, '192.168.1.31', 'unknown', 'box')]));
    const by = Object.fromEntries(plan.devices.map((d) => [d.mac, d]));
    expect(by[NVR]).toMatchObject({ zone: 'iot', rule: 'unknown-behaves-like-iot' });
    expect(by[NVR].reasons[0]).toContain('it speaks MQTT to the internet');
    expect(by[BOX]).toMatchObject({ zone: 'trusted', rule: null });
    expect(by[BOX].reasons[0]).toContain('no policy rule matched');
  });

  it('changes after freezing are shown, not allowed', () => {
    const book = new ProfileBook({ learningSeconds: 60, place: geo });
    book.add(flow({ from: ['192.168.1.11', PLUG], to: ['198.51.100.20', null], port: 443, host: 'cloud.plug.test', at: '2026-11-01T10:00:00.000Z' }));
    book.add(flow({ from: ['192.168.1.11', PLUG], to: ['198.51.100.66', null], port: 443, host: 'evil.example', at: '2026-11-01T11:00:00.000Z' }));
    const plug = buildPlan(input(book, [device(PLUG, '192.168.1.11', 'plug_or_light', 'KP115')])).devices[0];
    expect(plug.allow.hosts.map((h) => h.name)).toEqual(['cloud.plug.test']);
    expect(plug.allow.ipv4).toEqual(['198.51.100.20']);
    expect(plug.evidence.destinations.find((d) => d.host === 'evil.example')).toMatchObject({ learned: false });
    expect(plug.profile.changes).toBe(1);
  });

  it('matches its JSON schema, and 200 devices plan in well under a second', () => {
    const book = new ProfileBook({ learningSeconds: null, place: geo });
    const devices: DeviceRecord[] = [];
    for (let n = 0; n < 200; n++) {
      const mac = `02:00:00:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
      const ip = `10.0.${n >> 8}.${n & 255}`;
      devices.push(device(mac, ip, ['camera', 'plug_or_light', 'phone', 'unknown', 'hub'][n % 5], `dev${n}`));
      for (let i = 0; i < 40; i++) book.add(flow({ from: [ip, mac], to: [`198.51.100.${i}`, null], port: 443, host: `h${i}.vendor${n % 7}.com` }));
      if (n > 0) book.add(flow({ from: [ip, mac], to: ['10.0.0.0', devices[0].mac], port: 80 }));
    }
    const t = performance.now();
    const plan = buildPlan(input(book, devices, { alerts: devices.filter((d) => d.category === 'camera').map((d) => alert(d.mac!, d.hostname!, 'critical')) }));
    const ms = performance.now() - t;
    expect(plan.devices.length).toBe(200);
    expect(ms).toBeLessThan(1000);
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(new URL('../../daemon/segment/plan.schema.json', import.meta.url), 'utf8')));
    expect(validate(plan), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    expect(plan.limits.setElements).toBeGreaterThan(0);
    const broken = { ...plan, devices: [{ ...plan.devices[0], zone: 'dmz' }] };
    expect(validate(broken)).toBe(false);
  });
});

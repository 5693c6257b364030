/**
 * What alerts say: titles that name the device, the destination and its country (variants by
 * condition, optional parts for what may be unknown), reasons that hold only what was found (the
 * branches of an `any` that held), texts brought up to date when the device's name or category
 * becomes known, and rule files whose templates are wrong refused with file:line. Synthetic flow
 * records are judged by the verdict stage with the shipped rules.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeviceOverride } from '../../daemon/analysis/config.js';
import { DeviceTable, factsOf, type Device } from '../../daemon/devices/device-table.js';
import { loadDeviceRules } from '../../daemon/devices/rules.js';
import { Geo } from '../../daemon/geo/geo.js';
import type { FlowRecord } from '../../daemon/report/types.js';
import { loadCloudPlatforms, RuleLoadError } from '../../daemon/rules/load.js';
import type { Alert } from '../../daemon/verdicts/alert.js';
import { englishNames, type IsoNames, tableText } from '../../daemon/verdicts/build-country-names.js';
import { explain, type Situation } from '../../daemon/verdicts/condition.js';
import { countryName } from '../../daemon/verdicts/country-names.js';
import { trustedSet } from '../../daemon/verdicts/countries.js';
import { FIELD_PHRASES } from '../../daemon/verdicts/reasons.js';
import { loadAlertRules } from '../../daemon/verdicts/rules.js';
import { checkTemplate, render, type Values } from '../../daemon/verdicts/template.js';
import { deviceName } from '../../daemon/verdicts/texts.js';
import { DEFAULT_VERDICTS, Verdicts } from '../../daemon/verdicts/verdicts.js';
import type { FlowFacts } from '../../daemon/protocols/registry.js';
import type { MqttFacts } from '../../daemon/protocols/mqtt/state.js';
import type { HttpFacts } from '../../daemon/protocols/http/state.js';
import type { RtspFacts } from '../../daemon/protocols/rtsp/state.js';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(require.resolve('../../package.json')));

// ---- a small home: the shipped rules, a broker "in China", an address of no known country ----

const RULES = loadAlertRules();
const PLATFORMS = loadCloudPlatforms();
const DEVICE_RULES = loadDeviceRules();
const GEO = new Geo([{ cidr: '203.0.113.0/24', country: 'CN' }]);
const BROKER = { ip: '203.0.113.10', host: 'mqtt-eu.cloudcam-service.net' };
const NOWHERE = '198.51.100.7'; // documentation range: no country in the shipped data
const T0 = 1_700_000_000;

interface Home {
  v: Verdicts;
  table: DeviceTable;
  overrides: Record<string, DeviceOverride>;
  changes: Alert[];
}

function home(overrides: Record<string, DeviceOverride> = {}): Home {
  const changes: Alert[] = [];
  const ctx = { deviceRules: DEVICE_RULES, deviceOverrides: overrides };
  const v = new Verdicts({ rules: RULES, platforms: PLATFORMS, geo: GEO, trusted: trustedSet('FR', undefined), mutes: [], ...DEFAULT_VERDICTS }, ctx, (a) => changes.push(structuredClone(a)));
  return { v, table: new DeviceTable(), overrides: ctx.deviceOverrides, changes };
}

function device(h: Home, mac: string, ip: string, hostname?: string): Device {
  const d = h.table.lookup(parseInt(mac.replace(/:/g, ''), 16), ip, T0);
  h.table.bind(d, ip, T0, 'flow');
  if (hostname) factsOf(d).hostname(hostname, 'dhcp');
  return d;
}

interface FlowSpec {
  id: number;
  mac: string;
  ip: string;
  to: string;
  host?: string | null;
  port?: number;
  app?: string;
  protocol: FlowFacts;
}

function flow(f: FlowSpec): FlowRecord {
  const c = { packets: 6, bytes: 900, payloadBytes: 400 };
  return {
    id: f.id,
    proto: 'tcp',
    ipVersion: 4,
    vlan: [],
    orig: { ip: f.ip, port: 40000 + f.id, mac: f.mac, local: true },
    resp: { ip: f.to, port: f.port ?? 1883, mac: null, local: false },
    lanSide: 'orig',
    internet: true,
    device: f.mac,
    hostname: f.host ?? null,
    hostnameSource: f.host ? 'dns' : null,
    deviceSide: 'orig',
    counters: { orig: c, resp: c },
    firstSeen: new Date(T0 * 1000).toISOString(),
    lastSeen: new Date(T0 * 1000 + 1000).toISOString(),
    duration: 1,
    tcp: null,
    endReason: 'end',
    app: f.app ?? 'mqtt',
    encrypted: false,
    protocol: f.protocol,
  };
}

/** A cleartext MQTT session: with a user name and password, or anonymous; accepted. */
function mqtt(password: boolean, kinds: string[] = ['json']): FlowFacts & { mqtt: MqttFacts } {
  return {
    mqtt: {
      clientId: 'cam-1', username: password ? 'camuser' : null, passwordPresent: password, anonymous: !password, accepted: true, connackCode: 0, version: 4,
      willTopic: null, subscriptions: [], subscribedAll: false, subscribedAllGranted: false, topics: ['cam/1'], payloadKinds: kinds, publishes: 1, publishedBytes: 100, anomalies: [],
    },
  };
}

const HTTP: HttpFacts = { host: null, userAgent: null, requests: 1, methods: [], paths: [], statuses: [], contentTypes: [], authorization: [], mjpeg: false, flv: false, websocket: false, websocketProtocol: null, anomalies: [] };
const RTSP: RtspFacts = { urls: [], methods: [], statuses: [], userAgent: null, server: null, transports: [], publishing: false, authorization: [], interleavedFrames: 0 };

function judged(h: Home, d: Device, f: FlowSpec): Alert[] {
  h.v.flow(flow(f), d, T0 + 1);
  return h.v.alerts.filter((a) => a.device.mac === f.mac);
}

const EZVIZ = '02:00:00:00:e2:10'; // locally administered: no vendor, no category from the MAC
const DAHUA = '3c:ef:8c:00:00:01'; // Zhejiang Dahua Technology (IEEE MA-L)

describe('titles name the device, the destination and its country', () => {
  it('password present: the password variant, with the country in English', () => {
    const h = home();
    const d = device(h, EZVIZ, '192.168.1.20', 'EZVIZ-C6N-E21067');
    const [a] = judged(h, d, { id: 1, mac: EZVIZ, ip: '192.168.1.20', to: BROKER.ip, host: BROKER.host, protocol: mqtt(true) });
    expect(a.title).toBe('EZVIZ-C6N-E21067 sends its MQTT password in cleartext to mqtt-eu.cloudcam-service.net (China)');
  });

  it('no password: the plain title', () => {
    const h = home();
    const d = device(h, EZVIZ, '192.168.1.20', 'EZVIZ-C6N-E21067');
    const [a] = judged(h, d, { id: 1, mac: EZVIZ, ip: '192.168.1.20', to: BROKER.ip, host: BROKER.host, protocol: { mqtt: { ...mqtt(false).mqtt, accepted: false, anonymous: true } } });
    expect(a.title).toBe('EZVIZ-C6N-E21067 talks MQTT without encryption to mqtt-eu.cloudcam-service.net (China)');
  });

  it('a destination of unknown country and no name: the address, and no empty parentheses', () => {
    const h = home();
    const d = device(h, EZVIZ, '192.168.1.20', 'EZVIZ-C6N-E21067');
    const [a] = judged(h, d, { id: 1, mac: EZVIZ, ip: '192.168.1.20', to: NOWHERE, host: null, protocol: mqtt(true) });
    expect(a.destination?.country).toBeNull();
    expect(a.title).toBe(`EZVIZ-C6N-E21067 sends its MQTT password in cleartext to ${NOWHERE}`);
    expect(a.remediation.join('\n')).not.toMatch(/\(\)|null|undefined|\{|\[/);
    expect(a.remediation).toContain(`Block ${NOWHERE} at the router if the device works without it.`);
  });

  it('the household’s label comes first; without label or name, the vendor and MAC; without vendor, the MAC', () => {
    const h = home({ [DAHUA]: { label: 'Porch camera' } });
    const labelled = device(h, DAHUA, '192.168.1.21', 'IPC-HFW1230S');
    const bare = device(h, EZVIZ, '192.168.1.22');
    const vendorOnly = device(h, '3c:ef:8c:00:00:02', '192.168.1.23');
    expect(judged(h, labelled, { id: 1, mac: DAHUA, ip: '192.168.1.21', to: BROKER.ip, host: BROKER.host, protocol: mqtt(true) })[0].title).toBe('Porch camera sends its MQTT password in cleartext to mqtt-eu.cloudcam-service.net (China)');
    expect(judged(h, bare, { id: 2, mac: EZVIZ, ip: '192.168.1.22', to: BROKER.ip, host: BROKER.host, protocol: mqtt(true) })[0].title).toBe(`${EZVIZ} sends its MQTT password in cleartext to mqtt-eu.cloudcam-service.net (China)`);
    expect(judged(h, vendorOnly, { id: 3, mac: '3c:ef:8c:00:00:02', ip: '192.168.1.23', to: BROKER.ip, host: BROKER.host, protocol: mqtt(true) })[0].title).toBe('Dahua 3c:ef:8c:00:00:02 sends its MQTT password in cleartext to mqtt-eu.cloudcam-service.net (China)');
    expect(deviceName({ id: 'ip:10.0.0.9', mac: null, ip: '10.0.0.9', vendor: null, hostname: null, label: null })).toBe('10.0.0.9');
  });

  it('a variant once found stays: a later session without a password does not take the password out of the title', () => {
    const h = home();
    const d = device(h, EZVIZ, '192.168.1.20', 'EZVIZ-C6N-E21067');
    judged(h, d, { id: 1, mac: EZVIZ, ip: '192.168.1.20', to: BROKER.ip, host: BROKER.host, protocol: mqtt(true) });
    const [a] = judged(h, d, { id: 2, mac: EZVIZ, ip: '192.168.1.20', to: BROKER.ip, host: BROKER.host, protocol: mqtt(false) });
    expect(a.count).toBe(2);
    expect(a.title).toMatch(/^EZVIZ-C6N-E21067 sends its MQTT password in cleartext/);
  });
});

describe('reasons hold only what was found', () => {
  it('a camera without a password: the camera and the country, not the password nor the list of categories', () => {
    const h = home({ [EZVIZ]: { category: 'camera' } });
    const d = device(h, EZVIZ, '192.168.1.20', 'EZVIZ-C6N-E21067');
    const [a] = judged(h, d, { id: 1, mac: EZVIZ, ip: '192.168.1.20', to: BROKER.ip, host: BROKER.host, protocol: { mqtt: { ...mqtt(false).mqtt, accepted: false } } });
    expect(a.severity).toBe('critical');
    expect(a.reasons).toEqual(['mqtt-eu.cloudcam-service.net is in China, outside the trusted countries', 'the device is a camera']);
  });

  it('a password from a device of unknown kind: the password, not a camera', () => {
    const h = home();
    const d = device(h, EZVIZ, '192.168.1.20');
    const [a] = judged(h, d, { id: 1, mac: EZVIZ, ip: '192.168.1.20', to: BROKER.ip, host: BROKER.host, protocol: mqtt(true) });
    expect(a.severity).toBe('critical');
    expect(a.reasons).toEqual(['mqtt-eu.cloudcam-service.net is in China, outside the trusted countries', 'its MQTT password travels in cleartext']);
  });

  it('a camera sending its password: both branches, in the rule’s order, each once (the example of docs/alerts.md)', () => {
    const h = home({ [EZVIZ]: { category: 'camera' } });
    const d = device(h, EZVIZ, '192.168.1.20', 'EZVIZ-C6N-E21067');
    const [a] = judged(h, d, { id: 1, mac: EZVIZ, ip: '192.168.1.20', to: BROKER.ip, host: BROKER.host, protocol: mqtt(true) });
    const doc = fs.readFileSync(path.join(ROOT, 'docs/alerts.md'), 'utf8');
    const shown = JSON.parse(/gives:\n\n```json\n([^`]+)```/.exec(doc)![1]) as Pick<Alert, 'severity' | 'title' | 'reasons'>;
    expect({ severity: a.severity, title: a.title, reasons: a.reasons }).toEqual(shown);
    expect(a.reasons).toEqual(['mqtt-eu.cloudcam-service.net is in China, outside the trusted countries', 'the device is a camera', 'its MQTT password travels in cleartext']);
  });

  it('an anonymous client accepted, publishing a JPEG: both branches that held, named', () => {
    const h = home();
    const d = device(h, EZVIZ, '192.168.1.20');
    const [a] = judged(h, d, { id: 1, mac: EZVIZ, ip: '192.168.1.20', to: BROKER.ip, host: null, protocol: mqtt(false, ['json', 'jpeg']) });
    expect(a.reasons).toEqual(['203.0.113.10 is in China, outside the trusted countries', 'the broker accepts anonymous clients', 'it publishes JPEG images over MQTT']);
    expect(a.title).toBe(`${EZVIZ} publishes images or video without encryption to 203.0.113.10 (China)`);
  });

  it('a branch’s own `because` is used as written, with the category that held', () => {
    const h = home({ [DAHUA]: { category: 'doorbell' } });
    const d = device(h, DAHUA, '192.168.1.21');
    const [a] = judged(h, d, { id: 1, mac: DAHUA, ip: '192.168.1.21', to: BROKER.ip, host: BROKER.host, port: 80, app: 'http', protocol: { http: { ...HTTP, host: BROKER.host, methods: ['GET'], paths: ['/'], authorization: ['Basic'] } } });
    expect(a.rule).toBe('credentials-cleartext-internet');
    expect(a.severity).toBe('critical');
    expect(a.reasons).toEqual(['the device is a doorbell: its login gives control of its picture']);
    expect(a.title).toBe('Dahua 3c:ef:8c:00:00:01 sends a password over plain HTTP to mqtt-eu.cloudcam-service.net (China)');
  });

  it('explain(): the leaves of an `all`, the branches of an `any` that held, a `because` in place of its object', () => {
    const s: Situation = new Map<string, string | number | boolean | string[] | null>([
      ['abroad', true],
      ['device.category', 'toy'],
      ['mqtt.payloadKinds', ['json', 'png']],
      ['mqtt.passwordPresent', false],
    ]);
    const c = { abroad: true, any: [{ 'device.category': ['camera', 'toy'] }, { 'mqtt.passwordPresent': true }, { 'mqtt.payloadKinds': ['jpeg', 'png'], because: 'pictures' }] };
    expect(explain(c, s)).toEqual([{ field: 'abroad', values: [true] }, { field: 'device.category', values: ['toy'] }, { because: 'pictures' }]);
    expect(explain({ ...c, because: 'all of it' }, s)).toEqual([{ because: 'all of it' }]);
    expect(explain({ any: [{ 'mqtt.passwordPresent': true }] }, s)).toBeNull();
    expect(explain({ not: { abroad: false } }, s)).toEqual([]);
  });

  it('every field of the rule schema has a phrase', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'daemon/verdicts/alert-rules.schema.json'), 'utf8'));
    const fields = Object.keys(schema.$defs.condition.properties).filter((k) => !['any', 'all', 'not', 'because'].includes(k));
    expect(fields.length).toBeGreaterThan(30);
    expect(fields.filter((f) => !(f in FIELD_PHRASES))).toEqual([]);
    expect(Object.keys(FIELD_PHRASES).filter((f) => !fields.includes(f))).toEqual([]);
  });
});

describe('texts follow what is learnt about the device', () => {
  it('a label and category given later: title, severity and reasons say them', () => {
    const h = home();
    const d = device(h, EZVIZ, '192.168.1.20');
    const [before] = judged(h, d, { id: 1, mac: EZVIZ, ip: '192.168.1.20', to: BROKER.ip, host: BROKER.host, protocol: { mqtt: { ...mqtt(false).mqtt, accepted: false } } });
    expect(before.title).toBe(`${EZVIZ} talks MQTT without encryption to mqtt-eu.cloudcam-service.net (China)`);
    expect(before.severity).toBe('high');
    expect(before.reasons).toEqual(['mqtt-eu.cloudcam-service.net is in China, outside the trusted countries']);
    h.overrides[EZVIZ] = { label: 'Nursery cam', category: 'baby_monitor' };
    const n = h.changes.length;
    h.v.refresh();
    const [after] = h.v.alerts;
    expect(after.title).toBe('Nursery cam talks MQTT without encryption to mqtt-eu.cloudcam-service.net (China)');
    expect(after.severity).toBe('critical');
    expect(after.reasons).toEqual(['mqtt-eu.cloudcam-service.net is in China, outside the trusted countries', 'the device is a baby monitor']);
    expect(after.remediation[0]).toBe('Isolate Nursery cam with its segmentation plan (the dashboard\'s Segmentation page, or `vigie segment`): it loses the internet and keeps only the devices that control it.');
    expect(h.changes.slice(n).map((a) => a.title)).toEqual([after.title]);
  });

  it('a category override chooses the title variant again (an RTSP push becomes a camera’s picture)', () => {
    const h = home();
    const d = device(h, EZVIZ, '192.168.1.20', 'ipc-garden');
    const rtsp: FlowFacts = { rtsp: { ...RTSP, urls: ['rtsp://relay.example.com/live'], methods: ['ANNOUNCE', 'RECORD'], publishing: true } };
    const [before] = judged(h, d, { id: 1, mac: EZVIZ, ip: '192.168.1.20', to: '203.0.113.20', host: 'relay.example.com', port: 8554, app: 'rtsp', protocol: rtsp });
    expect(before.rule).toBe('media-cleartext-internet');
    expect(before.title).toBe('ipc-garden streams audio or video unencrypted to relay.example.com (China)');
    h.overrides[EZVIZ] = { category: 'camera' };
    h.v.refresh();
    expect(h.v.alerts[0].title).toBe('ipc-garden streams its camera picture unencrypted to relay.example.com (China)');
    expect(h.v.alerts[0].reasons).toEqual(['relay.example.com is in China, outside the trusted countries', 'it streams over RTSP', 'the device is a camera']);
  });
});

describe('templates', () => {
  const v: Values = { device: 'Cam', destination: 'x.example', port: '1883', country: null, platform: 'EZVIZ', category: null };

  it('optional parts are dropped when a placeholder inside has no value', () => {
    expect(render('{device} to {destination}[ ({country})][ on {platform}]', v)).toBe('Cam to x.example on EZVIZ');
    expect(render('{device} to {destination}[ ({country})]', { ...v, country: 'China' })).toBe('Cam to x.example (China)');
  });

  it('bad templates are named', () => {
    const flow = ['device', 'destination', 'port'] as const;
    const maybe = ['country', 'platform', 'category'] as const;
    expect(checkTemplate('{devise} talks', flow, maybe, 'a flow rule')).toMatch(/unknown placeholder \{devise\}/);
    expect(checkTemplate('{device} in {country}', flow, maybe, 'a flow rule')).toMatch(/\{country\} can be unknown/);
    expect(checkTemplate('{device}[ ({country})', flow, maybe, 'a flow rule')).toMatch(/without its "\]"/);
    expect(checkTemplate('{device} [[{country}]]', flow, maybe, 'a flow rule')).toMatch(/do not nest/);
    expect(checkTemplate('{device} [soon]', flow, maybe, 'a flow rule')).toMatch(/needs a placeholder/);
    expect(checkTemplate('{device} {', flow, maybe, 'a flow rule')).toMatch(/not part of a placeholder/);
    expect(checkTemplate('{device} to {destination}', ['device'], ['category'], 'a rule on device-joined has no destination, so it')).toMatch(/\{destination\}: a rule on device-joined has no destination/);
    expect(checkTemplate('{device} to {destination}[ ({country})]', flow, maybe, 'a flow rule')).toBeNull();
  });
});

describe('alert rule files with wrong templates are refused with file:line', () => {
  const rule = (lines: string[]) => ['alerts:', '  - id: x', ...lines, '    remediation: [Do something]', '    source: a public source', ''].join('\n');
  const errorsOf = (text: string): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-texts-'));
    fs.mkdirSync(path.join(dir, 'alerts'));
    fs.writeFileSync(path.join(dir, 'alerts', 'bad.yaml'), text);
    try {
      loadAlertRules([dir]);
      return '';
    } catch (e) {
      expect(e).toBeInstanceOf(RuleLoadError);
      return (e as Error).message;
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  };

  it('an unknown placeholder in a title variant, on its own line', () => {
    const msg = errorsOf(rule(['    title: "{device} talks MQTT"', '    titles:', '      - when: { mqtt.passwordPresent: true }', '        title: "{devise} sends its password"', '    when: { app: mqtt }', '    severity: medium']));
    expect(msg).toMatch(/bad\.yaml:6: alerts\.0\.titles\.0\.title: unknown placeholder \{devise\} \(known: \{device\}/);
  });

  it('a country that may be unknown outside an optional part; a destination in a device rule', () => {
    expect(errorsOf(rule(['    title: "{device} talks MQTT to {destination} ({country})"', '    when: { app: mqtt }', '    severity: medium']))).toMatch(/bad\.yaml:3: alerts\.0\.title: \{country\} can be unknown: put it in an optional part/);
    // Where the condition guarantees the country (abroad), no optional part is needed.
    expect(errorsOf(rule(['    title: "{device} talks MQTT to {destination} ({country})"', '    when: { app: mqtt, abroad: true }', '    severity: medium']))).toBe('');
    expect(errorsOf(rule(['    title: "New device {device} talks to {destination}"', '    on: device-joined', '    when: { device.new: true }', '    severity: info']))).toMatch(/bad\.yaml:3: alerts\.0\.title: \{destination\}: a rule on device-joined has no destination/);
  });

  it('a `because` where no reason is shown, or inside a `not`', () => {
    expect(errorsOf(rule(['    title: "{device} talks MQTT"', '    when: { app: mqtt, because: it is MQTT }', '    severity: medium']))).toMatch(/bad\.yaml:4: alerts\.0\.when\.because: only escalations show a reason/);
    const msg = errorsOf(rule(['    title: "{device} talks MQTT"', '    when: { app: mqtt }', '    severity: medium', '    escalate:', '      - severity: high', '        when:', '          not: { abroad: true, because: at home }']));
    expect(msg).toMatch(/bad\.yaml:9: alerts\.0\.escalate\.0\.when\.not\.because: never shown/);
    const own = errorsOf(rule(['    title: "{device} talks MQTT"', '    when: { app: mqtt }', '    severity: medium', '    escalate:', '      - severity: high', '        because: it is abroad', '        when:', '          any: [{ abroad: true, because: far away }]']));
    expect(own).toMatch(/bad\.yaml:10: alerts\.0\.escalate\.0\.when\.any\.0\.because: never shown: the escalation's own `because` is used/);
  });

  it('mqtt.mediaPayload, documented, is accepted by the schema; every documented fact is in it', () => {
    expect(errorsOf(rule(['    title: "{device} publishes pictures"', '    when: { app: mqtt, mqtt.mediaPayload: true }', '    severity: medium']))).toBe('');
    const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'daemon/verdicts/alert-rules.schema.json'), 'utf8'));
    const facts = fs.readFileSync(path.join(ROOT, 'docs/alerts.md'), 'utf8').split('## Facts')[1].split('\n## ')[0];
    const documented = [...facts.matchAll(/^\| (.+?) \|/gm)].flatMap((m) => [...m[1].matchAll(/`([a-zA-Z0-9.]+)`/g)].map((x) => x[1]));
    expect(documented.length).toBeGreaterThan(30);
    const fields = Object.keys(schema.$defs.condition.properties);
    expect(documented.filter((f) => !fields.includes(f))).toEqual([]);
    expect(fields.filter((f) => !['any', 'all', 'not', 'because'].includes(f) && !documented.includes(f))).toEqual([]);
  });
});

describe('country names', () => {
  it('English names from ISO codes, as generated from i18n-iso-countries', () => {
    const en = require('i18n-iso-countries/langs/en.json') as { countries: IsoNames };
    const src = fs.readFileSync(path.join(ROOT, 'daemon/verdicts/country-names.ts'), 'utf8');
    expect(src).toContain(JSON.stringify(tableText(englishNames(en.countries))));
    expect(['CN', 'US', 'GB', 'KR', 'TW', 'DE', 'cn', 'VG', 'NL'].map(countryName)).toEqual(['China', 'United States', 'United Kingdom', 'South Korea', 'Taiwan', 'Germany', 'China', 'British Virgin Islands', 'Netherlands']);
    // Unambiguous: no two countries share a name.
    const names = englishNames(en.countries).map(([, n]) => n);
    expect(new Set(names).size).toBe(names.length);
    expect(countryName('ZZ')).toBe('ZZ');
    expect(src.length).toBeLessThan(6000);
  });
});

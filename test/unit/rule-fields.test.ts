/**
 * One contract per protocol, one registry: the alert-rule schema's field list and the table of
 * docs/alerts.md are what the code computes (generated from daemon/verdicts/fields.ts and the
 * protocols' contracts), every field reads in words, the situation of a real flow sets only
 * fields the schema knows, and a rule on `mqtt.mediaPayload` loads and fires on a capture.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATAGRAM_ORDER, PROTOCOLS, PROTOCOL_FIELDS, protocolFields, STREAM_ORDER } from '../../daemon/protocols/registry.js';
import { DOCS_FILE, docsWithFields, PROTOCOL_DOCS_FILE, protocolDocsWith, SCHEMA_FILE, schemaWithFields } from '../../daemon/verdicts/build-rule-fields.js';
import { RULE_FIELDS } from '../../daemon/verdicts/fields.js';
import { FIELD_PHRASES } from '../../daemon/verdicts/reasons.js';
import { loadAlertRules } from '../../daemon/verdicts/rules.js';
import { RuleLoadError } from '../../daemon/rules/load.js';
import { ROOT } from '../helpers/corpus.js';
import { vigie } from '../helpers/cli.js';
// @ts-expect-error: a plain ES module of the benchmark, without types
import { mqttConnect, mqttPublish, PcapWriter, writeIp } from '../bench/home-capture.mjs';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-fields-'));

describe('the registry, the schema and the docs agree', () => {
  it('the schema file is what the fields generate (npm run fields rewrites it)', () => {
    const file = JSON.parse(fs.readFileSync(path.join(ROOT, SCHEMA_FILE), 'utf8'));
    expect(file).toEqual(schemaWithFields(file));
    const names = Object.keys(file.$defs.condition.properties).filter((k) => !['any', 'all', 'not', 'because'].includes(k));
    expect(names).toEqual(RULE_FIELDS.map((f) => f.name));
  });

  it('the docs table is what the fields generate, one row per field', () => {
    const md = fs.readFileSync(path.join(ROOT, DOCS_FILE), 'utf8');
    expect(md).toBe(docsWithFields(md));
    for (const f of RULE_FIELDS) expect(md).toContain(`| \`${f.name}\` |`);
  });

  it('the protocols table is the registry: every contract, where its probes stand in the detection orders', () => {
    const md = fs.readFileSync(path.join(ROOT, PROTOCOL_DOCS_FILE), 'utf8');
    expect(md).toBe(protocolDocsWith(md));
    for (const c of PROTOCOLS) expect(md).toContain(`| \`${c.key}\` |`);
    // Every probe a contract declares has its place in an order, and the orders hold nothing else.
    const declared = PROTOCOLS.flatMap((c) => [...Object.values(c.stream ?? {}), ...Object.values(c.datagram ?? {})]);
    expect(new Set([...STREAM_ORDER, ...DATAGRAM_ORDER])).toEqual(new Set(declared));
  });

  it('the analysis schema describes the facts of every contract, and no others', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'daemon/report/analysis.schema.json'), 'utf8'));
    expect(Object.keys(schema.$defs.protocolFacts.properties).sort()).toEqual(PROTOCOLS.map((c) => c.key).sort());
  });

  it('every field has a phrase, names are unique, every protocol field is a registered contract\'s', () => {
    const names = RULE_FIELDS.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(FIELD_PHRASES[n], n).toBeTypeOf('function');
    const keys = new Set(PROTOCOLS.map((c) => c.key));
    for (const f of PROTOCOL_FIELDS) expect(f.name.startsWith('media.') || keys.has(f.name.split('.')[0]) || f.name === 'p2p', f.name).toBe(true);
    expect(new Set(PROTOCOLS.map((c) => c.key)).size).toBe(PROTOCOLS.length);
  });

  it('a rule giving a field a value of the wrong type, or naming an unknown field, is refused', () => {
    const rule = (when: string) => {
      const dir = tmp();
      fs.mkdirSync(path.join(dir, 'alerts'));
      fs.writeFileSync(path.join(dir, 'alerts', 'x.yaml'), `alerts:\n  - id: x\n    title: "{device} x"\n    when: ${when}\n    severity: low\n    remediation: [Do something.]\n    source: a test of the schema\n`);
      return () => loadAlertRules([dir]);
    };
    expect(rule('{ app: mqtt, mqtt.passwordPresent: true, mqtt.publishes: { min: 2 }, port: [1883, 8883] }')()).toHaveLength(1);
    for (const when of ['{ app: mqtt, mqtt.passwordPresent: "yes" }', '{ app: mqtt, mqtt.publishes: true }', '{ app: mqtt, mqtt.passwordPrsent: true }', '{ app: { min: 1 } }']) {
      expect(rule(when), when).toThrow(RuleLoadError);
    }
  });
});

describe('mqtt.mediaPayload in a rule', () => {
  it('loads, and fires on a camera publishing a JPEG in cleartext, not on one publishing JSON', () => {
    const dir = tmp();
    fs.mkdirSync(path.join(dir, 'alerts'));
    fs.writeFileSync(
      path.join(dir, 'alerts', 'media.yaml'),
      [
        'alerts:',
        '  - id: mqtt-pictures',
        '    title: "{device} publishes pictures over MQTT to {destination}"',
        '    when: { app: mqtt, mqtt.mediaPayload: true }',
        '    severity: high',
        '    remediation: ["Move {device} to an isolated zone."]',
        '    source: OASIS MQTT 3.1.1 §3.3 (PUBLISH payloads are application data)',
        '',
      ].join('\n'),
    );
    expect(vigie(['rules', 'check', dir]).status).toBe(0);
    const pcap = path.join(dir, 'cams.pcap');
    const w = new PcapWriter(pcap);
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0'), Buffer.alloc(200, 7)]);
    const cams: [number, Buffer][] = [
      [0xc0a80114, jpeg],
      [0xc0a80115, Buffer.from('{"temp":21.5}')],
    ];
    let t = 1_790_000_000;
    for (const [ip, payload] of cams) {
      const mac = [0x3c, 0xef, 0x8c, 0, 0, ip & 0xff];
      const gw = [0x02, 0, 0, 0, 0, 1];
      const broker = 0xcb00710a; // 203.0.113.10
      const sport = 40000 + (ip & 0xff);
      let cs = 1000;
      let ss = 5000;
      const send = (fromCam: boolean, flags: number, data: Buffer | null) => {
        t += 0.01;
        if (fromCam) writeIp(w, t, mac, gw, ip, broker, 6, sport, 1883, data, { seq: cs, ack: ss, flags });
        else writeIp(w, t, gw, mac, broker, ip, 6, 1883, sport, data, { seq: ss, ack: cs, flags });
        const n = (data?.length ?? 0) + (flags & 0x03 ? 1 : 0);
        if (fromCam) cs += n;
        else ss += n;
      };
      send(true, 0x02, null);
      send(false, 0x12, null);
      send(true, 0x10, null);
      send(true, 0x18, mqttConnect(`cam-${ip & 0xff}`, 'user', 'secret'));
      send(false, 0x18, Buffer.from([0x20, 2, 0, 0]));
      send(true, 0x18, mqttPublish('cam/snapshot', payload));
      send(true, 0x11, null);
      send(false, 0x11, null);
      send(true, 0x10, null);
    }
    w.close();
    const r = vigie(['analyze', '--json', '--rules', dir, pcap]);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    const hits = report.alerts.filter((a: { rule: string }) => a.rule === 'mqtt-pictures');
    expect(hits.map((a: { device: { mac: string } }) => a.device.mac)).toEqual(['3c:ef:8c:00:00:14']);
    expect(hits[0].reasons.join(' ') + hits[0].title).toContain('publishes pictures');
    // The flow's facts are the MQTT contract's, typed: the password is only said to be present.
    const flow = report.flows.find((f: { orig: { ip: string } }) => f.orig.ip === '192.168.1.20');
    expect(flow.protocol.mqtt.payloadKinds).toEqual(['jpeg']);
    expect(flow.protocol.mqtt.passwordPresent).toBe(true);
    expect(r.stdout).not.toContain('secret');
    // The fields the contracts compute from real facts are the schema's.
    const known = new Set(RULE_FIELDS.map((f) => f.name));
    const set: string[] = [];
    for (const f of report.flows) protocolFields(f.protocol, { deviceIsClient: true, encrypted: false, app: f.app, sent: 1 }, (name) => set.push(name));
    expect(set).toContain('mqtt.mediaPayload');
    for (const n of set) expect(known.has(n), n).toBe(true);
  });
});

/**
 * MQTT conformance: every MQTT PDU tshark lists in the corpus (42 captures: 3.1, 3.1.1, 5.0,
 * malformed and mid-stream sessions) must come out of our dissector on the same frame, with the
 * same fields; and the sessions' facts must match what Suricata's and Zeek's own tests assert.
 *
 * Where the oracles part ways we follow the protocol, and say so:
 * - Without the CONNECT, tshark parses a 5.0 session as 3.x. We take the version from the CONNACK
 *   (a 3.x CONNACK is exactly two bytes), so a 5.0 PUBLISH's property-length byte is not counted
 *   as payload: our payload length is tshark's minus one (mqtt-midstream-split: 35,758 bytes, as
 *   INDEX.md notes), and tshark's reason code on a SUBACK in such a session is our reason code too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS, casePath, corpusCases, describeCorpus } from '../helpers/corpus.js';
import { eventsOf, oracleRows } from '../helpers/events.js';

const cases = corpusCases().filter((c) => fs.readFileSync(path.join(CORPUS, c.case, 'tshark.txt'), 'utf8').includes('## MQTT PDUs'));

const bool = (v: string | undefined) => (v === undefined ? undefined : v === '1');
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));

describeCorpus('MQTT against tshark', () => {
  it('covers the MQTT captures of the corpus', () => {
    expect(cases.length).toBe(42);
  });

  for (const c of cases) {
    it(c.case, async () => {
      const text = fs.readFileSync(path.join(CORPUS, c.case, 'tshark.txt'), 'utf8');
      const rows = oracleRows(text, 'MQTT PDUs');
      const { events } = await eventsOf(casePath(c));
      const mqtt = events.filter((e) => e.type === 'mqtt').map((e) => ({ frame: e.frame, m: e.mqtt as Record<string, unknown> }));
      expect(mqtt.length, 'one event per PDU').toBe(rows.length);
      for (const row of rows) {
        const [pos, type] = row.cols;
        const [i] = pos.split('/').map(Number);
        const atFrame = mqtt.filter((e) => e.frame === row.frame);
        const ev = atFrame[i - 1];
        const where = `frame ${row.frame} ${pos} ${type}`;
        expect(ev, where).toBeDefined();
        const m = ev.m;
        expect(m.type, where).toBe(type === 'RESERVED0' ? 'RESERVED' : type);
        const f = row.fields;
        const expectField = (ours: unknown, theirs: unknown, name: string) => {
          if (theirs !== undefined) expect(ours, `${where}: ${name}`).toEqual(theirs);
        };
        const unknownVersion = row.flags.has('UNKNOWN_VERSION');
        expectField(m.remainingLength, num(f.get('remaining_len')), 'remaining length');
        expectField(m.protocolName, f.get('proto'), 'protocol name');
        expectField(m.protocolVersion, num(f.get('ver')), 'protocol version');
        if (f.has('client_id_len')) expectField(m.clientId, f.get('client_id') ?? '', 'client id');
        expectField(m.username !== undefined, bool(f.get('flag.username')), 'user name flag');
        expectField(m.username, f.get('username'), 'user name');
        expectField(m.passwordPresent, bool(f.get('flag.password')), 'password flag');
        expectField(m.willFlag, bool(f.get('flag.will')), 'will flag');
        expectField(m.willQos, num(f.get('flag.will_qos')), 'will QoS');
        expectField(m.willRetain, bool(f.get('flag.will_retain')), 'will retain');
        expectField(m.willTopic, f.get('will_topic'), 'will topic');
        expectField(m.willPayloadLength, num(f.get('will_msg_len')), 'will message length');
        expectField(m.cleanSession, bool(f.get('flag.clean')), 'clean session');
        expectField(m.keepAlive, num(f.get('keepalive')), 'keep-alive');
        expectField(m.sessionPresent, bool(f.get('session_present')), 'session present');
        expectField(m.returnCode, num(f.get('return_code(v3)') ?? f.get('reason_code(v5)')), 'CONNACK code');
        if (type === 'PUBLISH') {
          expectField(m.qos, num(f.get('qos')), 'QoS');
          expectField(m.dup, bool(f.get('dup')), 'dup');
          expectField(m.retain, bool(f.get('retain')), 'retain');
          expectField(m.topic, f.get('topic'), 'topic');
          const tl = num(f.get('payload_len'));
          expectField(m.payloadLength, unknownVersion && m.version === 5 && tl !== undefined ? tl - 1 : tl, 'payload length');
        }
        expectField(m.messageId, num(f.get('msgid')), 'message id');
        if (f.has('topics')) expectField((m.topics as { filter: string }[]).map((t) => t.filter).join(','), f.get('topics')!.replace(/;/g, ','), 'topics');
        const req = f.get('req_qos(v3)') ?? f.get('req_qos(v5)');
        if (req !== undefined) expectField((m.topics as { qos: number }[]).map((t) => t.qos).join(','), req.replace(/;/g, ','), 'requested QoS');
        const codes = f.get('granted_qos(v3)') ?? f.get('reason(v5)') ?? f.get('reason');
        if (codes !== undefined) expectField(((m.reasonCodes as number[]) ?? []).join(','), codes.replace(/;/g, ','), 'reason codes');
        const props = f.get('prop_ids');
        if (props !== undefined) {
          const ids = ((m.properties as { ids: number[] })?.ids ?? []).map((x) => `0x${x.toString(16).padStart(2, '0')}`).join(',');
          // tshark shortens long lists to "first,...(+N more)".
          const cut = props.indexOf(',...(+');
          if (cut >= 0) expect(ids.startsWith(props.slice(0, cut)), `${where}: property ids ${ids} vs ${props}`).toBe(true);
          else expectField(ids, props.replace(/;/g, ','), 'property ids');
        }
      }
    });
  }
});

/** Session facts against the upstream projects' own assertions (Zeek logs, Suricata test.yaml). */
describeCorpus('MQTT session facts against Zeek and Suricata', () => {
  const facts = async (c: string) => (await eventsOf(casePath(c))).report.flows.map((f) => (f.protocol as { mqtt?: Record<string, unknown> } | null)?.mqtt).filter(Boolean) as Record<string, unknown>[];

  it('zeek/mqtt: mqtt_connect.log (two MQIsdp 3.1 sessions, both accepted) and subscribe log', async () => {
    const s = await facts('zeek/mqtt');
    expect(s.map((x) => [x.version, x.clientId, x.accepted])).toEqual([
      [3, 'paho/34AAE54A75D839566E', true],
      [3, 'paho/DDE4DDAF4108D3E363', true],
    ]);
    expect(s[0].subscriptions).toEqual(['SampleTopic']);
    expect(s.flatMap((x) => x.topics as string[])).toContain('SampleTopic');
  });

  it('suricata mqtt5-pub-userpass-auto-clientid: empty client id, the broker assigns one', async () => {
    const [s] = await facts('suricata-verify/mqtt5-pub-userpass-auto-clientid');
    expect(s.clientId).toMatch(/^auto-[0-9A-F-]+$/);
    expect([s.username, s.passwordPresent, s.anonymous, s.version]).toEqual(['user', true, false, 5]);
  });

  it('suricata mqtt-connect-rules-2: CONNACK reason 134 (bad user name or password) is not accepted', async () => {
    const [s] = await facts('suricata-verify/mqtt-connect-rules-2');
    expect([s.connackCode, s.accepted]).toEqual([134, false]);
    expect(s.payloadKinds).toEqual(['jpeg']); // the 35,758-byte JPEG PUBLISH
  });

  it('suricata mqtt-limit-2: 100,000-byte PUBLISHes across four segments, anonymous client P1', async () => {
    const [s] = await facts('suricata-verify/mqtt-limit-2');
    expect([s.clientId, s.anonymous, s.username]).toEqual(['P1', true, null]);
    // tshark: PUBLISH foo 100,000 B each way, bar 1,000 B, baz 100 B.
    expect(s.publishes).toBe(4);
    expect(s.publishedBytes).toBe(201_100);
    expect(s.topics).toEqual(['foo', 'bar', 'baz']);
  });

  it('suricata anomalies: missing_connect, unintroduced_message, invalid QoS, reserved type', async () => {
    expect((await facts('suricata-verify/mqtt-events-missing-connect'))[0].anomalies).toContain('missing_connect');
    expect((await facts('suricata-verify/mqtt-events-unintroduced'))[0].anomalies).toContain('unintroduced_message');
    expect((await facts('suricata-verify/mqtt-events-invalid-qos'))[0].anomalies).toContain('invalid_qos_level');
    expect((await facts('suricata-verify/mqtt-events-unassigned-msgtype'))[0].anomalies).toContain('unassigned_msg_type');
    expect((await facts('suricata-verify/mqtt-ping'))[0].anomalies).toEqual(['unintroduced_message']);
  });

  it('never outputs a password: not in events, not in the report', async () => {
    for (const c of ['suricata-verify/mqtt311-pub-userpass', 'suricata-verify/mqtt5-pub-userpass', 'ndpi/mqtt-vlan']) {
      const { events, report } = await eventsOf(casePath(c));
      const text = JSON.stringify(events) + JSON.stringify(report);
      expect(text).not.toMatch(/"password"\s*:/i);
      expect(text).not.toContain('"pass"');
      expect(text).not.toContain('baabaablacksheep'); // nor a payload
    }
  });
});

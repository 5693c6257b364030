/** Real reports validate against the one definition of the document, the JSON Schema. */
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect, it } from 'vitest';
import { vigie } from '../helpers/cli.js';
import { casePath, describeCorpus, ROOT } from '../helpers/corpus.js';

const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'daemon/report/analysis.schema.json'), 'utf8'));
const ajv = new Ajv2020.default({ allErrors: true, strict: true });
addFormats.default(ajv);
const validate = ajv.compile(schema);

const CASES = [
  'suricata-verify/bug-814', // VLAN, IPv6 link-local
  'ndpi/dns-vlan', // QinQ + PPPoE, internet-only flow
  'ndpi/rtsp-libvlc', // Linux cooked
  'suricata-verify/dns-udp-eve-log-srv', // raw IP: devices without MAC
  'suricata-verify/mdns', // IPv6 fragments
  'peafowl/qinq-802.1Q-dvlan', // ICMP
  'ndpi/coap-mqtt', // pcapng, many flows
];

describeCorpus('vigie analyze --json matches its schema', () => {
  for (const c of CASES) {
    it(c, () => {
      const r = vigie(['analyze', '--json', casePath(c)]);
      expect(r.status).toBe(0);
      const doc = JSON.parse(r.stdout);
      const ok = validate(doc);
      expect(validate.errors ?? [], JSON.stringify(validate.errors?.slice(0, 3))).toEqual([]);
      expect(ok).toBe(true);
      expect(doc.flows.length).toBe(doc.capture.flows.total);
    });
  }

  it('alerts follow it too (peafowl/mqtt-1: an anonymous client accepted by a broker abroad)', () => {
    const doc = JSON.parse(vigie(['analyze', '--json', '--home-country', 'FR', casePath('peafowl/mqtt-1')]).stdout);
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    expect(doc.alerts.map((a: { rule: string; severity: string }) => `${a.rule}:${a.severity}`)).toEqual(['mqtt-cleartext-internet:critical']);
    expect(doc.alerts[0].evidence.mqtt).toMatchObject({ anonymous: true, accepted: true, connackCode: 0 });
    // The summary for a person lists it too.
    const text = vigie(['analyze', '--home-country', 'FR', casePath('peafowl/mqtt-1')]).stdout;
    // The title names the device (vendor and MAC), the broker, its country and what held.
    // The device column names it as the dashboard does (label, host name, MAC: model/device.ts deviceName), as the Devices table above.
    expect(text).toMatch(/critical\s+Apple, Inc\. 28:cf:e9:21:14:8f talks MQTT without encryption to 198\.41\.30\.241 \(Canada\), a broker open to anyone\s+28:cf:e9:21:14:8f\s+198\.41\.30\.241:1883\s+CA\s+2/);
    expect(doc.alerts[0].reasons).toEqual(['198.41.30.241 is in Canada, outside the trusted countries', 'the broker accepts anonymous clients']);
  });

  it('rejects a document that breaks it (the schema is not vacuous)', () => {
    const doc = JSON.parse(vigie(['analyze', '--json', casePath('suricata-verify/bug-814')]).stdout);
    doc.flows[0].ipVersion = 5;
    delete doc.capture.malformed;
    doc.devices[0].category = 'toaster';
    expect(validate(doc)).toBe(false);
    expect(validate.errors!.length).toBeGreaterThanOrEqual(3);
  });
});

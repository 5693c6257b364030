/**
 * Every field an alert rule may test: the flow's and its device's (here), each protocol's (from
 * the protocols' registry), and those of device rules. The alert-rule schema's field list and the
 * table in docs/alerts.md are generated from this list (`npm run fields`); a test fails when
 * code, schema and docs disagree.
 */
import type { FieldType } from '../protocols/contract.js';
import { PROTOCOL_FIELDS } from '../protocols/registry.js';

export interface FieldDoc {
  name: string;
  type: FieldType;
  description: string;
  /** The rules that can test it: `flow` rules, or device rules (`device-joined`, `upload-surge`). */
  on: 'flow' | 'device-joined' | 'upload-surge';
  /** The protocol that gives it (its facts key), for the docs. */
  protocol: string | null;
}

const FLOW_FIELDS: readonly Omit<FieldDoc, 'on' | 'protocol'>[] = [
  { name: 'app', type: 'string[]', description: 'Application protocol of the flow (mqtt, mqtt-tls, tls, quic, http, rtsp, rtp, rtcp, rtmp, cs2-p2p, ftp, telnet, pop3, imap, smtp, dns, ...); MQTT inside WebSocket counts as mqtt too.' },
  { name: 'internet', type: 'boolean', description: 'The remote end is outside the LAN.' },
  { name: 'encrypted', type: 'boolean', description: 'The application protocol is encrypted (TLS, QUIC, STARTTLS).' },
  { name: 'abroad', type: 'boolean', description: "The destination's country is known and not among the trusted countries (only when a home country is set)." },
  { name: 'country', type: 'string', description: 'ISO 3166-1 alpha-2 code of the destination (from `networks`, else the shipped data).' },
  { name: 'countryKnown', type: 'boolean', description: "The destination's country is known." },
  { name: 'port', type: 'number', description: 'The remote port.' },
  { name: 'transport', type: 'string', description: 'tcp or udp.' },
  { name: 'device.category', type: 'string', description: "The device's category (the household's choice first)." },
  { name: 'device.vendor', type: 'string', description: "The device's vendor." },
  { name: 'device.randomizedMac', type: 'boolean', description: 'The device uses a locally administered (randomised) MAC.' },
  { name: 'cloud.platform', type: 'string', description: 'Id of the IoT cloud platform the destination belongs to (rules/clouds).' },
  { name: 'cloud.country', type: 'string', description: "Home country of that platform's operator." },
];

const DEVICE_FIELDS: readonly Omit<FieldDoc, 'protocol'>[] = [
  { name: 'device.new', type: 'boolean', description: 'The device was first seen after the learning period.', on: 'device-joined' },
  { name: 'upload.ratio', type: 'number', description: "This hour's upload over the device's own hourly baseline.", on: 'upload-surge' },
  { name: 'upload.bytes', type: 'number', description: 'Bytes uploaded by the device this hour.', on: 'upload-surge' },
];

/** The protocol of a protocol field: its name's prefix, or the facts key that gives it. */
function protocolOf(name: string): string {
  return name.includes('.') ? name.slice(0, name.indexOf('.')) : name;
}

export const RULE_FIELDS: readonly FieldDoc[] = [
  ...FLOW_FIELDS.map((f) => ({ ...f, on: 'flow' as const, protocol: null })),
  ...PROTOCOL_FIELDS.map((f) => ({ name: f.name, type: f.type, description: f.description, on: 'flow' as const, protocol: f.name === 'p2p' ? 'pppp' : protocolOf(f.name) })),
  ...DEVICE_FIELDS.map((f) => ({ ...f, protocol: null })),
];

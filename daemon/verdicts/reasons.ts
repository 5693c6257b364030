/**
 * An alert's reasons: for each escalation that held, what was found, in words. A `because` given
 * in the rule (on the escalation, or on the condition object of a branch) is used as written
 * (a template); every other leaf that held is said by the phrase of its field below, naming the
 * value that held ("the device is a camera", not the list of categories the rule accepts).
 */
import { formatBytes } from '../report/summary.js';
import { explain, type Finding, type Held, type Scalar, type Situation } from './condition.js';
import { countryName } from './country-names.js';
import { type AlertRule, type Severity, severityRank } from './rules.js';
import { MEDIA_PAYLOADS } from './situation.js';
import { render, type Values } from './template.js';
import { categoryWords } from './texts.js';

interface Context {
  v: Values;
  s: Situation;
}
type Phrase = (values: Scalar[], c: Context) => string;

const APPS: Record<string, string> = { mqtt: 'MQTT', 'mqtt-tls': 'MQTT over TLS', tls: 'TLS', http: 'HTTP', rtsp: 'RTSP', rtp: 'RTP', rtcp: 'RTCP', rtmp: 'RTMP', 'cs2-p2p': 'CS2 PPPP', ftp: 'FTP', telnet: 'Telnet', pop3: 'POP3', imap: 'IMAP', smtp: 'SMTP', dns: 'DNS', quic: 'QUIC' };
const MEDIA: Record<string, string> = { rtsp: 'RTSP', rtp: 'RTP', rtmp: 'RTMP', flv: 'FLV over plain HTTP', mjpeg: 'MJPEG over plain HTTP' };
const PAYLOADS: Record<string, string> = { jpeg: 'JPEG images', png: 'PNG images', gif: 'GIF images', h264: 'H.264 video', json: 'JSON', text: 'text', binary: 'binary data', empty: 'empty messages' };

/** "a, b and c". */
function list(xs: string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

const named = (table: Record<string, string>) => (xs: Scalar[]) => list(xs.map((x) => table[String(x)] ?? String(x)));
const apps = named(APPS);
const payloads = named(PAYLOADS);
const dest = (c: Context) => c.v.destination ?? 'the destination';
const countries = (xs: Scalar[]) => list(xs.map((x) => countryName(String(x))));

/** A boolean field: what it says when true, and when false. */
function flag(yes: string | ((c: Context) => string), no: string | ((c: Context) => string)): Phrase {
  return (xs, c) => {
    const p = xs[0] === true ? yes : no;
    return typeof p === 'string' ? p : p(c);
  };
}

/** One phrase per field of the schema (test/unit/alert-texts.test.ts checks that none is missing). */
export const FIELD_PHRASES: Record<string, Phrase> = {
  app: (xs) => `it uses ${apps(xs)}`,
  internet: flag((c) => `${dest(c)} is on the internet`, (c) => `${dest(c)} is on the local network`),
  encrypted: flag('the connection is encrypted', 'the connection is not encrypted'),
  transport: (xs) => `it uses ${list(xs.map((x) => String(x).toUpperCase()))}`,
  port: (xs, c) => `${dest(c)} is reached on port ${xs[0]}`,
  country: (xs, c) => `${dest(c)} is in ${countries(xs)}`,
  countryKnown: flag((c) => `${dest(c)} is known to be in ${c.v.country ?? 'a known country'}`, (c) => `the country of ${dest(c)} is unknown`),
  abroad: flag((c) => `${dest(c)} is in ${c.v.country ?? 'another country'}, outside the trusted countries`, (c) => `${dest(c)} is in ${c.v.country ?? 'a trusted country'}, a trusted country`),
  'device.category': (xs) => {
    const w = categoryWords(String(xs[0]));
    return w ? `the device is a ${w}` : 'the kind of device is unknown';
  },
  'device.vendor': (xs) => `the device is made by ${xs[0]}`,
  'device.randomizedMac': flag('the device uses a randomised MAC address', 'the device uses its factory MAC address'),
  'cloud.platform': (xs, c) => `${dest(c)} belongs to ${c.v.platform ?? String(xs[0])}`,
  'cloud.country': (xs, c) => `the operator of ${c.v.platform ?? 'its cloud platform'} is based in ${countries(xs)}`,
  'mqtt.usernamePresent': flag('it logs in to the MQTT broker with a user name, readable on the way', 'it gives the MQTT broker no user name'),
  'mqtt.passwordPresent': flag('its MQTT password travels in cleartext', 'it gives the MQTT broker no password'),
  'mqtt.anonymous': flag('it connects to the MQTT broker anonymously', 'it gives the MQTT broker a user name or password'),
  'mqtt.accepted': flag('the MQTT broker accepted its connection', 'the MQTT broker refused its connection'),
  'mqtt.anonymousAccepted': flag('the broker accepts anonymous clients', 'the broker did not accept an anonymous client'),
  'mqtt.subscribedAll': flag('it asked for every topic of the broker (`#`)', 'it did not ask for every topic'),
  'mqtt.subscribedAllGranted': flag("the broker lets it read every topic (`#`), other devices' messages included", 'the broker refused a subscription to every topic'),
  'mqtt.payloadKinds': (xs) => `it publishes ${payloads(xs)} over MQTT`,
  'mqtt.publishes': (xs) => `it published ${xs[0]} MQTT message${xs[0] === 1 ? '' : 's'}`,
  'mqtt.mediaPayload': flag((c) => `it publishes ${payloads(((c.s.get('mqtt.payloadKinds') as Scalar[] | null) ?? []).filter((k) => MEDIA_PAYLOADS.has(String(k))))} over MQTT`, 'it publishes no images or video over MQTT'),
  'media.cleartext': flag('it sends audio or video unencrypted', 'it sends no cleartext audio or video'),
  'media.kind': (xs) => `it streams over ${named(MEDIA)(xs)}`,
  'media.outbound': flag('the device is the one sending the stream', 'the device only receives the stream'),
  'http.basicAuth': flag('it sends a password with HTTP Basic authentication, readable on the way', 'it sends no HTTP Basic password'),
  'login.protocol': (xs) => `it logs in over ${apps(xs)}, unencrypted`,
  'login.passwordPresent': flag((c) => `its ${apps([c.s.get('login.protocol') as Scalar]) || 'login'} password travels in cleartext`, 'it sends no cleartext password'),
  'login.accepted': flag('the server accepted the login', 'the server refused the login'),
  p2p: flag('it uses a camera P2P service (CS2 PPPP)', 'it uses no camera P2P service'),
  'device.new': flag('the device is new on the network', 'the device was already known'),
  'upload.ratio': (xs) => `it uploaded ${Number(xs[0]).toFixed(1)} times its usual hourly amount`,
  'upload.bytes': (xs) => `it uploaded ${formatBytes(Number(xs[0]))} this hour`,
};

function phrase(f: Finding, c: Context): string {
  if ('because' in f) return render(f.because, c.v);
  const h: Held = f;
  return (FIELD_PHRASES[h.field] ?? ((xs: Scalar[]) => `${h.field} is ${xs.join(', ')}`))(h.values, c);
}

/** The severity the escalations give, and why: the phrases of what held, each said once. */
export function judge(rule: AlertRule, s: Situation, v: Values): { severity: Severity; reasons: string[] } {
  let severity = rule.severity;
  const reasons: string[] = [];
  for (const e of rule.escalate ?? []) {
    const found = explain(e.when, s);
    if (!found) continue;
    if (severityRank(e.severity) > severityRank(severity)) severity = e.severity;
    const texts = e.because !== undefined ? [render(e.because, v)] : found.map((f) => phrase(f, { v, s }));
    for (const t of texts) if (t && !reasons.includes(t)) reasons.push(t);
  }
  return { severity, reasons };
}

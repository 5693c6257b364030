/** MQTT's contract (see ../contract.ts): rule fields, evidence and what a client shows of itself. */
import { flag, list, type ProtocolContract, type Scalar } from '../contract.js';
import type { MqttFacts } from './state.js';
import { isExactMqttRun, looksLikeConnect, parseMqtt } from './parser.js';
import { MqttSession } from './state.js';

/** Payload kinds (state.ts's payload sniffing) that are pictures or video (`mqtt.mediaPayload`). */
export const MEDIA_PAYLOADS: ReadonlySet<string> = new Set(['jpeg', 'png', 'gif', 'h264']);
const PAYLOADS: Record<string, string> = { jpeg: 'JPEG images', png: 'PNG images', gif: 'GIF images', h264: 'H.264 video', json: 'JSON', text: 'text', binary: 'binary data', empty: 'empty messages' };
const payloads = (xs: readonly Scalar[]) => list(xs.map((x) => PAYLOADS[String(x)] ?? String(x)));
const VERSIONS: Record<number, string> = { 3: '3.1', 4: '3.1.1', 5: '5.0' };
const SAMPLE = 5;

/** The session's fields hold in cleartext only: inside TLS nothing of them is seen. */
const clear = <T>(v: { encrypted: boolean }, x: T): T | undefined => (v.encrypted ? undefined : x);

export const mqtt = {
  key: 'mqtt',
  title: 'MQTT 3.1, 3.1.1 and 5.0 (OASIS), also inside WebSocket',
  apps: { mqtt: 'MQTT', 'mqtt-ws': 'MQTT over WebSocket' },
  stream: {
    connect: (ctx, _dir, buf, off, len) => (looksLikeConnect(buf, off, off + len) ? new MqttSession(ctx) : null),
    // A session caught after its CONNECT: on the MQTT port (IANA 1883), a well-formed packet is enough.
    port: (ctx, _dir, buf, off, len) => {
      if (ctx.origPort !== 1883 && ctx.respPort !== 1883) return null;
      const r = parseMqtt(buf, off, off + len, 0);
      return r.ok || (r.incomplete && buf[off] >> 4 !== 0) ? new MqttSession(ctx) : null;
    },
    // Elsewhere, a segment that is exactly a run of well-formed packets with valid flag bits.
    run: (ctx, _dir, buf, off, len) => (isExactMqttRun(buf, off, off + len) ? new MqttSession(ctx) : null),
  },
  fields: [
    { name: 'mqtt.usernamePresent', type: 'boolean', description: 'CONNECT carried a user name.', value: (f, v) => clear(v, f.username !== null), says: flag('it logs in to the MQTT broker with a user name, readable on the way', 'it gives the MQTT broker no user name') },
    { name: 'mqtt.passwordPresent', type: 'boolean', description: 'CONNECT carried a password (its value is never kept).', value: (f, v) => clear(v, f.passwordPresent === true), says: flag('its MQTT password travels in cleartext', 'it gives the MQTT broker no password') },
    { name: 'mqtt.anonymous', type: 'boolean', description: 'CONNECT carried neither user name nor password.', value: (f, v) => clear(v, f.anonymous === true), says: flag('it connects to the MQTT broker anonymously', 'it gives the MQTT broker a user name or password') },
    { name: 'mqtt.accepted', type: 'boolean', description: 'The broker accepted the session (CONNACK code 0).', value: (f, v) => clear(v, f.accepted === true), says: flag('the MQTT broker accepted its connection', 'the MQTT broker refused its connection') },
    { name: 'mqtt.anonymousAccepted', type: 'boolean', description: 'An anonymous session was accepted: the broker lets anyone in.', value: (f, v) => clear(v, f.anonymous === true && f.accepted === true), says: flag('the broker accepts anonymous clients', 'the broker did not accept an anonymous client') },
    { name: 'mqtt.subscribedAll', type: 'boolean', description: 'A subscription to `#` (every topic) was requested.', value: (f, v) => clear(v, f.subscribedAll), says: flag('it asked for every topic of the broker (`#`)', 'it did not ask for every topic') },
    { name: 'mqtt.subscribedAllGranted', type: 'boolean', description: '... and granted by the broker.', value: (f, v) => clear(v, f.subscribedAllGranted), says: flag("the broker lets it read every topic (`#`), other devices' messages included", 'the broker refused a subscription to every topic') },
    { name: 'mqtt.payloadKinds', type: 'string[]', description: 'Kinds of the PUBLISH payloads: json, text, jpeg, png, gif, h264, binary, empty.', value: (f, v) => clear(v, f.payloadKinds), says: (xs) => `it publishes ${payloads(xs)} over MQTT` },
    { name: 'mqtt.publishes', type: 'number', description: 'PUBLISH packets seen.', value: (f, v) => clear(v, f.publishes), says: (xs) => `it published ${xs[0]} MQTT message${xs[0] === 1 ? '' : 's'}` },
    {
      name: 'mqtt.mediaPayload',
      type: 'boolean',
      description: 'A PUBLISH payload was a picture or video (jpeg, png, gif, h264).',
      value: (f, v) => clear(v, f.payloadKinds.some((k) => MEDIA_PAYLOADS.has(k))),
      says: flag((c) => `it publishes ${payloads(((c.field('mqtt.payloadKinds') as Scalar[] | null | undefined) ?? []).filter((k) => MEDIA_PAYLOADS.has(String(k))))} over MQTT`, 'it publishes no images or video over MQTT'),
    },
  ],
  evidence: (m) => ({
    clientId: m.clientId,
    username: m.username,
    passwordPresent: m.passwordPresent === true,
    protocolVersion: m.version !== null ? (VERSIONS[m.version] ?? String(m.version)) : null,
    connackCode: m.connackCode,
    accepted: m.accepted,
    anonymous: m.anonymous === true,
    subscribedAll: m.subscribedAll,
    subscribedAllGranted: m.subscribedAllGranted,
    sampleTopics: m.topics.slice(0, SAMPLE),
    subscriptions: m.subscriptions.slice(0, SAMPLE),
    payloadKinds: m.payloadKinds,
    publishes: m.publishes,
  }),
  learn(m, v, out) {
    if (!v.isClient) return;
    out.protocol(v.app === 'mqtt-tls' ? 'mqtt-tls' : 'mqtt');
    for (const t of m.topics) out.add('mqttTopics', t);
    for (const t of m.subscriptions) out.add('mqttTopics', t);
  },
} satisfies ProtocolContract<'mqtt', MqttFacts>;

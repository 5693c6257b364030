/**
 * Home Assistant over MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery):
 * Vigie appears as one device with a few entities (open alerts, highest severity, a "critical
 * alert" problem sensor, devices seen, the last alert), announced by retained config messages
 * under `<prefix>/<component>/vigie_<node>/<object>/config`, fed by one retained JSON state and
 * an availability topic with a last will. Over TLS with a user and password: a cleartext
 * connection is refused unless the broker is on this machine (loopback).
 *
 * The client is a small MQTT 3.1.1 publisher (OASIS MQTT 3.1.1: CONNECT §3.1, CONNACK §3.2,
 * PUBLISH §3.3 at QoS 0, PINGREQ §3.12, DISCONNECT §3.14; remaining length §2.2.3): nothing is
 * subscribed to, so nothing from the broker is parsed beyond CONNACK and PINGRESP. Not the
 * `mqtt` package: mqtt@5.16 installs 41 packages, 13 MB (measured with `npm i --omit=dev`),
 * against a 512 MB router's flash, for the five packet types this publisher writes.
 */
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import { encodeLength } from '../protocols/mqtt/parser.js';

export interface HomeAssistantOptions {
  /** mqtts://[user@]host[:8883], or mqtt:// to a loopback broker. */
  url: string;
  username?: string;
  password?: string;
  /** PEM of the broker's CA (self-signed brokers); else the system's. */
  ca?: string;
  prefix?: string;
  node?: string;
}

export interface HaState {
  openAlerts: number;
  bySeverity: Record<string, number>;
  highest: string;
  critical: boolean;
  devices: number;
  lastAlert: { title: string; severity: string; device: string; destination: string | null; country: string | null; time: string } | null;
}

function utf8(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function packet(first: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([first, ...encodeLength(body.length)]), body]);
}

export function connectPacket(clientId: string, opts: { username?: string; password?: string; will: { topic: string; payload: string }; keepAlive: number }): Buffer {
  // Flags: user name, password, will retain, will QoS 0, will flag, clean session (§3.1.2.3).
  let flags = 0x02 | 0x04 | 0x20;
  if (opts.username !== undefined) flags |= 0x80;
  if (opts.password !== undefined) flags |= 0x40;
  const keep = Buffer.alloc(2);
  keep.writeUInt16BE(opts.keepAlive);
  const parts = [utf8('MQTT'), Buffer.from([4, flags]), keep, utf8(clientId), utf8(opts.will.topic), utf8(opts.will.payload)];
  if (opts.username !== undefined) parts.push(utf8(opts.username));
  if (opts.password !== undefined) parts.push(utf8(opts.password));
  return packet(0x10, Buffer.concat(parts));
}

export function publishPacket(topic: string, payload: string, retain: boolean): Buffer {
  return packet(0x30 | (retain ? 1 : 0), Buffer.concat([utf8(topic), Buffer.from(payload, 'utf8')]));
}

const CONNACK_ERRORS: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorised',
};

export class HomeAssistant {
  private socket: net.Socket | null = null;
  private connected = false;
  private timer: NodeJS.Timeout | null = null;
  private ping: NodeJS.Timeout | null = null;
  private backoff = 1;
  private stopped = false;
  private state: HaState | null = null;
  private readonly base: string;
  private readonly prefix: string;
  private readonly node: string;
  private readonly url: URL;
  published = 0;
  lastError: string | null = null;

  constructor(
    private readonly opts: HomeAssistantOptions,
    private readonly log: (m: string) => void,
  ) {
    this.url = new URL(opts.url);
    if (this.url.protocol !== 'mqtts:' && this.url.protocol !== 'mqtt:') throw new Error(`${opts.url}: use mqtts://host:8883 (or mqtt:// to a broker on this machine)`);
    const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(this.url.hostname);
    if (this.url.protocol === 'mqtt:' && !loopback) throw new Error(`${opts.url}: refusing to send alerts and credentials in cleartext to another machine: use mqtts://`);
    this.prefix = (opts.prefix ?? 'homeassistant').replace(/\/+$/, '');
    this.node = (opts.node ?? os.hostname()).toLowerCase().replace(/[^a-z0-9_-]/g, '_');
    this.base = `vigie/${this.node}`;
  }

  start(): void {
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    const secure = this.url.protocol === 'mqtts:';
    const port = Number(this.url.port || (secure ? 8883 : 1883));
    const s = secure ? tls.connect({ host, port, ca: this.opts.ca, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port });
    this.socket = s;
    let buf = Buffer.alloc(0);
    s.setNoDelay(true);
    s.once(secure ? 'secureConnect' : 'connect', () => {
      s.write(connectPacket(`vigie-${this.node}`.slice(0, 23), { username: this.opts.username ?? (decodeURIComponent(this.url.username) || undefined), password: this.opts.password, will: { topic: `${this.base}/status`, payload: 'offline' }, keepAlive: 60 }));
    });
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2) {
        const type = buf[0] >> 4;
        const len = buf[1];
        if (buf.length < 2 + len) break;
        if (type === 2) {
          const rc = buf[3];
          if (rc !== 0) {
            this.lastError = `broker refused the connection: ${CONNACK_ERRORS[rc] ?? `code ${rc}`}`;
            this.log(`home assistant: ${this.lastError}`);
            s.destroy();
            return;
          }
          this.online();
        }
        buf = buf.subarray(2 + len);
      }
    });
    s.on('error', (e) => {
      this.lastError = e.message;
    });
    s.on('close', () => {
      this.connected = false;
      if (this.ping) clearInterval(this.ping);
      this.ping = null;
      if (this.stopped) return;
      this.log(`home assistant: connection to ${this.url.host} lost${this.lastError ? ` (${this.lastError})` : ''}; retrying in ${this.backoff} s`);
      this.timer = setTimeout(() => this.connect(), this.backoff * 1000);
      this.timer.unref();
      this.backoff = Math.min(this.backoff * 2, 300);
    });
  }

  private send(b: Buffer): void {
    if (this.connected && this.socket) {
      this.socket.write(b);
      this.published++;
    }
  }

  private online(): void {
    this.connected = true;
    this.backoff = 1;
    this.lastError = null;
    this.log(`home assistant: connected to ${this.url.host}, discovery under ${this.prefix}/`);
    const device = { identifiers: [`vigie_${this.node}`], name: `Vigie (${this.node})`, manufacturer: 'Vigie', model: 'home network monitor' };
    const common = { availability_topic: `${this.base}/status`, state_topic: `${this.base}/state`, json_attributes_topic: `${this.base}/state`, device };
    const entities: [string, string, Record<string, unknown>][] = [
      ['sensor', 'open_alerts', { name: 'Open alerts', value_template: '{{ value_json.openAlerts }}', state_class: 'measurement', icon: 'mdi:shield-alert' }],
      ['sensor', 'highest_severity', { name: 'Highest severity', value_template: '{{ value_json.highest }}', icon: 'mdi:alert' }],
      ['binary_sensor', 'critical', { name: 'Critical alert', device_class: 'problem', value_template: "{{ 'ON' if value_json.critical else 'OFF' }}" }],
      ['sensor', 'devices', { name: 'Devices', value_template: '{{ value_json.devices }}', state_class: 'measurement', icon: 'mdi:devices' }],
      ['sensor', 'last_alert', { name: 'Last alert', value_template: "{{ value_json.lastAlert.title if value_json.lastAlert else 'none' }}", json_attributes_template: '{{ value_json.lastAlert | tojson }}', icon: 'mdi:bell' }],
    ];
    for (const [component, object, fields] of entities) {
      const config = { ...common, ...fields, unique_id: `vigie_${this.node}_${object}`, object_id: `vigie_${object}` };
      this.send(publishPacket(`${this.prefix}/${component}/vigie_${this.node}/${object}/config`, JSON.stringify(config), true));
    }
    this.send(publishPacket(`${this.base}/status`, 'online', true));
    if (this.state) this.send(publishPacket(`${this.base}/state`, JSON.stringify(this.state), true));
    // PINGREQ within the keep-alive (§3.1.2.10): the broker would drop a silent client.
    this.ping = setInterval(() => this.socket?.write(Buffer.from([0xc0, 0])), 30_000);
    this.ping.unref();
  }

  /** The figures changed: the retained state follows (only when they did). */
  update(state: HaState): void {
    if (this.state && JSON.stringify(state) === JSON.stringify(this.state)) return;
    this.state = state;
    this.send(publishPacket(`${this.base}/state`, JSON.stringify(state), true));
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Says "offline" (retained) and disconnects cleanly. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.ping) clearInterval(this.ping);
    const s = this.socket;
    if (!s) return;
    if (this.connected) {
      s.write(publishPacket(`${this.base}/status`, 'offline', true));
      s.write(Buffer.from([0xe0, 0]));
    }
    await new Promise<void>((r) => {
      s.end(() => r());
      setTimeout(r, 1000).unref();
    });
    s.destroy();
  }
}

/**
 * The contract every protocol folder fulfils, in one `contract.ts` beside its parser and state,
 * as Suricata keeps each protocol's parser, state, detect and logger together (rust/src/mqtt/):
 *
 * - how the protocol is recognised: its probes (content first, ports only as hints), which
 *   `registry.ts` puts in the one detection order;
 * - its session (state.ts) and the typed facts that session reports for a flow (the interface
 *   the later stages import, collected in registry.ts's `FlowFacts`);
 * - the fields alert rules may test, with their type, description and how a value that held
 *   reads in an alert's reasons (the alert-rule schema and docs/alerts.md are generated from
 *   these);
 * - how its facts are written as an alert's evidence (never a secret);
 * - what the device inventory learns from them, told to a `Learner` in this stage's vocabulary
 *   (the inventory implements it: imports run with the data, from protocols to devices).
 */
import { formatMac } from '../decode/address.js';
import type { DatagramParser, FlowContext, StreamParser } from './parser-types.js';

export type Scalar = string | number | boolean;
export type FieldValue = Scalar | Scalar[] | null;
export type FieldType = 'boolean' | 'string' | 'number' | 'string[]';

/** What a rule field, an evidence writer or a media test knows of the flow besides the facts. */
export interface FlowView {
  /** The LAN device opened the flow (or no side is known to be the device). */
  deviceIsClient: boolean;
  /** The flow's protocol is encrypted. */
  encrypted: boolean;
  app: string | null;
  /** Payload bytes the device sent. */
  sent: number;
}

/** How a field that held reads in a reason: the values that held, the alert's destination, and the other fields. */
export interface PhraseContext {
  destination: string | null;
  field(name: string): FieldValue | undefined;
  /** The display name of an application protocol (`imap` → IMAP), from every contract. */
  appName(app: string): string;
}
export type Phrase = (values: Scalar[], c: PhraseContext) => string;

export interface RuleField<F> {
  /** The dotted name rules use (`mqtt.passwordPresent`). */
  name: string;
  type: FieldType;
  /** For the schema and the docs' table. */
  description: string;
  says: Phrase;
  /** The field's value for a flow whose facts are `f`; undefined leaves it unset (never holds). */
  value(f: F, v: FlowView): FieldValue | undefined;
}

/** Audio or video a flow carries in cleartext (the `media.*` fields): its kind and whether the device sends it. */
export interface Media {
  kind: string;
  outbound: boolean;
}

/** The device inventory's lists a protocol can add to. */
export type LearnedList =
  | 'domains'
  | 'ja4'
  | 'userAgents'
  | 'mqttTopics'
  | 'ssdpServers'
  | 'ssdpTypes'
  | 'mdnsBrowses'
  | 'mdnsModels'
  | 'homekitModels'
  | 'wsdTypes'
  | 'wsdScopes'
  | 'kasaModels'
  | 'kasaTypes'
  | 'coapPaths';

/** What the inventory is told about one end of a flow (devices/observe implements it). */
export interface Learner {
  /** A protocol or role the device showed (`rtsp-server`, `mqtt`, `onvif`...). */
  protocol(name: string): void;
  add(list: LearnedList, value: string | null | undefined): void;
  hostname(name: string | null | undefined, source: string): void;
  /** An mDNS service the device offers. */
  offer(service: string, instance: string | null, txt: readonly string[]): void;
  upnpField(field: string, value: string | null | undefined): void;
}

export type Side = 'orig' | 'resp';

/** The flow as the inventory reads it, for one of its ends. */
export interface LearnView {
  /** Which end of the flow the device is (null: unknown). */
  side: Side | null;
  /** The device's MAC as a 48-bit number, -1 when unknown: on a flow several devices share, which sender it was. */
  mac: number;
  isClient: boolean;
  internet: boolean;
  app: string | null;
}

/** A step of the detection order: null when the bytes are not this protocol's. */
export type StreamProbe = (ctx: FlowContext, dir: number, buf: Buffer, off: number, len: number) => StreamParser | null;
export type DatagramProbe = (ctx: FlowContext, dir: number, buf: Buffer, off: number, len: number) => DatagramParser | null;

export interface ProtocolContract<K extends string, F> {
  /** The key of its facts in a flow record (`protocol.mqtt`) and the prefix of its rule fields. */
  key: K;
  /** What it is, for the docs (`MQTT 3.1, 3.1.1 and 5.0 (OASIS)`). */
  title: string;
  /** The application names its sessions report, with how a person reads them. */
  apps: Readonly<Record<string, string>>;
  /** Probes by name, placed in the detection order by the registry. */
  stream?: Readonly<Record<string, StreamProbe>>;
  datagram?: Readonly<Record<string, DatagramProbe>>;
  /** Fields alert rules may test. */
  fields?: readonly RuleField<F>[];
  /** Audio or video in cleartext, for the `media.*` fields. */
  media?(f: F, v: FlowView): Media | null;
  /** The remote end's name as the flow says it (TLS/QUIC SNI, HTTP Host), when DNS did not. */
  remoteName?: { source: 'sni' | 'http'; of(f: F): string | null | undefined };
  /** What an alert shows of these facts as proof: what a person can check in a capture, never a secret. */
  evidence?(f: F, v: FlowView): unknown;
  /** What the device at one end of the flow showed of itself. */
  learn?(f: F, v: LearnView, out: Learner): void;
}

/** A boolean field's phrase: what it says when true, and when false. */
export function flag(yes: string | ((c: PhraseContext) => string), no: string | ((c: PhraseContext) => string)): Phrase {
  return (xs, c) => {
    const p = xs[0] === true ? yes : no;
    return typeof p === 'string' ? p : p(c);
  };
}

/** "a, b and c". */
export function list(xs: readonly string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

/** The senders of a shared flow that are this end of it (its side, and its MAC when both are known). */
export function sendersOf<S extends { side: Side; mac: string | null }>(senders: readonly S[], v: { side: Side | null; mac: number }): S[] {
  const mac = v.mac >= 0 ? formatMac(v.mac) : null;
  return senders.filter((s) => s.side === v.side && (s.mac === null || mac === null || s.mac === mac));
}

/** Whether side `side` of the flow sent what a dissector credits to `v` ('orig', 'resp', 'both', null: nobody). */
export function sentBy(v: Side | 'both' | null | undefined, side: Side | null, otherwise: Side): boolean {
  return v === null ? false : v === 'both' ? side !== null : (v ?? otherwise) === side;
}

/** Whether one end of the flow uses one of these ports (a hint, never proof). */
export function onPort(ctx: { origPort: number; respPort: number }, ...ports: number[]): boolean {
  return ports.includes(ctx.origPort) || ports.includes(ctx.respPort);
}

/**
 * DNS-SD over mDNS (RFC 6763, RFC 6762): which services a device offers and which it looks for.
 *
 * A service instance is named `<Instance>.<_service>.<_proto>.<domain>` (RFC 6763 §4.1): the
 * instance label is free UTF-8 text, dots and spaces included, so the service type is found from
 * the right, as the last `_x._tcp` / `_x._udp` pair before the domain. An instance can be offered
 * through PTR (`_svc._proto.local PTR instance`), SRV (target host and port, §5) or TXT (key=value
 * strings, §6) records, in any combination: SRV and TXT alone are enough to know the service.
 *
 * TXT strings are kept whole (bounded), except values of keys that carry secrets or identify a
 * person, replaced by REDACTED so a reader knows one was there.
 */
import { formatMac } from '../../decode/address.js';
import type { FlowContext } from '../parser-types.js';
import { REDACTED } from '../redact.js';
import type { DnsMessage, DnsRecord } from './parser.js';

/** Which side of a flow sent something: the originator, the responder, or both. */
export type Side = 'orig' | 'resp' | 'both';

export function addSide(s: Side | null, dir: number): Side {
  const d: Side = dir === 0 ? 'orig' : 'resp';
  return s === null || s === d ? d : 'both';
}

/**
 * The sender of a message on a flow that several devices may share (multicast and broadcast
 * discovery: a new device reusing an address keeps the flow's 5-tuple): its address, its MAC
 * when the stage gives it, and its side of the flow.
 */
export interface Sender {
  ip: string;
  mac: string | null;
  side: 'orig' | 'resp';
}

/** Senders itemised per flow; messages of later ones are only counted. */
export const MAX_SENDERS = 16;

/**
 * The senders of one flow, by (direction, MAC): a scan of at most MAX_SENDERS numbers, no
 * per-packet key. The address of a direction is fixed by the flow, so it is formatted once.
 */
export class SenderIndex {
  private readonly dirs: number[] = [];
  private readonly macs: number[] = [];

  constructor(private readonly ctx: FlowContext) {}

  /** The MAC the stage gives for the current packet, -1 when none. */
  mac(dir: number): number {
    return this.ctx.senderMac(dir);
  }

  /** Index of the current packet's sender, or -1 if it is new. */
  find(dir: number, mac: number): number {
    for (let i = 0; i < this.dirs.length; i++) if (this.dirs[i] === dir && this.macs[i] === mac) return i;
    return -1;
  }

  /** Registers a new sender; its identity for the facts, or null when MAX_SENDERS are known. */
  add(dir: number, mac: number): Sender | null {
    if (this.dirs.length >= MAX_SENDERS) return null;
    this.dirs.push(dir);
    this.macs.push(mac);
    return { ip: this.ctx.ip(dir), mac: mac >= 0 ? formatMac(mac) : null, side: dir === 0 ? 'orig' : 'resp' };
  }
}

export interface MdnsService {
  /** The service type with its domain, e.g. `_hap._tcp.local`. */
  service: string;
  /** The instance label, e.g. `Living Room`; null when only the service type was given. */
  instance: string | null;
  /** SRV target host, e.g. `Living-Room.local`. */
  target: string | null;
  /** SRV port. */
  port: number | null;
  /** TXT strings ("key=value" or a bare key), secrets redacted. */
  txt: string[];
}

const SAMPLE = 20;
const MAX_SERVICES = 20;
const MAX_TXT = 16;
const TXT_CHARS = 128;

/** A service type, perhaps behind a subtype (`_printer._sub._http._tcp.local`, RFC 6763 §7.1). */
const SERVICE_TYPE = /^(?:[^.]+\._sub\.)?(_[^.]+\._(?:tcp|udp)\..+)$/is;
/** An instance name: the greedy instance part leaves the last `_svc._proto` pair to the type. */
const INSTANCE = /^(.+)\.(_[^.]+\._(?:tcp|udp)\..+)$/is;
const ENUMERATION = /^_services\._dns-sd\._udp\./i;
const REVERSE = /\.(in-addr|ip6)\.arpa$/i;
/** A label that is only a bracketed MAC address, as in `_workstation._tcp` instances. */
const MAC_LABEL = /^\[(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}\]$/i;

/** TXT keys whose values are credentials, tokens or a person's identifiers. */
const SECRET_KEY = /^(pw|pwd|psw|pin|psk|pass|passwd|passcode|key|apikey|api_key|sig|signature|email|e-mail|mail|user|username|usr|login|account|acct|owner|phone)$|pass(word|wd|phrase)|secret|token|credential|auth/i;
const MODEL_KEY = /^(model|md|mdl|ty|usb_MDL|product)$/i;

export function isMacLabel(label: string): boolean {
  return MAC_LABEL.test(label);
}

/** A service type named by a question or record owner: the type itself, or the type of an instance. */
export function serviceTypeOf(name: string): string | null {
  if (ENUMERATION.test(name)) return name;
  const t = SERVICE_TYPE.exec(name);
  if (t) return t[1];
  const i = splitInstance(name);
  return i ? i.service : null;
}

/** `<Instance>.<_svc>.<_proto>.<domain>` split into its instance label and service type. */
export function splitInstance(name: string): { instance: string; service: string } | null {
  const m = INSTANCE.exec(name);
  if (!m) return null;
  // `_printer._sub` or `_services` are not instances.
  if (/\._sub$/i.test(m[1]) || /^_[^. ]*$/.test(m[1])) return null;
  return { instance: m[1], service: m[2] };
}

/** TXT strings with secret values replaced; Google Cast's `id=` is an identifier, dropped too. */
export function redactTxt(strings: string[], owner = ''): string[] {
  const cast = /\._googlecast\._tcp\./i.test(owner);
  return strings.map((s) => {
    const eq = s.indexOf('=');
    if (eq <= 0 || eq === s.length - 1) return s;
    const k = s.slice(0, eq);
    if (SECRET_KEY.test(k) || (cast && /^(id|cd)$/i.test(k))) return `${k}=${REDACTED}`;
    return s;
  });
}

function add(list: string[], v: string, limit = SAMPLE): void {
  if (list.length >= limit) return;
  const l = v.toLowerCase();
  if (!list.some((x) => x.toLowerCase() === l)) list.push(v);
}

/** What a device offers and looks for over mDNS: the flow's union, or one sender's own. */
export interface MdnsOffers {
  /** Service types offered (never the ones only asked for). */
  services: string[];
  /** Full names of the instances offered ("<Instance>.<_svc>.<_proto>.local"). */
  instances: string[];
  /** Model keys of its TXT records, "key=value" (model=, md=, mdl=, ty=, usb_MDL=, product=). */
  models: string[];
  /** The services offered, each with its instance, SRV target and port, and TXT strings. */
  offered: MdnsService[];
  /** Service types looked for (questions and known answers of queries). */
  browses: string[];
  /** Own host names: owners of the A/AAAA records answered with, SRV targets, reverse-mapping answers. */
  hosts: string[];
}

/** What one sender of an mDNS flow said: its own offers, searches and questions. */
export interface MdnsSender extends Sender, MdnsOffers {
  /** Names it asked for. */
  queries: string[];
  /** It sent queries (its `browses`, `queries`). */
  queried: boolean;
  /** It sent responses or probes (its offers and hosts). */
  responded: boolean;
  messages: number;
}

/** The flow-level facts the services are kept in, with the sides (see DnsFacts). */
interface MdnsFlowView extends MdnsOffers {
  queries: string[];
  responder?: Side | null;
  querier?: Side | null;
  senders?: MdnsSender[];
  unlistedMessages?: number;
}

/** One set of offers and the index of its offered services. */
class View {
  readonly byKey = new Map<string, MdnsService>();
  constructor(readonly v: MdnsOffers) {}
}

/** The owner of an SRV or TXT record, as an instance (or a bare service type). */
function ownerOf(owner: string): { service: string; instance: string | null } | null {
  const i = splitInstance(owner);
  if (i) return i;
  const t = SERVICE_TYPE.exec(owner);
  return t ? { service: t[1], instance: null } : null;
}

/**
 * Reads each mDNS message once and records what it says twice: in the flow's union and in its
 * sender's own view, so a consumer can tell which sender offered what.
 */
export class MdnsServices {
  private readonly flow: View;
  private readonly senders: View[] = [];
  private readonly index: SenderIndex;

  constructor(
    private readonly f: MdnsFlowView,
    ctx: FlowContext,
  ) {
    this.flow = new View(f);
    this.index = new SenderIndex(ctx);
  }

  get offered(): MdnsService[] {
    return this.f.offered;
  }

  private sender(dir: number): View | null {
    const mac = this.index.mac(dir);
    const i = this.index.find(dir, mac);
    if (i >= 0) return this.senders[i];
    const who = this.index.add(dir, mac);
    if (!who) return null;
    const s: MdnsSender = { ...who, queries: [], queried: false, responded: false, messages: 0, services: [], instances: [], models: [], offered: [], browses: [], hosts: [] };
    const view = new View(s);
    this.senders.push(view);
    this.f.senders?.push(s);
    return view;
  }

  message(dir: number, m: DnsMessage): void {
    const f = this.f;
    const view = this.sender(dir);
    const s = view ? (view.v as MdnsSender) : null;
    if (s) s.messages++;
    else if (f.unlistedMessages !== undefined) f.unlistedMessages++;
    if (s) for (const q of m.questions) add(s.queries, q.name);
    let owned = 0;
    if (m.response) {
      owned = m.answers.length + m.authorities.length + m.additionals.length;
      for (const r of m.answers) this.offer(r, view);
      for (const r of m.authorities) this.offer(r, view);
      for (const r of m.additionals) this.offer(r, view);
    } else {
      f.querier = addSide(f.querier ?? null, dir);
      if (s) s.queried = true;
      // A probe asks for the names it proposes in its Authority section (RFC 6762 §8.1): those
      // questions are about itself, not a search.
      for (const q of m.questions) if (!m.authorities.some((r) => r.name.toLowerCase() === q.name.toLowerCase())) this.browse(q.name, view);
      // Known answers (§7.1) are other devices' records the querier already holds.
      for (const r of m.answers) this.browse(r.name, view);
      owned = m.authorities.length;
      for (const r of m.authorities) this.offer(r, view);
    }
    if (owned > 0) {
      f.responder = addSide(f.responder ?? null, dir);
      if (s) s.responded = true;
    }
  }

  private browse(name: string, view: View | null): void {
    const t = serviceTypeOf(name);
    if (!t) return;
    add(this.flow.v.browses, t);
    if (view) add(view.v.browses, t);
  }

  private offer(r: DnsRecord, view: View | null): void {
    const flow = this.flow;
    switch (r.type) {
      case 1:
      case 28:
        add(flow.v.hosts, r.name);
        if (view) add(view.v.hosts, r.name);
        break;
      case 12: {
        if (typeof r.data !== 'string') break;
        if (ENUMERATION.test(r.name)) {
          if (SERVICE_TYPE.test(r.data)) {
            add(flow.v.services, r.data);
            if (view) add(view.v.services, r.data);
          }
          break;
        }
        if (REVERSE.test(r.name)) {
          add(flow.v.hosts, r.data);
          if (view) add(view.v.hosts, r.data);
          break;
        }
        const t = SERVICE_TYPE.exec(r.name);
        if (!t) break;
        const service = t[1];
        const suffix = `.${service}`.toLowerCase();
        let instance: string = r.data;
        if (r.data.toLowerCase().endsWith(suffix) && r.data.length > suffix.length) instance = r.data.slice(0, r.data.length - suffix.length);
        else instance = splitInstance(r.data)?.instance ?? r.data;
        this.entry(flow, service, instance);
        if (view) this.entry(view, service, instance);
        break;
      }
      case 33: {
        if (typeof r.data !== 'string') break;
        const parts = /^(\d+) (\d+) (\d+) (.*)$/.exec(r.data);
        if (!parts) break;
        const owner = ownerOf(r.name);
        this.srv(flow, owner, parts[4], Number(parts[3]));
        if (view) this.srv(view, owner, parts[4], Number(parts[3]));
        break;
      }
      case 16: {
        if (!Array.isArray(r.data)) break;
        const owner = ownerOf(r.name);
        if (!owner) break;
        const txt = redactTxt(r.data, r.name);
        this.txt(flow, owner, txt);
        if (view) this.txt(view, owner, txt);
        break;
      }
    }
  }

  /** SRV (RFC 6763 §5): the instance's target host and port. */
  private srv(v: View, owner: { service: string; instance: string | null } | null, target: string, port: number): void {
    if (target !== '<Root>') add(v.v.hosts, target);
    const e = owner ? this.entry(v, owner.service, owner.instance) : null;
    if (e) {
      e.port = port;
      e.target = target === '<Root>' ? null : target;
    }
  }

  /** TXT (RFC 6763 §6): the instance's strings, bounded, and the model keys among them. */
  private txt(v: View, owner: { service: string; instance: string | null }, txt: string[]): void {
    const e = this.entry(v, owner.service, owner.instance);
    if (!e) return;
    for (const t of txt) {
      if (t === '') continue;
      const x = t.length > TXT_CHARS ? t.slice(0, TXT_CHARS) : t;
      if (e.txt.length < MAX_TXT && !e.txt.includes(x)) e.txt.push(x);
      const eq = x.indexOf('=');
      if (eq > 0 && eq < x.length - 1 && MODEL_KEY.test(x.slice(0, eq)) && !x.endsWith(REDACTED)) add(v.v.models, x);
    }
  }

  private entry(view: View, service: string, instance: string | null): MdnsService | null {
    const key = `${service.toLowerCase()}|${instance?.toLowerCase() ?? ''}`;
    const known = view.byKey.get(key);
    if (known) return known;
    if (view.v.offered.length >= MAX_SERVICES) return null;
    const e: MdnsService = { service, instance, target: null, port: null, txt: [] };
    view.byKey.set(key, e);
    view.v.offered.push(e);
    add(view.v.services, service);
    if (instance !== null && !isMacLabel(instance)) add(view.v.instances, `${instance}.${service}`);
    return e;
  }
}

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
import { REDACTED } from '../redact.js';
import type { DnsMessage, DnsRecord } from './parser.js';
import type { DnsFacts } from './state.js';

/** Which side of a flow sent something: the originator, the responder, or both. */
export type Side = 'orig' | 'resp' | 'both';

export function addSide(s: Side | null, dir: number): Side {
  const d: Side = dir === 0 ? 'orig' : 'resp';
  return s === null || s === d ? d : 'both';
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

export class MdnsServices {
  readonly offered: MdnsService[] = [];
  private readonly byKey = new Map<string, MdnsService>();

  constructor(private readonly f: DnsFacts) {}

  message(dir: number, m: DnsMessage): void {
    const f = this.f;
    let own: DnsRecord[];
    if (m.response) {
      own = [...m.answers, ...m.authorities, ...m.additionals];
    } else {
      f.querier = addSide(f.querier ?? null, dir);
      // A probe asks for the names it proposes in its Authority section (RFC 6762 §8.1): those
      // questions are about itself, not a search.
      const probed = new Set(m.authorities.map((r) => r.name.toLowerCase()));
      for (const q of m.questions) if (!probed.has(q.name.toLowerCase())) this.browse(q.name);
      // Known answers (§7.1) are other devices' records the querier already holds.
      for (const r of m.answers) this.browse(r.name);
      own = m.authorities;
    }
    if (own.length > 0) f.responder = addSide(f.responder ?? null, dir);
    for (const r of own) this.offer(r);
  }

  private browse(name: string): void {
    const t = serviceTypeOf(name);
    if (t) add(this.f.browses!, t);
  }

  private offer(r: DnsRecord): void {
    const f = this.f;
    switch (r.type) {
      case 1:
      case 28:
        add(f.hosts!, r.name);
        break;
      case 12: {
        if (typeof r.data !== 'string') break;
        if (ENUMERATION.test(r.name)) {
          if (SERVICE_TYPE.test(r.data)) add(f.services, r.data);
          break;
        }
        if (REVERSE.test(r.name)) {
          add(f.hosts!, r.data);
          break;
        }
        const t = SERVICE_TYPE.exec(r.name);
        if (!t) break;
        const service = t[1];
        const suffix = `.${service}`.toLowerCase();
        let instance: string = r.data;
        if (r.data.toLowerCase().endsWith(suffix) && r.data.length > suffix.length) instance = r.data.slice(0, r.data.length - suffix.length);
        else instance = splitInstance(r.data)?.instance ?? r.data;
        this.entry(service, instance);
        break;
      }
      case 33: {
        if (typeof r.data !== 'string') break;
        const e = this.entryOf(r.name);
        const parts = /^(\d+) (\d+) (\d+) (.*)$/.exec(r.data);
        if (!parts) break;
        const target = parts[4];
        if (target !== '<Root>') add(f.hosts!, target);
        if (e) {
          e.port = Number(parts[3]);
          e.target = target === '<Root>' ? null : target;
        }
        break;
      }
      case 16: {
        if (!Array.isArray(r.data)) break;
        const e = this.entryOf(r.name);
        if (!e) break;
        for (const s of redactTxt(r.data, r.name)) {
          if (s === '') continue;
          const v = s.length > TXT_CHARS ? s.slice(0, TXT_CHARS) : s;
          if (e.txt.length < MAX_TXT && !e.txt.includes(v)) e.txt.push(v);
          const eq = v.indexOf('=');
          if (eq > 0 && eq < v.length - 1 && MODEL_KEY.test(v.slice(0, eq)) && !v.endsWith(REDACTED)) add(f.models, v);
        }
        break;
      }
    }
  }

  /** The offered service an SRV or TXT owner name belongs to. */
  private entryOf(owner: string): MdnsService | null {
    const i = splitInstance(owner);
    if (i) return this.entry(i.service, i.instance);
    const t = SERVICE_TYPE.exec(owner);
    return t ? this.entry(t[1], null) : null;
  }

  private entry(service: string, instance: string | null): MdnsService | null {
    const key = `${service.toLowerCase()}|${instance?.toLowerCase() ?? ''}`;
    const known = this.byKey.get(key);
    if (known) return known;
    if (this.offered.length >= MAX_SERVICES) return null;
    const e: MdnsService = { service, instance, target: null, port: null, txt: [] };
    this.byKey.set(key, e);
    this.offered.push(e);
    add(this.f.services, service);
    if (instance !== null && !isMacLabel(instance)) add(this.f.instances, `${instance}.${service}`);
    return e;
  }
}

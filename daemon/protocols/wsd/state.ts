/**
 * WS-Discovery per flow: the messages of one UDP flow (port 3702), what their senders announce
 * about themselves and what searchers ask for. A target that sends Hello, Bye, ProbeMatches or
 * ResolveMatches describes itself (WS-Discovery 1.1 §4.1, §4.2, §5.3, §6.2): its Types, Scopes,
 * XAddrs and endpoint address go into the facts. A Probe (§5.2) only names what its sender looks
 * for: its Types go to `probedTypes`, never into the announced ones.
 */
import type { DatagramParser, FlowContext } from '../parser-types.js';
import { ANNOUNCING, LIST_MAX, parseWsd, type WsdMessage } from './parser.js';

export { looksLikeWsd } from './parser.js';

export interface WsdFacts {
  /** Short action names seen, in order of first appearance (Hello, Probe, ProbeMatches...). */
  messages: string[];
  /** Side of the flow that announced itself (sent Hello/Bye/ProbeMatches/ResolveMatches). */
  announcer: 'orig' | 'resp' | 'both' | null;
  /** Announced Types, local names (NetworkVideoTransmitter, Device, Computer). */
  types: string[];
  /** Announced Types as `{namespace}local`, when the prefix was declared. */
  qualifiedTypes: string[];
  /** Announced Scopes, %-escapes decoded (onvif://www.onvif.org/hardware/...). */
  scopes: string[];
  /** Announced transport addresses (http://.../onvif/device_service). */
  xaddrs: string[];
  /** Announced endpoint addresses (urn:uuid:...). */
  endpoints: string[];
  /** Types a Probe asked for (local names): what the searcher looks for, not what it is. */
  probedTypes: string[];
  /** Datagrams that were not readable WS-Discovery messages. */
  malformed: number;
}

function merge(into: string[], from: string[]): void {
  for (const v of from) if (into.length < LIST_MAX && !into.includes(v)) into.push(v);
}

export class WsdFlow implements DatagramParser {
  readonly app = 'wsd';
  readonly encrypted = false;
  readonly f: WsdFacts = { messages: [], announcer: null, types: [], qualifiedTypes: [], scopes: [], xaddrs: [], endpoints: [], probedTypes: [], malformed: 0 };
  private count = 0;

  constructor(private readonly ctx: FlowContext) {}

  datagram(dir: number, buf: Buffer, off: number, len: number): void {
    const m = parseWsd(buf, off, len);
    if (typeof m === 'string') {
      this.f.malformed++;
      this.ctx.emit('anomaly', { protocol: 'wsd', event: `malformed: ${m}` }, dir);
      return;
    }
    const f = this.f;
    const action = m.action!;
    if (f.messages.length < LIST_MAX && !f.messages.includes(action)) f.messages.push(action);
    const announces = ANNOUNCING.has(action);
    if (announces) {
      const side = dir === 0 ? 'orig' : 'resp';
      f.announcer = f.announcer === null || f.announcer === side ? side : 'both';
      merge(f.types, m.types);
      merge(f.qualifiedTypes, m.qualifiedTypes);
      merge(f.scopes, m.scopes);
      merge(f.xaddrs, m.xaddrs);
      merge(f.endpoints, m.endpoints);
    } else if (action === 'Probe') merge(f.probedTypes, m.types);
    if (++this.count <= 64) this.ctx.emit('wsd', () => event(m, announces), dir);
  }

  facts(): Record<string, unknown> {
    return { wsd: this.f };
  }
}

function event(m: WsdMessage, announces: boolean): Record<string, unknown> {
  return {
    action: m.action,
    role: announces ? 'target' : 'client',
    version: m.version,
    types: m.types,
    qualifiedTypes: m.qualifiedTypes,
    scopes: m.scopes,
    xaddrs: m.xaddrs,
    endpoints: m.endpoints,
    truncated: m.truncated,
  };
}

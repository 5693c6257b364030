/** Turns a flow-table slot into the report's flow object (see report/analysis.schema.json). */
import { formatAddr, formatMac } from '../decode/address.js';
import { Proto } from '../decode/packet.js';
import { type Device, deviceKey } from '../devices/device-table.js';
import { type EndReason, type FlowTable, TCP_STATE_NAMES } from '../flows/flow-table.js';
import type { FlowAppFacts } from '../protocols/stage.js';
import type { Endpoint, FlowRecord } from '../report/types.js';
import { type FlowFacts, remoteName } from '../protocols/registry.js';
import { isoTime } from '../model/time.js';
import { isoTimeFast } from '../flows/iso-time.js';

export type { FlowRecord };

const PROTO_NAMES: Record<number, string> = { [Proto.Tcp]: 'tcp', [Proto.Udp]: 'udp', [Proto.Icmp]: 'icmp', [Proto.Icmpv6]: 'icmpv6' };

export function protoName(p: number): string {
  return PROTO_NAMES[p] ?? `ip-proto-${p}`;
}

export { isoTime };

function tcpFlagText(f: number): string {
  let s = '';
  if (f & 0x02) s += 'S';
  if (f & 0x10) s += 'A';
  if (f & 0x08) s += 'P';
  if (f & 0x01) s += 'F';
  if (f & 0x04) s += 'R';
  return s;
}

/** The name of the remote end: what the device resolved, else what it said in TLS or HTTP. */
function hostname(resolved: string | null, facts: FlowFacts | null): [string | null, FlowRecord['hostnameSource']] {
  if (resolved) return [resolved, 'dns'];
  const said = remoteName(facts);
  return said ? [said.name, said.source] : [null, null];
}

/**
 * The endpoints last written for each slot: a running flow is judged at each of its first
 * messages and again at its end, and its addresses do not change in between (its MACs and
 * locality may, so they are compared too). Records never modify their endpoints.
 */
interface Ends {
  serial: number;
  origMac: number;
  respMac: number;
  locality: number;
  orig: Endpoint;
  resp: Endpoint;
}
const endsBySlot = new WeakMap<FlowTable, (Ends | undefined)[]>();

function endsOf(f: FlowTable, slot: number, side: (s: 0 | 1) => Endpoint): Ends {
  let all = endsBySlot.get(f);
  if (!all) endsBySlot.set(f, (all = []));
  const e = all[slot];
  const serial = f.serial[slot];
  const origMac = f.origMac[slot];
  const respMac = f.respMac[slot];
  const locality = f.locality[slot] & 3;
  if (e && e.serial === serial && e.origMac === origMac && e.respMac === respMac && e.locality === locality) return e;
  return (all[slot] = { serial, origMac, respMac, locality, orig: side(0), resp: side(1) });
}

export function flowRecord(f: FlowTable, slot: number, reason: EndReason, device: Device | undefined, app: FlowAppFacts, resolved: string | null = null): FlowRecord {
  const [host, hostSource] = hostname(resolved, app.facts);
  const side = (s: 0 | 1): Endpoint => {
    const e = f.endpoint(slot, s);
    const mac = s === 0 ? f.origMac[slot] : f.respMac[slot];
    const bit = s === 0 ? 1 : 2;
    return {
      ip: formatAddr(e.words[0], e.words[1], e.words[2], e.words[3]),
      port: e.port,
      mac: mac >= 0 ? formatMac(mac) : null,
      local: (f.locality[slot] & bit) !== 0,
    };
  };
  const loc = f.locality[slot] & 3;
  const proto = f.proto[slot];
  const vlan: number[] = [];
  if (f.vlanOuter[slot] >= 0) vlan.push(f.vlanOuter[slot]);
  if (f.vlan[slot] >= 0) vlan.push(f.vlan[slot]);
  const k = slot * 2;
  const ends = endsOf(f, slot, side);
  const deviceSide = device ? (f.locality[slot] & 4 ? 'resp' : 'orig') : null;
  return {
    id: f.serial[slot],
    proto: protoName(proto),
    ipVersion: f.ipVersion[slot] as 4 | 6,
    vlan,
    orig: ends.orig,
    resp: ends.resp,
    lanSide: loc === 3 ? 'both' : loc === 1 ? 'orig' : loc === 2 ? 'resp' : 'none',
    internet: loc !== 3,
    device: device ? deviceKey(device) : null,
    hostname: host,
    hostnameSource: hostSource,
    deviceSide,
    counters: {
      orig: { packets: f.packets.get(k), bytes: f.bytes.get(k), payloadBytes: f.payloadBytes.get(k) },
      resp: { packets: f.packets.get(k + 1), bytes: f.bytes.get(k + 1), payloadBytes: f.payloadBytes.get(k + 1) },
    },
    firstSeen: isoTimeFast(f.first[slot]),
    lastSeen: isoTimeFast(f.last[slot]),
    duration: Math.round((f.last[slot] - f.first[slot]) * 1e6) / 1e6,
    tcp:
      proto === Proto.Tcp
        ? { state: TCP_STATE_NAMES[f.tcpState[slot]], origFlags: tcpFlagText(f.tcpFlags[k]), respFlags: tcpFlagText(f.tcpFlags[k + 1]) }
        : null,
    endReason: reason,
    app: app.app,
    encrypted: app.encrypted,
    protocol: app.facts,
  };
}

/**
 * The packet path: decode → flow table → TCP reassembly → (protocol stage) and the device
 * inventory. One Engine serves both a capture file and a live interface: it is a PacketSink.
 */
import type { PacketSink } from '../capture/sink.js';
import { formatAddr, formatIpv4, formatIpv6 } from '../decode/address.js';
import { ndpBinding } from '../decode/ndp.js';
import { Decoder } from '../decode/decoder.js';
import { Decoded, Fragment, Proto } from '../decode/packet.js';
import { type Device, DeviceTable, factsOf } from '../devices/device-table.js';
import { observeFlow } from '../devices/observe.js';
import { setDhcpIdentity } from '../devices/facts.js';
import type { Dhcp4Message } from '../protocols/dhcp/parser.js';
import { parseMac } from '../decode/address.js';
import { type EndReason, FlowTable } from '../flows/flow-table.js';
import { isGroupOrUnspecified, Locality } from '../flows/locality.js';
import { DEFAULT_REASSEMBLY, type StreamConsumer, TcpReassembler } from '../flows/tcp-reassembly.js';
import type { EventSink } from '../protocols/events.js';
import { ProtocolStage } from '../protocols/stage.js';
import { Verdicts } from '../verdicts/verdicts.js';
import type { Alert } from '../verdicts/alert.js';
import { DEFAULT_CONFIG, type EngineConfig } from './config.js';
import { type FlowRecord, flowRecord } from './flow-record.js';

export const enum Side {
  Orig = 1,
  Resp = 2,
}

export interface EngineHooks {
  /** Also receives the reassembled TCP bytes the protocol stage gets (tests). */
  stream?: StreamConsumer;
  /** Receives every protocol event (`vigie analyze --events`). */
  events?: EventSink;
  /** Run without the protocol stage: reassembled bytes go to `stream` alone (layer tests). */
  noDissectors?: boolean;
  /** Called with each flow as it ends (idle, evicted, or end of input). */
  flowEnded?: (record: FlowRecord) => void;
  /** Called with each new or updated alert. */
  alert?: (alert: Alert, isNew: boolean) => void;
}

function tee(a: StreamConsumer, b: StreamConsumer | undefined): StreamConsumer {
  if (!b) return a;
  return {
    data(slot, dir, buf, off, len) {
      b.data(slot, dir, buf, off, len);
      a.data(slot, dir, buf, off, len);
    },
    gap(slot, dir, len) {
      b.gap(slot, dir, len);
      a.gap(slot, dir, len);
    },
  };
}

export class Engine implements PacketSink {
  readonly decoder = new Decoder();
  readonly flows: FlowTable;
  readonly reassembler: TcpReassembler;
  readonly devices: DeviceTable;
  readonly locality: Locality;
  readonly protocols: ProtocolStage;
  readonly verdicts: Verdicts | null;
  private readonly dissect: boolean;
  /** When each running internet flow was last judged, by slot (at most once a second). */
  private readonly judged = new Map<number, { last: number; n: number; dirty: boolean }>();
  /** Names the device resolved for the remote end of live internet flows, by slot. */
  private readonly resolved = new Map<number, string>();
  firstTs = Infinity;
  lastTs = -Infinity;
  private nextExpiry = -Infinity;

  constructor(
    readonly config: EngineConfig = DEFAULT_CONFIG,
    private readonly hooks: EngineHooks = {},
  ) {
    this.flows = new FlowTable({ maxFlows: config.maxFlows, timeouts: config.timeouts, onEnd: (s, r) => this.flowEnd(s, r), sequenceVolumes: config.sequenceVolumes });
    this.protocols = new ProtocolStage(() => this.flows, hooks.events ?? null, config.communityIdSeed);
    const consumer = hooks.noDissectors ? (hooks.stream ?? { data() {}, gap() {} }) : tee(this.protocols, hooks.stream);
    this.reassembler = new TcpReassembler(config.maxFlows, consumer, { ...DEFAULT_REASSEMBLY, depth: config.streamDepth });
    if (!hooks.noDissectors) this.protocols.reassembler = this.reassembler;
    this.protocols.dhcpClients = (m) => this.dhcp(m);
    this.dissect = !hooks.noDissectors;
    this.devices = new DeviceTable(config.maxDevices);
    this.locality = new Locality(config.lanPrefixes);
    this.verdicts = config.verdicts && this.dissect ? new Verdicts(config.verdicts, config, hooks.alert ?? null) : null;
    if (this.verdicts && config.judgeRunning !== false) this.protocols.noticed = (slot, type) => this.noticed(slot, type);
  }

  /**
   * A protocol message on a flow: judge the running flow now if it goes to the internet (an
   * alert must not wait for the flow to end). The first messages of a flow are judged each
   * (CONNECT, CONNACK, SUBSCRIBE, SUBACK, RTSP ANNOUNCE/RECORD come first), later ones at most
   * once a second: a skipped message leaves the flow marked and the next tick judges it.
   */
  private noticed(slot: number, type: string): void {
    const f = this.flows;
    if ((f.locality[slot] & 3) === 3 || f.device[slot] < 0 || type === 'anomaly') return;
    const ts = this.protocols.ts;
    let j = this.judged.get(slot);
    if (!j) this.judged.set(slot, (j = { last: -Infinity, n: 0, dirty: false }));
    if (j.n >= EAGER_MESSAGES && ts - j.last < 1) {
      j.dirty = true;
      return;
    }
    this.judge(slot, j, ts);
  }

  private judge(slot: number, j: { last: number; n: number; dirty: boolean }, ts: number): void {
    j.n++;
    j.last = ts;
    j.dirty = false;
    const f = this.flows;
    const d = this.devices.get(f.device[slot]);
    if (!d) return;
    const record = flowRecord(f, slot, 'end', d, this.protocols.peek(slot), this.resolved.get(slot) ?? null);
    // The flow was last seen at its last packet, not when the once-a-second tick judged it.
    this.verdicts!.flow(record, d, f.last[slot]);
  }

  /** The device's flows still open, as records (for the API: what it is doing now). */
  openFlows(d: Device): FlowRecord[] {
    const f = this.flows;
    const out: FlowRecord[] = [];
    for (const slot of f.slots()) {
      if (f.device[slot] < 0 || this.devices.get(f.device[slot]) !== d) continue;
      out.push(flowRecord(f, slot, 'end', d, this.protocols.peek(slot), this.resolved.get(slot) ?? null));
    }
    return out;
  }

  packet(link: number, buf: Buffer, off: number, caplen: number, wirelen: number, ts: number): void {
    if (ts < this.firstTs) this.firstTs = ts;
    if (ts > this.lastTs) this.lastTs = ts;
    const r = this.decoder.decode(link, buf, off, caplen, wirelen, ts);
    const pkt = this.decoder.pkt;
    if (r !== Decoded.Ip) {
      if (r === Decoded.NonIp && pkt.arpOp !== 0) this.arp(ts);
      return;
    }
    if (pkt.fragment === Fragment.Later) return;
    let sp = 0;
    let dp = 0;
    const proto = pkt.ipProto;
    if (proto === Proto.Tcp || proto === Proto.Udp) {
      sp = pkt.srcPort;
      dp = pkt.dstPort;
    } else if (proto === Proto.Icmp || proto === Proto.Icmpv6) {
      const t = pkt.icmpType;
      if (proto === Proto.Icmpv6 && (t === 135 || t === 136)) this.ndp(ts);
      // Echo request and reply share a flow through their identifier (RFC 792, RFC 4443 §4).
      const echo = proto === Proto.Icmp ? t === 8 || t === 0 : t === 128 || t === 129;
      if (echo && pkt.end - pkt.l4Off >= 6) sp = dp = pkt.buf.readUInt16BE(pkt.l4Off + 4);
      else {
        sp = t;
        dp = pkt.icmpCode;
      }
    }
    const flows = this.flows;
    const slot = flows.packet(pkt, sp, dp);
    if (flows.lastNew) this.flowStart(slot, ts);
    else if (flows.lastMacLearned) this.macLearned(slot, flows.lastDir, ts);
    const stage = this.protocols;
    stage.frame = this.decoder.stats.packets;
    stage.ts = ts;
    stage.mac = pkt.srcMac;
    if (proto === Proto.Tcp) {
      this.reassembler.segment(slot, flows.lastDir, pkt.tcpFlags, pkt.seq, pkt.ack, pkt.buf, pkt.payloadOff, pkt.payloadLen, pkt.payloadMissing);
    } else if (proto === Proto.Udp && pkt.payloadLen > 0 && this.dissect) {
      stage.datagram(slot, flows.lastDir, pkt.buf, pkt.payloadOff, pkt.payloadLen);
    }
    if (ts >= this.nextExpiry) this.tick(ts);
  }

  /**
   * Once a second of capture time: idle flows end, skipped judgements run, verdicts tick. Called
   * by the packet path, and by the daemon's clock when the network is quiet (a live flow must
   * still end and an alert still come when no further packet arrives).
   */
  tick(ts: number): void {
    if (ts < this.nextExpiry) return;
    this.flows.expire(ts);
    this.nextExpiry = ts + 1;
    if (this.verdicts) {
      for (const [slot, j] of this.judged) if (j.dirty) this.judge(slot, j, ts);
      this.verdicts.tick(ts, this.devices.all());
    }
  }

  /** Ends every live flow: the input is over. */
  finish(): void {
    this.flows.flush('end');
    this.verdicts?.finish(this.lastTs);
  }

  /** A DHCP client described itself (RFC 2132 options 12, 55, 60, 81), or got an address. */
  private dhcp(m: Dhcp4Message): void {
    let mac: number;
    try {
      mac = parseMac(m.chaddr);
    } catch {
      return; // not an Ethernet chaddr
    }
    const ts = this.decoder.pkt.ts;
    const d = this.devices.lookup(mac, m.chaddr, ts);
    const f = factsOf(d);
    if (m.op === 1) {
      f.hostname(m.hostname, 'dhcp');
      f.hostname(m.fqdn?.split('.')[0], 'dhcp-fqdn');
      setDhcpIdentity(f, m.vendorClass, m.paramRequestList);
    } else if (m.messageType === 5 && m.yiaddr !== '0.0.0.0') {
      this.devices.bind(d, m.yiaddr, ts, 'dhcp');
    }
  }

  /** Neighbor Discovery: an IPv6 address and its MAC (RFC 4861). */
  private ndp(ts: number): void {
    const pkt = this.decoder.pkt;
    const unspecified = pkt.src0 === 0 && pkt.src1 === 0 && pkt.src2 === 0 && pkt.src3 === 0;
    const bnd = ndpBinding(pkt.buf, pkt.icmpType, pkt.payloadOff, pkt.payloadOff + pkt.payloadLen, pkt.l3Off + 8, unspecified);
    if (!bnd) return;
    const b = pkt.buf;
    const o = bnd.addrOff;
    const w0 = b.readUInt32BE(o), w1 = b.readUInt32BE(o + 4), w2 = b.readUInt32BE(o + 8), w3 = b.readUInt32BE(o + 12);
    if (!this.locality.isLocal(w0, w1, w2, w3) || isGroupOrUnspecified(w0, w1, w2, w3)) return;
    const text = formatIpv6(w0, w1, w2, w3);
    const d = this.devices.lookup(bnd.mac, text, ts);
    this.devices.bind(d, text, ts, 'ndp');
  }

  private arp(ts: number): void {
    const pkt = this.decoder.pkt;
    const ip = pkt.arpSenderIp;
    // Probes carry sender address 0.0.0.0 (RFC 5227 §2.1.1): no binding in them.
    if (ip === 0 || !this.locality.isLocal(0, 0, 0xffff, ip) || isGroupOrUnspecified(0, 0, 0xffff, ip)) return;
    const text = formatIpv4(ip);
    const d = this.devices.lookup(pkt.arpSenderMac, text, ts);
    this.devices.bind(d, text, ts, 'arp');
  }

  private flowStart(slot: number, ts: number): void {
    const f = this.flows;
    const k = slot * 4;
    const A = f.addrA;
    const B = f.addrB;
    const aLocal = this.locality.isLocal(A[k], A[k + 1], A[k + 2], A[k + 3]);
    const bLocal = this.locality.isLocal(B[k], B[k + 1], B[k + 2], B[k + 3]);
    const origIsA = f.origIsA[slot] === 1;
    const origLocal = origIsA ? aLocal : bLocal;
    const respLocal = origIsA ? bLocal : aLocal;
    f.locality[slot] = (origLocal ? Side.Orig : 0) | (respLocal ? Side.Resp : 0);
    // The device is the local end that is a host: the originator first, else the responder.
    const o = f.endpoint(slot, 0).words;
    const r = f.endpoint(slot, 1).words;
    let side = 0;
    if (origLocal && !isGroupOrUnspecified(o[0], o[1], o[2], o[3])) side = Side.Orig;
    else if (respLocal && !isGroupOrUnspecified(r[0], r[1], r[2], r[3])) side = Side.Resp;
    else if (origLocal && f.origMac[slot] >= 0) side = Side.Orig; // DHCP from 0.0.0.0: the MAC still names it
    if (side === 0) return;
    const d = this.host(side === Side.Orig ? o : r, side === Side.Orig ? f.origMac[slot] : f.respMac[slot], ts);
    if (!d) return;
    f.device[slot] = d.id;
    // Remember which side the device is on: bit 4 set when it is the responder.
    if (side === Side.Resp) f.locality[slot] |= 4;
    if (this.dissect && !(origLocal && respLocal)) {
      const remote = side === Side.Orig ? r : o;
      const name = this.protocols.names.get(formatAddr(...(side === Side.Orig ? o : r)), formatAddr(remote[0], remote[1], remote[2], remote[3]));
      if (name) this.resolved.set(slot, name);
    }
    // A LAN peer answering a LAN device (the router, a NAS, a printer) is in the inventory too.
    if (side === Side.Orig && respLocal && !isGroupOrUnspecified(r[0], r[1], r[2], r[3])) this.host(r, f.respMac[slot], ts);
  }

  /** A flow side's MAC became known after the flow started (Linux cooked captures). */
  private macLearned(slot: number, dir: number, ts: number): void {
    const f = this.flows;
    const side = dir === 0 ? Side.Orig : Side.Resp;
    if (!(f.locality[slot] & side)) return;
    const w = f.endpoint(slot, dir as 0 | 1).words;
    if (isGroupOrUnspecified(w[0], w[1], w[2], w[3])) return;
    const d = this.devices.learnMac(formatAddr(w[0], w[1], w[2], w[3]), dir === 0 ? f.origMac[slot] : f.respMac[slot], ts);
    const isFlowDevice = (f.locality[slot] & 4 ? Side.Resp : Side.Orig) === side;
    if (isFlowDevice && f.device[slot] >= 0) f.device[slot] = d.id;
  }

  /** The device at a local address with the given MAC (-1: none on this link). */
  private host(w: number[], mac: number, ts: number): Device | undefined {
    const unicast = !isGroupOrUnspecified(w[0], w[1], w[2], w[3]);
    if (mac < 0 && !unicast) return undefined;
    const ip = formatAddr(w[0], w[1], w[2], w[3]);
    const d = this.devices.lookup(mac, ip, ts);
    if (unicast) this.devices.bind(d, ip, ts, 'flow');
    return d;
  }

  private flowEnd(slot: number, reason: EndReason): void {
    this.reassembler.finish(slot);
    const app = this.protocols.end(slot);
    const resolved = this.resolved.get(slot) ?? null;
    if (resolved) this.resolved.delete(slot);
    this.judged.delete(slot);
    const f = this.flows;
    const d = f.device[slot] >= 0 ? this.devices.get(f.device[slot]) : undefined;
    if (d) {
      const up = f.locality[slot] & 4 ? 1 : 0;
      d.flows++;
      d.packetsUp += f.packets.get(slot * 2 + up);
      d.packetsDown += f.packets.get(slot * 2 + (up ^ 1));
      d.bytesUp += f.bytes.get(slot * 2 + up);
      d.bytesDown += f.bytes.get(slot * 2 + (up ^ 1));
      if (f.last[slot] > d.lastSeen) d.lastSeen = f.last[slot];
    }
    if (!d && !this.hooks.flowEnded) return;
    const record = flowRecord(f, slot, reason, d, app, resolved);
    if (d) {
      observeFlow(d, record);
      // Between two LAN devices, what the other end announced (a UPnP description it served, a
      // Kasa or WS-Discovery answer) is that end's.
      if (record.lanSide === 'both' && record.deviceSide) {
        const peerDir = record.deviceSide === 'orig' ? 1 : 0;
        const w = f.endpoint(slot, peerDir).words;
        const mac = peerDir === 0 ? f.origMac[slot] : f.respMac[slot];
        if (!isGroupOrUnspecified(w[0], w[1], w[2], w[3])) {
          const peer = this.devices.lookup(mac, formatAddr(w[0], w[1], w[2], w[3]), f.last[slot]);
          if (peer !== d) observeFlow(peer, record, peerDir === 0 ? 'orig' : 'resp');
        }
      }
      this.verdicts?.flow(record, d, f.last[slot]);
    }
    this.hooks.flowEnded?.(record);
  }
}

/** Protocol messages of a flow judged one by one before the once-a-second pace. */
const EAGER_MESSAGES = 8;

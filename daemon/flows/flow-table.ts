/**
 * Bidirectional flow table keyed by the 5-tuple (plus the innermost VLAN id, so that overlapping
 * address plans on different VLANs stay apart).
 *
 * Everything lives in typed arrays indexed by a flow slot: no object per flow or per packet, no
 * string keys. Lookup is open addressing with linear probing over a power-of-two index, and
 * deletion is backward-shift (Knuth 6.4, Algorithm R), so there are no tombstones to clean up.
 *
 * Flows sit in one of four LRU lists, one per idle-timeout class, ordered by last packet: expiry
 * only ever looks at the tails, and under pressure the least recently seen flow is evicted. The
 * table never grows past `maxFlows`; evictions are counted.
 */
import { WideCounters } from './wide-counters.js';
import { type Packet, Proto, TcpFlag } from '../decode/packet.js';

export const enum TcpState {
  None = 0,
  SynSent = 1,
  SynReceived = 2,
  Established = 3,
  Midstream = 4,
  Closing = 5,
  Closed = 6,
  Reset = 7,
}

export const TCP_STATE_NAMES = ['none', 'syn_sent', 'syn_received', 'established', 'midstream', 'closing', 'closed', 'reset'];

/** Idle-timeout classes: each has its own LRU list. */
export const enum TimeoutClass {
  Closed = 0,
  Transitory = 1,
  Datagram = 2,
  Established = 3,
}

/** `reused`: a new connection (a SYN) on the same addresses and ports ended the previous one. */
export type EndReason = 'idle' | 'evicted' | 'end' | 'reused';

export interface FlowTimeouts {
  /** TCP after FIN from both sides or RST. */
  closed: number;
  /** TCP handshakes in progress or one side closed; ICMP. */
  transitory: number;
  /** UDP and other datagram protocols. */
  datagram: number;
  /** Established (or mid-stream) TCP. */
  established: number;
}

export const DEFAULT_TIMEOUTS: FlowTimeouts = { closed: 10, transitory: 60, datagram: 180, established: 3600 };

export interface FlowTableOptions {
  maxFlows: number;
  timeouts?: Partial<FlowTimeouts>;
  /** Called before a flow's slot is reused; the slot's fields are still readable. */
  onEnd: (slot: number, reason: EndReason) => void;
  /**
   * TCP volumes from sequence numbers: for a capture filter that keeps bulk segments out of
   * JavaScript (the daemon's control filter), each direction's payload is the span of sequence
   * space seen, whatever segments were filtered out; packets and wire bytes of the segments
   * not seen are estimated (full-size segments of SEGMENT_PAYLOAD bytes with their headers).
   */
  sequenceVolumes?: boolean;
}

/** Payload and header bytes of the full-size TCP segment assumed for unseen bulk (Ethernet, 1500 MTU, timestamps). */
const SEGMENT_PAYLOAD = 1448;
const SEGMENT_HEADERS = 66;

/** Server ports that decide orientation when the handshake was not seen. */
const SERVICE_PORTS = new Set([53, 67, 68, 80, 123, 443, 554, 853, 1883, 1900, 3478, 5353, 5683, 8080, 8443, 8554, 8883, 1935, 32100]);

function isServicePort(p: number): boolean {
  return p < 1024 || SERVICE_PORTS.has(p);
}

export class FlowTable {
  readonly capacity: number;
  // Key (endpoint A is the lower of the two, so both directions find the same slot).
  readonly addrA: Uint32Array;
  readonly addrB: Uint32Array;
  readonly portA: Uint16Array;
  readonly portB: Uint16Array;
  readonly proto: Uint8Array;
  readonly vlan: Int16Array;
  readonly ipVersion: Uint8Array;
  private readonly hash: Uint32Array;
  /** 1 when the originator (the side that opened the flow) is endpoint A. */
  readonly origIsA: Uint8Array;
  // Per direction, at slot*2 + dir (dir 0: originator to responder).
  readonly packets: WideCounters;
  readonly bytes: WideCounters;
  readonly payloadBytes: WideCounters;
  /** Sequence accounting (sequenceVolumes): highest sequence end per direction, span beyond it. */
  private readonly seqHigh: Uint32Array | null;
  private readonly seqSpan: WideCounters | null;
  private readonly seqSet: Uint8Array | null;
  readonly tcpFlags: Uint8Array;
  // Per flow.
  readonly first: Float64Array;
  readonly last: Float64Array;
  readonly tcpState: Uint8Array;
  /** Serial number of the flow (1, 2, ...): stable id for reports. */
  readonly serial: Float64Array;
  /** MACs of originator and responder as seen on their first packet, -1 if unknown. */
  readonly origMac: Float64Array;
  readonly respMac: Float64Array;
  /** Free for the later stages: device id, locality bits, app id. */
  readonly device: Int32Array;
  readonly locality: Uint8Array;
  readonly app: Uint16Array;
  readonly vlanOuter: Int16Array;

  private readonly tclass: Uint8Array;
  /** The originator's initial sequence number, once its SYN was seen. */
  private readonly isn: Uint32Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly heads = new Int32Array(4).fill(-1);
  private readonly tails = new Int32Array(4).fill(-1);
  private readonly timeoutOf: Float64Array;
  private readonly index: Int32Array;
  private readonly mask: number;
  private readonly freeList: Int32Array;
  private freeTop: number;
  private readonly onEnd: (slot: number, reason: EndReason) => void;
  private serialNext = 1;

  count = 0;
  /** Most flows live at once. */
  maxCount = 0;
  created = 0;
  expired = 0;
  evicted = 0;
  /** TCP flows ended by a new connection on the same addresses and ports. */
  reused = 0;
  /** Direction of the last looked-up packet: 0 originator to responder, 1 the reverse. */
  lastDir = 0;
  /** Whether the last lookup created the flow. */
  lastNew = false;
  /** Whether the last packet told an existing flow the MAC of its sender for the first time. */
  lastMacLearned = false;

  constructor(opts: FlowTableOptions) {
    const n = Math.max(1, opts.maxFlows | 0);
    this.capacity = n;
    this.addrA = new Uint32Array(n * 4);
    this.addrB = new Uint32Array(n * 4);
    this.portA = new Uint16Array(n);
    this.portB = new Uint16Array(n);
    this.proto = new Uint8Array(n);
    this.vlan = new Int16Array(n);
    this.vlanOuter = new Int16Array(n);
    this.ipVersion = new Uint8Array(n);
    this.hash = new Uint32Array(n);
    this.origIsA = new Uint8Array(n);
    this.packets = new WideCounters(n * 2);
    this.bytes = new WideCounters(n * 2);
    this.payloadBytes = new WideCounters(n * 2);
    this.seqHigh = opts.sequenceVolumes ? new Uint32Array(n * 2) : null;
    this.seqSpan = opts.sequenceVolumes ? new WideCounters(n * 2) : null;
    this.seqSet = opts.sequenceVolumes ? new Uint8Array(n * 2) : null;
    this.tcpFlags = new Uint8Array(n * 2);
    this.isn = new Uint32Array(n);
    this.first = new Float64Array(n);
    this.last = new Float64Array(n);
    this.tcpState = new Uint8Array(n);
    this.serial = new Float64Array(n);
    this.origMac = new Float64Array(n);
    this.respMac = new Float64Array(n);
    this.device = new Int32Array(n);
    this.locality = new Uint8Array(n);
    this.app = new Uint16Array(n);
    this.tclass = new Uint8Array(n);
    this.prev = new Int32Array(n);
    this.next = new Int32Array(n);
    let size = 1;
    while (size < n * 2) size <<= 1;
    this.index = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    this.freeList = new Int32Array(n);
    for (let i = 0; i < n; i++) this.freeList[i] = n - 1 - i;
    this.freeTop = n;
    const t = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.timeoutOf = new Float64Array([t.closed, t.transitory, t.datagram, t.established]);
    this.onEnd = opts.onEnd;
  }

  /**
   * Finds or creates the flow of a decoded IP packet with ports (TCP/UDP) or ICMP identifiers,
   * updates its counters, TCP state and LRU position, and returns its slot. lastDir/lastNew say
   * how the packet relates to it.
   */
  packet(pkt: Packet, portSrc: number, portDst: number): number {
    const s0 = pkt.src0, s1 = pkt.src1, s2 = pkt.src2, s3 = pkt.src3;
    const d0 = pkt.dst0, d1 = pkt.dst1, d2 = pkt.dst2, d3 = pkt.dst3;
    // Canonical order: A is the endpoint with the lower (address, port).
    let srcIsA: boolean;
    if (s0 !== d0) srcIsA = s0 < d0;
    else if (s1 !== d1) srcIsA = s1 < d1;
    else if (s2 !== d2) srcIsA = s2 < d2;
    else if (s3 !== d3) srcIsA = s3 < d3;
    else srcIsA = portSrc <= portDst;
    const proto = pkt.ipProto;
    const vlan = pkt.vlanCount === 0 ? -1 : pkt.vlanCount === 1 ? pkt.vlanOuter : pkt.vlanInner;
    let a0, a1, a2, a3, b0, b1, b2, b3, pa, pb;
    if (srcIsA) {
      a0 = s0; a1 = s1; a2 = s2; a3 = s3; b0 = d0; b1 = d1; b2 = d2; b3 = d3; pa = portSrc; pb = portDst;
    } else {
      a0 = d0; a1 = d1; a2 = d2; a3 = d3; b0 = s0; b1 = s1; b2 = s2; b3 = s3; pa = portDst; pb = portSrc;
    }
    let h = 0x9747b28c ^ proto ^ ((vlan & 0xffff) << 8);
    h = mix(h, a0); h = mix(h, a1); h = mix(h, a2); h = mix(h, a3);
    h = mix(h, b0); h = mix(h, b1); h = mix(h, b2); h = mix(h, b3);
    h = mix(h, (pa << 16) | pb);
    h = fmix(h);

    const index = this.index;
    const mask = this.mask;
    let i = h & mask;
    let slot = -1;
    for (;;) {
      const f = index[i];
      if (f < 0) break;
      if (
        this.hash[f] === h &&
        this.portA[f] === pa &&
        this.portB[f] === pb &&
        this.proto[f] === proto &&
        this.vlan[f] === vlan
      ) {
        const k = f * 4;
        const A = this.addrA, B = this.addrB;
        if (A[k + 3] === a3 && B[k + 3] === b3 && A[k] === a0 && A[k + 1] === a1 && A[k + 2] === a2 && B[k] === b0 && B[k + 1] === b1 && B[k + 2] === b2) {
          slot = f;
          break;
        }
      }
      i = (i + 1) & mask;
    }
    if (slot >= 0 && proto === Proto.Tcp && (pkt.tcpFlags & (TcpFlag.Syn | TcpFlag.Ack)) === TcpFlag.Syn && this.isReuse(slot, srcIsA, pkt.seq)) {
      // The old connection ends here; the SYN starts the new one in a fresh slot.
      this.reused++;
      this.remove(slot, 'reused');
      slot = -1;
    }

    const ts = pkt.ts;
    let dir: number;
    if (slot < 0) {
      slot = this.allocate();
      // The allocation may have evicted a flow and shifted the index: probe again for our hole.
      i = h & mask;
      while (index[i] >= 0) i = (i + 1) & mask;
      index[i] = slot;
      this.hash[slot] = h;
      const k = slot * 4;
      this.addrA[k] = a0; this.addrA[k + 1] = a1; this.addrA[k + 2] = a2; this.addrA[k + 3] = a3;
      this.addrB[k] = b0; this.addrB[k + 1] = b1; this.addrB[k + 2] = b2; this.addrB[k + 3] = b3;
      this.portA[slot] = pa;
      this.portB[slot] = pb;
      this.proto[slot] = proto;
      this.vlan[slot] = vlan;
      this.vlanOuter[slot] = pkt.vlanCount === 2 ? pkt.vlanOuter : -1;
      this.ipVersion[slot] = pkt.ipVersion;
      const senderIsOrig = this.senderOpened(pkt, portSrc, portDst);
      this.origIsA[slot] = senderIsOrig === srcIsA ? 1 : 0;
      this.origMac[slot] = senderIsOrig ? pkt.srcMac : pkt.dstMac;
      this.respMac[slot] = senderIsOrig ? pkt.dstMac : pkt.srcMac;
      const k2 = slot * 2;
      this.packets.clear(k2); this.packets.clear(k2 + 1);
      this.bytes.clear(k2); this.bytes.clear(k2 + 1);
      this.payloadBytes.clear(k2); this.payloadBytes.clear(k2 + 1);
      if (this.seqSet) {
        this.seqSet[k2] = 0; this.seqSet[k2 + 1] = 0;
      }
      this.tcpFlags[k2] = 0; this.tcpFlags[k2 + 1] = 0;
      this.first[slot] = ts;
      this.tcpState[slot] = TcpState.None;
      this.serial[slot] = this.serialNext++;
      this.device[slot] = -1;
      this.locality[slot] = 0;
      this.app[slot] = 0;
      if (++this.count > this.maxCount) this.maxCount = this.count;
      this.created++;
      this.lastNew = true;
      this.tclass[slot] = proto === Proto.Tcp ? TimeoutClass.Transitory : proto === Proto.Icmp || proto === Proto.Icmpv6 ? TimeoutClass.Transitory : TimeoutClass.Datagram;
      this.pushFront(slot);
      dir = senderIsOrig ? 0 : 1;
    } else {
      this.lastNew = false;
      dir = srcIsA === (this.origIsA[slot] === 1) ? 0 : 1;
    }
    this.lastDir = dir;
    // Link types that carry only the sender's MAC (Linux cooked) learn the far side's on its reply.
    this.lastMacLearned = false;
    if (pkt.srcMac >= 0) {
      const macs = dir === 0 ? this.origMac : this.respMac;
      if (macs[slot] < 0) {
        macs[slot] = pkt.srcMac;
        this.lastMacLearned = !this.lastNew;
      }
    }
    const kd = slot * 2 + dir;
    this.packets.add(kd, 1);
    this.bytes.add(kd, pkt.wirelen);
    // With sequence accounting, TCP payload is counted by sequence() as it advances: a
    // retransmitted segment's bytes are not counted twice.
    if (!(this.seqSet && proto === Proto.Tcp)) this.payloadBytes.add(kd, pkt.payloadLen + pkt.payloadMissing);
    this.last[slot] = ts;
    if (proto === Proto.Tcp) {
      if (dir === 0 && (pkt.tcpFlags & (TcpFlag.Syn | TcpFlag.Ack)) === TcpFlag.Syn) this.isn[slot] = pkt.seq;
      this.tcpFlags[kd] |= pkt.tcpFlags;
      this.tcpTransition(slot, dir, pkt.tcpFlags, pkt.payloadLen);
      if (this.seqSet) this.sequence(kd, pkt);
    }
    this.touch(slot);
    return slot;
  }

  /**
   * RFC 9293 §3.4: each payload byte takes one sequence number, SYN and FIN one each. The span
   * from the first sequence number seen to the highest end seen is the payload sent, counted
   * once however many segments were filtered out, retransmitted or lost by the capture.
   */
  private sequence(kd: number, pkt: Packet): void {
    const set = this.seqSet!, high = this.seqHigh!, span = this.seqSpan!;
    const syn = pkt.tcpFlags & 0x02 ? 1 : 0;
    const len = pkt.payloadLen + pkt.payloadMissing;
    const start = (pkt.seq + syn) >>> 0;
    const end = (start + len) >>> 0;
    if (!set[kd]) {
      set[kd] = 1;
      high[kd] = end;
      span.set(kd, len);
      this.payloadBytes.add(kd, len);
      return;
    }
    const ahead = (end - high[kd]) | 0;
    // Nothing new (a retransmission, a reordered old segment), or beyond a quarter of the
    // sequence space ahead: not this stream (a reused port, garbage).
    if (ahead <= 0 || ahead > 0x40000000) return;
    high[kd] = end;
    span.add(kd, ahead);
    // The segment's new bytes were seen; whatever lies between the last high mark and them was
    // not (filtered out by the kernel, or lost by the capture): counted with estimated headers.
    const seen = Math.min(len, ahead);
    this.payloadBytes.add(kd, seen);
    const unseen = ahead - seen;
    if (unseen <= 0) return;
    const segments = Math.ceil(unseen / SEGMENT_PAYLOAD);
    this.payloadBytes.add(kd, unseen);
    this.bytes.add(kd, unseen + segments * SEGMENT_HEADERS);
    this.packets.add(kd, segments);
  }

  /**
   * Whether a SYN (without ACK) on an existing TCP flow opens a new connection on the same ports,
   * as Zeek decides (TCPSessionAdapter::IsReuse): the old one is closed or reset; or its
   * originator's SYN carried another initial sequence number (a device that rebooted and
   * reconnected from the same port: RFC 9293 §3.4.1 makes ISNs differ); or the flow was past its
   * handshake without one seen from this sender. A retransmitted SYN (same ISN) is not a reuse.
   */
  private isReuse(slot: number, srcIsA: boolean, seq: number): boolean {
    const st = this.tcpState[slot];
    if (st === TcpState.Closed || st === TcpState.Reset) return true;
    const fromOrig = srcIsA === (this.origIsA[slot] === 1);
    if (fromOrig && this.tcpFlags[slot * 2] & TcpFlag.Syn) return (seq >>> 0) !== this.isn[slot];
    return st === TcpState.Established || st === TcpState.Midstream || st === TcpState.Closing;
  }

  /** Who opened the flow: the sender of this first packet, unless the packet says otherwise. */
  private senderOpened(pkt: Packet, sp: number, dp: number): boolean {
    switch (pkt.ipProto) {
      case Proto.Tcp: {
        const f = pkt.tcpFlags;
        if (f & TcpFlag.Syn) return !(f & TcpFlag.Ack); // SYN+ACK comes from the responder
        break;
      }
      case Proto.Icmp:
        return !(pkt.icmpType === 0 || pkt.icmpType === 14 || pkt.icmpType === 16 || pkt.icmpType === 18);
      case Proto.Icmpv6:
        return pkt.icmpType !== 129;
    }
    // Mid-stream: the service port side is the responder.
    const sSvc = isServicePort(sp);
    const dSvc = isServicePort(dp);
    if (sSvc && !dSvc) return false;
    return true;
  }

  /** A compact TCP state machine (RFC 9293 §3.3.2), enough to tell handshakes, data and teardown. */
  private tcpTransition(slot: number, dir: number, flags: number, payload: number): void {
    const st = this.tcpState[slot];
    let next = st;
    if (flags & TcpFlag.Rst) next = TcpState.Reset;
    else if (st === TcpState.None) {
      if (flags & TcpFlag.Syn) next = flags & TcpFlag.Ack ? TcpState.SynReceived : TcpState.SynSent;
      else next = TcpState.Midstream;
    } else if (st === TcpState.SynSent && dir === 1 && (flags & (TcpFlag.Syn | TcpFlag.Ack)) === (TcpFlag.Syn | TcpFlag.Ack)) {
      next = TcpState.SynReceived;
    } else if (st === TcpState.SynReceived && dir === 0 && flags & TcpFlag.Ack) {
      next = TcpState.Established;
    } else if (st === TcpState.Midstream && this.packets.get(slot * 2) > 0 && this.packets.get(slot * 2 + 1) > 0 && payload > 0) {
      next = TcpState.Established;
    }
    if (flags & TcpFlag.Fin && next !== TcpState.Reset) {
      const both = this.tcpFlags[slot * 2] & this.tcpFlags[slot * 2 + 1] & TcpFlag.Fin;
      next = both ? TcpState.Closed : TcpState.Closing;
    }
    if (next !== st) {
      this.tcpState[slot] = next;
      const cls =
        next === TcpState.Closed || next === TcpState.Reset
          ? TimeoutClass.Closed
          : next === TcpState.Established || next === TcpState.Midstream
            ? TimeoutClass.Established
            : TimeoutClass.Transitory;
      if (cls !== this.tclass[slot]) {
        this.unlink(slot);
        this.tclass[slot] = cls;
        this.pushFront(slot);
      }
    }
  }

  /** Ends every flow idle past its class timeout at time `now`. */
  expire(now: number): void {
    for (let c = 0; c < 4; c++) {
      const limit = now - this.timeoutOf[c];
      let t = this.tails[c];
      while (t >= 0 && this.last[t] < limit) {
        this.expired++;
        this.remove(t, 'idle');
        t = this.tails[c];
      }
    }
  }

  /** Ends every flow (end of a capture file). */
  flush(reason: EndReason = 'end'): void {
    for (let c = 0; c < 4; c++) {
      while (this.tails[c] >= 0) this.remove(this.tails[c], reason);
    }
  }

  /** Slots of the live flows, in no particular order. */
  *slots(): IterableIterator<number> {
    for (let c = 0; c < 4; c++) {
      for (let s = this.heads[c]; s >= 0; s = this.next[s]) yield s;
    }
  }

  private allocate(): number {
    if (this.freeTop === 0) {
      // Under pressure: evict the least recently seen flow of all classes.
      let victim = -1;
      for (let c = 0; c < 4; c++) {
        const t = this.tails[c];
        if (t >= 0 && (victim < 0 || this.last[t] < this.last[victim])) victim = t;
      }
      this.evicted++;
      this.remove(victim, 'evicted');
    }
    return this.freeList[--this.freeTop];
  }

  private remove(slot: number, reason: EndReason): void {
    this.onEnd(slot, reason);
    this.unlink(slot);
    // Backward-shift deletion from the index.
    const index = this.index;
    const mask = this.mask;
    let i = this.hash[slot] & mask;
    while (index[i] !== slot) i = (i + 1) & mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const f = index[j];
      if (f < 0) break;
      const home = this.hash[f] & mask;
      // Move f back into the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        index[i] = f;
        i = j;
      }
    }
    index[i] = -1;
    this.freeList[this.freeTop++] = slot;
    this.count--;
  }

  private pushFront(slot: number): void {
    const c = this.tclass[slot];
    const h = this.heads[c];
    this.prev[slot] = -1;
    this.next[slot] = h;
    if (h >= 0) this.prev[h] = slot;
    else this.tails[c] = slot;
    this.heads[c] = slot;
  }

  private unlink(slot: number): void {
    const c = this.tclass[slot];
    const p = this.prev[slot];
    const n = this.next[slot];
    if (p >= 0) this.next[p] = n;
    else this.heads[c] = n;
    if (n >= 0) this.prev[n] = p;
    else this.tails[c] = p;
  }

  private touch(slot: number): void {
    if (this.heads[this.tclass[slot]] === slot) return;
    this.unlink(slot);
    this.pushFront(slot);
  }

  /** Endpoint words of the originator (side 0) or responder (side 1), for reports. */
  endpoint(slot: number, side: 0 | 1): { words: [number, number, number, number]; port: number } {
    const useA = (this.origIsA[slot] === 1) === (side === 0);
    const arr = useA ? this.addrA : this.addrB;
    const k = slot * 4;
    return { words: [arr[k], arr[k + 1], arr[k + 2], arr[k + 3]], port: useA ? this.portA[slot] : this.portB[slot] };
  }
}

// MurmurHash3 32-bit body and finaliser steps.
function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

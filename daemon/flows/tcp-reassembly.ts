/**
 * In-order reassembly of the first bytes of each TCP stream direction, for the protocol stage.
 *
 * In-order segments are handed over straight from the capture buffer (no copy); only segments that
 * arrive ahead of a hole are copied and held, within per-direction and global byte budgets.
 * Retransmissions and overlaps keep the bytes that arrived first (the "first wins" policy of BSD
 * stacks and Suricata's default). A stream seen without its SYN starts at its first segment
 * (mid-stream). A hole that cannot be filled, because its data was acknowledged by the peer
 * without being captured or because the held segments exceed their budget, is skipped and
 * reported to the consumer as a gap. Sequence numbers compare modulo 2^32 (RFC 9293 §3.4).
 *
 * Each direction stops at `depth` delivered bytes unless the consumer asks for the whole stream
 * (MQTT sessions are followed for as long as they last).
 */
import { TcpFlag } from '../decode/packet.js';

export interface StreamConsumer {
  /** Contiguous in-order bytes of one direction (dir 0: originator to responder). */
  data(slot: number, dir: number, buf: Buffer, off: number, len: number): void;
  /** `len` bytes of the stream are missing before the next data. */
  gap(slot: number, dir: number, len: number): void;
}

export interface ReassemblyOptions {
  /** Bytes per direction handed over before it stops (0: never stop). */
  depth: number;
  /** Bytes held out of order, all flows together. */
  maxHeldBytes: number;
  /** Segments held out of order per direction. */
  maxHeldSegments: number;
}

export const DEFAULT_REASSEMBLY: ReassemblyOptions = { depth: 16 * 1024, maxHeldBytes: 8 * 1024 * 1024, maxHeldSegments: 64 };

const enum St {
  Unseen = 0,
  Active = 1,
  /** Depth reached or the consumer lost interest: nothing more is delivered. */
  Done = 2,
}

interface Held {
  seq: number;
  data: Buffer;
}

export class ReassemblyStats {
  segments = 0;
  delivered = 0;
  retransmitted = 0;
  outOfOrder = 0;
  gaps = 0;
  gapBytes = 0;
  midstream = 0;
  /**
   * Holes given up because the held segments went past their budget (per direction or all flows
   * together): the segments ahead of the hole are then handed over and the hole becomes a gap.
   */
  overBudget = 0;
  /** Out-of-order segments not held because one was already held at that sequence number. */
  duplicateHeld = 0;
}

export class TcpReassembler {
  private readonly state: Uint8Array;
  private readonly nextSeq: Uint32Array;
  /** Bytes delivered per direction, saturating at 2^32 - 1: only compared with the depth. */
  private readonly delivered: Uint32Array;
  private readonly unlimited: Uint8Array;
  /** Highest sequence number the peer acknowledged for this direction, when hasAck is set. */
  private readonly acked: Uint32Array;
  private readonly hasAck: Uint8Array;
  private readonly held = new Map<number, Held[]>();
  private heldBytes = 0;
  readonly stats = new ReassemblyStats();

  constructor(
    capacity: number,
    private readonly consumer: StreamConsumer,
    private readonly opts: ReassemblyOptions = DEFAULT_REASSEMBLY,
  ) {
    this.state = new Uint8Array(capacity * 2);
    this.nextSeq = new Uint32Array(capacity * 2);
    this.delivered = new Uint32Array(capacity * 2);
    this.unlimited = new Uint8Array(capacity * 2);
    this.acked = new Uint32Array(capacity * 2);
    this.hasAck = new Uint8Array(capacity * 2);
  }

  /** The flow ended: hand over what is still held, across its holes, then forget the slot. */
  finish(slot: number): void {
    for (let k = slot * 2; k < slot * 2 + 2; k++) {
      const list = this.held.get(k);
      while (list && list.length > 0 && this.state[k] === St.Active) {
        this.skipGap(k, slot, k & 1, (list[0].seq - this.nextSeq[k]) >>> 0);
        this.drain(k, slot, k & 1);
      }
    }
    this.reset(slot);
  }

  /** Forgets a slot's streams: call when the flow table ends or reuses it. */
  reset(slot: number): void {
    for (let k = slot * 2; k < slot * 2 + 2; k++) {
      this.state[k] = St.Unseen;
      this.delivered[k] = 0;
      this.unlimited[k] = 0;
      this.hasAck[k] = 0;
      this.drop(k);
    }
  }

  /** Follow this direction to its end instead of stopping at the depth. */
  follow(slot: number, dir: number): void {
    this.unlimited[slot * 2 + dir] = 1;
  }

  /** Stop delivering this direction (the protocol stage has what it needs). */
  stop(slot: number, dir: number): void {
    const k = slot * 2 + dir;
    this.state[k] = St.Done;
    this.drop(k);
  }

  isDone(slot: number, dir: number): boolean {
    return this.state[slot * 2 + dir] === St.Done;
  }

  /**
   * One TCP segment of direction `dir`. `ackValid` with `ack` acknowledges the other direction,
   * which tells us when a hole there will never be filled.
   */
  segment(slot: number, dir: number, flags: number, seq: number, ack: number, buf: Buffer, off: number, len: number, missing: number): void {
    const k = slot * 2 + dir;
    if (flags & TcpFlag.Ack) this.peerAck(slot * 2 + (dir ^ 1), ack);
    const st = this.state[k];
    if (st === St.Done) return;
    if (st === St.Unseen) {
      if (flags & TcpFlag.Syn) this.nextSeq[k] = (seq + 1) >>> 0;
      else {
        if (len === 0) return; // a bare ACK does not tell where the data starts
        this.nextSeq[k] = seq;
        this.stats.midstream++;
      }
      this.state[k] = St.Active;
    }
    if (len === 0 && missing === 0) return;
    this.stats.segments++;
    const start = flags & TcpFlag.Syn ? (seq + 1) >>> 0 : seq;
    let diff = (start - this.nextSeq[k]) | 0;
    if (diff > 0 && this.hasAck[k] && ((this.acked[k] - start) | 0) >= 0) {
      // The peer had already acknowledged past the hole: its bytes were never captured.
      this.skipGap(k, slot, dir, diff);
      diff = 0;
    }
    if (diff > 0) {
      this.hold(k, slot, dir, start, buf, off, len);
      return;
    }
    if (diff + len + missing <= 0) {
      this.stats.retransmitted++;
      return;
    }
    // Overlap with delivered bytes: keep what we delivered, take the new tail.
    const skip = -diff;
    if (skip < len) this.deliver(k, slot, dir, buf, off + skip, len - skip);
    if (missing > 0 && this.state[k] !== St.Done) {
      // The snap length cut this segment: its tail is a hole we can never fill.
      const lost = skip > len ? missing - (skip - len) : missing;
      if (lost > 0) this.skipGap(k, slot, dir, lost);
    }
    this.drain(k, slot, dir);
  }

  private deliver(k: number, slot: number, dir: number, buf: Buffer, off: number, len: number): void {
    if (this.state[k] === St.Done) return;
    const depth = this.opts.depth;
    let n = len;
    if (depth > 0 && !this.unlimited[k]) {
      const room = depth - this.delivered[k];
      if (n > room) n = room;
    }
    this.nextSeq[k] = (this.nextSeq[k] + len) >>> 0;
    if (n > 0) {
      this.delivered[k] = Math.min(this.delivered[k] + n, 0xffffffff);
      this.stats.delivered += n;
      this.consumer.data(slot, dir, buf, off, n);
    }
    if (depth > 0 && !this.unlimited[k] && this.delivered[k] >= depth && this.state[k] !== St.Done) {
      this.state[k] = St.Done;
      this.drop(k);
    }
  }

  private skipGap(k: number, slot: number, dir: number, len: number): void {
    this.stats.gaps++;
    this.stats.gapBytes += len;
    this.nextSeq[k] = (this.nextSeq[k] + len) >>> 0;
    this.consumer.gap(slot, dir, len);
  }

  private hold(k: number, slot: number, dir: number, seq: number, buf: Buffer, off: number, len: number): void {
    this.stats.outOfOrder++;
    let list = this.held.get(k);
    if (!list) {
      list = [];
      this.held.set(k, list);
    }
    // Keep the list sorted by sequence; a segment already held at that sequence wins.
    let i = list.length;
    while (i > 0 && ((list[i - 1].seq - seq) | 0) > 0) i--;
    if (i > 0 && list[i - 1].seq === seq) {
      this.stats.duplicateHeld++;
      return;
    }
    if (len > 0) {
      list.splice(i, 0, { seq, data: Buffer.from(buf.subarray(off, off + len)) });
      this.heldBytes += len;
    }
    if (list.length > this.opts.maxHeldSegments || this.heldBytes > this.opts.maxHeldBytes) {
      // Out of budget: give up on the hole and carry on from the first held segment.
      this.stats.overBudget++;
      const first = list[0];
      this.skipGap(k, slot, dir, (first.seq - this.nextSeq[k]) >>> 0);
      this.drain(k, slot, dir);
    }
  }

  private drain(k: number, slot: number, dir: number): void {
    const list = this.held.get(k);
    if (!list) return;
    while (list.length > 0 && this.state[k] !== St.Done) {
      const h = list[0];
      const diff = (h.seq - this.nextSeq[k]) | 0;
      if (diff > 0) break;
      list.shift();
      this.heldBytes -= h.data.length;
      const skip = -diff;
      if (skip < h.data.length) this.deliver(k, slot, dir, h.data, skip, h.data.length - skip);
    }
    if (list.length === 0 || this.state[k] === St.Done) this.drop(k);
  }

  /** The peer acknowledged up to `ack`: a hole before it will never be filled from the capture. */
  private peerAck(k: number, ack: number): void {
    if (!this.hasAck[k] || ((ack - this.acked[k]) | 0) > 0) {
      this.acked[k] = ack;
      this.hasAck[k] = 1;
    }
    if (this.state[k] !== St.Active) return;
    const ahead = (ack - this.nextSeq[k]) | 0;
    if (ahead <= 0) return;
    const list = this.held.get(k);
    const slot = k >> 1;
    const dir = k & 1;
    if (!list || list.length === 0) {
      // Acked bytes we never saw, with nothing held: the capture lost them. Only treat it as a
      // gap once data after it arrives (segment() will see diff > 0 and hold it), so a FIN or a
      // bare ACK does not create phantom gaps.
      return;
    }
    const first = list[0];
    const hole = (first.seq - this.nextSeq[k]) | 0;
    if (hole > 0 && ((ack - first.seq) | 0) >= 0) {
      this.skipGap(k, slot, dir, hole);
      this.drain(k, slot, dir);
    }
  }

  private drop(k: number): void {
    const list = this.held.get(k);
    if (!list) return;
    for (const h of list) this.heldBytes -= h.data.length;
    this.held.delete(k);
  }

  /** Bytes currently held out of order (for stats and tests of the budget). */
  get heldTotal(): number {
    return this.heldBytes;
  }

  /** The bound of heldTotal (give or take the one segment that goes past it before it is given up). */
  get maxHeldBytes(): number {
    return this.opts.maxHeldBytes;
  }
}

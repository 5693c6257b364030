/**
 * The protocol stage: recognises each flow's application protocol from its first bytes (and, for
 * UDP, its ports), hands the flow's reassembled TCP bytes or UDP datagrams to that protocol's
 * parser, and turns what the parsers report into events and flow facts. Parser objects exist only
 * for flows that carry a recognised protocol; everything else is dropped after one look.
 */
import { formatAddr } from '../decode/address.js';
import type { FlowTable } from '../flows/flow-table.js';
import type { StreamConsumer, TcpReassembler } from '../flows/tcp-reassembly.js';
import { communityId } from './community-id.js';
import type { EventSink, ProtocolEvent } from './events.js';
import type { DatagramParser, EventFields, FlowContext, StreamParser } from './parser-types.js';
import { detectStream, detectDatagram } from './detect.js';
import { NameMap } from './dns/name-map.js';
import type { Dhcp4Message } from './dhcp/parser.js';
import type { FlowFacts } from './registry.js';

/** Look at this many bytes of a TCP direction before giving up on recognising it. */
const DETECT_BYTES = 2048;

interface FlowProto {
  ctx: Ctx;
  stream: StreamParser | null;
  datagram: DatagramParser | null;
  /** Bytes seen while not yet recognised, per direction. */
  looked: [number, number];
  /** No parser wants this flow. */
  none: boolean;
}

/**
 * The one state every flow that no parser wants shares: its own objects are dropped, so that a
 * table of 100,000 unrecognised flows holds no per-flow state here.
 */
const NONE: FlowProto = Object.freeze({ ctx: null as unknown as Ctx, stream: null, datagram: null, looked: [0, 0] as [number, number], none: true }) as FlowProto;

class Ctx implements FlowContext {
  private cid: string | null = null;
  constructor(
    private readonly stage: ProtocolStage,
    readonly slot: number,
    readonly origPort: number,
    readonly respPort: number,
  ) {}
  emit(type: string, fields: EventFields, dir: number): void {
    this.stage.emit(this, type, fields, dir);
  }
  followAll(): void {
    this.stage.reassembler?.follow(this.slot, 0);
    this.stage.reassembler?.follow(this.slot, 1);
  }
  stop(): void {
    this.stage.reassembler?.stop(this.slot, 0);
    this.stage.reassembler?.stop(this.slot, 1);
    this.stage.stopDatagrams(this.slot);
  }
  /** IP address of the side that sends in direction `dir`. */
  ip(dir: number): string {
    const e = this.stage.flowTable.endpoint(this.slot, dir === 0 ? 0 : 1);
    return formatAddr(...e.words);
  }
  answered(clientDir: number, name: string, address: string): void {
    this.stage.names.set(this.ip(clientDir), address, name);
  }
  expect(address: string, port: number, app: 'rtp' | 'rtcp'): void {
    this.stage.expectPort(address, port, app);
  }
  expectedApp(): 'rtp' | 'rtcp' | null {
    const f = this.stage.flowTable;
    for (const side of [0, 1] as const) {
      const e = f.endpoint(this.slot, side);
      const app = this.stage.expected.get(`${formatAddr(...e.words)}|${e.port}`);
      if (app) return app;
    }
    return null;
  }
  senderMac(dir: number): number {
    void dir; // the packet being parsed is the one sent in `dir`
    return this.stage.mac;
  }
  dhcpClient(m: Dhcp4Message): void {
    this.stage.dhcpClients?.(m);
  }
  communityId(f: FlowTable): string {
    if (this.cid === null) {
      const o = f.endpoint(this.slot, 0);
      const r = f.endpoint(this.slot, 1);
      this.cid = communityId(f.proto[this.slot], formatAddr(...o.words), formatAddr(...r.words), o.port, r.port, this.stage.communityIdSeed);
    }
    return this.cid;
  }
}

/** RTP/RTCP ports announced by RTSP SETUP replies kept at once (two per stream). */
export const EXPECTED_PORTS = 10_000;

export interface FlowAppFacts {
  app: string | null;
  encrypted: boolean | null;
  facts: FlowFacts | null;
}

export class ProtocolStage implements StreamConsumer {
  /** Per flow-table slot (an array: a Map of 100,000 flows costs 3.7 MB of hash table alone). */
  private flowsBySlot: (FlowProto | undefined)[] | null = null;
  /** Names LAN devices resolved, by (device address, answered address). */
  readonly names = new NameMap();
  /** Ports an RTSP session announced for RTP/RTCP, by "address|port" (at most EXPECTED_PORTS). */
  readonly expected = new Map<string, 'rtp' | 'rtcp'>();
  /** Announced ports forgotten for the bound. */
  expectedEvicted = 0;
  /** DHCP client messages and ACKs, for the device inventory. */
  dhcpClients: ((m: Dhcp4Message) => void) | null = null;
  reassembler: TcpReassembler | null = null;
  /** Told of every protocol message (the verdict stage judges running flows on them). */
  noticed: ((slot: number, type: string) => void) | null = null;
  /** Packet number (1-based) and time of the packet being processed, set by the engine. */
  frame = 0;
  ts = 0;
  /** Ethernet source of that packet (48-bit number), -1 when its link has none. */
  mac = -1;
  events = 0;

  constructor(
    private readonly table: () => FlowTable,
    private readonly sink: EventSink | null,
    readonly communityIdSeed = 0,
  ) {}

  /** An RTSP session announced a port for RTP or RTCP: its flow, when it comes, is that. */
  expectPort(address: string, port: number, app: 'rtp' | 'rtcp'): void {
    const x = this.expected;
    const key = `${address}|${port}`;
    x.delete(key);
    // The oldest announcement goes first (Map order), counted: an RTSP flood must not grow it.
    if (x.size >= EXPECTED_PORTS) {
      x.delete(x.keys().next().value as string);
      this.expectedEvicted++;
    }
    x.set(key, app);
  }

  get flowTable(): FlowTable {
    return this.table();
  }

  private get flows(): (FlowProto | undefined)[] {
    return (this.flowsBySlot ??= new Array<FlowProto | undefined>(this.table().capacity).fill(undefined));
  }

  private state(slot: number): FlowProto {
    let s = this.flows[slot];
    if (!s) {
      const f = this.table();
      const aIsOrig = f.origIsA[slot] === 1;
      const ctx = new Ctx(this, slot, aIsOrig ? f.portA[slot] : f.portB[slot], aIsOrig ? f.portB[slot] : f.portA[slot]);
      s = { ctx, stream: null, datagram: null, looked: [0, 0], none: false };
      this.flows[slot] = s;
    }
    return s;
  }

  data(slot: number, dir: number, buf: Buffer, off: number, len: number): void {
    const s = this.state(slot);
    if (s.none) return;
    if (!s.stream) {
      s.stream = detectStream(s.ctx, dir, buf, off, len);
      if (!s.stream) {
        s.looked[dir] += len;
        if (s.looked[dir] >= DETECT_BYTES || s.looked[dir ^ 1] >= DETECT_BYTES || (s.looked[0] > 0 && s.looked[1] > 0)) {
          s.ctx.stop();
          this.flows[slot] = NONE;
        }
        return;
      }
    }
    s.stream.data(dir, buf, off, len);
  }

  gap(slot: number, dir: number, len: number): void {
    const s = this.flows[slot];
    s?.stream?.gap(dir, len);
  }

  /** One UDP datagram's payload. */
  datagram(slot: number, dir: number, buf: Buffer, off: number, len: number): void {
    let s = this.flows[slot];
    if (s?.none) return;
    if (!s) s = this.state(slot);
    if (!s.datagram) {
      s.datagram = detectDatagram(s.ctx, dir, buf, off, len);
      if (!s.datagram) {
        // Datagram protocols show themselves in their first packets or not at all.
        if (++s.looked[dir] >= 4) this.flows[slot] = NONE;
        return;
      }
    }
    s.datagram.datagram(dir, buf, off, len);
  }

  stopDatagrams(slot: number): void {
    const s = this.flows[slot];
    if (s && s.datagram) s.none = true;
  }

  /** What a running flow is so far (the facts object is live: copy what must be kept). */
  peek(slot: number): FlowAppFacts {
    const s = this.flows[slot];
    const p = s?.stream ?? s?.datagram;
    if (!p || p.app === null) return { app: null, encrypted: null, facts: null };
    return { app: p.app, encrypted: p.encrypted, facts: p.facts() };
  }

  /** The flow ended: what it was, and forget it. */
  end(slot: number): FlowAppFacts {
    const facts = this.peek(slot);
    this.flows[slot] = undefined;
    return facts;
  }

  emit(ctx: Ctx, type: string, fields: EventFields, dir: number): void {
    this.events++;
    this.noticed?.(ctx.slot, type);
    if (!this.sink) return;
    if (typeof fields === 'function') fields = fields();
    const f = this.table();
    const a = f.endpoint(ctx.slot, dir === 0 ? 0 : 1);
    const b = f.endpoint(ctx.slot, dir === 0 ? 1 : 0);
    const ev: ProtocolEvent = {
      type,
      ts: new Date(this.ts * 1000).toISOString(),
      frame: this.frame,
      flow: f.serial[ctx.slot],
      communityId: ctx.communityId(f),
      src: { ip: formatAddr(...a.words), port: a.port },
      dst: { ip: formatAddr(...b.words), port: b.port },
      // As in Suricata's EVE: the protocol's fields under the event type's name.
      [type]: fields,
    };
    this.sink(ev);
  }
}

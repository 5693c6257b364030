/** What a protocol module plugs into the protocol stage with. */
import type { Dhcp4Message } from './dhcp/parser.js';
// Types only: the registry names every protocol's facts, the parsers report theirs under it.
import type { FlowFacts } from './registry.js';

export type EventFields = Record<string, unknown> | (() => Record<string, unknown>);

/** Given by the stage to a flow's parser: how it reports and steers reassembly. */
export interface FlowContext {
  /**
   * Reports a protocol event for the current packet; dir 0 is originator to responder. Fields
   * may be given as a function, called only when someone listens (`--events`): building them is
   * then skipped on the hot path.
   */
  emit(type: string, fields: EventFields, dir: number): void;
  /** Keep reassembling this flow past the default depth (for session protocols like MQTT). */
  followAll(): void;
  /** Nothing more is needed from this flow's payload. */
  stop(): void;
  /** The flow's ports, originator first. */
  readonly origPort: number;
  readonly respPort: number;
  /** IP address of the side sending in direction `dir`. */
  ip(dir: number): string;
  /** DNS: the client on side `clientDir` learnt that `name` is at `address`. */
  answered(clientDir: number, name: string, address: string): void;
  /** RTSP: media for this session will use `address`:`port`. */
  expect(address: string, port: number, app: 'rtp' | 'rtcp'): void;
  /** Whether an RTSP session announced one of this flow's endpoints. */
  expectedApp(): 'rtp' | 'rtcp' | null;
  /**
   * The link-layer source of the packet being parsed (sent in direction `dir`), its 48-bit MAC
   * as a number, -1 when the link carries none: on a flow several devices share (broadcast and
   * multicast discovery) it tells which one sent the message.
   */
  senderMac(dir: number): number;
  /** DHCP: a client announced itself (any client message) or was given an address (ACK), for the inventory. */
  dhcpClient(m: Dhcp4Message): void;
}

/** A TCP application parser: reassembled bytes in, events and facts out. */
export interface StreamParser {
  /** null while the session is not sure the flow is its protocol (a midstream candidate). */
  readonly app: string | null;
  readonly encrypted: boolean;
  data(dir: number, buf: Buffer, off: number, len: number): void;
  gap(dir: number, len: number): void;
  /** What the flow record should say about this flow's application layer: its own key of FlowFacts. */
  facts(): FlowFacts | null;
}

/** A UDP application parser: one datagram at a time. */
export interface DatagramParser {
  /** null while the parser is not sure the flow is its protocol (RTP needs two packets). */
  readonly app: string | null;
  readonly encrypted: boolean;
  datagram(dir: number, buf: Buffer, off: number, len: number): void;
  facts(): FlowFacts | null;
}

/**
 * Bytes of one direction that a parser could not use yet (a message split across segments).
 * Holds at most `limit` bytes: a message larger than that is skipped, not buffered.
 */
export class PendingBytes {
  private buf: Buffer | null = null;
  length = 0;

  constructor(readonly limit: number) {}

  /** Returns a contiguous view of the pending bytes followed by the new ones. */
  join(data: Buffer, off: number, len: number): { buf: Buffer; off: number; end: number } {
    if (this.length === 0) return { buf: data, off, end: off + len };
    const need = this.length + len;
    if (!this.buf || this.buf.length < need) {
      const bigger = Buffer.allocUnsafe(Math.max(need, (this.buf?.length ?? 0) * 2, 256));
      this.buf?.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    data.copy(this.buf, this.length, off, off + len);
    const view = { buf: this.buf, off: 0, end: need };
    this.length = 0;
    return view;
  }

  /** Keeps buf[off, end) for the next call; false when it would exceed the limit. */
  keep(buf: Buffer, off: number, end: number): boolean {
    const n = end - off;
    if (n > this.limit) return false;
    if (!this.buf || this.buf.length < n) this.buf = Buffer.allocUnsafe(Math.max(n, 256));
    // The source may be this.buf itself (the joined view): copy handles the overlap.
    buf.copy(this.buf, 0, off, end);
    this.length = n;
    return true;
  }

  clear(): void {
    this.length = 0;
  }
}

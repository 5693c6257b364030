/**
 * `/api/live`: changes pushed to dashboards as they happen. Messages are JSON objects with a
 * `type` (the LiveMessage union of api-types.ts): `hello` on connect, `alert` (the full alert),
 * `device` (the device record), `stats` (once a second), `resync` (the client missed too much:
 * fetch the lists again), `replay` and `plan`. Changes carry a sequence number `seq`; a client
 * that reconnects with `?since=SEQ` gets what it missed from a bounded backlog, or `resync` when
 * that is gone.
 *
 * Memory is bounded for the whole hub, not per client only (issue 16, finding 4: 400 clients that
 * never read exhausted a 160 MB heap in 6 s):
 * - clients are capped overall and per address; past a cap a client is refused with the reason
 *   (`admit`, for an HTTP 503 at the upgrade, and again in `add` with close code 1013);
 * - each message is serialised once, into one buffer that every client's queue shares;
 * - the bytes queued on all sockets together have a budget: past it, the clients with the most
 *   queued are dropped first, with close code 1013 and "too slow: N bytes queued". A dropped
 *   client reconnects and resyncs; stats are skipped while a client lags.
 */
import type { WebSocket } from 'ws';
import type { LiveMessage } from './api-types.js';

/** Omit over each member of a union (plain Omit would merge them into one). */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Change = Extract<LiveMessage, { type: 'alert' | 'device' | 'replay' | 'plan' }>;
/**
 * What the daemon publishes: a change, numbered by the hub. A `device` message from a dashboard
 * edit (Daemon.updateDevice) does not say `new` yet, hence the one optional field.
 */
export type LiveChange = OmitEach<Change, 'seq'>;
export type LiveStats = Extract<LiveMessage, { type: 'stats' }>;

export interface LiveLimits {
  /** Clients at once, all addresses together. */
  maxClients: number;
  /** Clients at once from one address (a household has a few browsers; a device must not take all). */
  maxPerAddress: number;
  /** Bytes queued on all sockets together before the slowest clients are dropped. */
  maxQueuedBytes: number;
  /** Bytes queued on one socket before it is dropped, whatever the total. */
  maxClientBytes: number;
  /** Bytes queued on one socket past which stats are skipped for it. */
  softClientBytes: number;
  /** How long a dropped client has to read its close frame before its socket is cut. */
  closeGraceMs: number;
}

export const DEFAULT_LIMITS: LiveLimits = {
  maxClients: 256,
  maxPerAddress: 16,
  maxQueuedBytes: 16 * 1024 * 1024,
  maxClientBytes: 4 * 1024 * 1024,
  softClientBytes: 256 * 1024,
  closeGraceMs: 2000,
};

/** Sequenced messages kept for clients that reconnect. */
const BACKLOG = 1000;
/** RFC 6455 §7.4.1 registry: 1013 "try again later" (the client reconnects), 1008 policy. */
export const CLOSE_TRY_LATER = 1013;

export type Admission = { ok: true } | { ok: false; status: 503; code: number; reason: string };

interface Client {
  address: string;
}

/** The client's address as ws keeps it (for `add` called without one), IPv4-mapped unwrapped. */
function addressOf(ws: WebSocket): string {
  const raw = (ws as unknown as { _socket?: { remoteAddress?: string } })._socket?.remoteAddress ?? '?';
  return raw.replace(/^::ffff:(?=\d+\.)/, '');
}

export class LiveHub {
  readonly limits: LiveLimits;
  private readonly clients = new Map<WebSocket, Client>();
  private readonly perAddress = new Map<string, number>();
  /** Dropped clients whose socket still holds its queue until cut: counted in the budget. */
  private readonly closing = new Set<WebSocket>();
  private readonly backlog: { seq: number; data: Buffer }[] = [];
  private seq = 0;
  /** Clients dropped for being too slow (their own limit or the shared budget). */
  dropped = 0;
  /** Stats messages skipped for lagging clients. */
  skipped = 0;
  /** Clients refused at a cap. */
  refused = 0;

  constructor(limits: Partial<LiveLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  get size(): number {
    return this.clients.size;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Bytes queued on the sockets of connected clients. */
  get queuedBytes(): number {
    let n = 0;
    for (const ws of this.clients.keys()) n += ws.bufferedAmount;
    return n;
  }

  /** Bytes still held by dropped clients, freed when their socket is cut (closeGraceMs at most). */
  get closingBytes(): number {
    let n = 0;
    for (const ws of this.closing) n += ws.bufferedAmount;
    return n;
  }

  /**
   * Whether a client from `address` may connect now: the server asks before accepting the
   * upgrade, to answer 503 with the reason rather than open a socket only to close it.
   */
  admit(address: string): Admission {
    const a = address.replace(/^::ffff:(?=\d+\.)/, '');
    if (this.clients.size >= this.limits.maxClients) return { ok: false, status: 503, code: CLOSE_TRY_LATER, reason: `too many live clients: ${this.clients.size} connected, the most allowed` };
    const n = this.perAddress.get(a) ?? 0;
    if (n >= this.limits.maxPerAddress) return { ok: false, status: 503, code: CLOSE_TRY_LATER, reason: `too many live clients from ${a}: ${n} connected, the most allowed` };
    return { ok: true };
  }

  /** A new client; `since`: the last sequence number it saw before a reconnect. */
  add(ws: WebSocket, since: number | null, hello: Record<string, unknown>, address: string = addressOf(ws)): void {
    const a = address.replace(/^::ffff:(?=\d+\.)/, '');
    const ok = this.admit(a);
    if (!ok.ok) {
      this.refused++;
      // The reason fits a close frame (123 bytes at most).
      ws.close(ok.code, ok.reason.slice(0, 123));
      setTimeout(() => ws.terminate(), this.limits.closeGraceMs).unref();
      return;
    }
    this.clients.set(ws, { address: a });
    this.perAddress.set(a, (this.perAddress.get(a) ?? 0) + 1);
    ws.once('close', () => this.remove(ws));
    ws.on('error', () => this.remove(ws));
    this.send(ws, encode({ type: 'hello', seq: this.seq, ...hello }));
    if (since === null || since === this.seq) return;
    const first = this.backlog[0]?.seq ?? this.seq + 1;
    if (since < first - 1 || since > this.seq) {
      this.send(ws, encode({ type: 'resync', seq: this.seq, reason: 'missed messages are no longer kept' }));
      return;
    }
    for (const m of this.backlog) if (m.seq > since) this.send(ws, m.data);
    this.enforceBudget();
  }

  /** A change: numbered, kept for reconnects, sent to everyone. */
  publish(msg: LiveChange): void {
    const seq = ++this.seq;
    const data = encode({ ...msg, seq } as LiveMessage);
    this.backlog.push({ seq, data });
    if (this.backlog.length > BACKLOG) this.backlog.shift();
    for (const ws of this.clients.keys()) this.send(ws, data);
    this.enforceBudget();
  }

  /** Once-a-second figures: not numbered, not kept, skipped for clients that lag. */
  broadcast(msg: LiveStats): void {
    if (this.clients.size === 0) return;
    const data = encode(msg);
    for (const ws of this.clients.keys()) {
      if (ws.bufferedAmount > this.limits.softClientBytes) {
        this.skipped++;
        continue;
      }
      this.send(ws, data);
    }
    this.enforceBudget();
  }

  closeAll(): void {
    for (const ws of this.clients.keys()) ws.close(1001, 'server stopping');
    this.clients.clear();
    this.perAddress.clear();
  }

  private send(ws: WebSocket, data: Buffer): void {
    if (ws.readyState !== 1) return;
    if (ws.bufferedAmount > this.limits.maxClientBytes) return this.drop(ws);
    // The same buffer for every client: ws frames it without copying (no mask, no compression).
    ws.send(data, { binary: false });
  }

  /**
   * Past the shared budget: the clients with the most queued go first, until it holds again.
   * Nothing more is queued on a dropped client, and what it holds is freed within closeGraceMs.
   */
  private enforceBudget(): void {
    let total = this.queuedBytes;
    if (total <= this.limits.maxQueuedBytes) return;
    const bySize = [...this.clients.keys()].sort((x, y) => y.bufferedAmount - x.bufferedAmount);
    for (const ws of bySize) {
      if (total <= this.limits.maxQueuedBytes) break;
      total -= ws.bufferedAmount;
      this.drop(ws);
    }
  }

  private drop(ws: WebSocket): void {
    const queued = ws.bufferedAmount;
    this.dropped++;
    this.remove(ws);
    this.closing.add(ws);
    // The client reconnects and resyncs; the reason comes after what is already queued.
    ws.close(CLOSE_TRY_LATER, `too slow: ${queued} bytes queued`);
    const cut = () => {
      this.closing.delete(ws);
      ws.terminate();
    };
    ws.once('close', () => this.closing.delete(ws));
    setTimeout(cut, this.limits.closeGraceMs).unref();
  }

  private remove(ws: WebSocket): void {
    const c = this.clients.get(ws);
    if (!c) return;
    this.clients.delete(ws);
    const n = (this.perAddress.get(c.address) ?? 1) - 1;
    if (n > 0) this.perAddress.set(c.address, n);
    else this.perAddress.delete(c.address);
  }
}

/** One serialisation of a message, for every client. */
function encode(msg: LiveMessage | Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify(msg));
}

/**
 * `/api/live`: changes pushed to dashboards as they happen. Messages are JSON objects with a
 * `type`: `hello` on connect, `alert` (the full alert), `device` (the device record), `stats`
 * (once a second), `resync` (the client missed too much: fetch the lists again). `alert` and
 * `device` carry a sequence number `seq`; a client that reconnects with `?since=SEQ` gets what it
 * missed from a bounded backlog, or `resync` when that is gone. A slow client never holds memory:
 * stats are skipped while its socket buffer is full, and past a hard limit it is disconnected
 * (it reconnects and resyncs).
 */
import type { WebSocket } from 'ws';

export interface LiveMessage {
  type: string;
  seq?: number;
  [k: string]: unknown;
}

/** Sequenced messages kept for clients that reconnect. */
const BACKLOG = 1000;
/** Bytes queued on one socket before stats are skipped, and before it is dropped. */
export const SOFT_LIMIT = 256 * 1024;
export const HARD_LIMIT = 4 * 1024 * 1024;

export class LiveHub {
  private readonly clients = new Set<WebSocket>();
  private readonly backlog: { seq: number; text: string }[] = [];
  private seq = 0;
  dropped = 0;
  skipped = 0;

  get size(): number {
    return this.clients.size;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** A new client; `since`: the last sequence number it saw before a reconnect. */
  add(ws: WebSocket, since: number | null, hello: Record<string, unknown>): void {
    this.clients.add(ws);
    ws.on('close', () => this.clients.delete(ws));
    ws.on('error', () => this.clients.delete(ws));
    this.send(ws, JSON.stringify({ type: 'hello', seq: this.seq, ...hello }));
    if (since === null || since === this.seq) return;
    const first = this.backlog[0]?.seq ?? this.seq + 1;
    if (since < first - 1 || since > this.seq) {
      this.send(ws, JSON.stringify({ type: 'resync', seq: this.seq, reason: 'missed messages are no longer kept' }));
      return;
    }
    for (const m of this.backlog) if (m.seq > since) this.send(ws, m.text);
  }

  /** An `alert` or `device` change: numbered, kept for reconnects, sent to everyone. */
  publish(msg: LiveMessage): void {
    const seq = ++this.seq;
    const text = JSON.stringify({ ...msg, seq });
    this.backlog.push({ seq, text });
    if (this.backlog.length > BACKLOG) this.backlog.shift();
    for (const ws of this.clients) this.send(ws, text);
  }

  /** Once-a-second figures: not numbered, not kept, skipped for clients that lag. */
  broadcast(msg: LiveMessage): void {
    if (this.clients.size === 0) return;
    const text = JSON.stringify(msg);
    for (const ws of this.clients) {
      if (ws.bufferedAmount > SOFT_LIMIT) {
        this.skipped++;
        continue;
      }
      this.send(ws, text);
    }
  }

  private send(ws: WebSocket, text: string): void {
    if (ws.readyState !== 1) return;
    if (ws.bufferedAmount > HARD_LIMIT) {
      this.dropped++;
      this.clients.delete(ws);
      // 1013: try again later (RFC 6455 §7.4.1 registry); the client reconnects and resyncs.
      ws.close(1013, 'too slow');
      setTimeout(() => ws.terminate(), 2000).unref();
      return;
    }
    ws.send(text);
  }

  closeAll(): void {
    for (const ws of this.clients) ws.close(1001, 'server stopping');
    this.clients.clear();
  }
}

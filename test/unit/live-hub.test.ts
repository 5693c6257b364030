/**
 * Issue 16, finding 4: the live hub's caps (per address, overall) with the reason a refused
 * client is given, a message serialised once for every client, and the budget of queued bytes
 * (the 1,000-client fault is test/integration/faults-websocket.test.ts). Real HTTP server, real
 * ws clients from 127.0.0.x, wired as http.ts wires the hub.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { LiveHub, type LiveLimits } from '../../daemon/server/live.js';

let server: http.Server;
let port = 0;
let hub: LiveHub;
const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
const open: WebSocket[] = [];

beforeAll(async () => {
  server = http.createServer((_req, res) => res.end());
  server.on('upgrade', (req, socket, head) => {
    // What http.ts would do with admit(): a 503 with the reason, no socket opened.
    if (new URL(req.url ?? '/', 'http://x').searchParams.has('ask')) {
      const a = hub.admit(req.socket.remoteAddress ?? '?');
      if (!a.ok) {
        socket.end(`HTTP/1.1 ${a.status} Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(a.reason)}\r\n\r\n${a.reason}`);
        return;
      }
    }
    wss.handleUpgrade(req, socket, head, (ws) => hub.add(ws, null, { version: 1 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterEach(() => {
  for (const ws of open.splice(0)) ws.terminate();
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

type Outcome = { hello: boolean; close: { code: number; reason: string } | null; status: number | null; body: string; messages: string[]; ws: WebSocket };

/** A client from `from`; resolves once it has its hello, or is closed or refused. */
function connect(from: string, ask = false): Promise<Outcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/live${ask ? '?ask' : ''}`, { localAddress: from });
    open.push(ws);
    const o: Outcome = { hello: false, close: null, status: null, body: '', messages: [], ws };
    ws.on('message', (d) => {
      const text = d.toString();
      o.messages.push(text);
      if (JSON.parse(text).type === 'hello') {
        o.hello = true;
        resolve(o);
      }
    });
    ws.on('close', (code, reason) => {
      o.close = { code, reason: reason.toString() };
      resolve(o);
    });
    ws.on('unexpected-response', (_req, res) => {
      o.status = res.statusCode ?? null;
      res.on('data', (b: Buffer) => (o.body += b.toString()));
      res.on('end', () => resolve(o));
    });
    ws.on('error', () => resolve(o));
  });
}

function fresh(limits: Partial<LiveLimits>): void {
  hub = new LiveHub(limits);
}

describe('live hub caps', () => {
  it('refuses a client past the per-address cap with 1013 and the reason; other addresses still get in', async () => {
    fresh({ maxPerAddress: 2, maxClients: 10 });
    expect((await connect('127.0.0.2')).hello).toBe(true);
    expect((await connect('127.0.0.2')).hello).toBe(true);
    const third = await connect('127.0.0.2');
    expect(third.hello).toBe(false);
    expect(third.close).toEqual({ code: 1013, reason: 'too many live clients from 127.0.0.2: 2 connected, the most allowed' });
    expect((await connect('127.0.0.3')).hello).toBe(true);
    expect([hub.size, hub.refused]).toEqual([3, 1]);
  });

  it('refuses past the overall cap, and lets a client in again once one leaves', async () => {
    fresh({ maxPerAddress: 16, maxClients: 3 });
    const first = await connect('127.0.0.2');
    await connect('127.0.0.3');
    await connect('127.0.0.4');
    const over = await connect('127.0.0.5');
    expect(over.close).toEqual({ code: 1013, reason: 'too many live clients: 3 connected, the most allowed' });
    first.ws.close();
    await new Promise((r) => first.ws.once('close', r));
    await vi.waitFor(() => expect(hub.size).toBe(2));
    expect((await connect('127.0.0.5')).hello).toBe(true);
  });

  it('admit() answers before the upgrade: the server can refuse with 503 and the reason', async () => {
    fresh({ maxPerAddress: 1, maxClients: 10 });
    expect((await connect('127.0.0.6', true)).hello).toBe(true);
    const r = await connect('127.0.0.6', true);
    expect(r.status).toBe(503);
    expect(r.body).toBe('too many live clients from 127.0.0.6: 1 connected, the most allowed');
    expect(hub.admit('::ffff:127.0.0.7')).toEqual({ ok: true });
    expect(hub.admit('::ffff:127.0.0.6')).toMatchObject({ ok: false, status: 503, code: 1013 });
  });
});

describe('live hub messages', () => {
  it('serialises a change once for every client (one JSON text, one buffer), numbered, the same for all', async () => {
    fresh({});
    const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => connect(`127.0.1.${1 + (i % 5)}`)));
    expect(clients.every((c) => c.hello)).toBe(true);
    const stringify = vi.spyOn(JSON, 'stringify');
    hub.publish({ type: 'plan', digest: 'sha256:0f1e2d3c' });
    expect(stringify).toHaveBeenCalledTimes(1);
    stringify.mockRestore();
    await vi.waitFor(() => expect(clients.every((c) => c.messages.length === 2)).toBe(true));
    expect(new Set(clients.map((c) => c.messages[1]))).toEqual(new Set([JSON.stringify({ type: 'plan', digest: 'sha256:0f1e2d3c', seq: 1 })]));
  });

  it('past the budget of queued bytes, the client holding the most is dropped with 1013 and why; a reader goes on', async () => {
    fresh({ maxQueuedBytes: 1024 * 1024, closeGraceMs: 10_000 });
    const reader = await connect('127.0.0.9');
    // A client that completes the upgrade, then never reads.
    const raw = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.10' });
    let bytes = Buffer.alloc(0);
    raw.on('data', (b: Buffer) => (bytes = Buffer.concat([bytes, b])));
    raw.write('GET /api/live HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await vi.waitFor(() => expect(hub.size).toBe(2));
    raw.pause();
    const big = 'x'.repeat(256 * 1024);
    let sent = 0;
    while (hub.dropped === 0 && sent < 400) {
      hub.publish({ type: 'plan', digest: big });
      sent++;
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(hub.dropped).toBe(1);
    expect(hub.size).toBe(1);
    expect(hub.queuedBytes).toBeLessThanOrEqual(1024 * 1024);
    await vi.waitFor(() => expect(reader.messages.length).toBe(1 + sent));
    expect(reader.close).toBeNull();
    // Once it reads, the dropped client finds the close frame after what was queued.
    raw.resume();
    const close = await vi.waitFor(() => {
      const i = bytes.lastIndexOf(Buffer.from([0x88]));
      expect(i).toBeGreaterThan(0);
      const len = bytes[i + 1];
      const frame = bytes.subarray(i + 2, i + 2 + len);
      expect(frame.length).toBe(len);
      const c = { code: frame.readUInt16BE(0), reason: frame.subarray(2).toString() };
      expect(c.code).toBe(1013);
      return c;
    }, { timeout: 5000 });
    expect(close.reason).toMatch(/^too slow: \d+ bytes queued$/);
    raw.destroy();
  });
});

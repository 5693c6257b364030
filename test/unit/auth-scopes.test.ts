/**
 * Issue 16, finding 3: every bearer token was a full administrator (a Prometheus token could
 * mint tokens, mute every alert, shorten retention, and guess the password through
 * PUT /api/password without limit, each guess blocking the event loop ~100 ms in scryptSync).
 * Now tokens have a scope (read by default, metrics, admin); tokens and the password are for
 * browser sessions only; a wrong current password counts in the login limiter; scrypt runs off
 * the event loop. Finding 15 (part): VIGIE_ADMIN_PASSWORD leaves the environment once read.
 */
import { scryptSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { Auth, authPath, readAuthFile, writeAuthFile } from '../../daemon/server/auth.js';
import { describeCorpus } from '../helpers/corpus.js';
import { ADMIN_PASSWORD, daemonSession } from '../helpers/daemon-session.js';

const MAC = '28:cf:e9:21:14:8f';

describeCorpus('token scopes', () => {
  const session = daemonSession();
  const api = session.api.bind(session);
  const bearer = async (token: string, p: string, method = 'GET', body?: unknown) => {
    const res = await fetch(new URL(p, session.daemon.url), { method, headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, text };
  };
  const live = (token: string) =>
    new Promise<number | string>((resolve) => {
      const ws = new WebSocket(session.daemon.url.replace('http', 'ws') + 'api/live', { headers: { Authorization: `Bearer ${token}` } });
      ws.on('message', (b) => {
        resolve(JSON.parse(b.toString()).type);
        ws.close();
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => resolve('error'));
    });
  const make = async (body: Record<string, unknown>) => {
    const r = await api('/api/tokens', { method: 'POST', body: JSON.stringify(body) });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body as { id: string; scope: string; token: string };
  };
  // Every change a token could make: each must leave the state as it was.
  const changes: [string, string, unknown][] = [
    ['PATCH', `/api/devices/${MAC}`, { label: 'pwned' }],
    ['POST', '/api/mutes', { rule: 'mqtt-cleartext-internet' }],
    ['PUT', '/api/settings', { retention: { alertDays: 1 } }],
    ['PUT', `/api/devices/${MAC}/zone`, { zone: 'blocked' }],
  ];
  const sessionOnly: [string, string, unknown][] = [
    ['GET', '/api/tokens', undefined],
    ['POST', '/api/tokens', { name: 'minted', scope: 'admin' }],
    ['PUT', '/api/password', { current: ADMIN_PASSWORD, next: 'a-new-password-0' }],
  ];

  it('makes read-only tokens by default: GET routes, /metrics and the live feed; no change, no token, no password', async () => {
    const t = await make({ name: 'dashboard-kiosk' });
    expect(t.scope).toBe('read');
    expect((await api('/api/tokens')).body.find((x: { id: string }) => x.id === t.id)).toMatchObject({ name: 'dashboard-kiosk', scope: 'read' });
    for (const p of ['/api/devices', '/api/alerts', '/api/status', '/api/settings', '/api/plan', '/metrics']) expect((await bearer(t.token, p)).status, p).toBe(200);
    expect(await live(t.token)).toBe('hello');
    const before = { settings: (await api('/api/settings')).body, device: (await api(`/api/devices/${MAC}`)).body, mutes: (await api('/api/mutes')).body, tokens: (await api('/api/tokens')).body };
    for (const [method, p, body] of [...changes, ...sessionOnly]) {
      const r = await bearer(t.token, p, method, body);
      expect(r.status, `${method} ${p}`).toBe(403);
      expect(r.text).toMatch(/scope \(read\)|browser session/);
    }
    expect({ settings: (await api('/api/settings')).body, device: (await api(`/api/devices/${MAC}`)).body, mutes: (await api('/api/mutes')).body, tokens: (await api('/api/tokens')).body }).toEqual(before);
  });

  it('gives a metrics token /metrics and nothing else', async () => {
    const t = await make({ name: 'prometheus', scope: 'metrics' });
    expect((await bearer(t.token, '/metrics')).status).toBe(200);
    for (const p of ['/api/devices', '/api/alerts', '/api/status', '/api/settings']) expect((await bearer(t.token, p)).status, p).toBe(403);
    expect(await live(t.token)).toBe(403);
  });

  it('lets an admin token change things, never the tokens nor the password', async () => {
    const t = await make({ name: 'home-assistant', scope: 'admin' });
    const r = await bearer(t.token, '/api/mutes', 'POST', { rule: 'some-rule-of-the-test' });
    expect(r.status).toBe(201);
    expect((await bearer(t.token, `/api/mutes/${JSON.parse(r.text).id}`, 'DELETE')).status).toBe(200);
    for (const [method, p, body] of sessionOnly) {
      const x = await bearer(t.token, p, method, body);
      expect(x.status, `${method} ${p}`).toBe(403);
      expect(x.text).toMatch(/browser session/);
    }
  });

  it('takes a token entry written before scopes (no scope) as read-only', async () => {
    const file = authPath(path.dirname(session.daemon.store.file));
    const t = await make({ name: 'old-client', scope: 'admin' });
    const a = readAuthFile(file).auth!;
    writeAuthFile(file, { ...a, tokens: a.tokens.map((x) => (x.id === t.id ? { id: x.id, name: x.name, hash: x.hash, created: x.created } : x)) });
    // A later mtime, as an older release rewriting the file would leave.
    const later = new Date(Date.now() + 2000);
    fs.utimesSync(file, later, later);
    expect((await bearer(t.token, '/api/devices')).status).toBe(200);
    expect((await bearer(t.token, '/api/mutes', 'POST', { rule: 'x' })).status).toBe(403);
  });

  it('refuses extra fields in PUT /api/password and POST /api/tokens, naming them', async () => {
    const p = await api('/api/password', { method: 'PUT', body: JSON.stringify({ current: ADMIN_PASSWORD, next: 'another-password-1', force: true }) });
    expect([p.status, p.body.error]).toEqual([400, 'force: unknown field (expected current, next)']);
    const t = await api('/api/tokens', { method: 'POST', body: JSON.stringify({ name: 'x', admin: true }) });
    expect([t.status, t.body.error]).toEqual([400, 'admin: unknown field (expected name, scope)']);
    const s = await api('/api/tokens', { method: 'POST', body: JSON.stringify({ name: 'x', scope: 'root' }) });
    expect([s.status, s.body.error]).toEqual([400, 'scope: one of read, metrics, admin (default read)']);
  });

  it('counts wrong current passwords of PUT /api/password in the login limiter, and does not block the event loop', async () => {
    // What one synchronous scrypt of these parameters blocks the loop for on this machine.
    let t = performance.now();
    scryptSync('x', Buffer.alloc(16), 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 << 20 });
    const syncMs = performance.now() - t;
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    t = performance.now();
    const wrong = await Promise.all([1, 2, 3, 4, 5].map((i) => api('/api/password', { method: 'PUT', body: JSON.stringify({ current: `not-the-password-${i}`, next: 'another-password-1' }) })));
    h.disable();
    expect(wrong.map((r) => r.status)).toEqual([403, 403, 403, 403, 403]);
    // Five hashes ran, and the loop never stalled for as long as one of them takes.
    expect(performance.now() - t).toBeGreaterThan(syncMs);
    console.log(`auth-scopes: one scryptSync ${syncMs.toFixed(0)} ms; 5 wrong passwords verified in ${(performance.now() - t).toFixed(0)} ms with the event loop delayed ${(h.max / 1e6).toFixed(0)} ms at most`);
    expect(h.max / 1e6, `sync scrypt ${syncMs.toFixed(0)} ms`).toBeLessThan(syncMs / 2);
    const limited = await api('/api/password', { method: 'PUT', body: JSON.stringify({ current: ADMIN_PASSWORD, next: 'another-password-1' }) });
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatch(/too many wrong passwords/);
    // The password in force is unchanged, and the session still works.
    expect((await api('/api/devices')).status).toBe(200);
    const login = await fetch(new URL('/api/session', session.daemon.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ password: ADMIN_PASSWORD }) });
    expect(login.status).toBe(200);
  });
});

describe('VIGIE_ADMIN_PASSWORD', () => {
  it('is gone from the environment once read, on the first start and on later ones', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-auth-env-'));
    try {
      const env: NodeJS.ProcessEnv = { VIGIE_ADMIN_PASSWORD: ADMIN_PASSWORD, OTHER: 'kept' };
      new Auth(authPath(dir), env);
      expect(env).toEqual({ OTHER: 'kept' });
      const again: NodeJS.ProcessEnv = { VIGIE_ADMIN_PASSWORD: 'not-used-any-more' };
      new Auth(authPath(dir), again);
      expect('VIGIE_ADMIN_PASSWORD' in again).toBe(false);
      expect(fs.readFileSync(authPath(dir), 'utf8')).not.toContain(ADMIN_PASSWORD);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Issue 16, finding 5, against a running daemon: after 30 failures a minute from any addresses
 * the right password from a fresh address got 429 (13 addresses held the administrator out for
 * 150 s). Here 13 loopback addresses (127.0.0.x, plus ::1) keep guessing, in parallel, on a
 * daemon listening dual-stack (IPv4 clients arrive IPv4-mapped); the administrator, from a fresh
 * address, gets in at once, and so does a browser holding a session from an attacked address.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Daemon } from '../../daemon/run/daemon.js';
import { casePath, describeCorpus } from '../helpers/corpus.js';

const PASSWORD = 'correct-horse-battery-staple';
const ATTACKERS = Array.from({ length: 13 }, (_, i) => `127.0.0.${10 + i}`);

describeCorpus('login lockout per address', () => {
  let d: Daemon;
  let dir: string;
  let port: number;

  const login = (password: string, from: string, cookie?: string) =>
    new Promise<{ status: number; cookie: string; retryAfter: string | null }>((resolve, reject) => {
      const body = JSON.stringify({ password });
      const req = http.request(
        { host: from.includes(':') ? '::1' : '127.0.0.1', port, path: '/api/session', method: 'POST', localAddress: from, agent: false, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...(cookie ? { Cookie: cookie } : {}) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, cookie: String(res.headers['set-cookie'] ?? '').split(';')[0], retryAfter: (res.headers['retry-after'] as string) ?? null }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-lockout-'));
    d = await Daemon.start({ read: casePath('peafowl/mqtt-1'), speed: 0, filter: '', stateDir: dir, listen: '::', port: 0, rules: [], commitInterval: 3600, uiDir: null, env: { VIGIE_ADMIN_PASSWORD: PASSWORD }, log: () => {} });
    await d.replayPromise;
    port = Number(new URL(d.url).port);
  });

  afterAll(async () => {
    await d?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lets the administrator in at once from a fresh address while 14 addresses guess in parallel', async () => {
    // A browser that logged in earlier from what becomes an attacking address.
    const browser = await login(PASSWORD, ATTACKERS[0]);
    expect(browser.status).toBe(200);
    const sources = [...ATTACKERS, '::1'];
    // One failure each first (clean addresses are served first), then the rest all at once.
    for (const a of sources) expect((await login('guess-number-0', a)).status).toBe(401);
    const flood = Promise.all(sources.flatMap((a) => [1, 2, 3, 4, 5].map((i) => login(`guess-number-${i}`, a))));
    await new Promise((r) => setTimeout(r, 200));
    const t = performance.now();
    const admin = await login(PASSWORD, '127.0.0.200');
    const adminMs = performance.now() - t;
    expect(admin.status).toBe(200);
    const guesses = await flood;
    const floodMs = performance.now() - t;
    const failed = guesses.filter((g) => g.status === 401).length;
    // Each address had 5 guesses before waiting: 4 more of the parallel ones were verified, one refused.
    expect(failed).toBe(sources.length * 4);
    expect(guesses.filter((g) => g.status === 429).length).toBe(sources.length);
    // Served before the queue of guesses (each hash ~100-300 ms, two at a time).
    expect(adminMs, `admin ${adminMs.toFixed(0)} ms, flood ${floodMs.toFixed(0)} ms`).toBeLessThan(floodMs / 3);
    console.log(`auth-lockout: ${failed} guesses from ${sources.length} addresses; the administrator logged in from a fresh address in ${adminMs.toFixed(0)} ms (the guesses took ${floodMs.toFixed(0)} ms)`);
    // Every attacking address now waits (IPv4 per address although it arrived IPv4-mapped, ::1 per /64)...
    for (const a of sources) {
      const r = await login(PASSWORD, a);
      expect(r.status, a).toBe(429);
      expect(Number(r.retryAfter)).toBeGreaterThan(800);
    }
    // ...but not the browser with its session cookie on one of them, nor another fresh address.
    expect((await login(PASSWORD, ATTACKERS[0], browser.cookie)).status).toBe(200);
    expect((await login(PASSWORD, '127.0.0.201')).status).toBe(200);
  });
});

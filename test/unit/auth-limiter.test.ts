/**
 * Issue 16, finding 5: the login limit, per client rather than for everyone. Keys (IPv4, IPv6
 * /64, IPv4-mapped as IPv4), the exponential back-off, parallel guesses, the bounded table, a
 * clock stepped back, and the browser holding a session (valid or recently ended) that the
 * failures of its address do not reach. The daemon over HTTP: test/integration/auth-lockout.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKOFF, LoginLimiter, MAX_KEYS, clientKey } from '../../daemon/server/auth-limiter.js';
import { Auth, authPath } from '../../daemon/server/auth.js';

const PASSWORD = 'correct-horse-battery-staple';

describe('clientKey', () => {
  it('keys IPv4 by address, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', () => {
    expect(clientKey('192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('::FFFF:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2:ffff:ffff:ffff:fffe')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002::9')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
  });
});

describe('LoginLimiter', () => {
  const T = Date.UTC(2026, 5, 1, 12);
  const fail = (l: LoginLimiter, k: string, at: number) => {
    l.begin(k, at);
    l.fail(k, at);
  };

  it('gives 5 free failures, then waits 15 minutes, doubling up to a day', () => {
    const l = new LoginLimiter();
    for (let i = 0; i < BACKOFF.free; i++) {
      expect(l.wait('a', T)).toBe(0);
      fail(l, 'a', T);
    }
    expect(l.wait('a', T)).toBe(15 * 60);
    let at = T + 15 * 60e3;
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) {
      expect(l.wait('a', at)).toBe(0);
      fail(l, 'a', at);
      waits.push(l.wait('a', at) / 60);
      at += l.wait('a', at) * 1000;
    }
    expect(waits).toEqual([30, 60, 120, 240, 480, 960, 1440, 1440, 1440]);
    // Another key is not touched.
    expect(l.wait('b', at)).toBe(0);
  });

  it('counts guesses being verified, so that parallel requests cannot get past the count', () => {
    const l = new LoginLimiter();
    for (let i = 0; i < BACKOFF.free; i++) {
      expect(l.wait('a', T)).toBe(0);
      l.begin('a', T);
    }
    expect(l.wait('a', T)).toBeGreaterThan(0);
  });

  it('forgets a success and old failures', () => {
    const l = new LoginLimiter();
    for (let i = 0; i < 4; i++) fail(l, 'a', T);
    l.begin('a', T);
    l.succeed('a');
    expect(l.size).toBe(0);
    for (let i = 0; i < 5; i++) fail(l, 'b', T);
    expect(l.wait('b', T + BACKOFF.forgetMs + 1)).toBe(0);
    expect(l.size).toBe(0);
  });

  it('waits one step at most when the failures lie in the future (the clock stepped back a day)', () => {
    const l = new LoginLimiter();
    for (let i = 0; i < 5; i++) fail(l, 'a', T + i);
    expect(l.wait('a', T - 86400e3)).toBe(15 * 60);
  });

  it('keeps its table bounded, forgetting entries whose wait is over first', () => {
    const l = new LoginLimiter();
    for (let i = 0; i < 5; i++) fail(l, 'locked', T);
    for (let i = 0; i < MAX_KEYS + 500; i++) fail(l, `k${i}`, T);
    expect(l.size).toBeLessThanOrEqual(MAX_KEYS);
    expect(l.wait('locked', T)).toBe(15 * 60);
  });
});

describe('Auth: a browser with a session keeps its own limit', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-auth-limit-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('logs in with the right password from an address others locked, when it holds a valid or recently expired cookie', async () => {
    const auth = new Auth(authPath(path.join(dir, 'a')), { VIGIE_ADMIN_PASSWORD: PASSWORD });
    const t = Date.now();
    const first = await auth.login(PASSWORD, '192.0.2.10', t);
    expect(first.ok).toBe(true);
    const cookie = first.ok ? first.cookie : '';
    for (let i = 0; i < 5; i++) expect((await auth.login(`wrong-${i}-password`, '192.0.2.10', t)).ok).toBe(false);
    expect(await auth.login(PASSWORD, '192.0.2.10', t)).toMatchObject({ ok: false, status: 429 });
    // The same address, with the cookie: its own limit, clean.
    const again = await auth.login(PASSWORD, '192.0.2.10', t, cookie);
    expect(again.ok).toBe(true);
    const second = again.ok ? again.cookie : '';
    // Expired (13 hours unused): still known for its own limit.
    const later = t + 13 * 3600e3;
    expect(auth.session(second, later)).toBe(false);
    expect((await auth.login(PASSWORD, '192.0.2.10', later, second)).ok).toBe(true);
    // A made-up cookie is no exemption.
    expect(await auth.login(PASSWORD, '192.0.2.10', t + 60e3, 'A'.repeat(43))).toMatchObject({ ok: false, status: 429 });
  });

  it('limits the holder of a cookie too: a stolen cookie is not a free pass to guess', async () => {
    const auth = new Auth(authPath(path.join(dir, 'b')), { VIGIE_ADMIN_PASSWORD: PASSWORD });
    const t = Date.now();
    const first = await auth.login(PASSWORD, '192.0.2.20', t);
    const cookie = first.ok ? first.cookie : '';
    for (let i = 0; i < 5; i++) expect(await auth.login(`wrong-${i}-password`, '198.51.100.1', t, cookie)).toMatchObject({ ok: false, status: 401 });
    expect(await auth.login(PASSWORD, '198.51.100.1', t, cookie)).toMatchObject({ ok: false, status: 429 });
  });
});

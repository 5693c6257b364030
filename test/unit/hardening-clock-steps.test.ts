/**
 * Issue 16, item 10: a wall clock stepped forward by 91 days deleted every alert at the next
 * housekeeping; a step back of a day stretched a login lockout to 24 hours. The wall clock is
 * stepped with vitest's Date faking only (stepping the host's clock would disturb everything else
 * on the machine); the monotonic clock (performance.now) and the timers stay real.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Daemon } from '../../daemon/run/daemon.js';
import { Auth, authPath } from '../../daemon/server/auth.js';
import { casePath, describeCorpus } from '../helpers/corpus.js';

const PASSWORD = 'correct-horse-battery-staple';

describe('login lockout and a clock stepped back', () => {
  it('locks out for one window at most when the failures lie in the future', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-clock-auth-'));
    try {
      const auth = new Auth(authPath(dir), { VIGIE_ADMIN_PASSWORD: PASSWORD });
      const t = Date.UTC(2026, 5, 1, 12);
      for (let i = 0; i < 5; i++) expect((await auth.login('wrong password!', '192.0.2.7', t + i)).ok).toBe(false);
      const back = t - 86400e3;
      const r = await auth.login(PASSWORD, '192.0.2.7', back);
      expect(r.ok).toBe(false);
      expect(r.ok ? 0 : (r.retryAfter ?? 0)).toBeLessThanOrEqual(15 * 60);
      expect((await auth.login(PASSWORD, '192.0.2.7', back + 15 * 60e3 + 1000)).ok).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeCorpus('retention and a clock stepped forward', () => {
  let d: Daemon;
  let dir: string;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-clock-'));
    d = await Daemon.start({ read: casePath('peafowl/mqtt-1'), speed: 0, filter: '', stateDir: dir, listen: '127.0.0.1', port: 0, rules: [], homeCountry: 'FR', commitInterval: 3600, uiDir: null, env: { VIGIE_ADMIN_PASSWORD: PASSWORD }, log: (m) => logs.push(m) });
    await d.replayPromise;
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  afterAll(async () => {
    vi.useRealTimers();
    await d?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the alerts when the wall clock jumps 91 days ahead of the monotonic clock, and says so', () => {
    d.housekeeping();
    const before = d.store.data.alerts.length;
    expect(before).toBeGreaterThan(0);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 91 * 86400e3);
    d.housekeeping();
    d.housekeeping();
    expect(d.store.data.alerts.length).toBe(before);
    expect(logs.filter((l) => /clock jumped 91 days ahead/.test(l))).toHaveLength(1);
  });
});

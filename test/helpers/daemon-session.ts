/**
 * A daemon replaying a corpus capture, logged in as the administrator, for API tests: started
 * before the suite's tests, stopped and its state folder removed after them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { Daemon } from '../../daemon/run/daemon.js';
import { casePath } from './corpus.js';

export const ADMIN_PASSWORD = 'correct-horse-battery-staple';

export interface DaemonSession {
  readonly daemon: Daemon;
  /** A request with the session cookie; `type` overrides the JSON content type. */
  api(p: string, init?: RequestInit & { type?: string }): Promise<{ status: number; body: any }>;
}

export function daemonSession(capture = 'peafowl/mqtt-1'): DaemonSession {
  let d: Daemon | undefined;
  let dir = '';
  let cookie = '';
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-session-'));
    d = await Daemon.start({ read: casePath(capture), speed: 0, filter: '', stateDir: dir, listen: '127.0.0.1', port: 0, rules: [], homeCountry: 'FR', commitInterval: 3600, uiDir: null, env: { VIGIE_ADMIN_PASSWORD: ADMIN_PASSWORD }, log: () => {} });
    await d.replayPromise;
    const res = await fetch(new URL('/api/session', d.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ password: ADMIN_PASSWORD }) });
    await res.text();
    cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
  });
  afterAll(async () => {
    await d?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    get daemon(): Daemon {
      if (!d) throw new Error('the daemon is not started yet: use it inside a test');
      return d;
    },
    async api(p, init = {}) {
      const res = await fetch(new URL(p, this.daemon.url), { ...init, headers: { Cookie: cookie, 'Content-Type': init.type ?? 'application/json' } });
      const text = await res.text();
      return { status: res.status, body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text };
    },
  };
}

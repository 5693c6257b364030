/**
 * Issue 16, item 1: a failed store write (here a full 200 KB tmpfs as the state folder) must not
 * end `vigie run`. The daemon keeps the data in memory, reports the failure in /api/status and
 * /metrics, warns about the low free space, leaves the last good store.json as it was, and
 * writes the store again once space returns. Needs root (mount).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnDaemon, until, type Spawned } from '../helpers/spawn-daemon.js';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('store writes on a full disk', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-full-'));
  const state = path.join(dir, 'state');
  let d: Spawned | null = null;
  let mounted = false;

  afterAll(() => {
    d?.kill();
    if (mounted) execFileSync('umount', ['-l', state]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps running, reports the failure, and writes again when space returns', async () => {
    fs.mkdirSync(state);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=200k,mode=0700', 'tmpfs', state]);
    mounted = true;
    d = await spawnDaemon(dir, { stateDir: state, args: ['--commit-interval', '1'] });
    const { child, base } = d;
    const stderr = d.stderr;
    const r = await d.login();
    expect(r.status).toBe(200);
    const cookie = r.cookie;
    const get = async (p: string) => {
      const r = await fetch(new URL(p, base), { headers: { Cookie: cookie } });
      expect(r.status).toBe(200);
      return r.text();
    };
    const status = async () => JSON.parse(await get('/api/status')).store;
    // The replay's own changes written first: the file on disk is the last good one.
    await until('a first write', async () => !(await status()).pending && fs.existsSync(path.join(state, 'store.json')));
    const good = fs.readFileSync(path.join(state, 'store.json'), 'utf8');

    // Fill the disk to the last byte.
    const filler = path.join(state, 'filler');
    const fd = fs.openSync(filler, 'w');
    const chunk = Buffer.alloc(4096, 1);
    try {
      for (;;) fs.writeSync(fd, chunk);
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    try {
      for (;;) fs.writeSync(fd, chunk, 0, 1);
    } catch {
      /* full */
    }
    fs.closeSync(fd);

    const put = await fetch(new URL('/api/settings', base), { method: 'PUT', headers: { Cookie: cookie, 'Content-Type': 'application/json' }, body: JSON.stringify({ homeCountry: 'DE' }) });
    expect(put.status).toBe(200);
    const failing = await until('a failed write', async () => {
      const s = await status();
      return s.failing && s.errors >= 1 ? s : null;
    });
    expect(failing.lastError).toMatch(/ENOSPC|no space/i);
    expect(failing.pending).toBe(true);
    // Several retries later the daemon is still there, still failing, and said so once.
    await until('a retry', async () => ((await status()).errors >= 2 ? true : null));
    expect(child.exitCode).toBeNull();
    const metrics = await get('/metrics');
    expect(metrics).toMatch(/^vigie_store_write_failing 1$/m);
    expect(metrics).toMatch(/^vigie_store_write_errors_total [1-9]/m);
    expect(stderr().match(/write failed/g)?.length).toBe(1);
    expect(stderr()).toMatch(/less than twice the store/);
    expect((await status()).lowSpace).toBe(true);
    // The last good file is intact, and no temporary file is left filling the disk.
    expect(fs.readFileSync(path.join(state, 'store.json'), 'utf8')).toBe(good);
    expect(fs.readdirSync(state).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // The change is kept in memory meanwhile.
    expect(JSON.parse(await get('/api/settings')).homeCountry).toBe('DE');

    fs.rmSync(filler);
    const ok = await until('the write after space returned', async () => {
      const s = await status();
      return !s.failing && !s.pending ? s : null;
    });
    expect(ok.lastError).toBeNull();
    expect(JSON.parse(fs.readFileSync(path.join(state, 'store.json'), 'utf8')).settings.homeCountry).toBe('DE');
    expect(stderr()).toMatch(/written again after \d+ failed attempt/);
    expect(await get('/metrics')).toMatch(/^vigie_store_write_failing 0$/m);
    expect(child.exitCode).toBeNull();
  });
});

/**
 * Finding 15 of issue 16: mutes and device entries are bounded through the API (409 with the
 * reason past the bound), and a store that is a symlink to a non-JSON file is set aside without
 * its first bytes reaching the log. Each against the real daemon.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_DEVICE_ENTRIES, MAX_MUTES, Store } from '../../daemon/store/store.js';
import { spawnDaemon, type Spawned } from '../helpers/spawn-daemon.js';

const dirs: string[] = [];
const daemons: Spawned[] = [];
afterAll(() => {
  for (const d of daemons) d.kill();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-renov-'));
  dirs.push(d);
  return d;
}

const mac = (i: number) => `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

describe('API bounds (finding 15)', () => {
  it('refuses the 1,001st mute and the 4,097th device entry with 409 and the reason', async () => {
    const dir = tmp();
    const stateDir = path.join(dir, 'state');
    fs.mkdirSync(stateDir);
    // The store filled to the bounds through its own methods, then the daemon started on it.
    const s = Store.open(stateDir, { commitInterval: 3600 });
    for (let i = 0; i < MAX_MUTES; i++) s.addMute({ id: i.toString(16).padStart(12, '0'), created: new Date().toISOString(), rule: `rule-${i}` });
    // Entries the household named are never forgotten to make room (store.makeRoom): a full
    // store of them refuses a new one. (Unnamed ones would be forgotten, oldest first.)
    for (let i = 0; i < MAX_DEVICE_ENTRIES; i++) s.updateDevice(mac(i), { label: `device ${i}` });
    s.commitSync();
    const d = await spawnDaemon(dir, { stateDir });
    daemons.push(d);
    const { cookie } = await d.login();
    const call = async (method: string, p: string, body: unknown) => {
      const r = await fetch(new URL(p, d.base), { method, headers: { 'Content-Type': 'application/json', Cookie: cookie }, body: JSON.stringify(body) });
      return { status: r.status, text: await r.text() };
    };
    const mute = await call('POST', '/api/mutes', { rule: 'one-more' });
    expect(mute.status).toBe(409);
    expect(mute.text).toMatch(/at most 1000 mutes/);
    const fresh = await call('PATCH', `/api/devices/${mac(MAX_DEVICE_ENTRIES)}`, { label: 'one more' });
    expect(fresh.status).toBe(409);
    expect(fresh.text).toMatch(/at most 4096 devices are remembered and the household named all of them/);
    // Under the bound, all as before: an existing device is changed, a freed mute slot is taken.
    expect((await call('PATCH', `/api/devices/${mac(7)}`, { label: 'kept' })).status).toBe(200);
    expect((await call('DELETE', `/api/mutes/${(5).toString(16).padStart(12, '0')}`, undefined)).status).toBe(200);
    expect((await call('POST', '/api/mutes', { rule: 'one-more' })).status).toBe(201);
    d.kill();
  }, 60_000);
});

describe('a store symlinked to a non-JSON file (finding 15)', () => {
  it('is set aside with its size, and none of its bytes in the log', async () => {
    const dir = tmp();
    const stateDir = path.join(dir, 'state');
    fs.mkdirSync(stateDir);
    const secret = path.join(dir, 'secret.key');
    fs.writeFileSync(secret, 'PRIVATE-KEY-d41d8cd98f00b204e9800998ecf8427e\n');
    fs.symlinkSync(secret, path.join(stateDir, 'store.json'));
    const d = await spawnDaemon(dir, { stateDir });
    daemons.push(d);
    await d.settled();
    const err = d.stderr();
    expect(err).toMatch(/store\.json could not be used \(not JSON \(45 bytes\)\); it was moved to \S*store\.json\.corrupt-/);
    expect(err).not.toMatch(/PRIVATE|d41d8/);
    // The file the link named is untouched; the link itself was moved aside.
    expect(fs.readFileSync(secret, 'utf8')).toMatch(/^PRIVATE/);
    d.kill();
  }, 60_000);
});

/**
 * Issue 16's fault "the clock jumping back and forward by hours", on the running daemon: `vigie
 * run` under libfaketime (LD_PRELOAD), whose offset file the test rewrites to step the daemon's
 * wall clock by hours while its monotonic clock runs on (FAKETIME_DONT_FAKE_MONOTONIC: what an
 * NTP step or a router without RTC does). Nothing else on the machine sees the steps. Checked
 * after each step: no negative figure in /api/status, the session still valid, retention keeps
 * the devices, a mute ends when the wall clock passes its end and not before, the store is still
 * written; and the uptime is the time elapsed, whatever the steps. The replay is done before the
 * first step (its pacing follows the wall clock: a paced replay would burst or stall). The 91-day step and the login lockout are unit tests (hardening-clock-steps.test.ts).
 * Skipped without libfaketime (Debian: faketime, listed in .ci/system-deps.sh).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTraffic } from '../helpers/faults-traffic.js';
import { spawnDaemon, until, type Spawned } from '../helpers/spawn-daemon.js';

const LIB = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'].find((f) => fs.existsSync(f));
const HOUR = 3600e3;

/** Every number in a status document is a count, a size, a rate or a duration: none may be negative. */
function negatives(v: unknown, at = ''): string[] {
  if (typeof v === 'number') return v < 0 ? [`${at} = ${v}`] : [];
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => negatives(x, `${at}.${k}`));
  return [];
}

describe.skipIf(!LIB)('faults: the wall clock stepped by hours under the running daemon', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-faults-clock-'));
  const offset = path.join(dir, 'offset');
  let d: Spawned;
  let cookie = '';
  const figures: string[] = [];
  /** The uptime the daemon gave at each check, and the time really elapsed since it started. */
  const uptimes: { when: string; uptime: number; elapsed: number }[] = [];
  let startedAt = 0;

  /** Steps the daemon's clock; libfaketime re-reads the file at most once a second. */
  const step = async (spec: string, expectNear: number) => {
    fs.writeFileSync(offset, `${spec}\n`);
    await until(`the daemon's clock at ${spec}`, async () => Math.abs(Date.parse((await get('/api/status')).time) - (Date.now() + expectNear)) < 60e3, 10_000);
  };
  const get = async (p: string) => {
    const r = await fetch(new URL(p, d.base), { headers: { Cookie: cookie } });
    expect(r.status, p).toBe(200);
    return r.json();
  };
  const send = async (method: string, p: string, body: unknown) => {
    const r = await fetch(new URL(p, d.base), { method, headers: { Cookie: cookie, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect(r.ok, `${method} ${p}: ${r.status}`).toBe(true);
    return r.json();
  };
  /** Housekeeping (retention, mutes that ended) runs at each settings change, besides once a minute. */
  const housekeep = () => send('PUT', '/api/settings', { homeCountry: 'FR' });
  const check = async (when: string) => {
    const st = await get('/api/status');
    // The uptime has a test of its own (the last one).
    expect(negatives({ ...st, uptime: 0 }), `negative figures ${when}`).toEqual([]);
    const elapsed = Math.round((Date.now() - startedAt) / 1000);
    uptimes.push({ when, uptime: st.uptime, elapsed });
    figures.push(`${when}: uptime ${st.uptime} s after ${elapsed} s, ${st.packetsPerSecond} packets/s, ${st.devicesKnown} devices known, ${st.store.writes} store writes`);
    return st;
  };

  beforeAll(async () => {
    fs.writeFileSync(offset, '+0\n');
    const pcap = path.join(dir, 'devices.pcap');
    writeTraffic(pcap, { devices: 20, gap: 0.05, every: 1, span: 5 });
    const env = [`LD_PRELOAD=${LIB}`, `FAKETIME_TIMESTAMP_FILE=${offset}`, 'FAKETIME_CACHE_DURATION=1', 'FAKETIME_DONT_FAKE_MONOTONIC=1', 'VIGIE_NO_REEXEC=1'];
    startedAt = Date.now();
    d = await spawnDaemon(dir, { shell: `export ${env.join(' ')};`, args: ['--read', pcap, '--speed', 'max', '--commit-interval', '1'] });
    const r = await d.login();
    expect(r.status).toBe(200);
    cookie = r.cookie;
    await d.settled();
    await until('the devices seen', async () => (await get('/api/status')).devicesKnown >= 20);
  }, 30_000);

  afterAll(() => {
    d?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
    if (figures.length) process.stdout.write(`faults-clock:\n  ${figures.join('\n  ')}\n`);
  });

  it('forward 3 hours: the session holds, retention keeps everything, a mute ends once the clock passes its end', async () => {
    const now = Date.now();
    const short = await send('POST', '/api/mutes', { rule: 'faults-clock-short', until: new Date(now + 2 * HOUR).toISOString() });
    const long = await send('POST', '/api/mutes', { rule: 'faults-clock-long', until: new Date(now + 24 * HOUR).toISOString() });
    const before = await check('before the steps');
    await step('+3h', 3 * HOUR);
    await housekeep();
    await new Promise((r) => setTimeout(r, 1500));
    const after = await check('3 h ahead');
    expect(after.devicesKnown).toBe(before.devicesKnown);
    const mutes = ((await get('/api/mutes')) as { id: string }[]).map((m) => m.id);
    expect(mutes).toContain(long.id);
    expect(mutes).not.toContain(short.id);
  }, 30_000);

  it('back 6 hours (3 h behind the real time): no negative figure, nothing deleted, the session holds, the store still written', async () => {
    const before = await get('/api/status');
    await step('-3h', -3 * HOUR);
    await housekeep();
    // Two ticks of the once-a-second figures across the step.
    await new Promise((r) => setTimeout(r, 2500));
    const after = await check('3 h behind');
    expect(after.devicesKnown).toBe(before.devicesKnown);
    expect(((await get('/api/mutes')) as { rule: string }[]).map((m) => m.rule)).toContain('faults-clock-long');
    // Still written: the store's commit timer is monotonic.
    await until('a write after the step', async () => (await get('/api/status')).store.writes > before.store.writes);
    expect(d.child.exitCode).toBeNull();
  }, 30_000);

  it('forward again to the real time: the figures go on from where they were', async () => {
    await step('+0', 0);
    await housekeep();
    await new Promise((r) => setTimeout(r, 2500));
    await check('back at the real time');
    expect(d.child.exitCode).toBeNull();
  }, 30_000);

  it('the uptime is the time elapsed, neither negative nor stretched by the steps', () => {
    expect(uptimes.length).toBeGreaterThanOrEqual(4);
    for (const u of uptimes) expect(Math.abs(u.uptime - u.elapsed), `uptime ${u.uptime} s ${u.when}, ${u.elapsed} s after the start`).toBeLessThanOrEqual(5);
  });
});

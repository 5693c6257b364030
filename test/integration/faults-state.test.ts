/**
 * Faults of issue 16 around the state folder, the store and the rules, tried on a running
 * `vigie run` (test/helpers/spawn-daemon.ts). A full disk during a store commit is
 * hardening-store-full.test.ts (not repeated here). Checked here:
 * - a state folder remounted read-only, and one deleted under the daemon: the daemon keeps
 *   running and serving, says so in /api/status and once in the log, keeps the data in memory and
 *   writes it once the folder is writable (or back) again;
 * - a corrupt store at start is set aside (never overwritten, its bytes not logged), and a store
 *   corrupted under the running daemon followed by SIGHUP is rewritten from memory at the next
 *   commit;
 * - a corrupt rule file: at start exit 2 with file:line; at SIGHUP refused, the rules in force
 *   stay, /api/status says why, and the fixed file is taken at the next SIGHUP.
 * The figures (failed attempts, seconds to recover, API requests refused meanwhile) are printed
 * at the end. Needs root (tmpfs mounts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PASSWORD, emptyPcap, spawnDaemon, until, type Spawned } from '../helpers/spawn-daemon.js';

const isRoot = process.getuid?.() === 0;
/** The daemon itself as the child, without bin/vigie.js's re-exec: the signals sent reach it, and killing it kills it. */
const DIRECT = 'export VIGIE_NO_REEXEC=1;';
const ROOT = path.resolve(import.meta.dirname, '../..');

const GOOD_RULE = `alerts:
  - id: faults-big-upload
    title: "{device} uploads a lot"
    description: A test rule of the fault tests.
    on: upload-surge
    when: { upload.bytes: { min: 900000000 } }
    severity: low
    remediation:
      - "Nothing to do: a test rule."
    source: the fault tests of issue 16
`;
/** An unclosed flow sequence on line 4. */
const BAD_RULE = 'alerts:\n  - id: faults-broken\n    title: "broken"\n    when: [unclosed\n';

interface Api {
  get: (p: string) => Promise<any>;
  put: (p: string, body: unknown) => Promise<number>;
  /** Polls /api/status every 200 ms until stopped; counts the answers that were not 200. */
  watch: () => { stop: () => Promise<{ ok: number; failed: number }> };
}

async function api(d: Spawned): Promise<Api> {
  const r = await d.login();
  expect(r.status).toBe(200);
  const headers = { Cookie: r.cookie };
  const get = async (p: string) => {
    const res = await fetch(new URL(p, d.base), { headers });
    expect(res.status, p).toBe(200);
    return res.json();
  };
  const put = async (p: string, body: unknown) => {
    const res = await fetch(new URL(p, d.base), { method: 'PUT', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    await res.text();
    return res.status;
  };
  const watch = () => {
    let ok = 0;
    let failed = 0;
    let running = true;
    const loop = (async () => {
      while (running) {
        try {
          const res = await fetch(new URL('/api/status', d.base), { headers, signal: AbortSignal.timeout(2000) });
          await res.text();
          if (res.status === 200) ok++;
          else failed++;
        } catch {
          failed++;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return { ok, failed };
      },
    };
  };
  return { get, put, watch };
}

describe.skipIf(!isRoot)('faults: the state folder, the store and the rules', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-faults-state-'));
  const mounts: string[] = [];
  const daemons: Spawned[] = [];
  const figures: string[] = [];

  afterAll(() => {
    for (const d of daemons) d.kill();
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    fs.rmSync(dir, { recursive: true, force: true });
    if (figures.length) process.stdout.write(`faults-state figures:\n  ${figures.join('\n  ')}\n`);
  });

  const start = async (sub: string, opts: { stateDir?: string; args?: string[] } = {}) => {
    const home = path.join(dir, sub);
    fs.mkdirSync(home, { recursive: true });
    const d = await spawnDaemon(home, { stateDir: opts.stateDir, shell: DIRECT, args: ['--commit-interval', '1', ...(opts.args ?? [])] });
    daemons.push(d);
    return d;
  };
  const storeOf = (state: string) => JSON.parse(fs.readFileSync(path.join(state, 'store.json'), 'utf8'));

  it('a state folder remounted read-only: keeps running and serving, reports it, writes again once writable', async () => {
    const state = path.join(dir, 'ro-state');
    fs.mkdirSync(state);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', state]);
    mounts.push(state);
    const d = await start('ro', { stateDir: state });
    const a = await api(d);
    await until('a first write', async () => !(await a.get('/api/status')).store.pending && fs.existsSync(path.join(state, 'store.json')));
    const good = fs.readFileSync(path.join(state, 'store.json'), 'utf8');

    execFileSync('mount', ['-o', 'remount,ro', state]);
    const w = a.watch();
    expect(await a.put('/api/settings', { homeCountry: 'DE' })).toBe(200);
    const failing = await until('the write refused', async () => {
      const s = (await a.get('/api/status')).store;
      return s.failing ? s : null;
    });
    expect(failing.lastError).toMatch(/EROFS|read-only/i);
    expect(failing.pending).toBe(true);
    await until('a second attempt', async () => (await a.get('/api/status')).store.errors >= 2);
    expect(d.child.exitCode).toBeNull();
    expect(d.stderr().match(/write failed/g)?.length).toBe(1);
    expect(fs.readFileSync(path.join(state, 'store.json'), 'utf8')).toBe(good);
    expect((await a.get('/api/settings')).homeCountry).toBe('DE');

    execFileSync('mount', ['-o', 'remount,rw', state]);
    const back = Date.now();
    const ok = await until('the write once writable', async () => {
      const s = (await a.get('/api/status')).store;
      return !s.failing && !s.pending ? s : null;
    }, 30_000);
    const served = await w.stop();
    expect(storeOf(state).settings.homeCountry).toBe('DE');
    expect(d.stderr()).toMatch(/written again after \d+ failed attempt/);
    expect(served.failed).toBe(0);
    expect(d.child.exitCode).toBeNull();
    figures.push(`read-only folder: ${ok.errors} failed writes, written ${((Date.now() - back) / 1000).toFixed(1)} s after it was writable again, ${served.ok} status requests answered and ${served.failed} refused meanwhile`);
  }, 60_000);

  it('a state folder deleted under the daemon: keeps running, reports it, writes again once the folder is back', async () => {
    const state = path.join(dir, 'gone-state');
    const d = await start('gone', { stateDir: state });
    const a = await api(d);
    await until('a first write', async () => !(await a.get('/api/status')).store.pending && fs.existsSync(path.join(state, 'store.json')));

    fs.rmSync(state, { recursive: true, force: true });
    const w = a.watch();
    expect(await a.put('/api/settings', { homeCountry: 'IT' })).toBe(200);
    const failing = await until('the write refused', async () => {
      const s = (await a.get('/api/status')).store;
      return s.failing ? s : null;
    });
    expect(failing.lastError).toMatch(/ENOENT|no such file/i);
    await until('a second attempt', async () => (await a.get('/api/status')).store.errors >= 2);
    expect(d.child.exitCode).toBeNull();
    expect(d.stderr().match(/write failed/g)?.length).toBe(1);
    // Not re-created by the daemon: a vanished folder may be an unmounted USB stick, and writing
    // in its mount point would fill the router's own flash.
    expect(fs.existsSync(state)).toBe(false);

    fs.mkdirSync(state, { mode: 0o700 });
    const back = Date.now();
    const ok = await until('the write once the folder is back', async () => {
      const s = (await a.get('/api/status')).store;
      return !s.failing && !s.pending ? s : null;
    }, 30_000);
    const served = await w.stop();
    expect(storeOf(state).settings.homeCountry).toBe('IT');
    expect(served.failed).toBe(0);
    expect(d.child.exitCode).toBeNull();
    figures.push(`deleted folder: ${ok.errors} failed writes, written ${((Date.now() - back) / 1000).toFixed(1)} s after it was back, ${served.failed} of ${served.ok + served.failed} status requests refused meanwhile`);
  }, 60_000);

  it('a corrupt store at start is set aside, its bytes never logged, and the daemon starts afresh', async () => {
    const state = path.join(dir, 'corrupt-state');
    fs.mkdirSync(state, { mode: 0o700 });
    const content = '{"schema":2,"devices":{"SECRET-PAYLOAD-d41d8cd9":';
    fs.writeFileSync(path.join(state, 'store.json'), content);
    const d = await start('corrupt', { stateDir: state });
    const a = await api(d);
    const opening = (await a.get('/api/status')).storeOpening;
    expect(opening.fresh).toBe(true);
    expect(opening.setAside.reason).toMatch(/not JSON \(\d+ bytes\)/);
    expect(fs.readFileSync(opening.setAside.path, 'utf8')).toBe(content);
    expect(d.stderr()).toMatch(/could not be used .*moved to/);
    expect(d.stderr()).not.toContain('SECRET-PAYLOAD');
    expect(storeOf(state).schema).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it('a store corrupted under the running daemon, then SIGHUP: the daemon goes on and rewrites it from memory', async () => {
    const state = path.join(dir, 'hup-state');
    const d = await start('hup', { stateDir: state });
    const a = await api(d);
    expect(await a.put('/api/settings', { homeCountry: 'ES' })).toBe(200);
    await until('a first write', async () => !(await a.get('/api/status')).store.pending && storeOf(state).settings.homeCountry === 'ES');
    fs.writeFileSync(path.join(state, 'store.json'), 'garbage, not JSON');
    d.child.kill('SIGHUP');
    await until('the reload', async () => /reloaded:/.test(d.stderr()));
    expect(d.child.exitCode).toBeNull();
    expect(await a.put('/api/settings', { homeCountry: 'PT' })).toBe(200);
    await until('the store rewritten', async () => {
      try {
        return storeOf(state).settings.homeCountry === 'PT';
      } catch {
        return false;
      }
    });
    expect((await a.get('/api/status')).store.failing).toBe(false);
  }, 30_000);

  it('a corrupt rule file at start: exit 2 naming file:line, no stack', () => {
    const rules = path.join(dir, 'bad-rules');
    fs.mkdirSync(path.join(rules, 'alerts'), { recursive: true });
    fs.writeFileSync(path.join(rules, 'alerts', 'broken.yaml'), BAD_RULE);
    const pcap = path.join(dir, 'empty.pcap');
    emptyPcap(pcap);
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/vigie.js'), 'run', '--read', pcap, '--rules', rules, '--state-dir', path.join(dir, 'bad-rules-state'), '--listen', '127.0.0.1', '--port', '0'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, VIGIE_ADMIN_PASSWORD: PASSWORD, VIGIE_NO_REEXEC: '1' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/broken\.yaml:\d+:/);
    expect(r.stderr).not.toMatch(/internal error|\bat .*\.js:\d+/);
  });

  it('a rule file corrupted then SIGHUP: refused, the rules in force stay, /api/status says why; the fixed file is taken', async () => {
    const rules = path.join(dir, 'hup-rules');
    const file = path.join(rules, 'alerts', 'extra.yaml');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, GOOD_RULE);
    const d = await start('hup-rules', { args: ['--rules', rules] });
    const a = await api(d);
    expect((await a.get('/api/status')).rulesError).toBeNull();

    fs.writeFileSync(file, BAD_RULE);
    d.child.kill('SIGHUP');
    await until('the reload refused', async () => /reload refused/.test(d.stderr()));
    const st = await a.get('/api/status');
    expect(st.rulesError).toMatch(/extra\.yaml:\d+:/);
    expect(d.stderr()).toMatch(/reload refused, the rules and settings in force stay: .*extra\.yaml:\d+:/);
    expect(d.stderr()).not.toMatch(/\bat .*\.js:\d+/);
    expect(d.child.exitCode).toBeNull();

    fs.writeFileSync(file, GOOD_RULE);
    d.child.kill('SIGHUP');
    await until('the reload', async () => /reloaded:/.test(d.stderr()));
    expect((await a.get('/api/status')).rulesError).toBeNull();
    expect(d.child.exitCode).toBeNull();
  }, 30_000);
});

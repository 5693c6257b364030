/**
 * Issue 16's fault "SIGKILL at 20 random moments of a busy run": `vigie run` replays a capture of
 * 400 LAN devices at five times its pace (new devices, flows and hourly counters all the time)
 * with a one-second commit interval, while a client adds a mute through the API every 100 ms;
 * the daemon is killed with SIGKILL at a random moment (seeded: FAULTS_SEED), started again on
 * the same state folder, twenty times. Each time: the store on disk is readable and valid, the
 * next start sets nothing aside, and every change the API acknowledged more than one commit
 * interval (plus the write's own time) before the kill is in it. The figures are printed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readStoreReadOnly } from '../../daemon/store/store.js';
import { writeTraffic } from '../helpers/faults-traffic.js';
import { spawnDaemon, type Spawned } from '../helpers/spawn-daemon.js';

const KILLS = Number(process.env.FAULTS_KILLS ?? 20);
const COMMIT_S = 1;
/** What a write may take on a loaded CI machine, on top of the commit interval. */
const WRITE_SLACK_MS = 750;
/** The daemon itself as the child, without bin/vigie.js's re-exec: SIGKILL must reach the process that writes the store. */
const DIRECT = 'export VIGIE_NO_REEXEC=1;';
const SEED = Number(process.env.FAULTS_SEED ?? Date.now() % 100_000);

/** mulberry32: a seeded PRNG, so that a failing run can be repeated with FAULTS_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('faults: SIGKILL at random moments of a busy run', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-faults-kill-'));
  const state = path.join(dir, 'state');
  const traffic = path.join(dir, 'busy.pcap');
  let current: Spawned | null = null;

  afterAll(() => {
    current?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`leaves a readable store every time, losing at most one commit interval (seed ${SEED})`, async () => {
    const recorded = writeTraffic(traffic, { devices: 400, gap: 0.05, every: 0.25, span: 5 });
    const random = prng(SEED);
    const rows: { at: number; acked: number; lost: number; maxLostAge: number; bytes: number; devices: number }[] = [];
    for (let k = 0; k < KILLS; k++) {
      const d = await spawnDaemon(dir, { stateDir: state, shell: DIRECT, args: ['--read', traffic, '--speed', '5', '--commit-interval', String(COMMIT_S)] });
      current = d;
      const started = Date.now();
      const killAfter = Math.round(random() * 2000);
      const acked: { rule: string; at: number }[] = [];
      let stop = false;
      const client = (async () => {
        const r = await d.login().catch(() => null);
        if (!r || r.status !== 200) return;
        if (k > 0) {
          // The store the previous kill left was taken as it is: nothing set aside.
          const st = await fetch(new URL('/api/status', d.base), { headers: { Cookie: r.cookie } }).then((x) => x.json()).catch(() => null);
          if (st) expect(st.storeOpening.setAside, `start after kill ${k}`).toBeNull();
        }
        for (let i = 0; !stop; i++) {
          const rule = `faults-kill-${k}-${i}`;
          try {
            const res = await fetch(new URL('/api/mutes', d.base), { method: 'POST', headers: { Cookie: r.cookie, 'Content-Type': 'application/json' }, body: JSON.stringify({ rule }) });
            await res.text();
            if (res.ok) acked.push({ rule, at: Date.now() });
          } catch {
            return; // killed
          }
          await new Promise((x) => setTimeout(x, 100));
        }
      })();
      await new Promise((x) => setTimeout(x, Math.max(0, started + killAfter - Date.now())));
      const killedAt = Date.now();
      const exited = new Promise((x) => d.child.once('exit', x));
      d.child.kill('SIGKILL');
      stop = true;
      await exited;
      await client;
      current = null;

      // Throws when the file is missing, not JSON, or breaks the store schema.
      const data = readStoreReadOnly(state);
      const kept = new Set(data.mutes.map((m) => m.rule));
      const lost = acked.filter((a) => !kept.has(a.rule));
      const maxLostAge = lost.length ? Math.max(...lost.map((a) => killedAt - a.at)) : 0;
      expect(maxLostAge, `kill ${k + 1} at ${killAfter} ms: ${lost.length} acknowledged changes lost`).toBeLessThanOrEqual(COMMIT_S * 1000 + WRITE_SLACK_MS);
      rows.push({ at: killAfter, acked: acked.length, lost: lost.length, maxLostAge, bytes: fs.statSync(path.join(state, 'store.json')).size, devices: Object.keys(data.devices).length });
    }
    // A last start on what the last kill left: taken as it is.
    const d = await spawnDaemon(dir, { stateDir: state, shell: DIRECT, args: ['--commit-interval', String(COMMIT_S)] });
    current = d;
    const r = await d.login();
    const st = await fetch(new URL('/api/status', d.base), { headers: { Cookie: r.cookie } }).then((x) => x.json());
    expect(st.storeOpening.setAside).toBeNull();
    d.kill();
    current = null;

    // The run was busy, and the API's changes were there to lose.
    expect(rows.some((x) => x.devices > 0)).toBe(true);
    expect(rows.reduce((s, x) => s + x.acked, 0)).toBeGreaterThan(KILLS * 3);
    const worst = Math.max(...rows.map((x) => x.maxLostAge));
    process.stdout.write(
      `faults-sigkill (seed ${SEED}, capture of ${recorded.packets} packets over ${recorded.seconds.toFixed(0)} s replayed at x5, commit every ${COMMIT_S} s): ${rows.length} kills, store readable ${rows.length}/${rows.length}; ` +
        `changes acknowledged ${rows.reduce((s, x) => s + x.acked, 0)}, lost ${rows.reduce((s, x) => s + x.lost, 0)}, oldest lost ${worst} ms before its kill; ` +
        `store ${Math.min(...rows.map((x) => x.bytes))}–${Math.max(...rows.map((x) => x.bytes))} bytes, up to ${Math.max(...rows.map((x) => x.devices))} devices\n` +
        rows.map((x, i) => `  kill ${i + 1}: ${x.at} ms after start, ${x.acked} acked, ${x.lost} lost (oldest ${x.maxLostAge} ms)`).join('\n') +
        '\n',
    );
  }, 150_000);
});

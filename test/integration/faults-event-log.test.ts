/**
 * Issue 16's fault "disk full during event-log writes", on a small tmpfs (root: mount):
 * - the EventLog itself: the line that meets the end of the disk is not left half-written (a
 *   short write is cut off again, so the log stays one JSON object a line), the failure is told
 *   once, and the end of it too when space returns;
 * - the running daemon (`vigie run --event-log` on that tmpfs, a paced replay bringing ten new
 *   devices a second): it keeps running and serving while the disk is full, says so in
 *   the log and in /api/status, and writes the event log again once space returns.
 * The symlink refusal of finding 13 is renovation-event-log.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLog } from '../../daemon/exports/alert-exports.js';
import { writeTraffic } from '../helpers/faults-traffic.js';
import { spawnDaemon, until, type Spawned } from '../helpers/spawn-daemon.js';

const isRoot = process.getuid?.() === 0;

/** Fills the file system of `file`'s folder to the last byte. */
function fill(file: string): void {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch {
    /* full to the page */
  }
  try {
    for (;;) fs.writeSync(fd, chunk, 0, 1);
  } catch {
    /* full */
  }
  fs.closeSync(fd);
}

const lines = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);

describe.skipIf(!isRoot)('faults: a full disk under the event log', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-faults-evlog-'));
  const mounts: string[] = [];
  let d: Spawned | null = null;
  const mount = (name: string, size: string) => {
    const p = path.join(dir, name);
    fs.mkdirSync(p);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', p]);
    mounts.push(p);
    return p;
  };

  afterAll(() => {
    d?.kill();
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('leaves no half line where the disk ended, tells the failure once and its end', () => {
    const disk = mount('unit', '64k');
    const file = path.join(disk, 'events.jsonl');
    // 14 of the 16 pages taken: the log has 8 KiB, and its last line meets the end of the disk.
    fs.writeFileSync(path.join(disk, 'filler'), Buffer.alloc(14 * 4096, 1));
    const told: string[] = [];
    const log = new EventLog(file, 1 << 20, 3, (m) => told.push(m));
    const pad = 'p'.repeat(300);
    let n = 0;
    while (log.errors < 3) log.write({ type: 'test', n: n++, pad });
    expect(log.written).toBeGreaterThan(10);
    expect(told).toEqual([expect.stringMatching(/^event log write failed: ENOSPC/)]);
    for (const l of lines(file)) expect(() => JSON.parse(l), `a line of ${l.length} bytes`).not.toThrow();
    expect(lines(file)).toHaveLength(log.written);

    fs.rmSync(path.join(disk, 'filler'));
    log.write({ type: 'test', n: n++, pad });
    log.write({ type: 'test', n: n++, pad });
    expect(told[1]).toBe(`event log ${file} written again after 3 failed writes`);
    expect(told).toHaveLength(2);
    const all = lines(file).map((l) => JSON.parse(l) as { n: number });
    expect(all).toHaveLength(log.written);
    expect(all.at(-1)!.n).toBe(n - 1);
  });

  // Shared by the two tests below: the second only reads what the first saw.
  let duringFull: { status: any; served: boolean } | null = null;

  it('vigie run keeps running and serving on a full event-log disk, and writes again when space returns', async () => {
    const disk = mount('daemon', '200k');
    const file = path.join(disk, 'events.jsonl');
    const pcap = path.join(dir, 'joining.pcap');
    writeTraffic(pcap, { devices: 300, gap: 0.1, every: 5, span: 0 });
    d = await spawnDaemon(dir, { stateDir: path.join(dir, 'state'), shell: 'export VIGIE_NO_REEXEC=1;', args: ['--read', pcap, '--speed', '1', '--event-log', file] });
    const r = await d.login();
    expect(r.status).toBe(200);
    const get = async (p: string) => {
      const res = await fetch(new URL(p, d!.base), { headers: { Cookie: r.cookie } });
      expect(res.status, p).toBe(200);
      return res.json();
    };
    await until('devices in the event log', async () => fs.existsSync(file) && lines(file).length >= 3);

    const filler = path.join(disk, 'filler');
    fill(filler);
    const full = Date.now();
    await until('the failure told', async () => /event log write failed: ENOSPC/.test(d!.stderr()));
    const status = await get('/api/status');
    duringFull = { status, served: true };
    expect(d.child.exitCode).toBeNull();
    const count = lines(file).length;
    // Two more seconds of devices joining, the API asked meanwhile.
    for (let i = 0; i < 8; i++) {
      await get('/api/status');
      await new Promise((x) => setTimeout(x, 250));
    }
    expect(d.stderr().match(/event log write failed/g)).toHaveLength(1);

    fs.rmSync(filler);
    const freed = Date.now();
    await until('a new line after space returned', async () => lines(file).length > count);
    const resumedMs = Date.now() - freed;
    expect(d.stderr()).toMatch(/event log .* written again after \d+ failed write/);
    for (const l of lines(file)) expect(() => JSON.parse(l)).not.toThrow();
    expect(d.child.exitCode).toBeNull();
    const failed = Number(/written again after (\d+) failed/.exec(d.stderr())![1]);
    process.stdout.write(`faults-event-log: disk full for ${((freed - full) / 1000).toFixed(1)} s, ${failed} event lines lost meanwhile (told once), the log written again ${(resumedMs / 1000).toFixed(1)} s after space returned; the API answered while it was full\n`);
  }, 60_000);

  it('/api/status says the event log is failing while the disk is full', () => {
    expect(duringFull, 'the scenario above ran').not.toBeNull();
    // status.eventLog = { file, written, errors, failing, lastError } (daemon/run/status-board.ts).
    const ev = duringFull!.status.eventLog;
    expect(ev).toMatchObject({ failing: true, lastError: expect.stringMatching(/ENOSPC/) });
    expect(ev.errors).toBeGreaterThanOrEqual(1);
  });
});

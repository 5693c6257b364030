/**
 * Issue 16, finding 14: killing the re-exec wrapper (`bin/vigie.js`) with SIGKILL left the real
 * daemon holding the port. The child now stops when the wrapper's IPC channel closes, by the
 * SIGTERM path (the store written). The wrapper also hands the password over that channel rather
 * than the child's environment.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { vigie } from '../helpers/cli.js';
import { PASSWORD, spawnDaemon, until, type Spawned } from '../helpers/spawn-daemon.js';

// The wrapper itself is under test: it must start the child (no shortcut, no flags given).
delete process.env.VIGIE_NO_REEXEC;
delete process.env.NODE_OPTIONS;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-wrapper-'));
const pids: number[] = [];
const started: Spawned[] = [];

/** Alive and not a zombie (a reparented child may wait for a reaper that a container lacks). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

afterAll(() => {
  for (const d of started) d.kill();
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the re-exec wrapper', () => {
  it('SIGKILL of the wrapper: the daemon stops by the SIGTERM path, the port is free and the child gone within seconds', async () => {
    const d = await spawnDaemon(dir, { stateDir: path.join(dir, 'state') });
    started.push(d);
    await d.settled();
    const wrapper = d.child.pid!;
    const [child] = childrenOf(wrapper);
    expect(child, 'the wrapper started a child').toBeGreaterThan(0);
    pids.push(child);
    expect(fs.readFileSync(`/proc/${child}/cmdline`, 'utf8')).toContain('--max-semi-space-size=2');
    const port = Number(new URL(d.base).port);
    expect(await portFree(port)).toBe(false);

    const t = Date.now();
    process.kill(wrapper, 'SIGKILL');
    await until('the child to stop', async () => !alive(child), 8000);
    await until('the port to be free', async () => await portFree(port), 8000);
    const took = Date.now() - t;
    console.log(`wrapper SIGKILLed: child gone and port ${port} free after ${took} ms`);
    expect(took).toBeLessThan(6000);
    // The graceful path: the store was written, not lost with a kill.
    await until('the stop message', async () => /SIGTERM: writing the store and stopping/.test(d.stderr()), 3000);
    expect(fs.existsSync(path.join(dir, 'state'))).toBe(true);
  });

  it('the password reaches the daemon over the channel, not through its environment', async () => {
    const d = await spawnDaemon(dir, { stateDir: path.join(dir, 'state-secret') });
    started.push(d);
    await d.settled();
    const [child] = childrenOf(d.child.pid!);
    pids.push(child);
    expect(d.stderr()).toContain('administrator password set from VIGIE_ADMIN_PASSWORD');
    const environ = fs.readFileSync(`/proc/${child}/environ`, 'utf8');
    expect(environ).not.toContain(PASSWORD);
    expect(environ).not.toContain('VIGIE_ADMIN_PASSWORD');
    // And it is the administrator's: the daemon takes it at login.
    expect((await d.login()).status).toBe(200);
    d.kill();
    await until('the child to stop', async () => !alive(child), 8000);
  });

  it('a command that ends (rules check) still ends: the channel keeps nobody alive', () => {
    const t = Date.now();
    const r = vigie(['rules', 'check']);
    expect(r.status).toBe(0);
    expect(Date.now() - t).toBeLessThan(20_000);
  });
});

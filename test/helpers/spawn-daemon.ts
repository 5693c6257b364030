/**
 * `vigie run` as a child process for the hardening tests: replaying an empty capture (no packets:
 * the daemon just serves), on 127.0.0.1 and a free port, its stderr collected. `shell` runs it
 * through `sh -c` with a prefix, e.g. `ulimit -n 160;`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const PASSWORD = 'correct-horse-battery-staple';

/** A pcap file with no packets: the replay ends at once, the daemon keeps serving. */
export function emptyPcap(file: string): void {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(65535, 16);
  h.writeUInt32LE(1, 20);
  fs.writeFileSync(file, h);
}

export async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface Spawned {
  child: ChildProcess;
  base: string;
  stderr: () => string;
  /** Resolves once the replay of the empty capture has ended, so later stderr is the test's own. */
  settled: () => Promise<void>;
  /** A session cookie. */
  login: () => Promise<{ status: number; cookie: string }>;
  kill: () => void;
}

export async function spawnDaemon(dir: string, opts: { stateDir?: string; args?: string[]; shell?: string } = {}): Promise<Spawned> {
  const pcap = path.join(dir, 'empty.pcap');
  emptyPcap(pcap);
  const stateDir = opts.stateDir ?? path.join(dir, 'state');
  const argv = [process.execPath, path.join(ROOT, 'bin/vigie.js'), 'run', '--read', pcap, '--speed', 'max', '--state-dir', stateDir, '--listen', '127.0.0.1', '--port', '0', '--home-country', 'FR', ...(opts.args ?? [])];
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const env = { ...process.env, VIGIE_ADMIN_PASSWORD: PASSWORD };
  const child = opts.shell ? spawn('sh', ['-c', `${opts.shell} exec ${argv.map(quote).join(' ')}`], { env, stdio: ['ignore', 'ignore', 'pipe'] }) : spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const base = await until('the dashboard URL', async () => {
    if (child.exitCode !== null) throw new Error(`vigie run exited (${child.exitCode}): ${err}`);
    return /dashboard at (\S+)/.exec(err)?.[1] ?? null;
  });
  return {
    child,
    base,
    stderr: () => err,
    settled: async () => {
      await until('the end of the replay', async () => /replay of .* done/.test(err));
    },
    login: async () => {
      const r = await fetch(new URL('/api/session', base), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }) });
      await r.text();
      return { status: r.status, cookie: (r.headers.get('set-cookie') ?? '').split(';')[0] };
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

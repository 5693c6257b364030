/**
 * Test networks made of Linux network namespaces joined by veth pairs. Every namespace a test
 * makes is named with the test's prefix and removed, with the processes inside it, when the test
 * ends, whether it passed or not (and at process exit as a last resort).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export function canMakeNamespaces(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export class TestNet {
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly onExit = () => this.destroy();

  constructor(readonly prefix: string) {
    // Leftovers of an earlier crashed run with the same prefix.
    for (const line of execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n')) {
      const name = line.split(' ')[0];
      if (name.startsWith(prefix)) this.deleteNs(name);
    }
    process.once('exit', this.onExit);
  }

  ns(name: string): string {
    const full = `${this.prefix}${name}`;
    ip('netns', 'add', full);
    this.namespaces.push(full);
    ip('-n', full, 'link', 'set', 'lo', 'up');
    return full;
  }

  /** A veth pair between two namespaces, each end with an address (CIDR) or none. */
  link(nsA: string, ifA: string, addrA: string | null, nsB: string, ifB: string, addrB: string | null): void {
    ip('link', 'add', `${ifA}`, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB);
    for (const [ns, iface, addr] of [
      [nsA, ifA, addrA],
      [nsB, ifB, addrB],
    ] as const) {
      if (addr) ip('-n', ns, 'addr', 'add', addr, 'dev', iface);
      ip('-n', ns, 'link', 'set', iface, 'up');
    }
  }

  exec(ns: string, cmd: string[], opts: { input?: string | Buffer; timeout?: number } = {}): Buffer {
    return execFileSync('ip', ['netns', 'exec', ns, ...cmd], { input: opts.input, timeout: opts.timeout ?? 30_000, maxBuffer: 256 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
  }

  /** A long-running process inside a namespace, killed at destroy(). */
  spawn(ns: string, cmd: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.push(child);
    return child;
  }

  /** Deletes one namespace at once, the processes in it killed: a device losing power. */
  remove(ns: string): void {
    const i = this.namespaces.indexOf(ns);
    if (i >= 0) this.namespaces.splice(i, 1);
    this.deleteNs(ns);
  }

  destroy(): void {
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const ns of this.namespaces.splice(0)) this.deleteNs(ns);
    process.removeListener('exit', this.onExit);
  }

  private deleteNs(name: string): void {
    try {
      const pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split('\n').filter(Boolean);
      for (const p of pids) {
        try {
          process.kill(Number(p), 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      ip('netns', 'del', name);
    } catch {
      /* already gone */
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

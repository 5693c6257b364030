/**
 * Where the segmentation script runs: this machine (`sh -s`) or a router over ssh
 * (`ssh … sh -s`, the script on stdin). The system ssh client, key-only and with a pinned host
 * key: a router whose key changed is refused, never silently trusted (ssh_config(5):
 * BatchMode, StrictHostKeyChecking, UserKnownHostsFile).
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { InputError } from '../capture/errors.js';

export interface RemoteTarget {
  user: string;
  host: string;
  port: number;
  /** A private key (ssh -i); otherwise ssh's own defaults and agent. */
  identityFile?: string;
  /** The only known_hosts file trusted for the router's key; otherwise ssh's default (~/.ssh/known_hosts). */
  knownHostsFile?: string;
}

export interface Target {
  remote?: RemoteTarget;
  /**
   * Local path only: a command prefix, for example `['ip', 'netns', 'exec', 'router']` or
   * `['sudo', '-n']`. The script runs as `PREFIX sh -s`.
   */
  localPrefix?: string[];
}

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const USER = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,31}$/;
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

/** `ssh://[user@]host[:port]`, user root and port 22 by default (OpenWrt's). */
export function parseRemote(spec: string, extra: { identityFile?: string; knownHostsFile?: string } = {}): RemoteTarget {
  const fail = (why: string): never => {
    throw new InputError('--remote', `${JSON.stringify(spec)}: ${why}`);
  };
  if (typeof spec !== 'string' || !spec.startsWith('ssh://')) fail('expected ssh://[user@]host[:port], for example ssh://root@192.168.1.1');
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    return fail('not a valid ssh:// address (an IPv6 address goes in brackets: ssh://root@[2001:db8::1]:22)');
  }
  if (url.password) fail('no password in the address: the connection uses keys only');
  if (url.pathname !== '' && url.pathname !== '/') fail('no path after the host');
  if (url.search || url.hash) fail('no ? or # after the host');
  const user = decodeURIComponent(url.username || 'root');
  if (!USER.test(user)) fail(`${JSON.stringify(user)} is not a user name`);
  let host = url.hostname;
  if (host.startsWith('[')) {
    host = host.slice(1, -1);
    if (!net.isIPv6(host)) fail(`${host} is not an IPv6 address`);
  } else if (!HOSTNAME.test(host) && !net.isIPv4(host)) fail(`${JSON.stringify(host)} is not a host name or address`);
  const port = url.port === '' ? 22 : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail('the port must be between 1 and 65535');
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && (typeof v !== 'string' || v === '' || v.includes('\n'))) fail(`${k}: not a file name`);
  return { user, host, port, ...(extra.identityFile ? { identityFile: path.resolve(extra.identityFile) } : {}), ...(extra.knownHostsFile ? { knownHostsFile: path.resolve(extra.knownHostsFile) } : {}) };
}

export function describeTarget(t: Target): string {
  if (!t.remote) return 'this machine';
  const h = t.remote.host.includes(':') ? `[${t.remote.host}]` : t.remote.host;
  return `ssh://${t.remote.user}@${h}:${t.remote.port}`;
}

/** The ssh command line; the script comes on its stdin. */
export function sshArgv(r: RemoteTarget): string[] {
  const o = (kv: string): string[] => ['-o', kv];
  return [
    'ssh',
    '-T',
    ...o('BatchMode=yes'),
    ...o('PasswordAuthentication=no'),
    ...o('KbdInteractiveAuthentication=no'),
    ...o('PreferredAuthentications=publickey'),
    ...o('StrictHostKeyChecking=yes'),
    // The pinned file alone: no system-wide known_hosts, no learning other key types on the way.
    ...(r.knownHostsFile ? [...o(`UserKnownHostsFile=${r.knownHostsFile}`), ...o('GlobalKnownHostsFile=/dev/null')] : []),
    ...o('UpdateHostKeys=no'),
    ...(r.identityFile ? ['-i', r.identityFile, ...o('IdentitiesOnly=yes')] : []),
    // A shared master connection would skip the checks above.
    ...o('ControlMaster=no'),
    ...o('ControlPath=none'),
    ...o('ForwardAgent=no'),
    ...o('ClearAllForwardings=yes'),
    ...o('ConnectTimeout=10'),
    ...o('ServerAliveInterval=5'),
    ...o('ServerAliveCountMax=3'),
    ...o('LogLevel=ERROR'),
    '-p',
    String(r.port),
    '--',
    `${r.user}@${r.host}`,
    'sh -s',
  ];
}

/** ssh's own failures (exit 255), in words a user can act on. */
function sshError(t: RemoteTarget, label: string, stderr: string): InputError {
  const kh = t.knownHostsFile ?? '~/.ssh/known_hosts';
  const last = stderr.trim().split('\n').filter(Boolean).pop() ?? 'no message';
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(stderr))
    return new InputError(label, `the router's host key changed: it does not match the key pinned in ${kh}. Refusing to connect (a reinstalled router has a new key: check it on the router's console, then replace its line)`);
  if (/Host key verification failed|No .* host key is known/i.test(stderr)) return new InputError(label, `no pinned host key for ${t.host} in ${kh}: add the router's key there after checking its fingerprint on the router (ssh-keygen -lf /etc/dropbear/dropbear_ed25519_host_key.pub)`);
  if (/Permission denied/i.test(stderr)) return new InputError(label, `the router refused the key (key-only login): ${last}`);
  return new InputError(label, `cannot reach the router over ssh: ${last}`);
}

/** Runs the script; rejects with InputError when ssh itself fails (the script's own exit codes are the caller's). */
export function runScript(script: string, t: Target, timeoutMs = 120_000): Promise<ScriptRun> {
  const argv = t.remote ? sshArgv(t.remote) : [...(t.localPrefix ?? []), 'sh', '-s'];
  const label = describeTarget(t);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => {
      /* the exit code tells */
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new InputError(label, e.code === 'ENOENT' ? `${argv[0]} is not installed` : e.message));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) return reject(new InputError(label, `no answer within ${Math.round(timeoutMs / 1000)} s (if the plan was loaded, the router rolls it back by itself; see --status)`));
      if (t.remote && code === 255 && !stdout.includes('vigie: ')) return reject(sshError(t.remote, label, stderr));
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(script);
  });
}

/**
 * A router made for a segmentation test: a "router" namespace with a LAN bridge br-lan
 * (192.168.60.1/24, 2001:db8:60::1/64) and a WAN link to an "internet" namespace holding the
 * internet's services on documentation addresses (198.51.100.0/24, 203.0.113.0/24,
 * 2001:db8:1::/64), plain routing both ways (no NAT: the servers see the devices' addresses).
 * LAN devices are namespaces on ports of br-lan. Optionally an sshd in the router, reachable
 * from the root namespace through a veth the lab makes (192.0.2.250, port 2222), with its own
 * host key, client key and pinned known_hosts.
 *
 * The router does not pass bridged frames through the IP hooks (bridge-nf-call-* = 0, as on
 * OpenWrt without kmod-br-netfilter): traffic between LAN devices meets only the bridge family.
 * Only addresses inside the lab's namespaces receive traffic; destroy() kills every process and
 * removes every namespace, also when the test failed. Also re-exports the hand-built plans of
 * test/helpers/plans.ts (planDevice, planPeer, segmentationPlan) for the tests that use the lab.
 */
import { type ChildProcess, execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sleep, TestNet } from './netns.js';

export interface LabDevice {
  name: string;
  ns: string;
  mac: string;
  ip4: string;
  ip6: string;
}

export interface LabSsh {
  host: string;
  port: number;
  clientKey: string;
  knownHosts: string;
  /** A known_hosts file with another key for the same address: a router whose key changed. */
  wrongKnownHosts: string;
}

/** A TCP server that greets with `hello <the address it was reached on>` (port 80, 8080) or echoes (port 7, printing `got <line>`). */
const SERVER_JS = `
const net = require('net');
for (const port of process.argv.slice(1).map(Number)) {
  const srv = port === 7 ? net.createServer((s) => { s.on('error', () => {}); s.on('data', (d) => process.stdout.write('got ' + d)); s.pipe(s); })
    : net.createServer((s) => { s.on('error', () => {}); s.end('hello ' + s.localAddress.replace(/^::ffff:/, '') + '\\n'); });
  srv.listen({ port, host: '::' });
}
`;

/** Connects, optionally sends a line, prints what came back; exit 1 on failure or silence. */
const PROBE_JS = `
const net = require('net');
const [host, port, ms, send] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port) });
let got = '';
const done = (ok) => { process.stdout.write(got); process.exit(ok ? 0 : 1); };
setTimeout(() => done(got !== ''), Number(ms));
s.on('connect', () => { if (send) s.write(send + '\\n'); });
s.on('data', (d) => { got += d; if (got.includes('\\n')) done(true); });
s.on('error', () => done(false));
s.on('end', () => done(got !== ''));
`;

/** Prints each datagram received on a UDP port. */
const UDP_SINK_JS = `
const s = require('dgram').createSocket({ type: 'udp6', ipv6Only: false });
s.on('message', (m) => process.stdout.write('got ' + m + '\\n'));
s.bind(Number(process.argv[1]), '::');
`;

const UDP_SEND_JS = `
const [host, port, msg] = process.argv.slice(1);
const s = require('dgram').createSocket(host.includes(':') ? 'udp6' : 'udp4');
s.send(msg, Number(port), host, () => s.close());
`;

/** A connection held open: each line written is sent, each line received printed. */
const HOLD_JS = `
const net = require('net');
const [host, port] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port) }, () => console.log('connected'));
s.on('data', (d) => process.stdout.write(d));
s.on('error', (e) => console.log('error ' + e.code));
process.stdin.on('data', (d) => s.write(d));
`;

export class RouterLab {
  readonly net: TestNet;
  readonly dir: string;
  readonly router: string;
  readonly internet: string;
  readonly devices = new Map<string, LabDevice>();
  private readonly etcDirs: string[] = [];
  private readonly rootLinks: string[] = [];
  routerDnsPidFile = '';
  /** What each started program printed, by `<namespace> <program>`. */
  readonly logs = new Map<string, string>();

  constructor(readonly prefix: string) {
    this.net = new TestNet(prefix);
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.router = this.net.ns('router');
    this.internet = this.net.ns('inet');
    const r = this.router;
    const i = this.internet;
    this.sh(r, [
      'ip link add br-lan type bridge',
      'ip addr add 192.168.60.1/24 dev br-lan',
      'ip addr add 2001:db8:60::1/64 dev br-lan nodad',
      'ip link set br-lan up',
      'sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1',
      // OpenWrt has no br_netfilter by default: bridged frames see only the bridge family's hooks.
      'for f in /proc/sys/net/bridge/bridge-nf-call-*; do [ -e "$f" ] && echo 0 > "$f"; done; true',
    ].join(' && '));
    this.net.link(r, 'wan0', '100.64.0.1/30', i, 'eth0', '100.64.0.2/30');
    this.sh(r, 'ip addr add 2001:db8:ff::1/64 dev wan0 nodad');
    this.sh(i, 'ip addr add 2001:db8:ff::2/64 dev eth0 nodad');
    for (const n of ['198.51.100.0/24', '203.0.113.0/24', '192.0.2.0/24']) this.sh(r, `ip route add ${n} via 100.64.0.2`);
    this.sh(r, 'ip -6 route add 2001:db8:1::/64 via 2001:db8:ff::2');
    this.sh(i, 'ip route add 192.168.60.0/24 via 100.64.0.1 && ip -6 route add 2001:db8:60::/64 via 2001:db8:ff::1');
  }

  /** An internet address (on the internet namespace's loopback). */
  internetAddress(ip: string): void {
    this.sh(this.internet, ip.includes(':') ? `ip addr add ${ip}/128 dev lo nodad` : `ip addr add ${ip}/32 dev lo`);
  }

  /** A LAN device on br-lan with a static address (.N and ::N) and the router as gateway and resolver. */
  device(name: string, mac: string, n: number): LabDevice {
    const ns = this.net.ns(name);
    const port = `p-${name}`.slice(0, 15);
    this.net.link(this.router, port, null, ns, 'eth0', null);
    this.sh(this.router, `ip link set ${port} master br-lan`);
    const d: LabDevice = { name, ns, mac, ip4: `192.168.60.${n}`, ip6: `2001:db8:60::${n}` };
    this.sh(ns, [
      `ip link set eth0 down`,
      `ip link set eth0 address ${mac}`,
      `ip link set eth0 up`,
      `ip addr add ${d.ip4}/24 dev eth0`,
      `ip addr add ${d.ip6}/64 dev eth0 nodad`,
      'ip route add default via 192.168.60.1',
      'ip -6 route add default via 2001:db8:60::1',
    ].join(' && '));
    const etc = `/etc/netns/${ns}`;
    fs.mkdirSync(etc, { recursive: true });
    fs.writeFileSync(path.join(etc, 'resolv.conf'), 'nameserver 192.168.60.1\n');
    fs.writeFileSync(path.join(etc, 'hosts'), '127.0.0.1 localhost\n');
    this.etcDirs.push(etc);
    this.devices.set(name, d);
    return d;
  }

  /** The internet's resolver (a dnsmasq at `addr`, port 53) answering `names` (name → addresses), TTL 300 s. */
  async startUpstreamDns(addr: string, names: Record<string, string[]>): Promise<void> {
    const args = ['dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', `--listen-address=${addr}`, '--bind-interfaces', '--no-resolv', '--no-hosts', '--local-ttl=300', `--pid-file=${path.join(this.dir, 'upstream-dns.pid')}`, '--log-facility=-'];
    for (const [n, ips] of Object.entries(names)) for (const ip of ips) args.push(`--address=/${n}/${ip}`);
    this.spawn(this.internet, args);
    await this.waitForUdp(this.internet, 53);
  }

  private routerDns: ChildProcess | null = null;

  /** The router's dnsmasq on br-lan, forwarding to `upstream`, with extra configuration lines (Vigie's nftset lines); a second call restarts it with new lines. */
  async startRouterDns(upstream: string, conf: string): Promise<void> {
    if (this.routerDns && this.routerDns.exitCode === null) {
      const old = this.routerDns;
      const gone = new Promise((r) => old.on('exit', r));
      old.kill('SIGTERM');
      await gone;
    }
    const file = path.join(this.dir, 'router-dnsmasq.conf');
    fs.writeFileSync(file, conf);
    this.routerDnsPidFile = path.join(this.dir, 'router-dns.pid');
    fs.rmSync(this.routerDnsPidFile, { force: true });
    this.routerDns = this.spawn(this.router, ['dnsmasq', '--keep-in-foreground', `--conf-file=${file}`, '--interface=br-lan', '--bind-interfaces', '--no-resolv', '--no-hosts', `--server=${upstream}`, `--pid-file=${this.routerDnsPidFile}`, '--log-facility=-', '--log-queries']);
    await this.waitForUdp(this.router, 53);
    for (let k = 0; k < 50 && !fs.existsSync(this.routerDnsPidFile); k++) await sleep(50);
  }

  /** mosquitto on addr:1883 requiring a user name and password. */
  async startMosquitto(addr: string, user: string, password: string): Promise<void> {
    const pw = path.join(this.dir, 'mosquitto.pw');
    execFileSync('mosquitto_passwd', ['-c', '-b', pw, user, password]);
    const conf = path.join(this.dir, 'mosquitto.conf');
    fs.writeFileSync(conf, [`listener 1883 ${addr}`, 'allow_anonymous false', `password_file ${pw}`, 'user root', ''].join('\n'));
    this.spawn(this.internet, ['mosquitto', '-c', conf]);
    await this.waitForTcp(this.internet, 1883);
  }

  /** TCP servers (see SERVER_JS) on the given ports, all addresses of the namespace. */
  async startServers(ns: string, ports: number[]): Promise<void> {
    this.spawn(ns, [process.execPath, '-e', SERVER_JS, ...ports.map(String)]);
    for (const p of ports) await this.waitForTcp(ns, p);
  }

  /** Connects from a namespace; what the server said, or null when the connection failed or stayed silent. */
  tcp(ns: string, host: string, port: number, opts: { send?: string; timeoutMs?: number } = {}): Promise<string | null> {
    const args = ['netns', 'exec', ns, process.execPath, '-e', PROBE_JS, host, String(port), String(opts.timeoutMs ?? 1500), ...(opts.send ? [opts.send] : [])];
    return new Promise((resolve) => execFile('ip', args, { timeout: 10_000 }, (err, stdout) => resolve(err ? null : stdout.trim())));
  }

  /** A UDP sink on `port`: returns what it received so far (one `got <message>` line each). */
  async udpSink(ns: string, port: number): Promise<() => string> {
    const child = this.spawn(ns, [process.execPath, '-e', UDP_SINK_JS, String(port)]);
    let got = '';
    child.stdout!.on('data', (d: Buffer) => (got += d.toString()));
    await this.waitForUdp(ns, port);
    return () => got;
  }

  /** One datagram, fire and forget: what a device sends one way, whatever answers. */
  async udpSend(ns: string, host: string, port: number, msg: string): Promise<void> {
    const r = await this.run(ns, [process.execPath, '-e', UDP_SEND_JS, host, String(port), msg]);
    if (r.code !== 0) throw new Error(`udp send from ${ns} failed: ${r.stderr}`);
  }

  /** What a program started in a namespace printed so far (stdout and stderr; `node` for the servers). */
  log(ns: string, program: string): string {
    return this.logs.get(`${ns} ${program}`) ?? '';
  }

  /** One echo request with a 1 s wait. */
  ping(ns: string, host: string): Promise<boolean> {
    return new Promise((resolve) => execFile('ip', ['netns', 'exec', ns, 'ping', '-n', '-c', '1', '-W', '1', host], { timeout: 10_000 }, (err) => resolve(!err)));
  }

  /** Runs a command in a namespace; resolves with its exit code and output, never rejects. */
  run(ns: string, cmd: string[], timeoutMs = 10_000): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) =>
      execFile('ip', ['netns', 'exec', ns, ...cmd], { timeout: timeoutMs }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })),
    );
  }

  /** `dig +short` from a namespace to a given server. */
  async dig(ns: string, server: string, name: string, type: 'A' | 'AAAA'): Promise<string[]> {
    const r = await this.run(ns, ['dig', '+short', '+time=2', '+tries=1', `@${server}`, name, type]);
    return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith(';'));
  }

  /** A TCP connection held open from a namespace: send a line, get the echo (or null after waitMs). */
  async hold(ns: string, host: string, port: number): Promise<{ send: (line: string, waitMs?: number) => Promise<string | null> }> {
    const child = this.spawn(ns, [process.execPath, '-e', HOLD_JS, host, String(port)]);
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => (buf += d.toString()));
    for (let k = 0; k < 50 && !buf.includes('connected'); k++) await sleep(50);
    if (!buf.includes('connected')) throw new Error(`no connection to ${host}:${port} from ${ns}: ${buf}`);
    return {
      send: async (line: string, waitMs = 1500) => {
        const from = buf.length;
        child.stdin!.write(`${line}\n`);
        for (let t = 0; t < waitMs; t += 50) {
          if (buf.slice(from).includes(`${line}\n`)) return line;
          await sleep(50);
        }
        return null;
      },
    };
  }

  /**
   * sshd in the router on 192.0.2.250:2222, reached from the root namespace through a veth
   * (192.0.2.249/30 on this side). Root login with the lab's client key only.
   */
  async startSshd(): Promise<LabSsh> {
    const d = path.join(this.dir, 'ssh');
    fs.mkdirSync(d, { mode: 0o700 });
    const key = (name: string): string => {
      const f = path.join(d, name);
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', f]);
      return f;
    };
    const hostKey = key('host');
    const otherHostKey = key('other-host');
    const clientKey = key('client');
    const host = '192.0.2.250';
    const port = 2222;
    const pub = (f: string): string => fs.readFileSync(`${f}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
    const knownHosts = path.join(d, 'known_hosts');
    const wrongKnownHosts = path.join(d, 'known_hosts.wrong');
    fs.writeFileSync(knownHosts, `[${host}]:${port} ${pub(hostKey)}\n`);
    fs.writeFileSync(wrongKnownHosts, `[${host}]:${port} ${pub(otherHostKey)}\n`);
    fs.writeFileSync(path.join(d, 'authorized_keys'), `${pub(clientKey)}\n`);
    const cfg = path.join(d, 'sshd_config');
    fs.writeFileSync(
      cfg,
      [
        `Port ${port}`,
        `ListenAddress ${host}`,
        `HostKey ${hostKey}`,
        `PidFile ${path.join(d, 'sshd.pid')}`,
        `AuthorizedKeysFile ${path.join(d, 'authorized_keys')}`,
        'UsePAM no',
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'StrictModes no',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    // The veth's root-namespace end; it goes away with the router namespace.
    const rootIf = `${this.prefix}ssh`.slice(0, 15);
    try {
      execFileSync('ip', ['link', 'del', rootIf], { stdio: 'ignore' });
    } catch {
      /* no leftover */
    }
    execFileSync('ip', ['link', 'add', rootIf, 'type', 'veth', 'peer', 'name', 'ssh0', 'netns', this.router]);
    this.rootLinks.push(rootIf);
    execFileSync('ip', ['addr', 'add', '192.0.2.249/30', 'dev', rootIf]);
    execFileSync('ip', ['link', 'set', rootIf, 'up']);
    this.sh(this.router, `ip addr add ${host}/30 dev ssh0 && ip link set ssh0 up`);
    // sshd refuses to start without its privilege separation directory.
    fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    this.spawn(this.router, ['/usr/sbin/sshd', '-D', '-e', '-f', cfg]);
    await this.waitForTcp(this.router, port);
    return { host, port, clientKey, knownHosts, wrongKnownHosts };
  }

  private capture: ChildProcess | null = null;
  private captureLog = '';

  /** tcpdump on br-lan as the router sees its LAN; immediate mode, so that nothing stays in libpcap's buffer at the stop. */
  async startCapture(file: string): Promise<void> {
    const c = this.net.spawn(this.router, ['tcpdump', '-Z', 'root', '-i', 'br-lan', '--immediate-mode', '-U', '-s', '0', '-w', file]);
    this.capture = c;
    this.captureLog = '';
    await new Promise<void>((resolve, reject) => {
      c.stderr!.on('data', (d: Buffer) => {
        this.captureLog += d.toString();
        if (this.captureLog.includes('listening')) resolve();
      });
      c.on('exit', (code) => reject(new Error(`tcpdump exited ${code}: ${this.captureLog}`)));
    });
    await sleep(200);
  }

  async stopCapture(): Promise<void> {
    const c = this.capture;
    if (!c) return;
    if (c.exitCode !== null) throw new Error(`tcpdump stopped early: ${this.captureLog}`);
    await sleep(300);
    const done = new Promise((r) => c.on('exit', r));
    c.kill('SIGINT');
    await done;
    this.capture = null;
  }

  sh(ns: string, cmd: string, timeout = 30_000): string {
    return this.net.exec(ns, ['sh', '-c', cmd], { timeout }).toString();
  }

  spawn(ns: string, cmd: string[]): ChildProcess {
    const c = this.net.spawn(ns, cmd);
    // Drained, so that a chatty server never blocks on a full pipe; the last 64 KiB kept for failures.
    const key = `${ns} ${path.basename(cmd[0])}`;
    const keep = (d: Buffer): void => {
      this.logs.set(key, ((this.logs.get(key) ?? '') + d.toString()).slice(-65536));
    };
    c.stderr!.on('data', keep);
    c.stdout!.on('data', keep);
    return c;
  }

  async waitForTcp(ns: string, port: number, timeoutMs = 10_000): Promise<void> {
    await this.waitFor(ns, `ss -Hltn 'sport = :${port}'`, `nothing listens on TCP ${port} in ${ns}`, timeoutMs);
  }

  async waitForUdp(ns: string, port: number, timeoutMs = 10_000): Promise<void> {
    await this.waitFor(ns, `ss -Hlun 'sport = :${port}'`, `nothing listens on UDP ${port} in ${ns}`, timeoutMs);
  }

  private async waitFor(ns: string, cmd: string, what: string, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.sh(ns, cmd).trim() === '') {
      if (Date.now() > until) throw new Error(what);
      await sleep(50);
    }
  }

  destroy(): void {
    this.net.destroy();
    for (const l of this.rootLinks) {
      try {
        execFileSync('ip', ['link', 'del', l], { stdio: 'ignore' });
      } catch {
        /* gone with the router namespace */
      }
    }
    for (const d of this.etcDirs) fs.rmSync(d, { recursive: true, force: true });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// Plans built by hand, for the tests that drive the lab: test/helpers/plans.ts.
export { planDevice, planHost, planPeer, segmentationPlan } from './plans.js';

/**
 * A home network made for a test: a router namespace with a LAN bridge (br-lan, 192.168.50.1/24,
 * dnsmasq for DHCP and DNS), LAN hosts on veth ports of that bridge, and a "cloud" namespace
 * behind the router's WAN side holding the internet services, on documentation addresses
 * (203.0.113.0/24, 198.51.100.0/24, 192.0.2.0/24). Only addresses inside these namespaces
 * receive traffic. Everything is torn down by destroy(), also when the test fails.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sleep, TestNet } from './netns.js';

export interface LabHost {
  ns: string;
  mac: string;
}

export class HomeLab {
  readonly net: TestNet;
  readonly router: string;
  readonly cloud: string;
  readonly dir: string;
  private readonly hosts = new Map<string, LabHost>();
  private readonly etcDirs: string[] = [];
  private capture: ChildProcess | null = null;
  private dnsmasq: ChildProcess | null = null;

  constructor(readonly prefix: string) {
    this.net = new TestNet(prefix);
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}`));
    this.router = this.net.ns('router');
    this.cloud = this.net.ns('cloud');
    const r = this.router;
    this.sh(r, 'ip link add br-lan type bridge && ip addr add 192.168.50.1/24 dev br-lan && ip link set br-lan up');
    this.sh(r, 'sysctl -qw net.ipv4.ip_forward=1');
    this.net.link(r, 'wan0', '100.64.0.1/30', this.cloud, 'eth0', '100.64.0.2/30');
    for (const net of ['203.0.113.0/24', '198.51.100.0/24', '192.0.2.0/24']) this.sh(r, `ip route add ${net} via 100.64.0.2`);
    this.sh(this.cloud, 'ip route add default via 100.64.0.1');
  }

  /** A cloud service address (a /32 on the cloud's loopback). */
  cloudAddress(ip: string): void {
    this.sh(this.cloud, `ip addr add ${ip}/32 dev lo`);
  }

  /** A LAN host with the given MAC, plugged into br-lan; no address until DHCP or `address`. */
  host(name: string, mac: string): LabHost {
    const ns = this.net.ns(name);
    const port = `p-${name}`.slice(0, 15);
    this.net.link(this.router, port, null, ns, 'eth0', null);
    this.sh(this.router, `ip link set ${port} master br-lan`);
    this.sh(ns, `ip link set eth0 down && ip link set eth0 address ${mac} && ip link set eth0 up`);
    const h = { ns, mac };
    this.hosts.set(name, h);
    // Files ip-netns-exec mounts over /etc for this namespace: its own hosts and resolver.
    const etc = `/etc/netns/${ns}`;
    fs.mkdirSync(etc, { recursive: true });
    fs.writeFileSync(path.join(etc, 'resolv.conf'), 'nameserver 192.168.50.1\n');
    fs.writeFileSync(path.join(etc, 'hosts'), '127.0.0.1 localhost\n');
    this.etcDirs.push(etc);
    return h;
  }

  address(h: LabHost, cidr: string): void {
    this.sh(h.ns, `ip addr add ${cidr} dev eth0 && ip route add default via 192.168.50.1`);
  }

  /** dnsmasq on br-lan: DHCP 192.168.50.100-150 and DNS with the given names. */
  startDnsmasq(names: Record<string, string>): void {
    const args = [
      'dnsmasq',
      '--no-daemon',
      '--conf-file=/dev/null',
      '--interface=br-lan',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      '--dhcp-range=192.168.50.100,192.168.50.150,1h',
      `--dhcp-leasefile=${path.join(this.dir, 'leases')}`,
      `--pid-file=${path.join(this.dir, 'dnsmasq.pid')}`,
      '--log-facility=-',
      ...Object.entries(names).map(([n, ip]) => `--address=/${n}/${ip}`),
    ];
    this.dnsmasq = this.net.spawn(this.router, args);
  }

  /**
   * tcpdump on the LAN bridge, as the router sees its LAN. Immediate mode: otherwise libpcap's
   * TPACKET_V3 ring hands packets over in blocks, and the last block is lost at SIGINT.
   */
  /** What tcpdump said (its statistics at exit; an error if it stopped by itself). */
  captureLog = '';

  async startCapture(file: string): Promise<void> {
    this.capture = this.net.spawn(this.router, ['tcpdump', '-Z', 'root', '-i', 'br-lan', '--immediate-mode', '-U', '-s', '0', '-w', file]);
    this.captureLog = '';
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      this.capture!.stderr!.on('data', (d: Buffer) => {
        this.captureLog += d.toString();
        seen += d.toString();
        if (seen.includes('listening')) resolve();
      });
      this.capture!.on('exit', (c) => reject(new Error(`tcpdump exited ${c}: ${seen}`)));
    });
    await sleep(200);
  }

  async stopCapture(): Promise<void> {
    if (!this.capture) return;
    if (this.capture.exitCode !== null) throw new Error(`tcpdump stopped early: ${this.captureLog}`);
    await sleep(300);
    const done = new Promise((r) => this.capture!.on('exit', r));
    this.capture.kill('SIGINT');
    await done;
    this.capture = null;
  }

  /** Runs a shell command in a namespace; returns stdout. */
  sh(ns: string, cmd: string, timeout = 30_000): string {
    return this.net.exec(ns, ['sh', '-c', cmd], { timeout }).toString();
  }

  spawn(ns: string, cmd: string[]): ChildProcess {
    return this.net.spawn(ns, cmd);
  }

  destroy(): void {
    this.net.destroy();
    for (const d of this.etcDirs) fs.rmSync(d, { recursive: true, force: true });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export function haveCommands(...cmds: string[]): boolean {
  try {
    for (const c of cmds) execFileSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until something listens on a TCP port inside a namespace. Looks at the socket table
 * rather than connecting: some servers (ffmpeg's RTSP listener) take a single connection.
 */
export async function waitForListen(lab: HomeLab, ns: string, port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (lab.sh(ns, `ss -Hltn 'sport = :${port}'`).trim() !== '') return;
    if (Date.now() > until) throw new Error(`nothing listens on port ${port} in ${ns}`);
    await sleep(100);
  }
}

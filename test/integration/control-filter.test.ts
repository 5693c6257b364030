/**
 * The daemon's kernel filter (capture/control-filter.ts) keeps bulk TCP out of JavaScript and
 * loses nothing the verdicts need:
 * - real bulk transfers recorded in namespaces (socat, offloads off, MTU-sized frames): the
 *   filtered capture holds a small fraction of the packets, yet the volumes counted from
 *   sequence numbers equal the bytes the applications wrote, to the byte;
 * - on the corpus captures with TLS, MQTT, HTTP, RTSP and DNS, every protocol event comes out
 *   of the filtered capture as out of the whole one.
 * The filter is compiled by libpcap through tcpdump, as the daemon's capture compiles it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../daemon/analysis/analyze.js';
import { DEFAULT_CONFIG } from '../../daemon/analysis/config.js';
import { CONTROL_FILTER } from '../../daemon/capture/control-filter.js';
import { corpusCases, casePath, describeCorpus } from '../helpers/corpus.js';
import { canMakeNamespaces, sleep, TestNet } from '../helpers/netns.js';
import { haveCommands } from '../helpers/home-lab.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-cf-'));
afterAll(() => { if (!process.env.KEEP) fs.rmSync(dir, { recursive: true, force: true }); });

function filtered(file: string, name: string): string {
  const out = path.join(dir, name);
  execFileSync('tcpdump', ['-r', file, '-w', out, CONTROL_FILTER], { stdio: 'ignore' });
  return out;
}

function packetCount(file: string): number {
  return execFileSync('tcpdump', ['-r', file, '-nn', '-q'], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean).length;
}

const UP = 5_000_000;
const DOWN = 3_000_000;

describe.skipIf(!canMakeNamespaces() || !haveCommands('socat', 'ethtool', 'tcpdump', 'tc'))('control filter on real bulk TCP', () => {
  let all: string;
  let ctl: string;
  beforeAll(async () => {
    const net = new TestNet('vigie-cf-');
    try {
      const a = net.ns('home');
      const b = net.ns('cloud');
      net.link(a, 'eth0', '192.168.1.20/24', b, 'eth0', '198.51.100.77/24');
      // MTU-sized frames, at a gigabit LAN's pace (unthrottled veth runs at many Gbit/s and
      // pushes far more often than a real link).
      for (const ns of [a, b]) net.exec(ns, ['sh', '-c', 'ethtool -K eth0 tso off gso off gro off >/dev/null && ip route add default dev eth0 && tc qdisc add dev eth0 root tbf rate 800mbit burst 256kb latency 50ms']);
      net.spawn(b, ['socat', '-u', 'TCP-LISTEN:9000,reuseaddr', 'OPEN:/dev/null']);
      net.spawn(b, ['socat', 'TCP-LISTEN:9001,reuseaddr', `SYSTEM:head -c ${DOWN} /dev/zero`]);
      all = path.join(dir, 'bulk.pcap');
      const dump = net.spawn(a, ['tcpdump', '-i', 'eth0', '-s', '0', '-B', '65536', '-w', all, 'tcp']);
      let log = '';
      dump.stderr!.on('data', (d: Buffer) => (log += d));
      while (!log.includes('listening')) await sleep(50);
      await sleep(500);
      net.exec(a, ['sh', '-c', `head -c ${UP} /dev/urandom | socat -u - TCP:198.51.100.77:9000 && socat -u TCP:198.51.100.77:9001 OPEN:/dev/null`], { timeout: 60_000 });
      await sleep(500);
      const done = new Promise((r) => dump.on('exit', r));
      dump.kill('SIGINT');
      await done;
      expect(log).toMatch(/^0 packets dropped by kernel/m);
    } finally {
      net.destroy();
    }
    ctl = filtered(all, 'bulk-control.pcap');
  }, 90_000);

  it('keeps most bulk segments out', () => {
    const n = packetCount(all);
    const m = packetCount(ctl);
    expect(n).toBeGreaterThan(5000);
    process.stdout.write(`control filter: ${m} of ${n} packets (${((100 * m) / n).toFixed(1)} %)\n`);
    expect(m / n).toBeLessThan(0.2);
  });

  it('counts the bytes the applications wrote, from sequence numbers', async () => {
    const report = await analyzeCapture(ctl, { config: { ...DEFAULT_CONFIG, sequenceVolumes: true } });
    const up = report.flows.find((f) => f.resp.port === 9000)!;
    const down = report.flows.find((f) => f.resp.port === 9001)!;
    expect(up.counters.orig.payloadBytes).toBe(UP);
    expect(down.counters.resp.payloadBytes).toBe(DOWN);
    // Without sequence accounting the same filtered capture undercounts badly: the point of it.
    const naive = await analyzeCapture(ctl, { config: DEFAULT_CONFIG });
    expect(naive.flows.find((f) => f.resp.port === 9000)!.counters.orig.payloadBytes).toBeLessThan(UP / 4);
    // On the whole capture the captured payload is summed, retransmitted bytes (a probe's byte)
    // included: at least what was written, at most one segment more.
    const whole = await analyzeCapture(all, { config: { ...DEFAULT_CONFIG, sequenceVolumes: true } });
    const sum = whole.flows.find((f) => f.resp.port === 9000)!.counters.orig.payloadBytes;
    expect(sum).toBeGreaterThanOrEqual(UP);
    expect(sum).toBeLessThanOrEqual(UP + 1448);
  }, 60_000);
});

describeCorpus.skipIf(!haveCommands('tcpdump'))('control filter on the corpus', () => {
  // Captures whose protocols the verdicts read: TLS, MQTT, HTTP, RTSP, DNS over TCP, logins.
  const cases = corpusCases().filter((c) => /mqtt|tls|ssl|http|rtsp|dns|websocket|ja4|ftp|smtp|imap|pop/i.test(c.case));
  // The one thing it loses, by design: DNS over TCP on a port other than 53 (here 1053), in one
  // full-size segment without PSH (a 16 KiB loopback segment). On port 53 it passes whole.
  const LOST = new Set(['suricata-verify/dns-truncated-rname']);

  it('loses DNS over TCP only off port 53 (the known case)', async () => {
    const name = [...LOST][0];
    const ctl = filtered(casePath(name), 'lost.pcap');
    const events: string[] = [];
    await analyzeCapture(ctl, { config: DEFAULT_CONFIG, events: (e) => events.push(e.type) });
    expect(events.filter((t) => t === 'dns')).toEqual([]);
    expect(execFileSync('tcpdump', ['-r', casePath(name), '-nn', 'tcp port 1053 and tcp[13] & 8 = 0 and greater 16000'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })).toMatch(/length 16332/);
  });

  it.each(cases.map((c) => c.case).filter((c) => !LOST.has(c)))('%s: the same protocol events with and without it', async (name) => {
    const file = casePath(name);
    const ctl = filtered(file, `${name.replace(/\//g, '_')}.pcap`);
    const kinds = async (f: string) => {
      const out: string[] = [];
      await analyzeCapture(f, { config: DEFAULT_CONFIG, events: (e) => out.push(`${e.type}:${JSON.stringify(e[e.type as keyof typeof e])}`) });
      return out.sort();
    };
    const [a, b] = await Promise.all([kinds(file), kinds(ctl)]);
    expect(b).toEqual(a);
  });
});

/**
 * Real capture in a network made for the test: two namespaces joined by a veth pair, traffic from
 * ping and from a UDP client, captured (1) live through libpcap with a BPF filter, (2) by tcpdump
 * into a Linux cooked v2 (SLL2) file, and (3) by tcpdump writing to a pipe into `vigie analyze -`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../daemon/analysis/analyze.js';
import { ROOT } from '../helpers/corpus.js';
import { canMakeNamespaces, sleep, TestNet } from '../helpers/netns.js';
import { haveTool, tsharkFields } from '../helpers/tshark.js';

const ready = canMakeNamespaces() && haveTool('tcpdump');

describe.skipIf(!ready)('live capture in test namespaces', () => {
  let net: TestNet;
  let router: string;
  let host: string;
  let dir: string;

  beforeAll(() => {
    net = new TestNet('vigie-live-');
    router = net.ns('router');
    host = net.ns('host');
    net.link(router, 'br-lan', '192.168.77.1/24', host, 'eth0', '192.168.77.20/24');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-live-'));
  });
  afterAll(() => {
    net?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  function waitFor(child: ReturnType<TestNet['spawn']>, text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let seen = '';
      child.stdout!.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes(text)) resolve();
      });
      child.stderr!.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes(text)) resolve();
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${seen}`)));
    });
  }

  function output(child: ReturnType<TestNet['spawn']>): Promise<string> {
    return new Promise((resolve) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', () => resolve(out));
    });
  }

  it('captures through libpcap with a BPF filter that keeps ICMP out', async () => {
    const probe = net.spawn(router, [process.execPath, path.join(ROOT, 'test/helpers/live-probe.mjs'), 'br-lan', '3', 'udp']);
    const done = output(probe);
    await waitFor(probe, 'ready');
    net.exec(host, ['ping', '-c', '3', '-i', '0.2', '192.168.77.1']);
    for (let i = 0; i < 5; i++) net.exec(host, ['bash', '-c', `echo hello${i} > /dev/udp/192.168.77.1/5000`]);
    const result = JSON.parse((await done).trim().split('\n').pop()!);
    expect(result.linkType).toBe(1);
    expect(result.decoded.udp).toBe(5);
    expect(result.decoded.icmp).toBe(0); // filtered in the kernel
    const udp = result.flows.filter((f: { proto: string }) => f.proto === 'udp');
    expect(udp.length).toBe(5);
    expect(udp[0].orig.ip).toBe('192.168.77.20');
    expect(udp[0].resp.port).toBe(5000);
    expect(udp[0].device).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  });

  it('reads a Linux cooked v2 capture written by tcpdump -i any', async () => {
    const file = path.join(dir, 'sll2.pcap');
    const dump = net.spawn(router, ['tcpdump', '-Z', 'root', '-i', 'any', '-y', 'LINUX_SLL2', '--immediate-mode', '-U', '-w', file]);
    await waitFor(dump, 'listening');
    await sleep(300);
    net.exec(host, ['ping', '-c', '4', '-i', '0.2', '192.168.77.1']);
    await sleep(300);
    dump.kill('SIGINT');
    await new Promise((r) => dump.on('exit', r));
    const r = await analyzeCapture(file);
    expect(r.capture.linkTypes).toEqual(['linux-sll2']);
    const frames = tsharkFields(file, ['frame.number']).length;
    expect(r.capture.packets).toBe(frames);
    expect(r.capture.decoded.icmp).toBe(tsharkFields(file, ['icmp.type']).filter((x) => x[0] !== '').length);
    const icmp = r.flows.find((f) => f.proto === 'icmp');
    expect(icmp, JSON.stringify(r.capture)).toBeDefined();
    if (!icmp) return;
    expect([icmp.orig.ip, icmp.resp.ip]).toEqual(['192.168.77.20', '192.168.77.1']);
    expect(icmp.counters.orig.packets).toBe(4);
    expect(icmp.counters.resp.packets).toBe(4);
    // SLL2 carries only the sender's MAC: the replying side is still named by its ARP binding.
    expect(r.devices.filter((d) => d.mac === null).map((d) => d.id)).toEqual([]);
  });

  it('tcpdump -w - | vigie analyze - works as over ssh', async () => {
    const script = `tcpdump -Z root -i br-lan --immediate-mode -U -c 8 -w - icmp 2>/dev/null | ${process.execPath} ${path.join(ROOT, 'bin/vigie.js')} analyze --json -`;
    const pipe = net.spawn(router, ['sh', '-c', script]);
    const done = output(pipe);
    await sleep(700);
    net.exec(host, ['ping', '-c', '4', '-i', '0.2', '192.168.77.1']);
    const report = JSON.parse(await done);
    expect(report.capture.source).toBe('-');
    expect(report.capture.packets).toBe(8);
    expect(report.capture.decoded.icmp).toBe(8);
    expect(report.devices.map((d: { ips: { ip: string }[] }) => d.ips.map((a) => a.ip)).flat().sort()).toEqual(['192.168.77.1', '192.168.77.20']);
  });
});

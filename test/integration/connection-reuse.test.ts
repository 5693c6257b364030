/**
 * A camera loses power in the middle of its MQTT session and, rebooted, reconnects from the same
 * source port: the broker still holds the old connection (no FIN, no RST ever left the camera),
 * the kernel of the rebooted camera picks a new initial sequence number (RFC 9293 §3.4.1), the
 * broker answers the SYN with a challenge ACK (RFC 5961 §4), the camera resets the stale
 * connection and its SYN is retried. The new session's CONNECT must be seen as the first one was:
 * tshark (the oracle) counts two CONNECTs and two TCP streams on the same ports, and so must
 * `vigie analyze`, the old flow ended as `reused`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../daemon/analysis/analyze.js';
import { DEFAULT_CONFIG } from '../../daemon/analysis/config.js';
import { canMakeNamespaces, sleep, TestNet } from '../helpers/netns.js';
import { haveTool, tsharkFields } from '../helpers/tshark.js';

const ready = canMakeNamespaces() && haveTool('tcpdump') && haveTool('tshark') && haveTool('mosquitto');

// A camera's MQTT 3.1.1 session from a fixed source port: CONNECT, then silence (no DISCONNECT).
const CAMERA = `
const net = require('node:net');
const id = Buffer.from(process.argv[1]);
const body = Buffer.concat([Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 60, 0, id.length]), id]);
const s = net.connect({ host: '192.168.77.10', port: 1883, localPort: 40000 }, () => s.write(Buffer.concat([Buffer.from([0x10, body.length]), body])));
s.on('data', (d) => { if (d[0] === 0x20) process.stdout.write('connack\\n'); });
s.on('error', (e) => { process.stdout.write('error ' + e.message + '\\n'); });
`;

describe.skipIf(!ready)('a camera reconnecting from the same port after a power cut', () => {
  let net: TestNet;
  let cloud: string;
  let sw: string;
  let dir: string;
  let pcap: string;

  beforeAll(() => {
    net = new TestNet('vigie-reuse-');
    cloud = net.ns('cloud');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-reuse-'));
    pcap = path.join(dir, 'reuse.pcap');
    // Cameras plug into a switch (a bridge in its own namespace); the broker's link to it, where
    // tcpdump records, stays up while a camera's link goes away.
    sw = net.ns('switch');
    net.exec(sw, ['sh', '-c', 'ip link add br0 type bridge && ip link set br0 up']);
    net.link(cloud, 'eth0', '192.168.77.10/24', sw, 'up0', null);
    net.exec(sw, ['ip', 'link', 'set', 'up0', 'master', 'br0']);
    fs.writeFileSync(path.join(dir, 'mosquitto.conf'), 'listener 1883 192.168.77.10\nallow_anonymous true\n');
  });
  afterAll(() => {
    net?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  function boot(n: number): string {
    const cam = net.ns(`cam${n}`);
    net.link(cam, 'eth0', '192.168.77.2/24', sw, `c${n}`, null);
    net.exec(sw, ['ip', 'link', 'set', `c${n}`, 'master', 'br0']);
    return cam;
  }

  async function session(cam: string, id: string): Promise<void> {
    const child = net.spawn(cam, [process.execPath, '-e', CAMERA, id]);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 100 && !out.includes('connack'); i++) await sleep(100);
    expect(out, `camera ${id}`).toContain('connack');
  }

  it('sees both CONNECTs, as tshark does', async () => {
    // Immediate mode: packets still waiting in libpcap's buffer when tcpdump stops are lost.
    const dump = net.spawn(cloud, ['tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '-n', '-w', pcap, 'tcp port 1883']);
    net.spawn(cloud, ['mosquitto', '-c', path.join(dir, 'mosquitto.conf')]);
    await sleep(1000);
    const first = boot(1);
    await session(first, 'cam-boot-1');
    // Power cut: the link goes first, so that nothing the dying kernel sends reaches the broker.
    net.exec(first, ['ip', 'link', 'set', 'eth0', 'down']);
    net.remove(first);
    await sleep(500);
    const second = boot(2);
    await session(second, 'cam-boot-2');
    await sleep(500);
    dump.kill('SIGINT');
    await new Promise((r) => dump.once('exit', r));

    if (process.env.KEEP_PCAP) fs.copyFileSync(pcap, process.env.KEEP_PCAP);
    const connects = tsharkFields(pcap, ['mqtt.clientid', 'tcp.stream'], ['-Y', 'mqtt.msgtype == 1']);
    expect(connects.map((r) => r[0])).toEqual(['cam-boot-1', 'cam-boot-2']);
    expect(new Set(connects.map((r) => r[1])).size).toBe(2); // two TCP streams for tshark too
    const isns = tsharkFields(pcap, ['tcp.seq_raw'], ['-Y', 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.srcport == 40000']).map((r) => r[0]);
    expect(new Set(isns).size).toBe(2); // a new ISN after the reboot

    const connectIds: unknown[] = [];
    const report = await analyzeCapture(pcap, {
      config: DEFAULT_CONFIG,
      events: (e) => {
        const m = (e as { mqtt?: { type?: string; clientId?: string } }).mqtt;
        if (e.type === 'mqtt' && m?.type === 'CONNECT') connectIds.push(m.clientId);
      },
    });
    expect(connectIds).toEqual(['cam-boot-1', 'cam-boot-2']);
    // The old session ends at the rebooted camera's SYN; that first attempt (SYN, the broker's
    // challenge ACK, the camera's RST) ends at the retried SYN, as Zeek splits them (tshark keeps
    // the attempt and the session in one stream); the session carries the second CONNECT.
    const mqttFlows = report.flows.filter((f) => f.resp.port === 1883 && f.orig.port === 40000);
    expect(mqttFlows.map((f) => f.endReason)).toEqual(['reused', 'reused', 'end']);
    expect(mqttFlows.map((f) => f.tcp?.state)).toEqual(['established', 'reset', 'established']);
    expect(report.capture.flows.reused).toBe(2);
  }, 60_000);
});

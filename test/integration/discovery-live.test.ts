/**
 * The discovery dissectors on traffic of real programs in test namespaces: wsdd (a real
 * WS-Discovery host: Hello, and ProbeMatches to the Probe of a second wsdd in discovery mode),
 * miniupnpd (serving its own UPnP device description, fetched with curl), and, where no real
 * device exists here, scripted ones: an ONVIF camera answering a Probe in the form of ONVIF Core
 * Specification §7.3 / WS-Discovery 2005/04, and a Kasa plug answering get_sysinfo with the
 * sysinfo of python-kasa's fixture tests/fixtures/iot/KP115(US)_1.0_1.0.17.json. The client's
 * link is recorded with tcpdump; tshark reads the same file as the independent oracle.
 *
 * Namespaces are named vdisc-*, links vdx*, addresses 10.231.0.0/24.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProtocolEvent } from '../../daemon/protocols/events.js';
import type { AnalysisReport } from '../../daemon/report/types.js';
import { eventsOf } from '../helpers/events.js';
import { haveCommands } from '../helpers/home-lab.js';
import { canMakeNamespaces, sleep, TestNet } from '../helpers/netns.js';
import { CAMERA, KASA_CLIENT, PLUG_PY, PROBER, SYSINFO } from '../helpers/lab-devices.js';
import { tsharkFields } from '../helpers/tshark.js';

const root = canMakeNamespaces();
const tools = haveCommands('wsdd', 'miniupnpd', 'tcpdump', 'tshark', 'curl', 'python3');
const reason = !root ? 'needs root and ip netns' : !tools ? 'needs wsdd, miniupnpd, tcpdump, tshark, curl and python3' : '';

const PC = '10.231.0.10';
const CAM = '10.231.0.11';
const PLUG = '10.231.0.12';
const GW = '10.231.0.13';
const CLI = '10.231.0.20';

describe.skipIf(!root || !tools)(`discovery dissectors on real clients in namespaces${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let net: TestNet;
  let dir: string;
  let pcap: string;
  let events: ProtocolEvent[];
  let report: AnalysisReport;

  const sh = (ns: string, cmd: string, timeout = 30_000) => net.exec(ns, ['sh', '-c', cmd], { timeout }).toString();
  const waitLine = (child: ReturnType<TestNet['spawn']>, what: string, ms = 10_000) =>
    new Promise<void>((resolve, reject) => {
      let seen = '';
      const t = setTimeout(() => reject(new Error(`no "${what}" in: ${seen}`)), ms);
      const on = (d: Buffer) => {
        seen += d.toString();
        if (seen.includes(what)) {
          clearTimeout(t);
          resolve();
        }
      };
      child.stdout?.on('data', on);
      child.stderr?.on('data', on);
      child.on('exit', (c) => reject(new Error(`exited ${c} before "${what}": ${seen}`)));
    });

  beforeAll(async () => {
    net = new TestNet('vdisc-');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vdisc-'));
    try {
      const sw = net.ns('sw');
      sh(sw, 'ip link add vdxbr type bridge && ip link set vdxbr type bridge mcast_snooping 0 && ip link set vdxbr up');
      const hosts: Record<string, string> = {};
      for (const [name, addr] of [
        ['pc', PC],
        ['cam', CAM],
        ['plug', PLUG],
        ['gw', GW],
        ['cli', CLI],
      ] as const) {
        const ns = net.ns(name);
        net.link(sw, `vdxs${name}`, null, ns, `vdx${name}`, `${addr}/24`);
        sh(sw, `ip link set vdxs${name} master vdxbr`);
        sh(ns, `ip route add 224.0.0.0/4 dev vdx${name}`);
        hosts[name] = ns;
      }
      for (const [n, code] of Object.entries({ 'camera.py': CAMERA, 'prober.py': PROBER, 'plug.py': PLUG_PY, 'kasa.py': KASA_CLIENT })) fs.writeFileSync(path.join(dir, n), code);
      // miniupnpd's "WAN" is a veth pair inside the gateway namespace, going nowhere.
      sh(hosts.gw, 'ip link add vdxgwx type veth peer name vdxgwy && ip addr add 10.231.0.213/32 dev vdxgwx && ip link set vdxgwx up && ip link set vdxgwy up');
      fs.writeFileSync(
        path.join(dir, 'miniupnpd.conf'),
        ['ext_ifname=vdxgwx', 'listening_ip=vdxgw', 'http_port=5000', 'enable_natpmp=no', 'enable_upnp=yes', 'secure_mode=yes', 'uuid=3e8a2b10-5c1d-4f6e-9a7b-000000000013', 'friendly_name=Vigie Test Gateway', 'model_number=2.3.1', 'serial=00000000', 'deny 0-65535 0.0.0.0/0 0-65535', ''].join('\n'),
      );

      pcap = path.join(dir, 'discovery.pcap');
      const dump = net.spawn(hosts.cli, ['tcpdump', '-Z', 'root', '-i', 'vdxcli', '--immediate-mode', '-U', '-s', '0', '-w', pcap]);
      await waitLine(dump, 'listening');
      await sleep(200);

      const cam = net.spawn(hosts.cam, ['python3', '-u', path.join(dir, 'camera.py'), CAM]);
      const plug = net.spawn(hosts.plug, ['python3', '-u', path.join(dir, 'plug.py'), JSON.stringify(SYSINFO)]);
      await Promise.all([waitLine(cam, 'ready'), waitLine(plug, 'ready')]);
      net.spawn(hosts.gw, ['miniupnpd', '-d', '-f', path.join(dir, 'miniupnpd.conf'), '-P', path.join(dir, 'miniupnpd.pid')]);
      const wsdd = net.spawn(hosts.pc, ['wsdd', '-4', '-i', 'vdxpc', '-n', 'VIGIE-PC', '-v']);
      await waitLine(wsdd, 'Hello', 10_000).catch(() => sleep(1500));
      await sleep(1500);

      // ONVIF probe from the client: the camera answers.
      expect(sh(hosts.cli, `python3 ${dir}/prober.py ${CLI}`, 15_000)).toContain('answers 1');
      // A real WS-Discovery client: wsdd in discovery mode probes for wsdp:Device; the host wsdd answers.
      const client = net.spawn(hosts.cli, ['wsdd', '-D', '-o', '-4', '-i', 'vdxcli', '-v']);
      await waitLine(client, 'ProbeMatch', 10_000).catch(() => undefined);
      await sleep(1000);
      client.kill('SIGTERM');
      // The Kasa app's discovery and a TCP session.
      expect(sh(hosts.cli, `python3 ${dir}/kasa.py ${CLI} 10.231.0.255 ${PLUG}`, 15_000)).toContain('udp KP115(US)');
      // The device description, fetched across the captured link.
      for (let i = 0; i < 50 && !sh(hosts.gw, "ss -Hltn 'sport = :5000'").trim(); i++) await sleep(100);
      expect(sh(hosts.cli, `curl -s --max-time 5 http://${GW}:5000/rootDesc.xml`)).toContain('urn:schemas-upnp-org:device-1-0');
      await sleep(500);

      const done = new Promise((r) => dump.on('exit', r));
      dump.kill('SIGINT');
      await done;
      if (process.env.VIGIE_KEEP_PCAP) fs.copyFileSync(pcap, process.env.VIGIE_KEEP_PCAP);
      ({ events, report } = await eventsOf(pcap));
    } catch (e) {
      net.destroy();
      throw e;
    }
  }, 120_000);

  afterAll(() => {
    net?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const flows = (app: string) => report.flows.filter((f) => f.app === app);
  const facts = <T>(f: AnalysisReport['flows'][number], key: string) => (f.protocol as Record<string, T>)[key];

  /** tshark's XML tree of each 3702 datagram: element name and text, by frame. */
  function tsharkXml(filter: string, decode: string[]): Map<number, { tag: string; text: string }[]> {
    const out = execFileSync('tshark', ['-n', '-r', pcap, ...decode, '-Y', filter, '-T', 'pdml'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
    const frames = new Map<number, { tag: string; text: string }[]>();
    for (const pkt of out.split('<packet>').slice(1)) {
      const num = Number(/name="frame.number"[^>]*show="(\d+)"/.exec(pkt)?.[1]);
      const elems: { tag: string; text: string }[] = [];
      // xml.cdata fields hold each element's text; the element is the enclosing xml.tag field.
      const re = /<field name="xml\.tag" showname="&lt;([\w.:-]+)[^"]*"|<field name="xml\.cdata" showname="[^"]*" size="\d+" pos="\d+" show="([^"]*)"/g;
      let m: RegExpExecArray | null;
      let tag = '';
      while ((m = re.exec(pkt))) {
        if (m[1]) tag = m[1];
        else elems.push({ tag, text: unescape(m[2]) });
      }
      frames.set(num, elems);
    }
    return frames;
  }
  const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
  const local = (tag: string) => tag.slice(tag.indexOf(':') + 1);

  it('WS-Discovery: every 3702 datagram is a wsd event whose action, Types, Scopes and XAddrs tshark reads in the XML', () => {
    const wsd = events.filter((e) => e.type === 'wsd');
    expect(wsd.length).toBeGreaterThanOrEqual(4);
    // tshark 4.0 has no WS-Discovery dissector: its XML heuristic on UDP reads the SOAP.
    const oracle = tsharkXml('udp.port==3702', ['--enable-heuristic', 'xml_udp']);
    // Every datagram tshark reads as XML on 3702 is one of our messages, and the other way round.
    expect(wsd.map((e) => e.frame).sort((x, y) => x - y)).toEqual([...oracle.keys()].filter((k) => oracle.get(k)!.length > 0).sort((x, y) => x - y));
    for (const e of wsd) {
      const x = oracle.get(e.frame)!;
      expect(x, `frame ${e.frame}`).toBeDefined();
      const f = e.wsd as { action: string; types: string[]; scopes: string[]; xaddrs: string[]; endpoints: string[] };
      const text = (name: string) => x.filter((t) => local(t.tag) === name).map((t) => t.text.trim());
      const action = text('Action')[0];
      expect(action.endsWith(`/${f.action}`), `${action} vs ${f.action}`).toBe(true);
      const split = (name: string) => text(name).flatMap((t) => t.split(/\s+/)).filter(Boolean);
      expect(f.types).toEqual(split('Types').map(local));
      expect(f.scopes).toEqual(split('Scopes').map((s) => decodeURIComponent(s)));
      expect(f.xaddrs).toEqual(split('XAddrs'));
      // The endpoint reference is the body's Address (the header's ReplyTo/Address is not one).
      if (f.endpoints.length) expect(text('Address')).toEqual(expect.arrayContaining(f.endpoints));
    }
    const actions = new Set(wsd.map((e) => (e.wsd as { action: string }).action));
    expect([...actions].sort()).toEqual(expect.arrayContaining(['Hello', 'Probe', 'ProbeMatches']));
  });

  it('WS-Discovery facts: the camera and the wsdd host announce themselves; the prober only searches', () => {
    const byOrig = (ip: string, action: string) => flows('wsd').filter((f) => f.orig.ip === ip && facts<{ messages: string[] }>(f, 'wsd').messages.includes(action));
    const camAnswer = byOrig(CAM, 'ProbeMatches')[0];
    const cam = facts<Record<string, unknown>>(camAnswer, 'wsd');
    expect(cam).toMatchObject({
      announcer: 'orig',
      types: ['NetworkVideoTransmitter', 'Device'],
      qualifiedTypes: ['{http://www.onvif.org/ver10/network/wsdl}NetworkVideoTransmitter', '{http://www.onvif.org/ver10/device/wsdl}Device'],
      xaddrs: [`http://${CAM}/onvif/device_service`],
      endpoints: ['urn:uuid:2419d68a-2dd2-21b2-a205-ec6a6b05c2d4'],
      probedTypes: [],
    });
    expect(cam.scopes).toContain('onvif://www.onvif.org/name/Garden Cam');
    expect(cam.scopes).toContain('onvif://www.onvif.org/hardware/IPC-HDW2431T');
    // wsdd's Hello carries no Types (wsdd 0.7), only its endpoint and XAddrs.
    const pcHello = byOrig(PC, 'Hello')[0];
    expect(facts<Record<string, unknown>>(pcHello, 'wsd')).toMatchObject({ announcer: 'orig', xaddrs: [expect.stringMatching(/^http:\/\/10\.231\.0\.10:5357\//)] });
    expect(facts<{ endpoints: string[] }>(pcHello, 'wsd').endpoints[0]).toMatch(/^urn:uuid:/);
    const pcMatch = byOrig(PC, 'ProbeMatches')[0];
    expect(facts<Record<string, unknown>>(pcMatch, 'wsd')).toMatchObject({ announcer: 'orig', types: ['Device', 'Computer'] });
    const probes = flows('wsd').filter((f) => f.orig.ip === CLI);
    expect(probes.length).toBeGreaterThanOrEqual(2);
    for (const p of probes) expect(facts<Record<string, unknown>>(p, 'wsd')).toMatchObject({ announcer: null, types: [], scopes: [] });
    expect(probes.flatMap((p) => facts<{ probedTypes: string[] }>(p, 'wsd').probedTypes).sort()).toEqual(['Device', 'NetworkVideoTransmitter']);
    expect(report.flows.every((f) => !f.protocol || !('wsd' in f.protocol) || facts<{ malformed: number }>(f, 'wsd').malformed === 0)).toBe(true);
  });

  it('Kasa: tshark’s tplink-smarthome dissector decrypts the same JSON; the plug is the responder', () => {
    const rows = tsharkFields(pcap, ['frame.number', 'tplink_smarthome.msg']).filter((r) => r[1]);
    expect(rows.length).toBeGreaterThanOrEqual(6); // UDP query and answer, two TCP requests and answers
    const kasaEvents = events.filter((e) => e.type === 'kasa');
    for (const [frame, msg] of rows) {
      const e = kasaEvents.find((x) => x.frame === Number(frame));
      expect(e, `frame ${frame}`).toBeDefined();
      const j = JSON.parse(msg.replace(/\\"/g, '"')) as Record<string, Record<string, Record<string, unknown> | null>>;
      const methods = Object.entries(j).flatMap(([m, b]) => Object.keys(b ?? {}).map((k) => `${m}.${k}`));
      const k = e!.kasa as Record<string, unknown>;
      expect(k.methods).toEqual(methods);
      const si = j.system?.get_sysinfo;
      if (si && 'model' in si) expect([k.kind, k.model, k.alias, k.deviceType, k.hwVersion, k.swVersion, k.devName]).toEqual(['response', si.model, si.alias, si.mic_type, si.hw_ver, si.sw_ver, si.dev_name]);
    }
    const udpAnswer = flows('kasa').find((f) => f.orig.ip === PLUG && f.proto === 'udp')!;
    expect(facts<Record<string, unknown>>(udpAnswer, 'kasa')).toEqual({
      requests: [],
      model: 'KP115(US)',
      alias: 'Living Room Lamp',
      deviceType: 'IOT.SMARTPLUGSWITCH',
      hwVersion: '1.0',
      swVersion: '1.0.17 Build 210506 Rel.075231',
      devName: 'Smart Wi-Fi Plug Mini',
      responder: 'orig',
      transport: 'xor',
      malformed: 0,
    });
    const udpQuery = flows('kasa').find((f) => f.orig.ip === CLI && f.proto === 'udp')!;
    expect(facts<Record<string, unknown>>(udpQuery, 'kasa')).toMatchObject({ requests: ['system.get_sysinfo'], responder: null, model: null });
    const tcp = flows('kasa').find((f) => f.proto === 'tcp')!;
    expect([tcp.resp.ip, tcp.resp.port]).toEqual([PLUG, 9999]);
    expect(facts<Record<string, unknown>>(tcp, 'kasa')).toMatchObject({ requests: ['system.set_relay_state', 'system.get_sysinfo'], responder: 'resp', model: 'KP115(US)' });
    const all = JSON.stringify(report);
    expect(all).not.toContain('oemId');
    expect(all).not.toContain('hwId');
  });

  it('UPnP: miniupnpd’s description, as tshark reads the XML of the HTTP response; the gateway is the side served from', () => {
    const f = report.flows.find((x) => x.resp.ip === GW && x.resp.port === 5000)!;
    const h = facts<{ upnp: Record<string, unknown> }>(f, 'http');
    const oracle = [...tsharkXml(`tcp.srcport==5000 && xml`, ['-d', 'tcp.port==5000,http']).values()].find((x) => x.length > 0)!;
    // The root device's fields: the first occurrence of each element (embedded devices follow it).
    const first = (name: string) => oracle.find((t) => t.tag === name)?.text ?? null;
    expect(h.upnp).toEqual({
      deviceType: first('deviceType'),
      friendlyName: first('friendlyName'),
      manufacturer: first('manufacturer'),
      manufacturerURL: first('manufacturerURL'),
      modelName: first('modelName'),
      modelNumber: first('modelNumber'),
      modelDescription: first('modelDescription'),
      embeddedDeviceTypes: oracle.filter((t) => t.tag === 'deviceType').slice(1).map((t) => t.text),
      side: 'resp',
    });
    expect(h.upnp).toMatchObject({ deviceType: 'urn:schemas-upnp-org:device:InternetGatewayDevice:2', friendlyName: 'Vigie Test Gateway', modelNumber: '2.3.1' });
    expect(JSON.stringify(h)).not.toContain('uuid:3e8a2b10');
    // wsdd's metadata exchange (SOAP over HTTP, application/soap+xml) is XML but no description.
    const mex = report.flows.find((x) => x.resp.ip === PC && x.resp.port === 5357);
    if (mex) expect('upnp' in facts<Record<string, unknown>>(mex, 'http')).toBe(false);
  });
});

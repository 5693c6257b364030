/**
 * Facts of shared broadcast and multicast flows belong to their sender, on a LAN made for the
 * test: two real dhclient clients (different MACs, different host names sent with `send
 * host-name`) started at the same time against dnsmasq, which broadcasts its replies
 * (--dhcp-broadcast), so both clients' DISCOVER/REQUEST share 0.0.0.0:68 -> 255.255.255.255:67
 * and both clients' OFFER/ACK share 10.244.0.1:67 -> 255.255.255.255:68; and two SSDP senders,
 * miniupnpd and a scripted NOTIFY sender, whose address a second scripted device then takes
 * over (same 5-tuple, another MAC). tcpdump records the bridge; tshark reads the same file as
 * the oracle, frame by frame (dhcp.hw.mac_addr, dhcp.option.hostname, eth.src, SSDP headers).
 *
 * Namespaces vshr-*, links vs*, addresses 10.244.0.0/24.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../daemon/capture/reader.js';
import { Decoder } from '../../daemon/decode/decoder.js';
import { Decoded } from '../../daemon/decode/packet.js';
import type { DhcpFacts } from '../../daemon/protocols/dhcp/state.js';
import type { FlowContext } from '../../daemon/protocols/parser-types.js';
import { SsdpFlow, type SsdpFacts } from '../../daemon/protocols/ssdp/state.js';
import type { AnalysisReport, FlowRecord } from '../../daemon/report/types.js';
import { vigie } from '../helpers/cli.js';
import { haveCommands } from '../helpers/home-lab.js';
import { canMakeNamespaces, sleep, TestNet } from '../helpers/netns.js';
import { tsharkFields } from '../helpers/tshark.js';

const root = canMakeNamespaces();
const tools = haveCommands('dnsmasq', 'dhclient', 'miniupnpd', 'tcpdump', 'tshark', 'python3');
const reason = !root ? 'needs root and ip netns' : !tools ? 'needs dnsmasq, dhclient, miniupnpd, tcpdump, tshark and python3' : '';

const GW = '10.244.0.1';
const UPNP = '10.244.0.13';
const TAKEN = '10.244.0.14';
const CLIENTS = [
  { name: 'c1', mac: '02:44:00:00:01:01', host: 'vshr-kitchen-plug', vendor: 'udhcp 1.30.1' },
  { name: 'c2', mac: '02:44:00:00:01:02', host: 'DESKTOP-VSHR42', vendor: 'MSFT 5.0' },
];
const PLUG = { mac: '02:44:00:00:02:01', server: 'Linux/4.14 UPnP/1.0 VshrPlug/1.2', uuid: 'uuid:6d1f0c3a-0000-4000-8000-000000000201' };
const TV = { mac: '02:44:00:00:02:02', server: 'Linux/5.4 UPnP/1.0 VshrTV/7.1', uuid: 'uuid:6d1f0c3a-0000-4000-8000-000000000202' };

/** A scripted UPnP device: NOTIFY ssdp:alive (UPnP Device Architecture 2.0 §1.2.2) from :1900. */
const NOTIFIER = `
import socket, sys, time
ip, server, uuid, kind = sys.argv[1:5]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ip))
s.bind((ip, 1900))
for nt in ['upnp:rootdevice', uuid, 'urn:schemas-upnp-org:device:%s:1' % kind]:
    usn = uuid if nt == uuid else uuid + '::' + nt
    msg = ('NOTIFY * HTTP/1.1\\r\\nHOST: 239.255.255.250:1900\\r\\nCACHE-CONTROL: max-age=1800\\r\\n'
           'LOCATION: http://%s:49152/%s.xml\\r\\nNT: %s\\r\\nNTS: ssdp:alive\\r\\nSERVER: %s\\r\\nUSN: %s\\r\\n\\r\\n') % (ip, kind, nt, server, usn)
    s.sendto(msg.encode(), ('239.255.255.250', 1900))
    time.sleep(0.05)
print('sent', flush=True)
`;

interface SsdpOracle {
  servers: Set<string>;
  nts: Set<string>;
  usns: Set<string>;
  locations: Set<string>;
  methods: Set<string>;
  frames: number;
}

describe.skipIf(!root || !tools)(`shared DHCP and SSDP flows on real clients in namespaces${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let net: TestNet;
  let dir: string;
  let pcap: string;
  let report: AnalysisReport;
  let leases: string;

  const sh = (ns: string, cmd: string, timeout = 30_000) => net.exec(ns, ['sh', '-c', cmd], { timeout }).toString();
  const flowOf = (key: string) => report.flows.find((f) => `${f.orig.ip}:${f.orig.port}>${f.resp.ip}:${f.resp.port}` === key);

  beforeAll(async () => {
    net = new TestNet('vshr-');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vshr-'));
    try {
      const gw = net.ns('gw');
      sh(gw, `ip link add vsbr type bridge && ip link set vsbr type bridge mcast_snooping 0 && ip addr add ${GW}/24 dev vsbr && ip link set vsbr up`);
      const host = (name: string, mac: string, addr: string | null) => {
        const ns = net.ns(name);
        net.link(gw, `vsp${name}`, null, ns, `vs${name}`, null);
        sh(gw, `ip link set vsp${name} master vsbr`);
        sh(ns, `ip link set vs${name} down && ip link set vs${name} address ${mac} && ip link set vs${name} up`);
        if (addr) sh(ns, `ip addr add ${addr}/24 dev vs${name} && ip route add 224.0.0.0/4 dev vs${name}`);
        return ns;
      };
      const clients = CLIENTS.map((c) => host(c.name, c.mac, null));
      const upnp = host('up', '02:44:00:00:02:13', UPNP);
      const plug = host('plug', PLUG.mac, TAKEN);
      const tv = host('tv', TV.mac, null);
      fs.writeFileSync(path.join(dir, 'notify.py'), NOTIFIER);
      // miniupnpd's "WAN" is a veth pair inside its namespace, going nowhere.
      sh(upnp, 'ip link add vsupx type veth peer name vsupy && ip addr add 10.244.1.13/32 dev vsupx && ip link set vsupx up && ip link set vsupy up');
      fs.writeFileSync(
        path.join(dir, 'miniupnpd.conf'),
        ['ext_ifname=vsupx', 'listening_ip=vsup', 'http_port=5000', 'enable_natpmp=no', 'enable_upnp=yes', 'secure_mode=yes', 'uuid=6d1f0c3a-0000-4000-8000-000000000213', 'friendly_name=Vshr Gateway', 'serial=00000000', 'deny 0-65535 0.0.0.0/0 0-65535', ''].join('\n'),
      );
      leases = path.join(dir, 'dnsmasq.leases');
      net.spawn(gw, ['dnsmasq', '--no-daemon', '--conf-file=/dev/null', '--interface=vsbr', '--bind-interfaces', '--no-resolv', '--no-hosts', '--port=0', '--dhcp-range=10.244.0.100,10.244.0.150,1h', '--dhcp-broadcast', `--dhcp-leasefile=${leases}`, `--pid-file=${path.join(dir, 'dnsmasq.pid')}`, '--log-facility=-']);

      pcap = path.join(dir, 'shared.pcap');
      const dump = net.spawn(gw, ['tcpdump', '-Z', 'root', '-i', 'vsbr', '--immediate-mode', '-U', '-s', '0', '-w', pcap]);
      await new Promise<void>((resolve, reject) => {
        let seen = '';
        dump.stderr!.on('data', (d: Buffer) => {
          seen += d.toString();
          if (seen.includes('listening')) resolve();
        });
        dump.on('exit', (c) => reject(new Error(`tcpdump exited ${c}: ${seen}`)));
      });
      for (let i = 0; i < 50 && !sh(gw, "ss -Hlun 'sport = :67'").trim(); i++) await sleep(100);
      await sleep(200);

      // Both clients at the same time: their broadcasts interleave on the shared flows.
      const dhclients = CLIENTS.map((c, i) => {
        fs.writeFileSync(path.join(dir, `${c.name}.conf`), `send host-name "${c.host}";\nsend vendor-class-identifier "${c.vendor}";\n`);
        return net.spawn(clients[i], ['dhclient', '-d', '-1', '-cf', path.join(dir, `${c.name}.conf`), '-pf', path.join(dir, `${c.name}.pid`), '-lf', path.join(dir, `${c.name}.leases`), '-sf', '/bin/true', `vs${c.name}`]);
      });
      for (let i = 0; i < 150 && !CLIENTS.every((c) => fs.existsSync(path.join(dir, `${c.name}.leases`)) && fs.readFileSync(path.join(dir, `${c.name}.leases`), 'utf8').includes('lease {')); i++) await sleep(100);
      for (const d of dhclients) d.kill('SIGKILL');

      // SSDP: miniupnpd announces itself; the plug announces, leaves, and the TV takes its address.
      net.spawn(upnp, ['miniupnpd', '-d', '-f', path.join(dir, 'miniupnpd.conf'), '-P', path.join(dir, 'miniupnpd.pid')]);
      expect(sh(plug, `python3 ${dir}/notify.py ${TAKEN} '${PLUG.server}' ${PLUG.uuid} Basic`)).toContain('sent');
      sh(plug, `ip addr del ${TAKEN}/24 dev vsplug`);
      sh(tv, `ip addr add ${TAKEN}/24 dev vstv && ip route add 224.0.0.0/4 dev vstv`);
      expect(sh(tv, `python3 ${dir}/notify.py ${TAKEN} '${TV.server}' ${TV.uuid} MediaRenderer`)).toContain('sent');
      await sleep(1500);

      await sleep(300);
      const done = new Promise((r) => dump.on('exit', r));
      dump.kill('SIGINT');
      await done;
      if (process.env.VIGIE_KEEP_PCAP) fs.copyFileSync(pcap, process.env.VIGIE_KEEP_PCAP);
      const r = vigie(['analyze', '--json', pcap]);
      expect(r.status, r.stderr).toBe(0);
      report = JSON.parse(r.stdout) as AnalysisReport;
    } catch (e) {
      net.destroy();
      throw e;
    }
  }, 120_000);

  afterAll(() => {
    net?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** tshark's DHCP frames: flow 5-tuple, chaddr, message type, op and the client's options. */
  const dhcpRows = () =>
    tsharkFields(pcap, ['frame.number', 'ip.src', 'udp.srcport', 'ip.dst', 'udp.dstport', 'dhcp.hw.mac_addr', 'dhcp.type', 'dhcp.option.dhcp', 'dhcp.option.hostname', 'dhcp.option.vendor_class_id', 'dhcp.option.request_list_item', 'dhcp.ip.your'], ['-Y', 'dhcp']).map(
      ([frame, src, sp, dst, dp, mac, op, type, host, vendor, prl, yiaddr]) => ({ frame: Number(frame), flow: `${src}:${sp}>${dst}:${dp}`, mac, op, type: Number(type), host, vendor, prl, yiaddr }),
    );

  it('tshark sees both clients on the shared request flow and both on the broadcast replies', () => {
    const rows = dhcpRows();
    const macsOn = (flow: string) => new Set(rows.filter((r) => r.flow === flow).map((r) => r.mac));
    const macs = new Set(CLIENTS.map((c) => c.mac));
    expect(macsOn('0.0.0.0:68>255.255.255.255:67')).toEqual(macs);
    expect(macsOn(`${GW}:67>255.255.255.255:68`)).toEqual(macs);
    // Each client did its DORA: DISCOVER, OFFER, REQUEST, ACK.
    for (const c of CLIENTS) expect(new Set(rows.filter((r) => r.mac === c.mac).map((r) => r.type)), c.mac).toEqual(new Set([1, 2, 3, 5]));
  });

  it('per client MAC, the DHCP facts of each shared flow are what tshark reads in that MAC\'s frames, never the other client\'s', () => {
    const rows = dhcpRows();
    const TYPES = ['', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM'];
    let compared = 0;
    for (const key of new Set(rows.map((r) => r.flow))) {
      const flow = flowOf(key) as FlowRecord;
      expect(flow, key).toBeDefined();
      const d = (flow.protocol as { dhcp: DhcpFacts }).dhcp;
      const mine = rows.filter((r) => r.flow === key);
      expect(d.clients.map((c) => c.mac).sort(), key).toEqual([...new Set(mine.map((r) => r.mac))].sort());
      for (const c of d.clients) {
        const frames = mine.filter((r) => r.mac === c.mac);
        const requests = frames.filter((r) => r.op === '1');
        const last = (k: 'host' | 'vendor' | 'prl') => requests.map((r) => r[k]).filter(Boolean).pop() ?? null;
        const where = `${key} ${c.mac}`;
        expect(c.hostname, where).toBe(last('host'));
        expect(c.vendorClass, where).toBe(last('vendor'));
        expect(c.fingerprint, where).toBe(last('prl'));
        expect(c.assignedIp, where).toBe(frames.filter((r) => r.type === 5).map((r) => r.yiaddr).pop() ?? null);
        expect(new Set(c.messageTypes), where).toEqual(new Set(frames.map((r) => TYPES[r.type])));
        expect([c.requests, c.replies], where).toEqual([requests.length, frames.length - requests.length]);
        compared++;
      }
      // Flow level: one client's facts, whole.
      const p = d.clients.find((c) => c.mac === d.clientMac)!;
      expect([d.hostname, d.vendorClass, d.paramRequestList, d.assignedIp], key).toEqual([p.hostname, p.vendorClass, p.paramRequestList, p.assignedIp]);
    }
    expect(compared).toBe(4);
  });

  it('the host names and addresses per MAC are what the clients sent and what dnsmasq leased', () => {
    // dnsmasq's lease file: "<expiry> <mac> <ip> <hostname> <client-id>".
    const leased = new Map(fs.readFileSync(leases, 'utf8').trim().split('\n').map((l) => l.split(' ')).map(([, mac, ip, host]) => [mac, { ip, host }]));
    const requests = (flowOf('0.0.0.0:68>255.255.255.255:67')!.protocol as { dhcp: DhcpFacts }).dhcp;
    const replies = (flowOf(`${GW}:67>255.255.255.255:68`)!.protocol as { dhcp: DhcpFacts }).dhcp;
    for (const c of CLIENTS) {
      const q = requests.clients.find((x) => x.mac === c.mac)!;
      const a = replies.clients.find((x) => x.mac === c.mac)!;
      expect([q.hostname, q.vendorClass], c.mac).toEqual([c.host, c.vendor]);
      expect(leased.get(c.mac), c.mac).toEqual({ ip: a.assignedIp, host: c.host });
      // A reply carries none of the client's own options.
      expect([a.hostname, a.vendorClass, a.requests], c.mac).toEqual([null, null, 0]);
    }
    // The inventory names each device by its own DHCP host name.
    for (const c of CLIENTS) expect(report.devices.find((x) => x.mac === c.mac)?.hostname, c.mac).toBe(c.host);
  });

  /** tshark's SSDP frames, grouped by flow and by a key of the sender (its IP, or IP and MAC). */
  function ssdpOracle(withMac: boolean): Map<string, Map<string, SsdpOracle>> {
    const rows = tsharkFields(pcap, ['ip.src', 'udp.srcport', 'ip.dst', 'udp.dstport', 'eth.src', 'http.request.method', 'http.response.code', 'http.server', 'http.location', 'http.unknown_header'], ['-Y', 'ssdp']);
    const out = new Map<string, Map<string, SsdpOracle>>();
    for (const [src, sp, dst, dp, mac, method, code, server, location, unknown] of rows) {
      const flow = `${src}:${sp}>${dst}:${dp}`;
      if (!out.has(flow)) out.set(flow, new Map());
      const key = withMac ? `${src}|${mac}` : src;
      const by = out.get(flow)!;
      if (!by.has(key)) by.set(key, { servers: new Set(), nts: new Set(), usns: new Set(), locations: new Set(), methods: new Set(), frames: 0 });
      const o = by.get(key)!;
      o.frames++;
      o.methods.add(method || `HTTP ${code}`);
      if (server) o.servers.add(server);
      if (location) o.locations.add(location);
      for (const h of unknown.split(',')) {
        const m = /^(NT|USN): (.*?)(\\r\\n)?$/.exec(h);
        if (m) (m[1] === 'NT' ? o.nts : o.usns).add(m[2]);
      }
    }
    return out;
  }

  const expectSender = (s: SsdpFacts['senders'][number], o: SsdpOracle, where: string) => {
    expect(new Set(s.servers), where).toEqual(o.servers);
    expect(new Set(s.notificationTypes), where).toEqual(o.nts);
    expect(new Set(s.usns), where).toEqual(o.usns);
    expect(new Set(s.locations), where).toEqual(o.locations);
    expect(new Set(s.methods), where).toEqual(o.methods);
    expect(s.messages, where).toBe(o.frames);
  };

  it('SSDP: miniupnpd and the scripted device are separate senders, each with what tshark reads from it', () => {
    const oracle = ssdpOracle(false);
    // miniupnpd announces from an ephemeral port of its own.
    const miniupnpd = [...oracle.keys()].find((k) => k.startsWith(`${UPNP}:`) && k.endsWith('>239.255.255.250:1900'))!;
    expect(miniupnpd).toBeDefined();
    expect([...oracle.get(miniupnpd)!.get(UPNP)!.servers].some((s) => /MiniUPnPd\/2/.test(s))).toBe(true);
    let compared = 0;
    for (const [key, senders] of oracle) {
      if (key.startsWith(`${TAKEN}:`)) continue; // two devices behind one address: next tests
      const f = (flowOf(key)!.protocol as { ssdp: SsdpFacts }).ssdp;
      expect(f.senders.map((s) => s.ip).sort(), key).toEqual([...senders.keys()].sort());
      for (const s of f.senders) {
        expectSender(s, senders.get(s.ip)!, `${key} ${s.ip}`);
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(1);
  });

  it('SSDP address takeover: fed the frame\'s source MAC as ctx.senderMac, the parser keeps the plug\'s and the TV\'s announcements apart, as tshark reads them per eth.src', async () => {
    const key = `${TAKEN}:1900>239.255.255.250:1900`;
    const oracle = ssdpOracle(true).get(key)!;
    expect([...oracle.keys()].sort()).toEqual([`${TAKEN}|${PLUG.mac}`, `${TAKEN}|${TV.mac}`]);
    // The real frames of that flow, through our decoder, to an SsdpFlow whose context gives the MAC.
    const decoder = new Decoder();
    let mac = -1;
    const ctx: FlowContext & { senderMac(dir: number): number } = {
      origPort: 1900, respPort: 1900, emit() {}, followAll() {}, stop() {}, answered() {}, expect() {}, expectedApp: () => null, dhcpClient() {},
      ip: () => TAKEN,
      senderMac: () => mac,
    };
    const flow = new SsdpFlow(ctx);
    const taken = TAKEN.split('.').reduce((a, x) => a * 256 + Number(x), 0);
    await readCapture(pcap, {
      packet(link, buf, off, caplen, wirelen, ts) {
        if (decoder.decode(link, buf, off, caplen, wirelen, ts) !== Decoded.Ip) return;
        const p = decoder.pkt;
        if (p.ipVersion !== 4 || p.src3 >>> 0 !== taken || p.srcPort !== 1900 || p.dstPort !== 1900) return;
        mac = p.srcMac;
        flow.datagram(0, p.buf, p.payloadOff, p.payloadLen);
      },
    });
    const f = flow.facts().ssdp;
    expect(f.senders.map((s) => `${s.ip}|${s.mac}`).sort()).toEqual([...oracle.keys()].sort());
    for (const s of f.senders) expectSender(s, oracle.get(`${s.ip}|${s.mac}`)!, `${key} ${s.mac}`);
    expect(new Set(f.senders.find((s) => s.mac === TV.mac)!.servers)).toEqual(new Set([TV.server]));
  });

  it('SSDP address takeover through `vigie analyze`: the stage gives each packet\'s source MAC, so each device is its own sender', () => {
    const key = `${TAKEN}:1900>239.255.255.250:1900`;
    const f = (flowOf(key)!.protocol as { ssdp: SsdpFacts }).ssdp;
    const oracle = ssdpOracle(true).get(key)!;
    expect(f.senders.map((s) => `${s.ip}|${s.mac}`).sort()).toEqual([...oracle.keys()].sort());
    for (const s of f.senders) expectSender(s, oracle.get(`${s.ip}|${s.mac}`)!, `${key} ${s.mac}`);
  });
});

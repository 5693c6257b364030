/**
 * The name and discovery dissectors on traffic of real programs in test namespaces (prefix
 * `vnames-`, veths `vnm*`, 10.232.0.0/24): a "nas" runs avahi-daemon (no D-Bus, its service
 * files bind-mounted in its own mount namespace, the host's /etc untouched) publishing a HomeKit
 * service with TXT, its workstation record and a Google Cast-shaped service; libcoap's
 * coap-server; and a scripted NetBIOS name service and LLMNR responder (nmbd and
 * systemd-resolved are not installed here), which registers its name and answers for it.
 * A "laptop" only browses (dig for _ipp._tcp and _hap._tcp), asks coap-client for
 * /.well-known/core and a resource, looks names up with nmblookup (a broadcast query and a node
 * status request) and sends an RFC 4795 LLMNR query. A bridge is recorded with tcpdump, analysed
 * by the engine and read by tshark.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProtocolEvent } from '../../daemon/protocols/events.js';
import type { AnalysisReport } from '../../daemon/report/types.js';
import { eventsOf } from '../helpers/events.js';
import { canMakeNamespaces, sleep, TestNet } from '../helpers/netns.js';
import { haveTool, tsharkFields } from '../helpers/tshark.js';

const TOOLS = ['avahi-daemon', 'dig', 'coap-server-notls', 'coap-client-notls', 'nmblookup', 'tcpdump', 'tshark', 'python3', 'unshare'];
const missing = TOOLS.filter((t) => !haveTool(t));
const reason = !canMakeNamespaces() ? 'needs root and ip netns' : missing.length ? `missing ${missing.join(', ')}` : null;
if (reason) console.warn(`discovery-names-live skipped: ${reason}`);

const NAS = '10.232.0.10';
const LAPTOP = '10.232.0.20';

const HAP_SERVICE = `<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group>
  <name>Garden Bridge</name>
  <service>
    <type>_hap._tcp</type>
    <port>51826</port>
    <txt-record>md=Bridge X1</txt-record>
    <txt-record>ci=2</txt-record>
    <txt-record>c#=3</txt-record>
    <txt-record>s#=1</txt-record>
    <txt-record>sf=1</txt-record>
    <txt-record>pw=hunter2</txt-record>
  </service>
  <service>
    <type>_googlecast._tcp</type>
    <port>8009</port>
    <txt-record>id=4f1d3e2c0b9a8d7e6f5a4b3c2d1e0f9a</txt-record>
    <txt-record>md=Chromecast Ultra</txt-record>
    <txt-record>fn=Garden TV</txt-record>
  </service>
</service-group>
`;

/** The NetBIOS and LLMNR side of the nas: registers PRINTSRV, answers queries and node status. */
const RESPONDER = String.raw`
import socket, struct, sys, time, select
NAME, IP, BCAST = b'PRINTSRV', '${NAS}', '10.232.0.255'
def enc(name, suffix, pad=b' '):
    raw = name.ljust(15, pad)[:15] + bytes([suffix])
    return bytes([32]) + bytes(x for b in raw for x in (0x41 + (b >> 4), 0x41 + (b & 15))) + b'\0'
def dec(label):
    raw = bytes(((label[2*i] - 0x41) << 4) | (label[2*i+1] - 0x41) for i in range(16))
    return raw[:15].rstrip(b' \0'), raw[15]
nb = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
nb.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
nb.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
nb.bind(('0.0.0.0', 137))
ll = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ll.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ll.bind(('0.0.0.0', 5355))
ll.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton('224.0.0.252') + socket.inet_aton(IP))
addr = socket.inet_aton(IP)
# Name registration (RFC 1002 4.2.2): broadcast, the NB record behind a pointer to the question.
for sfx in (0x00, 0x20):
    reg = struct.pack('>HHHHHH', 0x7001 + sfx, 0x2910, 1, 0, 0, 1) + enc(NAME, sfx) + struct.pack('>HH', 0x20, 1)
    reg += b'\xc0\x0c' + struct.pack('>HHIH', 0x20, 1, 300000, 6) + b'\x00\x00' + addr
    nb.sendto(reg, (BCAST, 137))
print('ready', flush=True)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    r, _, _ = select.select([nb, ll], [], [], 0.2)
    for s in r:
        data, peer = s.recvfrom(2048)
        if s is nb and len(data) >= 50 and not data[2] & 0x80:
            tid = data[:2]
            name, sfx = dec(data[13:45])
            qtype = struct.unpack('>H', data[46:48])[0]
            if qtype == 0x21:
                names = [(NAME, 0x00, 0x0400), (NAME, 0x20, 0x0400), (b'WORKGROUP', 0x00, 0x8400)]
                rd = bytes([len(names)]) + b''.join(n.ljust(15) + bytes([x]) + struct.pack('>H', f) for n, x, f in names)
                rd += bytes.fromhex('020000aa10a0') + bytes(40)
                nb.sendto(tid + struct.pack('>HHHHH', 0x8400, 0, 1, 0, 0) + data[12:46] + struct.pack('>HHIH', 0x21, 1, 0, len(rd)) + rd, peer)
            elif name == NAME:
                nb.sendto(tid + struct.pack('>HHHHH', 0x8500, 0, 1, 0, 0) + data[12:46] + struct.pack('>HHIH', 0x20, 1, 300000, 6) + b'\x00\x00' + addr, peer)
        elif s is ll and len(data) > 12 and not data[2] & 0x80:
            q = data[12:]
            n = q[1:1 + q[0]]
            if n.lower() == b'printsrv':
                qlen = 1 + q[0] + 1 + 4
                ans = b'\xc0\x0c' + struct.pack('>HHIH', 1, 1, 30, 4) + addr
                ll.sendto(data[:2] + struct.pack('>HHHHH', 0x8000, 1, 1, 0, 0) + q[:qlen] + ans, peer)
`;

/** An LLMNR query (RFC 4795 2.1): one A question, to 224.0.0.252:5355; waits for the answer. */
const LLMNR_QUERY = String.raw`
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton('${LAPTOP}'))
s.settimeout(3)
name = sys.argv[1].encode()
s.sendto(struct.pack('>HHHHHH', 0x5a5a, 0, 1, 0, 0, 0) + bytes([len(name)]) + name + b'\0' + struct.pack('>HH', 1, 1), ('224.0.0.252', 5355))
try:
    data, peer = s.recvfrom(2048)
    print(peer[0], len(data))
except socket.timeout:
    print('no answer')
`;

describe.skipIf(reason !== null)('name and discovery protocols from real clients in test namespaces', () => {
  let net: TestNet;
  let dir: string;
  let pcap: string;
  let events: ProtocolEvent[];
  let report: AnalysisReport;

  beforeAll(async () => {
    net = new TestNet('vnames-');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vnames-'));
    const sw = net.ns('sw');
    const nas = net.ns('nas');
    const lap = net.ns('lap');
    net.exec(sw, ['sh', '-c', 'ip link add vnmbr type bridge mcast_snooping 0 && ip link set vnmbr up']);
    net.link(nas, 'vnmnas', `${NAS}/24`, sw, 'vnmnasb', null);
    net.link(lap, 'vnmlap', `${LAPTOP}/24`, sw, 'vnmlapb', null);
    net.exec(sw, ['sh', '-c', 'ip link set vnmnasb master vnmbr && ip link set vnmlapb master vnmbr']);
    for (const [ns, dev] of [
      [nas, 'vnmnas'],
      [lap, 'vnmlap'],
    ]) net.exec(ns, ['ip', 'route', 'add', '224.0.0.0/4', 'dev', dev]);

    fs.mkdirSync(path.join(dir, 'services'));
    fs.writeFileSync(path.join(dir, 'services', 'nas.service'), HAP_SERVICE);
    fs.writeFileSync(
      path.join(dir, 'avahi.conf'),
      ['[server]', 'host-name=vnames-nas', 'domain-name=local', 'use-ipv4=yes', 'use-ipv6=no', 'allow-interfaces=vnmnas', 'enable-dbus=no', '[publish]', 'publish-workstation=yes', 'publish-hinfo=no', '[reflector]', '[rlimits]', ''].join('\n'),
    );
    fs.writeFileSync(path.join(dir, 'responder.py'), RESPONDER);
    fs.writeFileSync(path.join(dir, 'llmnr-query.py'), LLMNR_QUERY);

    pcap = path.join(dir, 'names.pcap');
    const capture = net.spawn(sw, ['tcpdump', '-Z', 'root', '-i', 'vnmbr', '--immediate-mode', '-U', '-s', '0', '-w', pcap, 'udp']);
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      capture.stderr!.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes('listening')) resolve();
      });
      capture.on('exit', (c) => reject(new Error(`tcpdump exited ${c}: ${seen}`)));
    });
    await sleep(200);

    // avahi-daemon in a private mount namespace: our service files over /etc/avahi/services, a
    // private /run/avahi-daemon for its pid file.
    const avahi = net.spawn(nas, [
      'unshare',
      '-m',
      'sh',
      '-c',
      `mount --bind ${dir}/services /etc/avahi/services && mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon && exec avahi-daemon -f ${dir}/avahi.conf --no-drop-root --no-chroot --no-rlimits --no-proc-title`,
    ]);
    let avahiLog = '';
    avahi.stderr!.on('data', (d: Buffer) => (avahiLog += d.toString()));
    avahi.stdout!.on('data', (d: Buffer) => (avahiLog += d.toString()));
    const coap = net.spawn(nas, ['coap-server-notls', '-A', NAS]);
    void coap;
    const responder = net.spawn(nas, ['python3', path.join(dir, 'responder.py'), '20']);
    await new Promise<void>((resolve, reject) => {
      responder.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      responder.on('exit', (c) => reject(new Error(`responder exited ${c}`)));
    });
    for (let i = 0; i < 100 && !avahiLog.includes('successfully established'); i++) await sleep(100);
    if (!avahiLog.includes('successfully established')) throw new Error(`avahi-daemon did not publish: ${avahiLog}`);

    const sh = (ns: string, cmd: string) => net.exec(ns, ['sh', '-c', cmd], { timeout: 20_000 }).toString();
    // The laptop browses: its questions must not make it a printer. avahi answers by unicast to
    // dig's port (RFC 6762 §6.7), which dig does not expect from another address: "|| true".
    sh(lap, 'dig +time=1 +tries=1 -p 5353 @224.0.0.251 _ipp._tcp.local PTR >/dev/null || true');
    sh(lap, 'dig +time=1 +tries=1 -p 5353 @224.0.0.251 _hap._tcp.local PTR >/dev/null || true');
    sh(lap, `coap-client-notls -B 3 -m get coap://${NAS}/.well-known/core > ${dir}/core.txt`);
    sh(lap, `coap-client-notls -B 3 -m get coap://${NAS}/time >/dev/null`);
    sh(lap, `coap-client-notls -B 3 -m put -e hello coap://${NAS}/example_data >/dev/null`);
    sh(lap, `nmblookup -B 10.232.0.255 PRINTSRV > ${dir}/nmb-query.txt 2>&1 || true`);
    sh(lap, `nmblookup -A ${NAS} > ${dir}/nmb-status.txt 2>&1 || true`);
    sh(lap, `python3 ${dir}/llmnr-query.py printsrv > ${dir}/llmnr.txt`);
    await sleep(1500);
    const done = new Promise((r) => capture.on('exit', r));
    capture.kill('SIGINT');
    await done;
    if (process.env.VIGIE_KEEP_PCAP) fs.copyFileSync(pcap, process.env.VIGIE_KEEP_PCAP);
    ({ events, report } = await eventsOf(pcap));
  }, 120_000);

  afterAll(() => {
    net?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  type Facts = Record<string, Record<string, unknown>>;
  const flowsOf = (key: string, ip: string) => report.flows.filter((f) => (f.orig.ip === ip || f.resp.ip === ip) && (f.protocol as Facts | null)?.[key]);
  const merged = (key: string, ip: string, field: string) => [...new Set(flowsOf(key, ip).flatMap((f) => ((f.protocol as Facts)[key][field] as unknown[]) ?? []).map((x) => JSON.stringify(x)))].map((x) => JSON.parse(x));

  it('the clients got their answers (the network works)', () => {
    expect(fs.readFileSync(path.join(dir, 'core.txt'), 'utf8')).toContain('</time>');
    expect(fs.readFileSync(path.join(dir, 'nmb-query.txt'), 'utf8')).toContain(`${NAS} PRINTSRV<00>`);
    expect(fs.readFileSync(path.join(dir, 'nmb-status.txt'), 'utf8')).toMatch(/PRINTSRV\s+<20>/);
    expect(fs.readFileSync(path.join(dir, 'llmnr.txt'), 'utf8')).toContain(NAS);
  });

  it('mDNS: the nas offers _hap and _googlecast with their TXT, secrets and the Cast id redacted', () => {
    const offered = merged('mdns', NAS, 'offered') as { service: string; instance: string; target: string; port: number; txt: string[] }[];
    const hap = offered.find((o) => o.service === '_hap._tcp.local' && o.txt.length > 0)!;
    expect([hap.instance, hap.target, hap.port]).toEqual(['Garden Bridge', 'vnames-nas.local', 51826]);
    expect(hap.txt).toEqual(expect.arrayContaining(['md=Bridge X1', 'ci=2', 'c#=3', 's#=1', 'sf=1', 'pw=<redacted>']));
    const cast = offered.find((o) => o.service === '_googlecast._tcp.local' && o.txt.length > 0)!;
    expect(cast.txt).toEqual(expect.arrayContaining(['id=<redacted>', 'md=Chromecast Ultra', 'fn=Garden TV']));
    expect(merged('mdns', NAS, 'hosts')).toContain('vnames-nas.local');
    expect(merged('mdns', NAS, 'services')).toEqual(expect.arrayContaining(['_hap._tcp.local', '_googlecast._tcp.local', '_workstation._tcp.local']));
    // avahi's workstation instance "host [mac]" is an instance, never the host name.
    const ws = offered.find((o) => o.service === '_workstation._tcp.local')!;
    expect(ws.instance).toMatch(/^vnames-nas \[([0-9a-f]{2}:){5}[0-9a-f]{2}\]$/);
    expect(merged('mdns', NAS, 'hosts').some((h: string) => h.includes('['))).toBe(false);
    const all = JSON.stringify(events) + JSON.stringify(report);
    expect(all).not.toContain('hunter2');
    expect(all).not.toContain('4f1d3e2c0b9a8d7e6f5a4b3c2d1e0f9a');
  });

  it('mDNS: the laptop that only browsed offers nothing, and browses _ipp and _hap', () => {
    const lap = flowsOf('mdns', LAPTOP);
    expect(lap.length).toBeGreaterThanOrEqual(3);
    for (const f of lap) {
      const m = (f.protocol as Facts).mdns;
      const laptopSide = f.orig.ip === LAPTOP ? 'orig' : 'resp';
      // The unicast answer to dig's port shares a flow with the laptop: what is offered there
      // is the other side's, and the facts say so.
      if (m.responder !== null) expect([m.responder, (m.responder === 'orig' ? f.orig : f.resp).ip], `flow ${f.id}`).toEqual([laptopSide === 'orig' ? 'resp' : 'orig', NAS]);
      else expect([m.offered, m.services, m.instances, m.hosts], `flow ${f.id}`).toEqual([[], [], [], []]);
      if (m.querier !== null) expect(m.querier, `flow ${f.id}`).toBe(laptopSide);
    }
    expect(merged('mdns', LAPTOP, 'browses')).toEqual(expect.arrayContaining(['_ipp._tcp.local', '_hap._tcp.local']));
  });

  it('mDNS: tshark reads the same TXT strings and SRV records (our redactions aside)', () => {
    const t = tsharkFields(pcap, ['frame.number', 'dns.txt', 'dns.srv.port', 'dns.srv.target', 'dns.srv.service'], ['-Y', 'mdns && dns.flags.response == 1']);
    expect(t.length).toBeGreaterThan(0);
    for (const row of t) {
      const e = events.find((x) => x.frame === Number(row[0]) && x.type === 'mdns')!;
      const d = e.mdns as { answers: { type: string; data: unknown }[]; authorities: { type: string; data: unknown }[]; additionals: { type: string; data: unknown }[] };
      const rr = [...d.answers, ...d.authorities, ...d.additionals];
      const txt = rr.filter((r) => r.type === 'TXT').flatMap((r) => r.data as string[]);
      const theirs = row[1] ? row[1].split(',') : [];
      const uniq = (xs: string[]) => [...new Set(xs)];
      expect(uniq(txt).length, `frame ${row[0]} TXT`).toBe(uniq(theirs).length);
      for (const s of txt) if (!s.endsWith('=<redacted>')) expect(theirs, `frame ${row[0]}`).toContain(s);
      const srv = rr.filter((r) => r.type === 'SRV').map((r) => (r.data as string).split(' '));
      expect(uniq(srv.map((x) => x[2])).join(','), `frame ${row[0]} SRV port`).toBe(uniq(row[2] ? row[2].split(',') : []).join(','));
      expect(uniq(srv.map((x) => x[3])).join(','), `frame ${row[0]} SRV target`).toBe(uniq(row[3] ? row[3].split(',') : []).join(','));
    }
  });

  it('CoAP: the laptop GETs /.well-known/core; the server lists its links and rt= types', () => {
    const c = flowsOf('coap', NAS);
    expect(c.length).toBeGreaterThan(0);
    const facts = c.map((f) => (f.protocol as Facts).coap);
    const paths = facts.flatMap((x) => x.paths as string[]);
    expect(paths).toEqual(expect.arrayContaining(['/.well-known/core', '/time', '/example_data']));
    expect(facts.flatMap((x) => x.links as string[])).toEqual(expect.arrayContaining(['/', '/time', '/async', '/example_data']));
    expect(facts.flatMap((x) => x.resourceTypes as string[])).toContain('ticks');
    expect(facts.flatMap((x) => x.methods as string[])).toEqual(expect.arrayContaining(['GET', 'PUT', '2.05', '2.01']));
    for (const f of c) expect([f.app, (f.protocol as Facts).coap.server, (f.protocol as Facts).coap.client]).toEqual(['coap', 'resp', 'orig']);
    const t = tsharkFields(pcap, ['frame.number', 'coap.code', 'coap.mid', 'coap.opt.uri_path', 'coap.token_len'], ['-Y', 'coap']);
    expect(t.length).toBeGreaterThanOrEqual(6);
    for (const row of t) {
      const e = events.find((x) => x.frame === Number(row[0]) && x.type === 'coap')!.coap as { code: string; messageId: number; uriPath: string | null; tokenLength: number };
      const code = Number(row[1]);
      expect([e.code, e.messageId, e.tokenLength], `frame ${row[0]}`).toEqual([`${code >> 5}.${String(code & 31).padStart(2, '0')}`, Number(row[2]), Number(row[4])]);
      if (row[3]) expect(e.uriPath, `frame ${row[0]} path`).toBe(`/${row[3].split(',').join('/')}`);
    }
  });

  it('NetBIOS: the nas registered and answered for PRINTSRV; nmblookup only asked', () => {
    const names = merged('netbios', NAS, 'names');
    expect(names).toEqual(expect.arrayContaining([{ name: 'PRINTSRV', suffix: 0, group: false }, { name: 'PRINTSRV', suffix: 0x20, group: false }, { name: 'WORKGROUP', suffix: 0, group: true }]));
    expect(merged('netbios', NAS, 'hosts')).toEqual(['PRINTSRV']);
    const lapQueries = flowsOf('netbios', LAPTOP).filter((f) => f.orig.ip === LAPTOP);
    expect(lapQueries.flatMap((f) => (f.protocol as Facts).netbios.queried as string[])).toEqual(expect.arrayContaining(['PRINTSRV<00>', '*<00>']));
    for (const f of lapQueries) expect((f.protocol as Facts).netbios.owner === 'orig', `flow ${f.id}`).toBe(false);
    const t = tsharkFields(pcap, ['frame.number', 'nbns.flags.opcode', 'nbns.flags.response', 'nbns.addr', 'nbns.netbios_name', 'nbns.unit_id'], ['-Y', 'nbns']);
    expect(t.length).toBeGreaterThanOrEqual(4);
    for (const row of t) {
      const n = events.find((x) => x.frame === Number(row[0]) && x.type === 'netbios')!.netbios as { opcode: string; response: boolean; answers: { addresses?: { address: string }[]; names?: { name: string }[]; unitId?: string }[]; additionals: { addresses?: { address: string }[] }[] };
      expect({ query: 0, registration: 5 }[n.opcode], `frame ${row[0]} opcode`).toBe(Number(row[1]));
      expect(n.response, `frame ${row[0]} response`).toBe(row[2] === '1' || row[2] === 'True');
      expect([...n.answers, ...n.additionals].flatMap((r) => (r.addresses ?? []).map((a) => a.address)).join(','), `frame ${row[0]} addr`).toBe(row[3]);
      if (row[4]) expect(n.answers[0].names!.map((x) => x.name.replace(/<..>$/, '')).join(','), `frame ${row[0]} NBSTAT`).toBe(row[4]);
      if (row[5]) expect(n.answers[0].unitId, `frame ${row[0]} unit id`).toBe(row[5]);
    }
  });

  it('LLMNR: its own app; the responder answered for its own name, the laptop asked it', () => {
    const answered = flowsOf('llmnr', NAS).filter((f) => f.orig.ip === NAS);
    expect(answered.map((f) => f.app)).toContain('llmnr');
    expect(answered.flatMap((f) => (f.protocol as Facts).llmnr.answers as string[])).toEqual(['printsrv']);
    const asked = flowsOf('llmnr', LAPTOP).filter((f) => f.orig.ip === LAPTOP && f.resp.port === 5355);
    expect(asked.flatMap((f) => (f.protocol as Facts).llmnr.queries as string[])).toEqual(['printsrv']);
    expect(asked.flatMap((f) => (f.protocol as Facts).llmnr.answers as string[])).toEqual([]);
    const t = tsharkFields(pcap, ['frame.number', 'dns.qry.name', 'dns.a', 'dns.flags.response'], ['-Y', 'llmnr']);
    expect(t.length).toBe(2);
    for (const row of t) {
      const l = events.find((x) => x.frame === Number(row[0]) && x.type === 'llmnr')!.llmnr as { response: boolean; questions: { name: string }[]; answers: { data: string }[] };
      expect([l.questions.map((q) => q.name).join(','), l.answers.map((a) => a.data).join(','), l.response ? '1' : '0'], `frame ${row[0]}`).toEqual([row[1], row[2], row[3] === 'True' ? '1' : row[3]]);
    }
  });
});

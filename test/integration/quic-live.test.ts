/**
 * QUIC from real programs: Debian's ngtcp2 example server and client (gtlsserver, gtlsclient,
 * GnuTLS) in two namespaces, the client asking for camera.example.test (resolved through a
 * hosts file bind-mounted inside its own mount namespace), over:
 * - QUIC v1 on a port QUIC has no claim to (4567) and on 443;
 * - the QUIC v2 draft (0x709a50c4, RFC 9369's rules with its provisional salt);
 * - draft-29 (0xff00001d);
 * - compatible version negotiation (RFC 9368): a v1 Initial the server answers in v2-draft;
 * - a reserved version 0x1a2a3a4a, which the server answers with Version Negotiation;
 * - a server that validates addresses with Retry.
 * tcpdump records the server's link; `vigie analyze --json` reads it; tshark reads the same
 * file as the oracle: it decrypts Initials itself and gives the SNI, the version of each packet
 * and the ClientHello's fields, from which the JA4 is computed here (tshark 4.0 has no JA4
 * field). tshark 4.0 cannot open the v2-draft Initials (it does not renumber their packet
 * types): those are checked against the name given to the client and the JA4 the same client
 * shows in v1.
 *
 * Namespaces vquic-*, links vq*, addresses 10.241.0.0/24.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QuicFacts } from '../../daemon/protocols/quic/state.js';
import type { AnalysisReport, FlowRecord } from '../../daemon/report/types.js';
import { vigie } from '../helpers/cli.js';
import { haveCommands } from '../helpers/home-lab.js';
import { canMakeNamespaces, sleep, TestNet } from '../helpers/netns.js';
import { tsharkFields } from '../helpers/tshark.js';

const root = canMakeNamespaces();
const tools = haveCommands('gtlsserver', 'gtlsclient', 'tcpdump', 'tshark', 'openssl', 'ss');
const reason = !root ? 'needs root and ip netns' : !tools ? 'needs ngtcp2-server, ngtcp2-client, tcpdump, tshark, openssl' : '';

const CLI = '10.241.0.10';
const SRV = '10.241.0.20';
const NAME = 'camera.example.test';
interface Run {
  label: string;
  /** Each run has a server of its own: its flows are told apart by the server port. */
  port: number;
  server: string[];
  client: string[];
}

const RUNS: Run[] = [
  { label: 'v1 on 4567', port: 4567, server: [], client: [] },
  { label: 'v1 on 443', port: 443, server: [], client: [] },
  { label: 'v2-draft', port: 4570, server: [], client: ['-v', 'v2draft'] },
  { label: 'draft-29', port: 4571, server: [], client: ['-v', '0xff00001d'] },
  { label: 'compatible negotiation', port: 4569, server: ['--preferred-versions', 'v2draft,v1'], client: ['--other-versions', 'v2draft,v1'] },
  // After Version Negotiation the client starts again in v1, from a new socket: two flows.
  { label: 'reserved version', port: 4572, server: [], client: ['-v', '0x1a2a3a4a', '--preferred-versions', 'v1'] },
  { label: 'retry', port: 4568, server: ['-V'], client: [] },
];
const run = (label: string) => RUNS.find((r) => r.label === label)!;

/** JA4_a/b/c (FoxIO JA4 technical details) from tshark's ClientHello fields, GREASE removed. */
function ja4FromTshark(ciphers: string, exts: string, sigs: string, versions: string, alpn: string, sni: string): string {
  const grease = (v: number) => (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
  const nums = (s: string) => (s ? s.split(',').map((x) => Number(x)) : []).filter((v) => !grease(v));
  const h4 = (v: number) => v.toString(16).padStart(4, '0');
  const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex').slice(0, 12);
  const c = nums(ciphers);
  const e = nums(exts);
  const v = Math.max(...nums(versions));
  const ver = { 0x0304: '13', 0x0303: '12' }[v] ?? '00';
  const first = alpn.split(',')[0] ?? '';
  const a = `q${ver}${sni ? 'd' : 'i'}${String(c.length).padStart(2, '0')}${String(e.length).padStart(2, '0')}${first ? first[0] + first[first.length - 1] : '00'}`;
  const b = sha(c.map(h4).sort().join(','));
  const cc = sha(`${e.filter((x) => x !== 0 && x !== 0x10).map(h4).sort().join(',')}_${nums(sigs).map(h4).join(',')}`);
  return `${a}_${b}_${cc}`;
}

describe.skipIf(!root || !tools)(`QUIC from ngtcp2 clients and servers in namespaces${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let net: TestNet;
  let dir: string;
  let pcap: string;
  let report: AnalysisReport;
  let quicFlows: FlowRecord[];
  /** tshark's ClientHello rows: sport, dport, version, sni, ciphers, extension types, sig algs, supported versions, ALPN. */
  let hellos: string[][];

  const decodeAs = RUNS.filter((r) => r.port !== 443).flatMap((r) => ['-d', `udp.port==${r.port},quic`]);
  const quicOf = (f: FlowRecord) => (f.protocol as { quic: QuicFacts }).quic;
  /** The run's first flow (the reserved version's second one is its v1 retry). */
  const flowOf = (r: Run) => quicFlows.filter((f) => f.resp.port === r.port).sort((a, b) => a.firstSeen.localeCompare(b.firstSeen))[0];

  beforeAll(async () => {
    net = new TestNet('vquic-');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vquic-'));
    const children: ChildProcess[] = [];
    try {
      const cli = net.ns('cli');
      const srv = net.ns('srv');
      net.link(cli, 'vqc', `${CLI}/24`, srv, 'vqs', `${SRV}/24`);
      execFileSync('sh', ['-c', `cd ${dir} && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=${NAME} -days 1 -keyout key.pem -out cert.pem 2>/dev/null`]);
      fs.writeFileSync(path.join(dir, 'hosts'), `127.0.0.1 localhost\n${SRV} ${NAME}\n`);
      fs.writeFileSync(path.join(dir, 'index.html'), 'hello\n');
      const key = path.join(dir, 'key.pem');
      const cert = path.join(dir, 'cert.pem');
      for (const r of RUNS) children.push(net.spawn(srv, ['gtlsserver', '-q', '-d', dir, ...r.server, SRV, String(r.port), key, cert]));
      for (const r of RUNS) {
        for (let i = 0; i < 50 && !net.exec(srv, ['ss', '-Hlun', `sport = :${r.port}`]).toString().trim(); i++) await sleep(100);
      }
      pcap = path.join(dir, 'quic.pcap');
      const dump = net.spawn(srv, ['tcpdump', '-i', 'vqs', '-U', '-w', pcap, 'udp']);
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('tcpdump did not start')), 10_000);
        dump.stderr?.on('data', (d: Buffer) => {
          if (d.toString().includes('listening')) {
            clearTimeout(t);
            resolve();
          }
        });
      });
      for (const r of RUNS) {
        // The client resolves the name through our hosts file, inside its own mount namespace.
        const cmd = `mount --bind ${dir}/hosts /etc/hosts && exec timeout 10 gtlsclient -q --exit-on-all-streams-close ${r.client.join(' ')} ${NAME} ${r.port} https://${NAME}/index.html`;
        try {
          net.exec(cli, ['sh', '-c', cmd], { timeout: 15_000 });
        } catch {
          // The reserved version ends on Version Negotiation: the client reports a failure.
        }
        await sleep(200);
      }
      await sleep(500);
      dump.kill('SIGINT');
      await new Promise((r) => dump.on('exit', r));
      if (process.env.VIGIE_KEEP_PCAP) fs.copyFileSync(pcap, process.env.VIGIE_KEEP_PCAP);
      const out = vigie(['analyze', '--json', pcap]);
      expect(out.status, out.stderr).toBe(0);
      report = JSON.parse(out.stdout) as AnalysisReport;
      quicFlows = report.flows.filter((f) => f.app === 'quic');
      hellos = tsharkFields(
        pcap,
        ['udp.srcport', 'udp.dstport', 'quic.version', 'tls.handshake.extensions_server_name', 'tls.handshake.ciphersuite', 'tls.handshake.extension.type', 'tls.handshake.sig_hash_alg', 'tls.handshake.extensions.supported_version', 'tls.handshake.extensions_alpn_str'],
        [...decodeAs, '-Y', 'tls.handshake.type == 1'],
      );
    } finally {
      for (const c of children) c.kill('SIGKILL');
    }
  }, 180_000);

  afterAll(() => {
    net?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every client flow is QUIC, on every port, and named by its SNI', () => {
    for (const r of RUNS) {
      const f = flowOf(r);
      expect(f, r.label).toBeDefined();
      expect([f.app, f.encrypted, f.hostname, f.hostnameSource], r.label).toEqual(['quic', true, NAME, 'sni']);
    }
    expect(quicFlows.length).toBe(RUNS.length + 1);
    // Nothing else in the capture: QUIC is all there was.
    expect(report.flows.filter((f) => f.proto === 'udp' && f.app !== 'quic')).toEqual([]);
  });

  it('SNI, version, ALPN and JA4 agree with tshark for every ClientHello it decrypts', () => {
    let agree = 0;
    for (const [sport, dport, versions, sni, ciphers, exts, sigs, supported, alpn] of hellos) {
      const f = quicFlows.find((x) => x.orig.port === Number(sport) && x.resp.port === Number(dport));
      expect(f, `${sport}->${dport}`).toBeDefined();
      const q = quicOf(f!);
      const ja4 = ja4FromTshark(ciphers, exts, sigs, supported, alpn, sni);
      expect({ sni: q.sni, version: q.version, alpn: q.alpn.join(','), ja4: q.ja4 }).toEqual({ sni, version: versions.split(',')[0], alpn, ja4 });
      agree++;
    }
    // One hello per flow but v2-draft's: v1 twice, draft-29, the negotiation's v1 Initial, the
    // reserved version and the client's v1 try after it, the Retry flow (7 with this list).
    expect(new Set(hellos.map((h) => `${h[0]}/${h[1]}`)).size).toBe(RUNS.length);
    expect(agree).toBe(hellos.length);
    expect(hellos.map((h) => h[3])).toEqual(Array(hellos.length).fill(NAME));
  });

  it('v2-draft, which tshark 4.0 cannot open: the SNI asked for and the JA4 this client shows in v1', () => {
    const r = run('v2-draft');
    const v2 = quicOf(flowOf(r));
    const v1 = quicOf(flowOf(run('v1 on 4567')));
    expect(v2).toMatchObject({ version: '0x709a50c4', versionName: 'v2-draft', serverVersion: '0x709a50c4', sni: NAME, alpn: ['h3'], helloSeen: true });
    expect(v2.ja4).toBe(v1.ja4);
    expect(v2.ja4).toMatch(/^q13d/);
    // tshark does see the version of every packet of that flow.
    const versions = tsharkFields(pcap, ['quic.version'], [...decodeAs, '-Y', `udp.port == ${r.port} && quic.header_form == 1`]).flatMap((x) => x[0].split(','));
    expect(new Set(versions)).toEqual(new Set(['0x709a50c4']));
  });

  it('compatible version negotiation: a v1 hello, a server answering in v2-draft (as tshark reads the headers)', () => {
    const r = run('compatible negotiation');
    const q = quicOf(flowOf(r));
    const server = tsharkFields(pcap, ['quic.version'], [...decodeAs, '-Y', `udp.srcport == ${r.port} && quic.header_form == 1`])[0][0].split(',')[0];
    expect(server).toBe('0x709a50c4');
    expect(q).toMatchObject({ version: '0x00000001', serverVersion: server, sni: NAME });
  });

  it('a reserved version gets Version Negotiation: the versions listed are those tshark reads', () => {
    const r = run('reserved version');
    const [first, again] = quicFlows.filter((f) => f.resp.port === r.port).sort((a, b) => a.firstSeen.localeCompare(b.firstSeen));
    const listed = tsharkFields(pcap, ['quic.supported_version'], [...decodeAs, '-Y', `udp.srcport == ${r.port} && quic.version == 0`])[0][0].split(',');
    expect(quicOf(first)).toMatchObject({ version: '0x1a2a3a4a', versionName: 'grease', negotiationVersions: listed, sni: NAME });
    expect(listed).toContain('0x00000001');
    // The client's second try, in v1 from a new socket.
    expect(quicOf(again)).toMatchObject({ version: '0x00000001', sni: NAME, negotiationVersions: [] });
  });

  it('Retry: seen (tshark reads a Retry packet), the SNI read from the client’s Initial', () => {
    const r = run('retry');
    const q = quicOf(flowOf(r));
    const types = tsharkFields(pcap, ['quic.long.packet_type'], [...decodeAs, '-Y', `udp.port == ${r.port} && quic.header_form == 1`]).flatMap((x) => x[0].split(','));
    expect(types).toContain('3'); // tshark: a Retry
    expect(q).toMatchObject({ retry: true, sni: NAME, helloSeen: true });
    expect(q.initialPackets).toBeGreaterThanOrEqual(1);
  });

  it('what the flows carry is bounded: each let go after its hello, never a payload byte stored', () => {
    for (const f of quicFlows) expect(quicOf(f).initialPackets).toBeLessThanOrEqual(6);
    expect(JSON.stringify(report)).not.toContain('hello\\n');
  });
});

/**
 * RTP, STUN/TURN and the DTLS/SRTP that follows STUN, on traffic of real programs in two test
 * namespaces ("a", the device, 10.243.0.10; "b", the other end, 10.243.0.20 and .21):
 * - a two-way call: two ffmpeg RTP senders on one 5-tuple (PCMU one way, PCMA the other);
 * - RTP and RTCP of ffmpeg over TCP framed per RFC 4571 by a small framer (node): one frame per
 *   segment with RTCP first, two frames per write, one frame per segment without RTCP;
 * - coturn 4.6.1: turnutils_stunclient's Binding, turnutils_uclient's TURN Allocate, permissions,
 *   channels and ChannelData over UDP and over TCP (long-term credentials);
 * - a WebRTC-like 5-tuple: a STUN Binding answered by coturn, openssl s_client/s_server's DTLS 1.2
 *   handshake with use_srtp, ffmpeg's SRTP, a consent Binding — all on 10.243.0.10:50000 <->
 *   10.243.0.20:5000, where a demultiplexer (node, RFC 7983 first byte) hands STUN to coturn and
 *   DTLS to s_server.
 * tcpdump records a's link; `vigie analyze --json`/`--events` read the file; tshark reads it as
 * the independent oracle. Namespaces vmed-*, links vd*, addresses 10.243.0.0/24.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProtocolEvent } from '../../daemon/protocols/events.js';
import type { AnalysisReport } from '../../daemon/report/types.js';
import type { DtlsFacts, SrtpFacts } from '../../daemon/protocols/dtls/state.js';
import { rtpOverTcpLevel } from '../../daemon/protocols/rtp/framing.js';
import type { RtpFacts } from '../../daemon/protocols/rtp/state.js';
import type { StunFacts } from '../../daemon/protocols/stun/state.js';
import { vigie } from '../helpers/cli.js';
import { haveCommands } from '../helpers/home-lab.js';
import { canMakeNamespaces, sleep, TestNet } from '../helpers/netns.js';
import { tsharkFields } from '../helpers/tshark.js';

const root = canMakeNamespaces();
const tools = haveCommands('turnserver', 'turnutils_stunclient', 'turnutils_uclient', 'turnutils_peer', 'ffmpeg', 'openssl', 'socat', 'tcpdump', 'tshark');
const reason = !root ? 'needs root and ip netns' : !tools ? 'needs coturn (turnserver, turnutils_*), ffmpeg, openssl, socat, tcpdump and tshark' : '';

const A = '10.243.0.10';
const B = '10.243.0.20';
const PEER = '10.243.0.21';
const CALL_PORT = 40000;
const ICE_LOCAL = 50000;
const ICE_PORT = 5000;
/** RFC 4571 connections: port, frames per write, RTCP sent. */
const FRAMED = [
  { port: 5004, batch: 1, rtcp: true, src: 'sine=frequency=440:duration=2', codec: ['-c:a', 'pcm_mulaw', '-ar', '8000', '-ac', '1'] },
  { port: 5006, batch: 2, rtcp: true, src: 'testsrc=size=160x120:rate=10:duration=2', codec: ['-c:v', 'mpeg4'] },
  { port: 5008, batch: 1, rtcp: false, src: 'sine=frequency=550:duration=2', codec: ['-c:a', 'pcm_alaw', '-ar', '8000', '-ac', '1'] },
] as const;

/** One port for STUN and DTLS as a WebRTC peer has (RFC 7983 §7): the first byte says which program answers. */
const UDPMUX = `import dgram from 'node:dgram';
const [host, port, stunHost, stunPort, dtlsHost, dtlsPort] = process.argv.slice(2);
const front = dgram.createSocket('udp4');
let peer = null;
const up = (h, p) => { const s = dgram.createSocket('udp4'); s.on('message', (m) => peer && front.send(m, peer.port, peer.address)); s.bind(0, h); return { s, h, p: Number(p) }; };
const stun = up(stunHost, stunPort), dtls = up(dtlsHost, dtlsPort);
front.on('message', (m, r) => {
  peer = r;
  if (m[0] <= 3) stun.s.send(m, stun.p, stun.h);
  else if (m[0] >= 20 && m[0] <= 63) dtls.s.send(m, dtls.p, dtls.h);
});
front.bind(Number(port), host, () => console.log('ready'));
`;

/** An ICE agent's connectivity check: a Binding request (RFC 8489 §6.1) with SOFTWARE and FINGERPRINT (§14.7) from a fixed port. */
const STUNPING = `import dgram from 'node:dgram';
import crypto from 'node:crypto';
const [lhost, lport, host, port] = process.argv.slice(2);
const crc = (b) => { let c = ~0; for (const x of b) { c ^= x; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; } return ~c >>> 0; };
const sw = Buffer.from('vigie-ice-test');
const swa = Buffer.alloc(4 + ((sw.length + 3) & ~3)); swa.writeUInt16BE(0x8022, 0); swa.writeUInt16BE(sw.length, 2); sw.copy(swa, 4);
const head = Buffer.alloc(20); head.writeUInt16BE(1, 0); head.writeUInt16BE(swa.length + 8, 2); head.writeUInt32BE(0x2112a442, 4); crypto.randomBytes(12).copy(head, 8);
const body = Buffer.concat([head, swa]);
const fp = Buffer.alloc(8); fp.writeUInt16BE(0x8028, 0); fp.writeUInt16BE(4, 2); fp.writeUInt32BE((crc(body) ^ 0x5354554e) >>> 0, 4);
const s = dgram.createSocket('udp4');
const t = setTimeout(() => { console.log('no answer'); process.exit(1); }, 5000);
s.on('message', (m) => { clearTimeout(t); console.log('answer ' + m.length); s.close(); });
s.bind(Number(lport), lhost, () => s.send(Buffer.concat([body, fp]), Number(port), host));
`;

/**
 * RFC 4571 §2: the RTP and RTCP datagrams ffmpeg writes to two local ports, sent on one TCP
 * connection, each behind its 16-bit length; \`batch\` frames per write (1: Nagle off, one
 * frame per segment). Ends when its stdin closes.
 */
const FRAMER = `import dgram from 'node:dgram';
import net from 'node:net';
const [rtpPort, host, port, batch] = process.argv.slice(2);
const n = Number(batch);
let held = [];
const sock = net.connect(Number(port), host, () => { sock.setNoDelay(n === 1); console.log('connected'); });
const frame = (m) => {
  const f = Buffer.alloc(2 + m.length); f.writeUInt16BE(m.length, 0); m.copy(f, 2); held.push(f);
  if (held.length >= n) { sock.write(Buffer.concat(held)); held = []; }
};
for (const p of [Number(rtpPort), Number(rtpPort) + 1]) { const u = dgram.createSocket('udp4'); u.on('message', frame); u.bind(p, '127.0.0.1'); }
process.stdin.on('end', () => { if (held.length) sock.write(Buffer.concat(held)); sock.end(() => process.exit(0)); });
process.stdin.resume();
`;

describe.skipIf(!root || !tools)(`RTP, STUN/TURN, DTLS and SRTP of real programs in namespaces${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let net: TestNet;
  let dir: string;
  let pcap: string;
  let midCall: string;
  let report: AnalysisReport;
  let events: ProtocolEvent[];

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
  const exited = (child: ReturnType<TestNet['spawn']>) => new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('exit', (c) => r(c))));
  const listening = async (ns: string, proto: 'u' | 't', port: number) => {
    for (let i = 0; i < 100; i++) {
      if (sh(ns, `ss -Hln${proto} 'sport = :${port}'`).trim()) return;
      await sleep(100);
    }
    throw new Error(`nothing listens on ${proto} ${port}`);
  };
  /** A long-running program whose output is drained (a full pipe would block it), kept for waitLine. */
  const start = (ns: string, cmd: string[]) => {
    const child = net.spawn(ns, cmd);
    child.stdout?.on('data', () => undefined);
    child.stderr?.on('data', () => undefined);
    return child;
  };
  const ffmpeg = (out: string[], src: string, codec: readonly string[]) => ['ffmpeg', '-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', src, ...codec, ...out];

  beforeAll(async () => {
    net = new TestNet('vmed-');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmed-'));
    try {
      const a = net.ns('a');
      const b = net.ns('b');
      net.link(a, 'vda', `${A}/24`, b, 'vdb', `${B}/24`);
      sh(b, `ip addr add ${PEER}/24 dev vdb`);
      for (const [n, code] of Object.entries({ 'udpmux.mjs': UDPMUX, 'stunping.mjs': STUNPING, 'framer.mjs': FRAMER })) fs.writeFileSync(path.join(dir, n), code);
      sh(b, `cd ${dir} && openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=peer.example.com -days 1 -keyout key.pem -out cert.pem 2>/dev/null`);

      // coturn with long-term credentials (its answers then carry SOFTWARE, REALM, NONCE), its own user database.
      start(b, ['turnserver', '-n', '--lt-cred-mech', '--user', 'vigie:secret', '--realm', 'example.org', '--db', path.join(dir, 'turndb'), '-L', B, '-E', B, '-p', '3478', '--no-tls', '--no-dtls', '--no-cli', '--fingerprint', '--log-file', path.join(dir, 'turn.log'), '--simple-log', '--no-stdout-log', '--min-port', '49152', '--max-port', '49200', '--pidfile', path.join(dir, 'turn.pid')]);
      start(b, ['turnutils_peer', '-L', PEER, '-p', '3480']);
      start(b, ['openssl', 's_server', '-dtls1_2', '-accept', '127.0.0.1:4444', '-cert', path.join(dir, 'cert.pem'), '-key', path.join(dir, 'key.pem'), '-use_srtp', 'SRTP_AES128_CM_SHA1_80']);
      const mux = start(b, [process.execPath, path.join(dir, 'udpmux.mjs'), B, String(ICE_PORT), B, '3478', '127.0.0.1', '4444']);
      for (const f of FRAMED) start(b, ['socat', '-u', `TCP-LISTEN:${f.port},bind=${B},reuseaddr,fork`, 'OPEN:/dev/null']);
      await waitLine(mux, 'ready');
      await listening(b, 'u', 3478);
      await listening(b, 't', 3478);
      await listening(b, 'u', 4444);
      for (const f of FRAMED) await listening(b, 't', f.port);

      pcap = path.join(dir, 'media.pcap');
      const dump = start(a, ['tcpdump', '-Z', 'root', '-i', 'vda', '--immediate-mode', '-U', '-s', '0', '-w', pcap]);
      await waitLine(dump, 'listening');
      await sleep(300);

      // STUN Binding, then TURN over UDP and over TCP.
      expect(sh(a, `turnutils_stunclient ${B}`)).toContain('UDP reflexive addr');
      sh(a, `turnutils_uclient -n 3 -m 1 -u vigie -w secret -e ${PEER} -r 3480 ${B} >/dev/null 2>&1`, 30_000);
      sh(a, `turnutils_uclient -t -n 3 -m 1 -u vigie -w secret -e ${PEER} -r 3480 ${B} >/dev/null 2>&1`, 30_000);

      // The two-way call: both senders on the same pair of ports. A second capture joins it once
      // both send (a monitor started mid-call): its first packets alternate between the sides.
      const one = start(a, ffmpeg(['-f', 'rtp', `rtp://${B}:${CALL_PORT}?localport=${CALL_PORT}`], 'sine=frequency=440:duration=4', ['-c:a', 'pcm_mulaw', '-ar', '8000', '-ac', '1']));
      const two = start(b, ffmpeg(['-f', 'rtp', `rtp://${A}:${CALL_PORT}?localport=${CALL_PORT}`], 'sine=frequency=660:duration=4', ['-c:a', 'pcm_alaw', '-ar', '8000', '-ac', '1']));
      await sleep(1500);
      midCall = path.join(dir, 'mid-call.pcap');
      const dump2 = start(a, ['tcpdump', '-Z', 'root', '-i', 'vda', '--immediate-mode', '-U', '-s', '0', '-w', midCall, 'udp port', String(CALL_PORT)]);
      await waitLine(dump2, 'listening');
      expect(await Promise.all([exited(one), exited(two)])).toEqual([0, 0]);
      const done2 = exited(dump2);
      dump2.kill('SIGINT');
      await done2;

      // RFC 4571: ffmpeg's RTP to the framers' local ports, framed onto TCP.
      await Promise.all(
        FRAMED.map(async (f, i) => {
          const local = 41000 + i * 10;
          const framer = start(a, [process.execPath, path.join(dir, 'framer.mjs'), String(local), B, String(f.port), String(f.batch)]);
          await waitLine(framer, 'connected');
          const flags = f.rtcp ? [] : ['-rtpflags', 'skip_rtcp'];
          const sender = start(a, ffmpeg(['-f', 'rtp', ...flags, `rtp://127.0.0.1:${local}?localport=${local + 100}`], f.src, f.codec));
          expect(await exited(sender)).toBe(0);
          await sleep(200);
          framer.stdin?.end();
          await exited(framer);
        }),
      );

      // The WebRTC-like 5-tuple: STUN, DTLS with use_srtp, SRTP, STUN again, all from port 50000.
      expect(sh(a, `${process.execPath} ${dir}/stunping.mjs ${A} ${ICE_LOCAL} ${B} ${ICE_PORT}`)).toContain('answer');
      const tls = sh(a, `(echo hello; sleep 1) | timeout 15 openssl s_client -dtls1_2 -bind ${A}:${ICE_LOCAL} -connect ${B}:${ICE_PORT} -use_srtp SRTP_AES128_CM_SHA1_80 2>&1 || true`, 20_000);
      expect(tls).toContain('SRTP Extension negotiated, profile=SRTP_AES128_CM_SHA1_80');
      const key = Buffer.from(Array.from({ length: 30 }, (_, i) => (i * 37 + 11) & 255)).toString('base64');
      sh(a, `ffmpeg -nostdin -loglevel error -re -f lavfi -i sine=frequency=440:duration=1 -c:a pcm_mulaw -ar 8000 -ac 1 -f rtp -rtpflags skip_rtcp -srtp_out_suite AES_CM_128_HMAC_SHA1_80 -srtp_out_params ${key} 'srtp://${B}:${ICE_PORT}?localport=${ICE_LOCAL}'`, 30_000);
      expect(sh(a, `${process.execPath} ${dir}/stunping.mjs ${A} ${ICE_LOCAL} ${B} ${ICE_PORT}`)).toContain('answer');
      await sleep(300);

      const done = exited(dump);
      dump.kill('SIGINT');
      await done;
      if (process.env.VIGIE_KEEP_PCAP) fs.copyFileSync(pcap, process.env.VIGIE_KEEP_PCAP);
      const json = vigie(['analyze', '--json', pcap]);
      expect(json.status, json.stderr).toBe(0);
      report = JSON.parse(json.stdout) as AnalysisReport;
      const ev = vigie(['analyze', '--events', pcap]);
      expect(ev.status, ev.stderr).toBe(0);
      events = ev.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as ProtocolEvent);
    } catch (e) {
      net.destroy();
      throw e;
    }
  }, 180_000);

  afterAll(() => {
    net?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  type Flow = AnalysisReport['flows'][number];
  const protocol = <T>(f: Flow, key: string) => (f.protocol as Record<string, T> | null)?.[key] as T;
  const flowOn = (proto: string, port: number) => report.flows.filter((f) => f.proto === proto && (f.resp.port === port || f.orig.port === port));
  const tshark = (fields: string[], extra: string[]) => tsharkFields(pcap, fields, extra);
  const set = (xs: string[]) => [...new Set(xs.filter(Boolean).flatMap((x) => x.split(',')))].map((x) => parseInt(x, x.startsWith('0x') ? 16 : 10)).sort((x, y) => x - y);
  const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);

  it('a two-way call on one 5-tuple is RTP, each side with the SSRC, payload type and packet count tshark reads', () => {
    const [f] = flowOn('udp', CALL_PORT).filter((x) => x.orig.port === CALL_PORT && x.resp.port === CALL_PORT);
    expect(f.app).toBe('rtp');
    const rtp = protocol<RtpFacts>(f, 'rtp');
    const rows = tshark(['ip.src', 'rtp.ssrc', 'rtp.p_type'], ['-d', `udp.port==${CALL_PORT},rtp`, '-Y', `udp.srcport==${CALL_PORT} && udp.dstport==${CALL_PORT} && !icmp`]);
    for (const [side, ip] of [
      ['orig', f.orig.ip],
      ['resp', f.resp.ip],
    ] as const) {
      const mine = rows.filter((r) => r[0] === ip);
      expect(mine.length, side).toBeGreaterThan(20);
      expect(sorted(rtp[side].ssrcs), side).toEqual(set(mine.map((r) => r[1])));
      expect(rtp[side].payloadTypes, side).toEqual(set(mine.map((r) => r[2])));
      expect(rtp[side].packets, side).toBe(mine.length);
      expect(rtp[side].confirmed, side).toBe(true);
    }
    // PCMU from a, PCMA from b: the two sides do not share a source.
    expect(rtp[f.orig.ip === A ? 'orig' : 'resp'].codecs).toEqual(['PCMU']);
    expect(rtp[f.orig.ip === A ? 'resp' : 'orig'].codecs).toEqual(['PCMA']);
    expect(sorted(rtp.ssrcs)).toEqual(set(rows.map((r) => r[1])));
    // And the RTCP beside it (port + 1), both ways.
    const [c] = flowOn('udp', CALL_PORT + 1).filter((x) => x.resp.port === CALL_PORT + 1 && x.orig.port === CALL_PORT + 1);
    const rtcpRows = tshark(['ip.src', 'rtcp.senderssrc'], ['-d', `udp.port==${CALL_PORT + 1},rtcp`, '-Y', `rtcp && !icmp`]);
    expect(c.app).toBe('rtcp');
    expect(protocol<RtpFacts>(c, 'rtcp').rtcpPackets).toBe(rtcpRows.length);
  });

  it('the same call caught mid-way, its two directions alternating from the first packet: still RTP, both sides confirmed', () => {
    const r = vigie(['analyze', '--json', midCall]);
    expect(r.status, r.stderr).toBe(0);
    const [f] = (JSON.parse(r.stdout) as AnalysisReport).flows.filter((x) => x.proto === 'udp' && x.orig.port === CALL_PORT && x.resp.port === CALL_PORT);
    expect(f.app).toBe('rtp');
    const rtp = protocol<RtpFacts>(f, 'rtp');
    const rows = tsharkFields(midCall, ['ip.src', 'rtp.ssrc'], ['-d', `udp.port==${CALL_PORT},rtp`, '-Y', '!icmp']);
    // How the capture starts: the first packets' senders, for the record.
    console.log(`mid-call capture: first senders ${rows.slice(0, 8).map((x) => (x[0] === A ? 'a' : 'b')).join('')}`);
    for (const [side, ip] of [
      ['orig', f.orig.ip],
      ['resp', f.resp.ip],
    ] as const) {
      expect(rtp[side].confirmed, side).toBe(true);
      expect(sorted(rtp[side].ssrcs), side).toEqual(set(rows.filter((x) => x[0] === ip).map((x) => x[1])));
    }
  });

  it('RTP and RTCP over TCP (RFC 4571): every framing as tshark -d tcp.port==N,rtp decodes it, sure or after probation', () => {
    for (const spec of FRAMED) {
      const flows = flowOn('tcp', spec.port);
      expect(flows.length, `${spec.port}`).toBe(1);
      const f = flows[0];
      expect(f.app, `${spec.port}`).toBe('rtp');
      const rtp = protocol<RtpFacts>(f, 'rtp');
      const rows = tshark(['rtp.ssrc', 'rtp.p_type', 'rtcp.senderssrc'], ['-d', `tcp.port==${spec.port},rtp`, '-Y', `tcp.port==${spec.port} && (rtp || rtcp)`]);
      // One row per segment: a segment's frames are aggregated with commas.
      const rtpCount = rows.reduce((n, r) => n + (r[0] ? r[0].split(',').length : 0), 0);
      const rtcpCount = rows.reduce((n, r) => n + (r[2] ? r[2].split(',').length : 0), 0);
      expect(rtpCount, `${spec.port}`).toBeGreaterThan(10);
      expect(rtp, `${spec.port}`).toMatchObject({ transport: 'tcp', rtcpPackets: rtcpCount, packets: rtpCount + rtcpCount });
      expect(sorted(rtp.orig.ssrcs), `${spec.port}`).toEqual(set(rows.map((r) => r[0])));
      expect(rtp.orig.payloadTypes, `${spec.port}`).toEqual(set(rows.map((r) => r[1])));
      expect([rtp.orig.confirmed, rtp.resp.packets], `${spec.port}`).toEqual([true, 0]);
      if (!spec.rtcp) expect(rtcpCount).toBe(0);
      // How the first segment was taken: RTCP first or two frames in sequence are sure; a lone RTP frame is on probation.
      const first = Buffer.from(tshark(['tcp.payload'], ['-Y', `tcp.dstport==${spec.port} && tcp.len>0`])[0][0], 'hex');
      const level = rtpOverTcpLevel(first, 0, first.length);
      console.log(`RFC 4571 on ${spec.port}: first segment ${first.length} bytes, level ${level}`);
      expect(level, `${spec.port}`).toBeGreaterThanOrEqual(spec.rtcp ? 2 : 1);
    }
  });

  it('STUN over UDP: turnutils_stunclient and coturn, SOFTWARE and FINGERPRINT as tshark reads them', () => {
    const binding = report.flows.filter((f) => f.proto === 'udp' && f.resp.port === 3478 && protocol<StunFacts>(f, 'stun')?.methodNames.join() === 'binding');
    expect(binding.length).toBe(1);
    const f = binding[0];
    expect([f.app, f.encrypted]).toEqual(['stun', false]);
    const s = protocol<StunFacts>(f, 'stun');
    const rows = tshark(['stun.att.software', 'stun.att.crc32.status', 'stun.type'], ['-Y', `udp.port==${f.orig.port} && stun && !icmp`]);
    expect(s.software).toEqual([...new Set(rows.map((r) => r[0]).filter(Boolean))]);
    expect(s.software[0]).toMatch(/^Coturn-/);
    expect(s.messages).toBe(rows.length);
    expect(s.fingerprintsValid).toBe(rows.filter((r) => r[1] === '1').length);
    expect(s.mappedAddress).toBe(true);
  });

  /** What tshark reads of a TURN flow: STUN messages, ChannelData and channel numbers, error codes. */
  function turnOracle(f: Flow) {
    // ICMP errors quote the datagram they answer: tshark dissects the STUN inside them too.
    const port = f.proto === 'tcp' ? `tcp.port==${f.orig.port}` : `udp.port==${f.orig.port} && !icmp`;
    const rows = tshark(['stun.type', 'stun.channel', 'stun.att.channelnum', 'stun.att.error.class', 'stun.att.error', 'stun.att.software', 'stun.att.username'], ['-Y', `${port} && stun`]);
    const all = (i: number) => rows.flatMap((r) => (r[i] ? r[i].split(',') : []));
    const classes = all(3);
    return {
      messages: all(0).length,
      channelData: all(1).length,
      channels: set([...all(1), ...all(2)]),
      errorCodes: [...new Set(classes.map((c, i) => Number(c) * 100 + Number(all(4)[i])))],
      software: [...new Set(all(5))],
      username: all(6).length > 0,
    };
  }

  it('TURN over UDP and TCP: Allocate, 401, credentials, permissions, channels and ChannelData, counted as tshark counts them', () => {
    const turn = report.flows.filter((f) => f.resp.port === 3478 && protocol<StunFacts>(f, 'stun')?.turn);
    const udp = turn.filter((f) => f.proto === 'udp');
    const tcp = turn.filter((f) => f.proto === 'tcp');
    expect(udp.length).toBeGreaterThanOrEqual(1);
    expect(tcp.length).toBeGreaterThanOrEqual(1);
    let withChannels = 0;
    for (const f of turn) {
      const s = protocol<StunFacts>(f, 'stun');
      const o = turnOracle(f);
      const where = `${f.proto} ${f.orig.port}`;
      expect(f.app, where).toBe('stun');
      expect(s.transport, where).toBe(f.proto);
      expect({ messages: s.messages, channelData: s.channelData, channels: sorted(s.channels), errorCodes: s.errorCodes, software: s.software, username: s.username }, where).toEqual(o);
      expect([s.messageIntegrity, s.fingerprints, s.fingerprintsValid, s.malformed], where).toEqual([true, s.messages, s.messages, 0]);
      if (s.channelData > 0) withChannels++;
    }
    // uclient sends its ChannelData on some of its allocations, over both transports.
    expect(withChannels).toBeGreaterThanOrEqual(2);
    expect(tcp.some((f) => protocol<StunFacts>(f, 'stun').channelData > 0)).toBe(true);
  });

  it('STUN then DTLS then SRTP on one UDP 5-tuple: stun, with the DTLS and SRTP tshark reads, encrypted', () => {
    const [f] = report.flows.filter((x) => x.proto === 'udp' && x.orig.port === ICE_LOCAL && x.resp.port === ICE_PORT);
    expect([f.app, f.encrypted]).toEqual(['stun', true]);
    const stream = `udp.port==${ICE_LOCAL} && udp.port==${ICE_PORT} && !icmp`;
    // tshark sees STUN, then DTLS, then (heuristic) RTP, then STUN again, on that one stream.
    const order = tshark(['frame.number', 'frame.protocols'], ['-o', 'rtp.heuristic_rtp:TRUE', '-Y', stream]);
    const firstOf = (p: string) => Number(order.find((r) => r[1].split(':').includes(p))?.[0]);
    const lastStun = Number([...order].reverse().find((r) => r[1].split(':').includes('stun'))?.[0]);
    expect(firstOf('stun')).toBeLessThan(firstOf('dtls'));
    expect(firstOf('dtls')).toBeLessThan(firstOf('rtp'));
    expect(firstOf('rtp')).toBeLessThan(lastStun);

    const s = protocol<StunFacts>(f, 'stun');
    const stunRows = tshark(['stun.att.software', 'stun.att.crc32.status'], ['-Y', `${stream} && stun`]);
    expect(s.messages).toBe(stunRows.length);
    expect(s.software).toEqual([...new Set(stunRows.map((r) => r[0]))]);
    expect(s.fingerprintsValid).toBe(stunRows.filter((r) => r[1] === '1').length);

    const d = protocol<DtlsFacts>(f, 'dtls');
    const sh = tshark(['dtls.handshake.version', 'dtls.handshake.ciphersuite', 'dtls.use_srtp.protection_profile'], ['-Y', `${stream} && dtls.handshake.type==2`])[0];
    expect(sh[0]).toBe('0xfefd');
    expect(d).toMatchObject({ seen: true, version: 'DTLSv1.2', clientHello: true, serverHello: true, cipher: parseInt(sh[1], 16), srtpProfile: 'SRTP_AES128_CM_HMAC_SHA1_80' });
    expect(parseInt(sh[2], 16)).toBe(1); // SRTP_AES128_CM_HMAC_SHA1_80 (RFC 5764 §4.1.2)
    expect(d.packets).toBe(tshark(['frame.number'], ['-Y', `${stream} && dtls`]).length);

    const m = protocol<SrtpFacts>(f, 'srtp');
    const rtpRows = tshark(['rtp.ssrc', 'rtp.p_type'], ['-o', 'rtp.heuristic_rtp:TRUE', '-Y', `${stream} && rtp`]);
    expect(rtpRows.length).toBeGreaterThan(20);
    expect(m).toMatchObject({ packets: rtpRows.length, dtlsKeyed: true });
    expect(sorted(m.ssrcs)).toEqual(set(rtpRows.map((r) => r[0])));
    expect(m.orig).toMatchObject({ packets: rtpRows.length, confirmed: true });
    // The events say it too: the hellos, and the SRTP source once confirmed.
    const mine = events.filter((e) => e.src.port === ICE_LOCAL || e.dst.port === ICE_LOCAL);
    expect(mine.filter((e) => e.type === 'dtls').map((e) => (e.dtls as { type: string }).type)).toEqual(expect.arrayContaining(['client_hello', 'server_hello']));
    expect(mine.filter((e) => e.type === 'srtp').map((e) => (e.srtp as { ssrc: number }).ssrc)).toEqual(set(rtpRows.map((r) => r[0])));
  });

  it('no other flow of the capture is taken for RTP, STUN or RTCP', () => {
    const media = report.flows.filter((f) => f.app === 'rtp' || f.app === 'rtcp' || f.app === 'stun');
    const expected = new Set([CALL_PORT, CALL_PORT + 1, ICE_PORT, 3478, ...FRAMED.map((x) => x.port)]);
    for (const f of media) expect(expected.has(f.resp.port), `${f.proto} ${f.orig.port} > ${f.resp.port} ${f.app}`).toBe(true);
  });
});

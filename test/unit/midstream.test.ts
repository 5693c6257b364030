/**
 * The probes for flows seen without their start (TLS records, WebSocket frames), DNS over TCP and
 * UDP plausibility, and login greetings read to their end: on the bytes of real programs
 * (test/fixtures/midstream/midstream.pcap, cut from the capture of midstream-live.test.ts:
 * openssl sessions whose handshake preceded the capture, dig against dnsmasq, protobuf frames and
 * XMPP on 5222 and 443, dovecot and aiosmtpd long greetings, ws and MQTT-over-ws frames) and on
 * every capture of the shared corpus, tshark reading the same files as the oracle.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../daemon/analysis/analyze.js';
import { DEFAULT_CONFIG } from '../../daemon/analysis/config.js';
import { readCapture } from '../../daemon/capture/reader.js';
import { formatAddr } from '../../daemon/decode/address.js';
import { Decoder } from '../../daemon/decode/decoder.js';
import { Decoded, Proto } from '../../daemon/decode/packet.js';
import { looksLikeDnsMessage, looksLikeDnsTcp } from '../../daemon/protocols/dns/probe.js';
import { parseDns, readName } from '../../daemon/protocols/dns/parser.js';
import { greetingProtocol, LoginSession } from '../../daemon/protocols/login/state.js';
import type { FlowContext } from '../../daemon/protocols/parser-types.js';
import { BROKEN, RecordWalker, recordLength, recordRun, RUN_MAYBE, RUN_NO, RUN_YES } from '../../daemon/protocols/tls/probe.js';
import { TlsMidstream, tlsMidstream } from '../../daemon/protocols/tls/state.js';
import { FrameWalker, startsFrames } from '../../daemon/protocols/websocket/probe.js';
import { WebSocketMidstream, webSocketMidstream } from '../../daemon/protocols/websocket/state.js';
import type { AnalysisReport } from '../../daemon/report/types.js';
import { casePath, corpusCases, describeCorpus, readTsharkTxt, ROOT } from '../helpers/corpus.js';
import { haveTool } from '../helpers/tshark.js';

const FIXTURE = path.join(ROOT, 'test/fixtures/midstream/midstream.pcap');
const TSHARK = haveTool('tshark');

interface Segment {
  frame: number;
  /** "ip:port>ip:port" of the sender and receiver. */
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  /** The flow, the same for both directions. */
  flow: string;
  payload: Buffer;
}

/** TCP and UDP payloads in capture order, numbered as tshark numbers frames; TCP retransmissions dropped. */
async function payloads(file: string, proto: number): Promise<Segment[]> {
  const out: Segment[] = [];
  const d = new Decoder();
  const seen = new Set<string>();
  let frame = 0;
  await readCapture(file, {
    packet(link, buf, off, caplen, wirelen, ts) {
      frame++;
      if (d.decode(link, buf, off, caplen, wirelen, ts) !== Decoded.Ip) return;
      const p = d.pkt;
      if (p.ipProto !== proto || p.payloadLen === 0) return;
      const src = `${formatAddr(p.src0, p.src1, p.src2, p.src3)}:${p.srcPort}`;
      const dst = `${formatAddr(p.dst0, p.dst1, p.dst2, p.dst3)}:${p.dstPort}`;
      if (proto === Proto.Tcp) {
        const k = `${src}>${dst}@${p.seq}`;
        if (seen.has(k)) return;
        seen.add(k);
      }
      out.push({ frame, src, dst, srcPort: p.srcPort, dstPort: p.dstPort, flow: [src, dst].sort().join(' '), payload: Buffer.from(p.buf.subarray(p.payloadOff, p.payloadOff + p.payloadLen)) });
    },
  });
  return out;
}

/** tshark's protocols per TCP stream, by our flow key (the decode-as options of the corpus oracle applied). */
function tsharkStreams(file: string, extra: string[]): Map<string, Set<string>> {
  const out = execFileSync('tshark', ['-n', '-r', file, ...extra, '-Y', 'tcp.len > 0', '-T', 'fields', '-E', 'separator=\t', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'ipv6.dst', '-e', 'tcp.dstport', '-e', 'frame.protocols'], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const m = new Map<string, Set<string>>();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [s4, s6, sp, d4, d6, dp, protos] = line.split('\t');
    // The innermost addresses (tunnels list several).
    const src = `${(s4 || s6).split(',').pop()}:${sp}`;
    const dst = `${(d4 || d6).split(',').pop()}:${dp}`;
    const key = [src, dst].sort().join(' ');
    const set = m.get(key) ?? new Set<string>();
    for (const p of protos.split(':')) set.add(p);
    m.set(key, set);
  }
  return m;
}

/** The decode-as options the corpus oracle was made with. */
function oracleArgs(name: string): string[] {
  const a = readTsharkTxt(name).extraArgs.trim();
  return a === '' || a === '(none)' ? [] : a.split(/\s+/);
}

/** The DNS-over-TCP check this replaced (detect.ts before): a length, QR 0, an opcode up to 6, a question count and one readable name. */
function formerLooksLikeDnsTcp(buf: Buffer, off: number, len: number): boolean {
  if (len < 17) return false;
  const msgLen = buf.readUInt16BE(off);
  if (msgLen < 17 || msgLen < len - 2) return false;
  if (buf.readUInt16BE(off + 4) & 0x8000) return false;
  const m = off + 2;
  if (((buf.readUInt16BE(m + 2) >> 11) & 15) > 6 || buf.readUInt16BE(m + 4) === 0) return false;
  try {
    readName(buf, m, m + 12, off + len);
    return true;
  } catch {
    return false;
  }
}

class Ctx implements FlowContext {
  stopped = false;
  events: string[] = [];
  constructor(
    readonly origPort = 40000,
    readonly respPort = 443,
  ) {}
  emit(type: string): void {
    this.events.push(type);
  }
  followAll(): void {}
  stop(): void {
    this.stopped = true;
  }
  ip(): string {
    return '10.0.0.1';
  }
  answered(): void {}
  expect(): void {}
  senderMac(): number {
    return -1;
  }
  expectedApp(): null {
    return null;
  }
}

const byFlow = (segs: Segment[]) => {
  const m = new Map<string, Segment[]>();
  for (const s of segs) m.set(s.flow, [...(m.get(s.flow) ?? []), s]);
  return m;
};

describe('probes on the bytes of real programs (fixture)', () => {
  let tcp: Segment[];
  let flows: Map<string, Segment[]>;
  const ofPort = (port: number) => [...flows.values()].filter((f) => f[0].dstPort === port || f[0].srcPort === port);
  beforeAll(async () => {
    tcp = await payloads(FIXTURE, Proto.Tcp);
    flows = byFlow(tcp);
  });

  it.skipIf(!TSHARK)('TLS record headers: our lengths are tshark\'s; one record per segment is a candidate, two chained are TLS', () => {
    const rows = execFileSync('tshark', ['-n', '-r', FIXTURE, '-d', 'tcp.port==4433,tls', '-d', 'tcp.port==4434,tls', '-d', 'tcp.port==4435,tls', '-d', 'tcp.port==8883,tls', '-Y', 'tls.record', '-T', 'fields', '-e', 'frame.number', '-e', 'tls.record.length', '-e', 'tls.record.version'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(rows.length).toBe(24);
    let split = 0;
    for (const [frame, lens, versions] of rows) {
      const p = tcp.find((x) => x.frame === Number(frame))!.payload;
      // Our headers, chained by their lengths, are the records tshark lists in the segment.
      const ours: number[] = [];
      for (let at = 0; at < p.length; at += 5 + ours[ours.length - 1]) {
        ours.push(recordLength(p[at], p[at + 1], p[at + 2], p.readUInt16BE(at + 3)));
        expect(`0x${p.readUInt16BE(at + 1).toString(16).padStart(4, '0')}`).toBe(versions.split(',')[ours.length - 1]);
      }
      expect(ours.join(','), `frame ${frame}`).toBe(lens);
      // One record in the segment is a candidate; two (OpenSSL splits TLS 1.0 CBC writes 1/n-1) are TLS.
      expect(recordRun(p, 0, p.length)).toBe(ours.length === 1 ? RUN_MAYBE : RUN_YES);
      if (ours.length > 1) split++;
    }
    expect(split).toBe(6);
    // (On 4435 every segment already holds two records.)
    for (const port of [4433, 4434, 8883]) {
      const [f] = ofPort(port);
      const client = f.filter((s) => s.dstPort === port);
      const two = Buffer.concat([client[0].payload, client[1].payload]);
      expect(recordRun(two, 0, two.length)).toBe(RUN_YES);
      // Cut anywhere inside the second header, what is there must fit.
      const cut = two.subarray(0, client[0].payload.length + 3);
      expect(recordRun(cut, 0, cut.length)).toBe(RUN_MAYBE);
      // A byte off, the chain breaks.
      const off = Buffer.concat([client[0].payload, Buffer.from([0]), client[1].payload]);
      expect(recordRun(off, 0, off.length)).toBe(RUN_NO);
    }
  });

  it('TlsMidstream: no app while one record was seen; TLS once the other side starts a record; 8883 is mqtt-tls', () => {
    for (const port of [4433, 4434, 4435, 8883]) {
      const [f] = ofPort(port);
      const ctx = new Ctx(40000, port);
      const first = f[0];
      const dir = first.dstPort === port ? 0 : 1;
      const s = tlsMidstream(ctx, dir, first.payload, 0, first.payload.length) as TlsMidstream;
      expect(s).toBeInstanceOf(TlsMidstream);
      s.data(dir, first.payload, 0, first.payload.length);
      const alone = recordRun(first.payload, 0, first.payload.length) === RUN_MAYBE;
      expect(alone).toBe(port !== 4435);
      if (alone) {
        expect(s.app).toBeNull();
        expect(s.facts()).toBeNull();
      }
      const reply = f.find((x) => (x.dstPort === port ? 0 : 1) !== dir)!;
      s.data(dir ^ 1, reply.payload, 0, reply.payload.length);
      expect(s.app).toBe(port === 8883 ? 'mqtt-tls' : 'tls');
      expect(s.facts()!.tls).toMatchObject({ helloSeen: false, sni: null, recordVersion: port === 4435 ? 'TLSv1.0' : 'TLSv1.2', version: port === 4435 ? 'TLSv1.0' : null });
      expect(ctx.stopped).toBe(true);
      // Nothing for the event stream: no message was read.
      expect(ctx.events).toEqual([]);
    }
  });

  it('TlsMidstream: a side first seen inside a record is set aside; the other side\'s chain still decides, a broken one drops the guess', () => {
    const [f] = ofPort(4433);
    const client = f.filter((s) => s.dstPort === 4433).map((s) => s.payload);
    const server = f.filter((s) => s.srcPort === 4433).map((s) => s.payload);
    const ctx = new Ctx(40000, 4433);
    const s = new TlsMidstream(ctx);
    s.data(0, client[0], 0, client[0].length);
    s.data(1, server[0], 3, server[0].length - 3); // the capture began 3 bytes into a record
    expect(s.app).toBeNull();
    s.data(0, client[1], 0, client[1].length);
    expect(s.app).toBe('tls');
    // The same first record, then bytes where the next header should be that are not one.
    const t = new TlsMidstream(new Ctx(40000, 4433));
    t.data(0, client[0], 0, client[0].length);
    t.data(0, server[0], 3, server[0].length - 3);
    expect(t.app).toBeNull();
    expect(t.facts()).toBeNull();
  });

  it('TLS records split anywhere across segments: the walker counts the same headers', () => {
    const [f] = ofPort(4433);
    const all = Buffer.concat(f.filter((s) => s.dstPort === 4433).map((s) => s.payload));
    for (let cut = 1; cut < all.length; cut += 7) {
      const w = new RecordWalker();
      w.walk(all, 0, cut);
      expect(w.walk(all, cut, all.length)).toBe(3);
    }
    // A record of another version in the chain breaks it.
    const w = new RecordWalker();
    const bad = Buffer.from(all);
    const second = 5 + bad.readUInt16BE(3);
    bad[second + 2] = 1;
    expect(w.walk(bad, 0, bad.length)).toBe(BROKEN);
  });

  it.skipIf(!TSHARK)('DNS over TCP: dig\'s query and dnsmasq\'s answer as tshark reads them; the strict check takes the query, only the port-53 one takes the answer', () => {
    const rows = execFileSync('tshark', ['-n', '-r', FIXTURE, '-Y', 'tcp.port==53 && dns', '-T', 'fields', '-e', 'frame.number', '-e', 'dns.flags.response', '-e', 'dns.count.queries', '-e', 'dns.count.add_rr'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(rows.map((r) => r[1])).toEqual(['0', '1']);
    for (const [frame, response] of rows) {
      const p = tcp.find((x) => x.frame === Number(frame))!.payload;
      expect(looksLikeDnsTcp(p, 0, p.length, true), `frame ${frame}`).toBe(true);
      expect(looksLikeDnsTcp(p, 0, p.length, false), `frame ${frame}`).toBe(response === '0');
      // The message as the real parser reads it: one question.
      expect(parseDns(p, 2, p.length).questions).toHaveLength(1);
    }
    // dig sends an EDNS OPT record (ARCOUNT 1), as tshark counts.
    expect(rows[0][3]).toBe('1');
  });

  it('protobuf frames on 5222 and 443: the former DNS check took them for queries, the strict one does not; neither does XMPP', () => {
    const look = [...ofPort(5222), ...ofPort(443)];
    expect(look).toHaveLength(3);
    let former = 0;
    for (const f of look) {
      for (const s of f) {
        if (formerLooksLikeDnsTcp(s.payload, 0, s.payload.length)) former++;
        expect(looksLikeDnsTcp(s.payload, 0, s.payload.length, false), `frame ${s.frame}`).toBe(false);
        expect(looksLikeDnsTcp(s.payload, 0, s.payload.length, true), `frame ${s.frame}`).toBe(false);
      }
    }
    // The two client frames (5222 and 443); the server's short replies and XMPP never passed.
    expect(former).toBe(2);
  });

  it('greetings read to their end: IMAP and POP3 over 300 bytes, a multi-line 220 whose ESMTP is on its last line', () => {
    const greeting = (port: number) => ofPort(port)[0].find((s) => s.srcPort === port)!.payload;
    const imap = greeting(143);
    const pop = greeting(110);
    const smtp = greeting(10025);
    expect(imap.length).toBeGreaterThan(300);
    expect(pop.length).toBeGreaterThan(300);
    expect(smtp.length).toBeGreaterThan(300);
    const ports = (p: number): [number, number] => [40000, p];
    expect(greetingProtocol(imap, 0, imap.length, ports(143))).toBe('imap');
    expect(greetingProtocol(pop, 0, pop.length, ports(110))).toBe('pop3');
    expect(greetingProtocol(smtp, 0, smtp.length, ports(10025))).toBe('smtp');
    // Off their ports too: the greeting itself names them.
    expect(greetingProtocol(imap, 0, imap.length, ports(10143))).toBe('imap');
    expect(greetingProtocol(pop, 0, pop.length, ports(10110))).toBe('pop3');
    // Cut by the segment: IMAP and POP3 markers decide; a 220 before its word waits for the rest.
    expect(greetingProtocol(imap, 0, 200, ports(10143))).toBe('imap');
    expect(greetingProtocol(pop, 0, 200, ports(10110))).toBe('pop3');
    expect(greetingProtocol(smtp, 0, 200, ports(10025))).toBe('pending-220');
    expect(greetingProtocol(smtp, 0, 200, ports(25))).toBe('smtp');
    const esmtp = smtp.indexOf('ESMTP');
    expect(esmtp).toBeGreaterThan(256);
    expect(greetingProtocol(smtp, 0, esmtp + 5, ports(10025))).toBe('smtp');
    // Binary bytes are no greeting, whatever they start with.
    const bin = Buffer.concat([Buffer.from('* OK '), Buffer.from([0, 1, 2, 3]), Buffer.from('\r\n')]);
    expect(greetingProtocol(bin, 0, bin.length, ports(143))).toBeNull();
  });

  it('a 220 cut before it names SMTP: pending, read to its last line by the session, then the session as usual (STARTTLS)', () => {
    const [f] = ofPort(10026);
    const server = f.filter((x) => x.srcPort === 10026);
    const first = server[0].payload;
    expect(first.includes('ESMTP')).toBe(false);
    expect(greetingProtocol(first, 0, first.length, [40000, 10026])).toBe('pending-220');
    // On the SMTP port the port decides at once.
    expect(greetingProtocol(first, 0, first.length, [40000, 25])).toBe('smtp');
    // Only a cut greeting is pending: whole and naming nothing, it is no greeting of ours.
    const plain = Buffer.from('220-relay.example.test welcomes you\r\n220 relay.example.test ready\r\n');
    expect(greetingProtocol(plain, 0, plain.length, [40000, 10026])).toBeNull();
    const ctx = new Ctx(40000, 10026);
    const session = new LoginSession(ctx, 'pending-220');
    for (const seg of f) {
      session.data(seg.dstPort === 10026 ? 0 : 1, seg.payload, 0, seg.payload.length);
      if (seg === server[0]) {
        expect(session.app).toBeNull();
        expect(session.facts()).toBeNull();
      }
      if (seg === server[1]) expect(session.app).toBe('smtp');
    }
    expect(session.facts()!.login).toMatchObject({ protocol: 'smtp', starttls: true, passwordPresent: false });
    expect(ctx.stopped).toBe(true);
    // A pending greeting that ends naming nothing, or a client that speaks first: not ours, dropped.
    const a = new Ctx(40000, 10026);
    const s1 = new LoginSession(a, 'pending-220');
    s1.data(1, first, 0, first.length);
    s1.data(1, Buffer.from(' and nothing else\r\n220 ready\r\n'), 0, 31);
    expect([s1.app, a.stopped]).toEqual([null, true]);
    const b = new Ctx(40000, 10026);
    const s2 = new LoginSession(b, 'pending-220');
    s2.data(1, first, 0, first.length);
    s2.data(0, Buffer.from('EHLO x\r\n'), 0, 8);
    expect([s2.app, b.stopped]).toEqual([null, true]);
  });

  it.skipIf(!TSHARK)('WebSocket frames: the walker reads the headers tshark decodes, both ways, and the session confirms', () => {
    for (const port of [8080, 8081, 8082]) {
      const rows = execFileSync('tshark', ['-n', '-r', FIXTURE, '-d', `tcp.port==${port},websocket`, '-Y', `tcp.port==${port} && websocket`, '-T', 'fields', '-e', 'tcp.srcport', '-e', 'websocket.opcode'], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((l) => l.split('\t'));
      const [f] = ofPort(port);
      for (const dir of [0, 1]) {
        const segs = f.filter((s) => (s.dstPort === port ? 0 : 1) === dir);
        const theirs = rows.filter((r) => (r[0] === String(port) ? 1 : 0) === dir).flatMap((r) => r[1].split(',')).length;
        expect(startsFrames(segs[0].payload, 0, segs[0].payload.length)).toBe(true);
        const w = new FrameWalker();
        let n = 0;
        for (const s of segs) n = w.walk(s.payload, 0, s.payload.length);
        expect(n, `port ${port} dir ${dir}`).toBe(theirs);
        expect(w.mask).toBe(dir === 0 ? 1 : 0);
      }
      const ctx = new Ctx(40000, port);
      const first = f[0];
      const s = webSocketMidstream(ctx, 0, first.payload, 0, first.payload.length) as WebSocketMidstream;
      expect(s).toBeInstanceOf(WebSocketMidstream);
      for (const seg of f) {
        s.data(seg.dstPort === port ? 0 : 1, seg.payload, 0, seg.payload.length);
        if (seg === first) expect(s.app).toBeNull();
      }
      expect(s.app).toBe(port === 8082 ? 'mqtt-ws' : 'websocket');
      const total = rows.flatMap((r) => r[1].split(',')).length;
      expect(s.facts()!.websocket).toMatchObject({ upgradeSeen: false, client: 'orig', frames: total });
      // The client's frames alone confirm it; the server's, heard after, are still read.
      const u = new WebSocketMidstream(new Ctx(40000, port));
      for (const dir of [0, 1]) for (const seg of f) if ((seg.dstPort === port ? 0 : 1) === dir) u.data(dir, seg.payload, 0, seg.payload.length);
      expect(u.facts()!.websocket.frames).toBe(total);
    }
  });

  it('WebSocket header rules: masks one way only, FIN control frames, shortest lengths, UTF-8 text, valid close codes', () => {
    const frame = (b0: number, payload: Buffer, mask: number[] | null, len16 = false) => {
      const h = [b0, (mask ? 0x80 : 0) | (len16 ? 126 : payload.length)];
      if (len16) h.push(payload.length >> 8, payload.length & 255);
      const body = mask ? Buffer.from(payload.map((c, i) => c ^ mask[i & 3])) : payload;
      return Buffer.concat([Buffer.from(h), Buffer.from(mask ?? []), body]);
    };
    const walk = (...frames: Buffer[]) => new FrameWalker().walk(Buffer.concat(frames), 0, Buffer.concat(frames).length);
    const text = Buffer.from('{"room":"séjour"}');
    const key = [1, 2, 3, 4];
    expect(walk(frame(0x81, text, key), frame(0x81, text, key))).toBe(2);
    expect(walk(frame(0x81, text, key), frame(0x81, text, null))).toBe(BROKEN); // mask changes within a direction
    expect(walk(frame(0x09, Buffer.from('hb'), key))).toBe(BROKEN); // a control frame without FIN
    expect(walk(frame(0x81, text, key, true))).toBe(BROKEN); // a 16-bit length for 18 bytes
    expect(walk(frame(0x81, Buffer.from([0x68, 0xc3, 0x28]), key))).toBe(BROKEN); // not UTF-8
    expect(walk(frame(0x01, Buffer.from([0x68, 0xc3]), key), frame(0x80, Buffer.from([0xa9]), key))).toBe(2); // é split across fragments
    expect(walk(frame(0x81, text, key), frame(0x80, text, key))).toBe(BROKEN); // a continuation after a whole message
    expect(walk(frame(0x88, Buffer.from([0x03, 0xe8, 0x62]), key))).toBe(1); // 1000 "b"
    expect(walk(frame(0x88, Buffer.from([0x03, 0xed]), key))).toBe(BROKEN); // 1005 must not be sent
    expect(walk(frame(0xc1, text, key))).toBe(1); // RSV1 on a whole frame: permessage-deflate (not read as text)
    expect(walk(frame(0xa1, text, key))).toBe(BROKEN); // RSV2
    expect(walk(frame(0x83, text, key))).toBe(BROKEN); // opcode 3
  });
});

describeCorpus('DNS plausibility on the corpus: every message tshark reads as DNS on 53 and LLMNR passes', () => {
  it.skipIf(!TSHARK)('UDP datagrams on ports 53 and 5355 that tshark dissects as DNS or LLMNR (a forward pointer and two questions included) are accepted', async () => {
    let checked = 0;
    for (const c of corpusCases()) {
      const file = casePath(c);
      const extra = oracleArgs(c.case);
      const udp = (await payloads(file, Proto.Udp)).filter((s) => [53, 5355].includes(s.srcPort) || [53, 5355].includes(s.dstPort));
      if (udp.length === 0) continue;
      const dnsFrames = new Set(
        execFileSync('tshark', ['-n', '-r', file, ...extra, '-Y', '(dns || llmnr) && !_ws.malformed && !icmp && !icmpv6', '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
          .split('\n')
          .filter(Boolean)
          .map(Number),
      );
      for (const s of udp) {
        if (!dnsFrames.has(s.frame)) continue;
        checked++;
        expect(looksLikeDnsMessage(s.payload, 0, s.payload.length), `${c.case} frame ${s.frame}`).toBe(true);
      }
    }
    // Every such datagram of the corpus (ids from 0x8000 to 0xbfff, which read as RTP, among them).
    expect(checked).toBe(15);
  }, 120_000);
});

describeCorpus('no false positives on the corpus: TCP flows tshark does not read as DNS, TLS or WebSocket stay so', () => {
  const cases = corpusCases();
  let reports: Map<string, AnalysisReport>;
  beforeAll(async () => {
    reports = new Map();
    for (const c of cases) reports.set(c.case, await analyzeCapture(casePath(c), { config: { ...DEFAULT_CONFIG } }));
  }, 120_000);

  it.skipIf(!TSHARK)('every segment of every corpus TCP flow through the probes, and every flow through the engine', async () => {
    const counts = { flows: 0, segments: 0, dnsStrict: 0, tlsYes: 0, wsChains: 0, notDns: 0, notTls: 0, notWs: 0 };
    for (const c of cases) {
      const file = casePath(c);
      const oracle = tsharkStreams(file, oracleArgs(c.case));
      const segs = byFlow(await payloads(file, Proto.Tcp));
      for (const [key, list] of segs) {
        const protos = oracle.get(key) ?? new Set<string>();
        const isDns = protos.has('dns');
        const isTls = protos.has('tls') || protos.has('ssl');
        const isWs = protos.has('websocket');
        counts.flows++;
        for (const s of list) {
          counts.segments++;
          const p = s.payload;
          if (looksLikeDnsTcp(p, 0, p.length, false)) {
            counts.dnsStrict++;
            expect(isDns, `${c.case} frame ${s.frame}: a query off port 53 in a flow tshark does not read as DNS`).toBe(true);
          }
          if (recordRun(p, 0, p.length) === RUN_YES) {
            counts.tlsYes++;
            expect(isTls, `${c.case} frame ${s.frame}: chained TLS records where tshark reads no TLS`).toBe(true);
          }
          // A segment holding two or more whole frames, exactly.
          const w = new FrameWalker();
          if (startsFrames(p, 0, p.length) && w.walk(p, 0, p.length) >= 2 && w.exactEnds > 0) {
            counts.wsChains++;
            expect(isWs || isTls, `${c.case} frame ${s.frame}: a WebSocket frame chain where tshark reads no WebSocket`).toBe(true);
          }
        }
        if (!isDns) counts.notDns++;
        if (!isTls) counts.notTls++;
        if (!isWs) counts.notWs++;
      }
      // The engine: no flow gets one of these apps unless tshark reads the protocol in it.
      for (const f of reports.get(c.case)!.flows) {
        if (f.proto !== 'tcp') continue;
        const protos = oracle.get([`${f.orig.ip}:${f.orig.port}`, `${f.resp.ip}:${f.resp.port}`].sort().join(' ')) ?? new Set<string>();
        const where = `${c.case} ${f.orig.ip}:${f.orig.port} > ${f.resp.ip}:${f.resp.port}`;
        if (f.app === 'dns') expect(protos.has('dns'), where).toBe(true);
        if (f.app === 'tls' || f.app === 'mqtt-tls') expect(protos.has('tls') || protos.has('ssl'), where).toBe(true);
        if (f.app === 'websocket') expect(protos.has('websocket'), where).toBe(true);
        if (f.app === 'mqtt-ws') expect(protos.has('websocket'), where).toBe(true);
      }
    }
    expect(counts.flows).toBeGreaterThanOrEqual(90);
    expect(counts.notDns).toBeGreaterThanOrEqual(85);
    expect(counts.notTls).toBeGreaterThanOrEqual(60);
    // What was measured, for the record.
    console.log(`midstream corpus: ${JSON.stringify(counts)}`);
  }, 180_000);

  it('TLS seen only after its hello in the corpus: tshark reads TLS 1.2 records in suricata-verify/mqtt-events-missing-connect on port 64001, so do we', () => {
    const f = reports.get('suricata-verify/mqtt-events-missing-connect')!.flows.find((x) => x.resp.port === 64001)!;
    expect(f.app).toBe('tls');
    expect((f.protocol as { tls: { helloSeen: boolean; recordVersion: string } }).tls).toMatchObject({ helloSeen: false, recordVersion: 'TLSv1.2' });
    // Every other TLS flow of the corpus starts with its hello.
    for (const [name, r] of reports) {
      for (const x of r.flows) {
        const t = (x.protocol as { tls?: { helloSeen: boolean } } | null)?.tls;
        if (t && !(name === 'suricata-verify/mqtt-events-missing-connect' && x.resp.port === 64001)) expect(t.helloSeen, `${name} ${x.resp.port}`).toBe(true);
      }
    }
  });

  it('off port 53 only a plausible query is DNS: suricata-verify/dns-truncated-rname (1,500 questions of over-long names on 1053, DNS only to oracles told so) is not', async () => {
    const segs = await payloads(casePath('suricata-verify/dns-truncated-rname'), Proto.Tcp);
    const p = segs[0].payload;
    expect(p.readUInt16BE(6)).toBe(1500);
    expect(formerLooksLikeDnsTcp(p, 0, p.length)).toBe(true);
    expect(looksLikeDnsTcp(p, 0, p.length, false)).toBe(false);
    expect(readTsharkTxt('suricata-verify/dns-truncated-rname').extraArgs).toContain('tcp.port==1053,dns');
  });
});

describe('DNS plausibility rules (RFC 1035 §4.1)', () => {
  const q = (flags: number, counts: [number, number, number, number], body: Buffer) => {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(0x1234, 0);
    h.writeUInt16BE(flags, 2);
    counts.forEach((n, i) => h.writeUInt16BE(n, 4 + 2 * i));
    const m = Buffer.concat([h, body]);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(m.length);
    return Buffer.concat([len, m]);
  };
  const name = Buffer.from([4, ...Buffer.from('host'), 7, ...Buffer.from('example'), 4, ...Buffer.from('test'), 0]);
  const question = (type = 1, cls = 1) => Buffer.concat([name, Buffer.from([type >> 8, type & 255, cls >> 8, cls & 255])]);
  const opt = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
  const ok = (b: Buffer, port53 = false) => looksLikeDnsTcp(b, 0, b.length, port53);

  it('a query with one question, alone or with OPT, ending where its length says', () => {
    expect(ok(q(0x0100, [1, 0, 0, 0], question()))).toBe(true);
    expect(ok(q(0x0100, [1, 0, 0, 1], Buffer.concat([question(28), opt])))).toBe(true);
    expect(ok(q(0x0000, [1, 0, 0, 0], question(252)))).toBe(true); // AXFR
    expect(ok(q(0x2800, [1, 0, 0, 0], question(6)))).toBe(true); // UPDATE
    // Pipelined: a second query after the first in the segment.
    const two = Buffer.concat([q(0x0100, [1, 0, 0, 0], question()), q(0x0100, [1, 0, 0, 0], question(28))]);
    expect(ok(two)).toBe(true);
  });

  it('refused: two questions, answers in a query, the Z bit, opcode 3, class 2, type 0, bytes after the question, a compressed question name', () => {
    expect(ok(q(0x0100, [2, 0, 0, 0], Buffer.concat([question(), question()])))).toBe(false);
    expect(ok(q(0x0100, [1, 1, 0, 0], question()))).toBe(false);
    expect(ok(q(0x0140, [1, 0, 0, 0], question()))).toBe(false);
    expect(ok(q(0x1900, [1, 0, 0, 0], question()))).toBe(false);
    expect(ok(q(0x0100, [1, 0, 0, 0], question(1, 2)))).toBe(false);
    expect(ok(q(0x0100, [1, 0, 0, 0], question(0)))).toBe(false);
    expect(ok(q(0x0100, [1, 0, 0, 0], Buffer.concat([question(), Buffer.from([0])])))).toBe(false);
    expect(ok(q(0x0100, [1, 0, 0, 0], Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])))).toBe(false);
    // The length prefix longer than the bytes: only on port 53, where the rest may follow.
    const cut = q(0x0100, [1, 0, 0, 0], question()).subarray(0, 20);
    expect(ok(cut)).toBe(false);
    expect(ok(cut, true)).toBe(true);
  });

  it('responses only on port 53 (TCP) or from the DNS ports (UDP); a length alone on port 53', () => {
    const rr = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7]);
    const resp = q(0x8180, [1, 1, 0, 0], Buffer.concat([question(), rr]));
    expect(ok(resp)).toBe(false);
    expect(ok(resp, true)).toBe(true);
    expect(looksLikeDnsMessage(resp, 2, resp.length)).toBe(true);
    // A pointer past the message, or into its header, is no DNS.
    for (const ptr of [0xff, 0x02]) {
      const bad = q(0x8180, [1, 1, 0, 0], Buffer.concat([question(), Buffer.from([0xc0, ptr]), rr.subarray(2)]));
      expect(ok(bad, true)).toBe(false);
    }
    expect(ok(Buffer.from([0, 40]), true)).toBe(true);
    expect(ok(Buffer.from([0, 40]), false)).toBe(false);
  });
});

describe('fixture file', () => {
  it('is small and holds no password', () => {
    const b = fs.readFileSync(FIXTURE);
    expect(b.length).toBeLessThan(32 * 1024);
    // The fixture keeps only the STARTTLS sessions: the cleartext logins of the live test are not in it.
    expect(b.includes(Buffer.from('Mid-str34m'))).toBe(false);
    expect(b.includes(Buffer.from(Buffer.from('\0bob\0Mid-str34m-never-shown').toString('base64')))).toBe(false);
  });
});

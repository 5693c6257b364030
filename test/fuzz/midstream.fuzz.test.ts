/**
 * Fuzzing the midstream probes and sessions (TLS records, WebSocket frames), the DNS plausibility
 * checks and the greeting probe: mutated corpus payloads, the bytes of the midstream fixture and
 * random bytes, cut into arbitrary segments. No exception escapes; facts serialise; what a probe
 * accepts, an independent reading accepts too: a strict DNS query parses with the DNS parser, as
 * a query with one question, chained TLS records split anywhere are walked alike, a greeting is text.
 * FUZZ_RUNS sets the count (`npm run fuzz`).
 */
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../daemon/capture/reader.js';
import { Decoder } from '../../daemon/decode/decoder.js';
import { Decoded, Proto } from '../../daemon/decode/packet.js';
import { parseDns } from '../../daemon/protocols/dns/parser.js';
import { looksLikeDnsMessage, looksLikeDnsTcp } from '../../daemon/protocols/dns/probe.js';
import { greetingProtocol, LoginSession } from '../../daemon/protocols/login/state.js';
import type { StreamParser } from '../../daemon/protocols/parser-types.js';
import { BROKEN, RecordWalker, recordRun, RUN_YES } from '../../daemon/protocols/tls/probe.js';
import { TlsMidstream } from '../../daemon/protocols/tls/state.js';
import { FrameWalker } from '../../daemon/protocols/websocket/probe.js';
import { WebSocketMidstream } from '../../daemon/protocols/websocket/state.js';
import { ROOT } from '../helpers/corpus.js';
import { corpusSeeds, FakeContext, inputs, pick, RUNS, type Seeds } from './harness.js';

let seeds: Seeds;
/** TCP payloads of the midstream fixture, by server port, and whole directions of each flow. */
const fixture = new Map<number, Buffer[]>();
beforeAll(async () => {
  seeds = await corpusSeeds();
  const d = new Decoder();
  const streams = new Map<string, Buffer[]>();
  await readCapture(path.join(ROOT, 'test/fixtures/midstream/midstream.pcap'), {
    packet(link, buf, off, caplen, wirelen, ts) {
      if (d.decode(link, buf, off, caplen, wirelen, ts) !== Decoded.Ip) return;
      const p = d.pkt;
      if (p.ipProto !== Proto.Tcp || p.payloadLen === 0) return;
      const b = Buffer.from(p.buf.subarray(p.payloadOff, p.payloadOff + p.payloadLen));
      const port = Math.min(p.srcPort, p.dstPort);
      fixture.set(port, [...(fixture.get(port) ?? []), b]);
      const k = `${p.srcPort}>${p.dstPort}`;
      streams.set(k, [...(streams.get(k) ?? []), b]);
    },
  });
  // Whole directions too: several records or frames in a row, for the walkers.
  for (const [k, list] of streams) {
    const port = Math.min(...k.split('>').map(Number));
    fixture.set(port, [...(fixture.get(port) ?? []), Buffer.concat(list)]);
  }
}, 120_000);

const TIMEOUT = Math.max(60_000, RUNS * 5);
const chunks = fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 6 });
const fx = (...ports: number[]) => ports.flatMap((p) => fixture.get(p) ?? []);

/** A session fed the bytes in pieces, both ways, with a gap now and then: no throw, facts serialise. */
function sessionProperty(make: (ctx: FakeContext) => StreamParser, seedList: Buffer[]): void {
  fc.assert(
    fc.property(inputs(seedList), chunks, fc.boolean(), (data, cuts, gap) => {
      const p = make(new FakeContext(40000, 443));
      let off = 0;
      for (let i = 0; off < data.length; i++) {
        const n = Math.min(cuts[i % cuts.length], data.length - off);
        p.data(i % 3 === 2 ? 1 : 0, data, off, n);
        if (gap && i === 1) p.gap(0, 10);
        off += n;
      }
      JSON.stringify(p.facts());
      void p.app;
    }),
    { numRuns: RUNS },
  );
}

describe('fuzzing the midstream probes', () => {
  it('TLS without hellos: the session, and the record walker split anywhere', () => {
    const s = [...fx(4433, 4434, 4435, 8883), ...pick(seeds.tcp, [443, 4433])];
    sessionProperty((c) => new TlsMidstream(c), s);
    fc.assert(
      fc.property(inputs(s), fc.nat(), (data, at) => {
        const whole = new RecordWalker().walk(data, 0, data.length);
        const cut = data.length === 0 ? 0 : at % data.length;
        const w = new RecordWalker();
        const a = w.walk(data, 0, cut);
        const b = w.walk(data, cut, data.length);
        // The same verdict however the bytes are split.
        expect(a === BROKEN ? BROKEN : b).toBe(whole);
        // recordRun says TLS only when the walker read two headers.
        if (recordRun(data, 0, data.length) === RUN_YES) expect(whole === BROKEN || whole >= 2).toBe(true);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it('WebSocket without its Upgrade: the session, and the frame walker split anywhere', () => {
    const s = [...fx(8080, 8081, 8082), ...pick(seeds.tcp, [80, 8080])];
    sessionProperty((c) => new WebSocketMidstream(c), s);
    fc.assert(
      fc.property(inputs(s), fc.nat(), (data, at) => {
        const whole = new FrameWalker().walk(data, 0, data.length);
        const cut = data.length === 0 ? 0 : at % data.length;
        const w = new FrameWalker();
        const a = w.walk(data, 0, cut);
        const b = w.walk(data, cut, data.length);
        expect(a === BROKEN ? BROKEN : b).toBe(whole);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it('DNS plausibility: a strict query is one the DNS parser reads with one question; no throw on anything', () => {
    const s = [...fx(53, 443, 5222), ...pick(seeds.tcp, [53, 1053])];
    let accepted = 0;
    fc.assert(
      fc.property(inputs(s), (data) => {
        looksLikeDnsTcp(data, 0, data.length, true);
        looksLikeDnsMessage(data, 0, data.length);
        if (looksLikeDnsTcp(data, 0, data.length, false)) {
          accepted++;
          const m = parseDns(data, 2, 2 + data.readUInt16BE(0));
          expect(m.response).toBe(false);
          expect(m.questions).toHaveLength(1);
        }
      }),
      { numRuns: RUNS },
    );
    // The property was put to the test: some inputs (mutated queries) passed.
    expect(accepted).toBeGreaterThan(0);
    // Datagrams on the DNS ports (responses included: their record data is the parser's to judge, malformed or not).
    fc.assert(
      fc.property(inputs(pick(seeds.udp, [53, 5355])), (data) => {
        looksLikeDnsMessage(data, 0, data.length);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it('greetings: no throw, and what is taken for one starts with its marker and holds no control byte in its first line', () => {
    const s = [...fx(110, 143, 10025, 10026), ...pick(seeds.tcp, [21, 25, 110, 143])];
    // A session on a 220 greeting still arriving, fed anything.
    sessionProperty((c) => new LoginSession(c, 'pending-220'), s);
    let taken = 0;
    fc.assert(
      fc.property(inputs(s), fc.constantFrom(21, 25, 110, 143, 10025, 40000), (data, port) => {
        const p = greetingProtocol(data, 0, data.length, [40000, port]);
        if (p === null || p === 'telnet') return;
        taken++;
        const nl = data.indexOf(10);
        const first = data.subarray(0, nl < 0 ? Math.min(data.length, 4096) : nl);
        expect(first.every((c) => c >= 32 || c === 9 || c === 13)).toBe(true);
        expect(/^(\+OK|\* (OK|PREAUTH)|220)/i.test(first.toString('latin1'))).toBe(true);
      }),
      { numRuns: RUNS },
    );
    expect(taken).toBeGreaterThan(0);
  }, TIMEOUT);
});

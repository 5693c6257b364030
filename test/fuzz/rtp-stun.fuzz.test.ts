/**
 * The RTP, STUN/TURN and DTLS/SRTP dissectors fed mutated real payloads and random bytes: no
 * exception escapes, facts and events serialise, state stays bounded. Seeds: the corpus's RTP
 * (UDP and the nDPI RFC 4571 TCP flow) and the STUN, TURN, DTLS and SRTP bytes of the media-live
 * captures quoted in test/unit/rtp-stun.test.ts (built here again from their hex). Stream
 * parsers get the bytes in arbitrary chunks, so that messages and frames cross segment ends.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDtlsHello, walkRecords } from '../../daemon/protocols/dtls/parser.js';
import { rtpOverTcpLevel } from '../../daemon/protocols/rtp/framing.js';
import { RtpFlow, RtpTcpSession } from '../../daemon/protocols/rtp/state.js';
import { parseStun, StunMessage, stunHeaderOk } from '../../daemon/protocols/stun/parser.js';
import { StunFlow, StunSession, stunTcpFraming } from '../../daemon/protocols/stun/state.js';
import type { DatagramParser, StreamParser } from '../../daemon/protocols/parser-types.js';
import { corpusSeeds, FakeContext, inputs, pick, RUNS, type Seeds } from './harness.js';

let seeds: Seeds;
beforeAll(async () => {
  seeds = await corpusSeeds();
}, 120_000);

const TIMEOUT = Math.max(60_000, RUNS * 5);
const hex = (h: string) => Buffer.from(h, 'hex');

// coturn's Binding answer and 401, uclient's authenticated Allocate, openssl's DTLS ClientHello with use_srtp, an SRTP packet of ffmpeg.
const STUN_SEEDS = [
  '010100502112a4423b32b4f0a155f709c079edff002000080001f2ce5e12a443000100080001d3dc7f000001802b000800010d967f000001802c000800010d977f00000180220014436f7475726e2d342e362e312027476f7273742780280004a4985287',
  '011300582112a442d23f5b9255f9151d0cddc73b0009001000000401556e617574686f72697a656400150010383030613830363662633331316465330014000b6578616d706c652e6f72670080220014436f7475726e2d342e362e312027476f7273742780280004e09a2f0b',
  '000300702112a442d29c908f3cdea95169d0d2e20019000411000000000d0004000003090018000180000000001700040100000000060005766967696500000000150010383030613830363662633331316465330014000b6578616d706c652e6f72670000080014fa6e760916e6e412b0477f84785973b16d4bcc808028000433227400',
].map(hex);
const DTLS_SEEDS = [
  '16feff000000000000000000c9010000bd00000000000000bdfefd3a0bcfa096ede64baec3584d757f1d66e65826a707ae3bea138d607f73cf7cfe00000038c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff0100005b000b000403000102000a000c000a001d0017001e0019001800230000000e000500020001000016000000170000000d002a0028040305030603080708080809080a080b080408050806040105010601030303010302040205020602',
  '16fefd00000000000000010052020000460001000000000046fefdbb40c0ed07f0a24bea04d1733f1306ca8aef226210ea29ad31f98c7ddff9410700c03000001eff01000100000b00040300010200230000000e000500020001000017000016fefd',
].map(hex);
const SRTP_SEEDS = ['80000d21cb4afbe586c68f5b8b5662e26a72b088c14b5eb6c6fe7f14094b7cf7e58ca19b8ae9aa1c7225f1fc010771a259d5c2309ff3'].map(hex);
/** TURN ChannelData as uclient sends it (channel 0x4c07, 100 bytes). */
const CHANNEL_SEED = Buffer.concat([hex('4c070064'), Buffer.alloc(100, 0x61)]);
const frame = (b: Buffer) => Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]);

function streamProperty(make: (ctx: FakeContext) => StreamParser, extra: Buffer[]) {
  const chunks = fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 6 });
  fc.assert(
    fc.property(inputs([...pick(seeds.tcp, [5000, 3478]), ...extra]), chunks, fc.boolean(), (data, cuts, gap) => {
      const p = make(new FakeContext(40000, 3478));
      let off = 0;
      for (let i = 0; off < data.length; i++) {
        const n = Math.min(cuts[i % cuts.length], data.length - off);
        p.data(i % 3 === 2 ? 1 : 0, data, off, n);
        if (gap && i === 1) p.gap(0, 10);
        off += n;
      }
      JSON.stringify(p.facts());
      void p.app;
      void p.encrypted;
    }),
    { numRuns: RUNS },
  );
}

function datagramProperty(make: (ctx: FakeContext) => DatagramParser, extra: Buffer[]) {
  fc.assert(
    fc.property(fc.array(inputs([...pick(seeds.udp, [4376, 5000, 6000, 6008, 8000, 50003, 3478]), ...extra]), { minLength: 1, maxLength: 8 }), (datagrams) => {
      const p = make(new FakeContext(40000, 3478));
      datagrams.forEach((d, i) => p.datagram(i & 1, d, 0, d.length));
      const facts = JSON.stringify(p.facts());
      // Bounded: what a flow keeps does not grow with what it is fed.
      expect(facts?.length ?? 0).toBeLessThan(16_384);
      void p.encrypted;
    }),
    { numRuns: RUNS },
  );
}

const MEDIA = [...STUN_SEEDS, ...DTLS_SEEDS, ...SRTP_SEEDS, CHANNEL_SEED];

describe('fuzzing RTP, STUN/TURN and DTLS/SRTP', () => {
  it('RTP over UDP, both directions', () => datagramProperty((c) => new RtpFlow(c, null), SRTP_SEEDS), TIMEOUT);
  it('STUN over UDP followed into DTLS, TURN channels and SRTP', () => datagramProperty((c) => new StunFlow(c), MEDIA), TIMEOUT);
  it('STUN and TURN over TCP, raw and RFC 4571-framed', () => {
    streamProperty((c) => new StunSession(c, 'raw'), [...STUN_SEEDS, Buffer.concat([STUN_SEEDS[0], CHANNEL_SEED, STUN_SEEDS[1]])]);
    streamProperty((c) => new StunSession(c, 'rfc4571'), MEDIA.map(frame));
  }, TIMEOUT);
  it('RTP and RTCP over TCP (RFC 4571), sure and on probation', () => {
    streamProperty((c) => new RtpTcpSession(c, true), SRTP_SEEDS.map(frame));
    streamProperty((c) => new RtpTcpSession(c, false), [Buffer.concat(SRTP_SEEDS.map(frame))]);
  }, TIMEOUT);
  it('the pure parsers and probes on any bytes', () => {
    const m = new StunMessage();
    const counts = new Int32Array(2);
    fc.assert(
      fc.property(inputs([...MEDIA, ...pick(seeds.tcp, [5000])]), (b) => {
        if (stunHeaderOk(b, 0, b.length) && 20 + b.readUInt16BE(2) <= b.length) parseStun(b, 0, m);
        stunTcpFraming(b, 0, b.length);
        rtpOverTcpLevel(b, 0, b.length);
        walkRecords(b, 0, b.length, (t, body, end) => (t === 1 || t === 2 ? parseDtlsHello(b, t, body, end) : null), counts);
        if (b.length > 13) parseDtlsHello(b, 1, 13, b.length);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);
});

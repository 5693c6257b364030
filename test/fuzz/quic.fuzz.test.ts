/**
 * QUIC under fuzzing: mutated Initials (the RFC vectors, a Google QUIC Q044 hello, the corpus's
 * QUIC datagrams, Version Negotiation and Retry packets) and random bytes through the probe and
 * the flow; then well-encrypted Initials whose frames are random (so that decryption succeeds
 * and the frame walker and crypto stream get the arbitrary content). Nothing may throw, facts
 * must serialise, and the state must stay within its bounds: the crypto stream at most 16 KB,
 * at most 6 AEAD openings per flow, the flow let go after 16 datagrams.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { looksLikeQuic, QuicFlow } from '../../daemon/protocols/quic/state.js';
import { DCID, gquicQ044Sample, keysFor, protect, V1_CLIENT_INITIAL, V1_SERVER_INITIAL, V2_CLIENT_INITIAL, varint } from '../unit/quic-vectors.js';
import { corpusSeeds, FakeContext, inputs, pick, RUNS, type Seeds } from './harness.js';

let seeds: Seeds;
beforeAll(async () => {
  seeds = await corpusSeeds();
}, 120_000);

const TIMEOUT = Math.max(60_000, RUNS * 10);
const dcid = Buffer.from(DCID, 'hex');
const scid = Buffer.from('c0ffee00c0ffee00', 'hex');
const V1 = keysFor('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', dcid);

/** What the flow holds, read through its private fields: the bounds under test. */
function bounds(flow: QuicFlow): { stream: number; decrypts: number } {
  const p = flow as unknown as { stream: { bytes: Buffer } | null; decrypts: number };
  return { stream: p.stream?.bytes.length ?? 0, decrypts: p.decrypts };
}

function check(flow: QuicFlow, ctx: FakeContext, fed: number): void {
  JSON.stringify(flow.facts());
  const b = bounds(flow);
  expect(b.stream).toBeLessThanOrEqual(16 * 1024);
  expect(b.decrypts).toBeLessThanOrEqual(6);
  if (fed >= 16) expect(ctx.stopped).toBe(true);
}

const extraSeeds = () => {
  const vn = Buffer.concat([Buffer.from([0xc5, 0, 0, 0, 0, scid.length]), scid, Buffer.from([dcid.length]), dcid, Buffer.from('8a6a1a0a000000016b3343cf', 'hex')]);
  const retry = Buffer.concat([Buffer.from([0xf0, 0, 0, 0, 1, scid.length]), scid, Buffer.from([4]), Buffer.from('abcd'), Buffer.from('token'), Buffer.alloc(16, 1)]);
  return [Buffer.from(V1_CLIENT_INITIAL, 'hex'), Buffer.from(V2_CLIENT_INITIAL, 'hex'), Buffer.from(V1_SERVER_INITIAL, 'hex'), gquicQ044Sample(), vn, retry];
};

/** One frame of an Initial payload, valid or not. */
const frame = fc.oneof(
  fc.constant(Buffer.from([0x00])),
  fc.constant(Buffer.from([0x01])),
  fc
    .tuple(fc.integer({ min: 0, max: 40_000 }), fc.uint8Array({ minLength: 0, maxLength: 400 }))
    .map(([o, d]) => Buffer.concat([Buffer.from([0x06]), varint(o), varint(d.length), Buffer.from(d)])),
  // A CRYPTO frame starting a ClientHello with a random (often huge) length.
  fc.integer({ min: 0, max: 0xffffff }).map((n) => Buffer.concat([Buffer.from([0x06, 0x00, 0x04, 0x01]), Buffer.from([n >> 16, (n >> 8) & 255, n & 255])])),
  fc.array(fc.integer({ min: 0, max: 16_000 }), { minLength: 4, maxLength: 12 }).map((xs) => Buffer.concat([Buffer.from([0x02]), ...xs.map(varint)])),
  fc.uint8Array({ minLength: 1, maxLength: 40 }).map((a) => Buffer.from(a)),
);

describe('fuzzing QUIC', () => {
  it('mutated and random datagrams through the probe and the flow', () => {
    const all = [...pick(seeds.udp, [443, 4433, 8443]), ...extraSeeds()];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), inputs(all)), { minLength: 1, maxLength: 20 }), (datagrams) => {
        const ctx = new FakeContext(50000, 443);
        const flow = new QuicFlow(ctx);
        for (const [dir, d] of datagrams) {
          looksLikeQuic(d, 0, d.length);
          flow.datagram(dir, d, 0, d.length);
        }
        check(flow, ctx, datagrams.filter(([, d]) => d.length > 0).length);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it('correctly encrypted Initials whose frames are random', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(frame, { minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 4 })), { minLength: 1, maxLength: 8 }),
        (packets) => {
          const ctx = new FakeContext(50000, 443);
          const flow = new QuicFlow(ctx);
          packets.forEach(([frames, pn, pnLen]) => {
            const payload = Buffer.concat([...frames, Buffer.alloc(Math.max(0, 1100 - frames.reduce((n, f) => n + f.length, 0)))]);
            const d = protect({ version: 1, keys: V1, dcid, scid, pn: pn % 2 ** (8 * pnLen), pnLen, payload });
            flow.datagram(0, d, 0, d.length);
          });
          check(flow, ctx, packets.length);
          // The first packet always opens (its number is decoded against none before): the
          // frames did reach the walker.
          expect(flow.f.initialPackets).toBeGreaterThanOrEqual(1);
        },
      ),
      { numRuns: Math.max(200, Math.floor(RUNS / 3)) },
    );
  }, TIMEOUT);
});

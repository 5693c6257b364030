import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TcpFlag } from '../../daemon/decode/packet.js';
import { type ReassemblyOptions, TcpReassembler } from '../../daemon/flows/tcp-reassembly.js';

const ACK = TcpFlag.Ack;

function harness(opts: Partial<ReassemblyOptions> = {}) {
  const out: [Buffer[], Buffer[]] = [[], []];
  const gaps: number[] = [];
  const r = new TcpReassembler(
    4,
    {
      data: (_s, dir, buf, off, len) => void out[dir].push(Buffer.from(buf.subarray(off, off + len))),
      gap: (_s, _d, len) => void gaps.push(len),
    },
    { depth: 16384, maxHeldBytes: 1 << 20, maxHeldSegments: 64, ...opts },
  );
  const text = (dir = 0) => Buffer.concat(out[dir]).toString('latin1');
  const seg = (seq: number, data: string, flags = ACK, dir = 0, ack = 0) => {
    const b = Buffer.from(data, 'latin1');
    r.segment(0, dir, flags, seq >>> 0, ack >>> 0, b, 0, b.length, 0);
  };
  return { r, out, gaps, text, seg };
}

describe('TCP reassembly', () => {
  it('delivers in order from the SYN', () => {
    const h = harness();
    h.seg(1000, '', TcpFlag.Syn);
    h.seg(1001, 'hello ');
    h.seg(1007, 'world');
    expect(h.text()).toBe('hello world');
  });

  it('holds out-of-order segments until the hole is filled', () => {
    const h = harness();
    h.seg(1000, '', TcpFlag.Syn);
    h.seg(1007, 'world');
    expect(h.text()).toBe('');
    h.seg(1001, 'hello ');
    expect(h.text()).toBe('hello world');
    expect(h.r.stats.outOfOrder).toBe(1);
    expect(h.r.heldTotal).toBe(0);
  });

  it('ignores retransmissions and keeps the first copy of overlapping bytes', () => {
    const h = harness();
    h.seg(0, '', TcpFlag.Syn);
    h.seg(1, 'abcdef');
    h.seg(1, 'abcdef');
    h.seg(4, 'XYZghi'); // overlaps "def": the first copy wins
    expect(h.text()).toBe('abcdefghi');
    expect(h.r.stats.retransmitted).toBe(1);
  });

  it('handles sequence numbers wrapping past 2^32', () => {
    const h = harness();
    h.seg(0xfffffffa, '', TcpFlag.Syn);
    h.seg(0xfffffffb, 'abcde');
    h.seg(0x00000000, 'fghij');
    expect(h.text()).toBe('abcdefghij');
  });

  it('starts mid-stream at the first data segment', () => {
    const h = harness();
    h.seg(5000, '', ACK); // a bare ACK says nothing about where data starts
    h.seg(777, 'MQTT');
    h.seg(781, '!');
    expect(h.text()).toBe('MQTT!');
    expect(h.r.stats.midstream).toBe(1);
  });

  it('skips a hole the peer acknowledged but the capture lost, and reports it', () => {
    const h = harness();
    h.seg(0, '', TcpFlag.Syn);
    h.seg(1, 'aaaa');
    h.seg(9, 'cccc'); // "bbbb" at 5..8 never captured
    expect(h.text()).toBe('aaaa');
    h.seg(1, '', ACK, 1, 13); // the server acknowledges everything
    expect(h.text()).toBe('aaaacccc');
    expect(h.gaps).toEqual([4]);
  });

  it('gives up on a hole when the held segments exceed their budget', () => {
    const h = harness({ maxHeldSegments: 3 });
    h.seg(0, '', TcpFlag.Syn);
    for (let i = 0; i < 4; i++) h.seg(11 + i * 2, 'xy');
    expect(h.gaps).toEqual([10]);
    expect(h.text()).toBe('xyxyxyxy');
  });

  it('stops at the depth, and follows a stream to its end when asked', () => {
    const h = harness({ depth: 8 });
    h.seg(0, '', TcpFlag.Syn);
    h.seg(1, '0123456789');
    expect(h.text()).toBe('01234567');
    expect(h.r.isDone(0, 0)).toBe(true);
    h.seg(0, '', TcpFlag.Syn, 1);
    h.r.follow(0, 1);
    h.seg(1, 'a'.repeat(20), ACK, 1);
    expect(h.text(1)).toBe('a'.repeat(20));
  });

  it('reports the tail cut by the snap length as a gap', () => {
    const h = harness();
    h.seg(0, '', TcpFlag.Syn);
    const b = Buffer.from('abcd');
    h.r.segment(0, 0, ACK, 1, 0, b, 0, 4, 96);
    h.seg(101, 'next');
    expect(h.text()).toBe('abcdnext');
    expect(h.gaps).toEqual([96]);
  });

  it('rebuilds any stream from shuffled, duplicated, overlapping segments', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 60 }),
        (data, isn, cuts, order) => {
          const stream = Buffer.from(data);
          const segs: [number, number][] = [];
          for (let off = 0, i = 0; off < stream.length; i++) {
            const len = Math.min(cuts[i % cuts.length], stream.length - off);
            segs.push([off, len]);
            // Some segments are resent with an overlapping start.
            if (i % 3 === 1 && off > 0) segs.push([off - 1, len + 1]);
            off += len;
          }
          // Shuffle within a window, as a network would: never far from the original order.
          for (let i = 0; i < order.length && segs.length > 1; i++) {
            const a = order[i] % segs.length;
            const b = Math.min(segs.length - 1, a + 1 + (order[i] % 4));
            [segs[a], segs[b]] = [segs[b], segs[a]];
          }
          const got: Buffer[] = [];
          const r = new TcpReassembler(1, { data: (_s, _d, b, o, l) => void got.push(Buffer.from(b.subarray(o, o + l))), gap: () => { throw new Error('no gap expected'); } }, { depth: 0, maxHeldBytes: 1 << 20, maxHeldSegments: 1000 });
          r.segment(0, 0, TcpFlag.Syn, isn, 0, stream, 0, 0, 0);
          for (const [off, len] of segs) r.segment(0, 0, ACK, (isn + 1 + off) >>> 0, 0, stream, off, len, 0);
          expect(Buffer.concat(got).equals(stream)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

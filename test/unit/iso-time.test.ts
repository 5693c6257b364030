// isoTimeFast against Date#toISOString (model/time.ts's isoTime), the oracle: the same text for
// capture times of every kind, including fractions at the edge of a millisecond and out-of-range values.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTimeFast } from '../../daemon/flows/iso-time.js';
import { isoTime } from '../../daemon/model/time.js';

describe('isoTimeFast', () => {
  it('writes what isoTime writes', () => {
    const cases = [0, 0.0005, 0.9999999, 1, 1_790_000_000.123456, 1_790_000_000.9995, 253402300799.999, 253402300800, -1, -0.5, 1.5, 8.64e12];
    for (const t of cases) expect(isoTimeFast(t), String(t)).toBe(isoTime(t));
    fc.assert(
      fc.property(fc.double({ min: -1e10, max: 3e11, noNaN: true }), (t) => {
        expect(isoTimeFast(t)).toBe(isoTime(t));
      }),
      { numRuns: 50000 },
    );
    // Consecutive times in one second and across seconds, as flows end.
    let t = 1_790_000_000;
    for (let i = 0; i < 20000; i++) {
      t += Math.random() * 0.01;
      expect(isoTimeFast(t)).toBe(isoTime(t));
    }
  });
});

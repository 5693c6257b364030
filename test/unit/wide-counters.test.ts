import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WideCounters } from '../../daemon/flows/wide-counters.js';

describe('wide flow counters', () => {
  it('sum exactly past 2^32, like plain numbers, whatever the additions', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.integer({ min: 0, max: 2 ** 33 }))), { maxLength: 200 }), (ops) => {
        const c = new WideCounters(4);
        const model = [0, 0, 0, 0];
        for (const [k, v] of ops) {
          c.add(k, v);
          model[k] += v;
        }
        expect([0, 1, 2, 3].map((k) => c.get(k))).toEqual(model);
      }),
      { numRuns: 300 },
    );
  });

  it('a cleared or set counter forgets what it carried', () => {
    const c = new WideCounters(2);
    c.add(0, 2 ** 32 - 1);
    c.add(0, 2);
    c.add(1, 5);
    expect([c.get(0), c.get(1)]).toEqual([2 ** 32 + 1, 5]);
    c.clear(0);
    expect(c.get(0)).toBe(0);
    c.set(1, 2 ** 40 + 3);
    expect(c.get(1)).toBe(2 ** 40 + 3);
    c.set(1, 7);
    expect(c.get(1)).toBe(7);
  });
});

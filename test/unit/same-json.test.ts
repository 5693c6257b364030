// sameJson against its oracle, the equality of JSON.stringify's texts, on generated values and
// on copies changed in one place (the verdicts use it to tell whether an alert's evidence changed).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sameJson } from '../../daemon/util/same-json.js';

const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, undefined, true, false, 0, -0, 1, NaN, Infinity, '', 'a', 'b'),
    fc.double(),
    fc.string({ maxLength: 3 }),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), tie('v'), { maxKeys: 4 }),
  ),
})).v;

function change(v: unknown, pick: number, to: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? [to] : v.map((x, i) => (i === pick % v.length ? change(x, pick >> 1, to) : x));
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 0) return { a: to };
    const k = keys[pick % keys.length];
    return { ...(v as object), [k]: change((v as Record<string, unknown>)[k], pick >> 1, to) };
  }
  return to;
}

const oracle = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

describe('sameJson', () => {
  it('agrees with comparing JSON.stringify texts on pairs of values', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(sameJson(a, b)).toBe(oracle(a, b));
      }),
      { numRuns: 20000 },
    );
  });

  it('agrees on a value and a copy changed in one place, and on reordered keys', () => {
    fc.assert(
      fc.property(value, fc.nat(), value, (a, pick, to) => {
        const b = change(structuredClone(a), pick, to);
        expect(sameJson(a, b)).toBe(oracle(a, b));
        expect(sameJson(a, structuredClone(a))).toBe(true);
      }),
      { numRuns: 20000 },
    );
    expect(sameJson({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
    expect(sameJson({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameJson([undefined], [null])).toBe(true);
  });
});

// isJsonText against JSON.parse, the oracle: the same verdict on valid texts, their mutations and
// random bytes (MQTT payload kinds depend on it).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isJsonText } from '../../daemon/util/json-text.js';

function oracle(b: Buffer): boolean {
  try {
    JSON.parse(b.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

function check(b: Buffer): void {
  expect(isJsonText(b, 0, b.length), JSON.stringify(b.toString('latin1'))).toBe(oracle(b));
}

describe('isJsonText', () => {
  it('agrees with JSON.parse on hand-picked texts', () => {
    const texts = [
      '{}', '[]', ' { } ', '{"a":1}', '{"a":1,}', '[1,]', '[,1]', '{"a"}', '{"a":}', '{a:1}', '01', '-0', '-', '1.', '1.5e', '1.5e+3', '1E-2', '.5',
      'true', 'tru', 'null ', 'nul', 'false', '"\\u00e9"', '"\\u00g9"', '"\\x"', '"a\tb"', '"a\\tb"', '"\u00e9"', '[1 2]', '{"a":1 "b":2}',
      '[[[[]]]]', '[[[[]]]', '{"a":{"b":[1,{"c":null}]}}', '\ufeff{}', '{}\n', '{} x', '', ' ', '"unterminated', '"\\"', '[1e5, -2.25E-7, 0.0]',
      '{"k":"v","k2":[true,false,null]}', '[\r\n1\t]', '{"":""}', '"\\/"', '"\\ud800"',
    ];
    for (const t of texts) check(Buffer.from(t));
    check(Buffer.from([0x22, 0xff, 0xfe, 0x22]));
    check(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x80, 0x7d]));
    check(Buffer.from('['.repeat(20000) + ']'.repeat(20000)));
  });

  it('agrees with JSON.parse on generated JSON and its mutations', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { maxLength: 3 }), (v, muts) => {
        const b = [...Buffer.from(JSON.stringify(v, null, muts.length % 2 ? 1 : undefined) ?? 'null')];
        check(Buffer.from(b));
        for (const [at, byte, op] of muts) {
          const i = b.length === 0 ? 0 : at % b.length;
          if (op === 'set' && b.length) b[i] = byte;
          else if (op === 'insert') b.splice(i, 0, byte);
          else b.splice(i, 1);
          check(Buffer.from(b));
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with JSON.parse on random bytes from the JSON alphabet', () => {
    const alphabet = [...Buffer.from('{}[]:,"\\ \n0123456789-+.eEtruefalsn u')];
    fc.assert(fc.property(fc.array(fc.constantFrom(...alphabet), { maxLength: 24 }), (xs) => {
          check(Buffer.from(xs));
        }), { numRuns: 20000 });
  });

  it('reads only its range of a larger buffer', () => {
    const b = Buffer.from('xx{"a":[1,2]}yy');
    expect(isJsonText(b, 2, 13)).toBe(true);
    expect(isJsonText(b, 2, 12)).toBe(false);
  });
});

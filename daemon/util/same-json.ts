/**
 * Whether two plain values serialise to the same JSON text, without serialising them: the same
 * keys in the same order (keys whose value JSON leaves out are skipped), the same values.
 * Non-finite numbers compare as JSON's null; undefined, functions and symbols in arrays as null.
 * For data built from JSON-like parts (evidence, facts): objects with toJSON are not expected.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ta = kind(a);
  if (ta !== kind(b)) return false;
  if (ta === 'null' || ta === 'skip') return true;
  if (ta === 'number' || ta === 'string' || ta === 'boolean') return a === b;
  if (ta === 'array') {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) {
      const ka = kind(x[i]);
      const kb = kind(y[i]);
      // In arrays JSON writes what it skips elsewhere as null.
      if ((ka === 'skip' || ka === 'null') && (kb === 'skip' || kb === 'null')) continue;
      if (!sameJson(x[i], y[i])) return false;
    }
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const kx = Object.keys(x);
  const ky = Object.keys(y);
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < kx.length && kind(x[kx[i]]) === 'skip') i++;
    while (j < ky.length && kind(y[ky[j]]) === 'skip') j++;
    if (i === kx.length || j === ky.length) return i === kx.length && j === ky.length;
    if (kx[i] !== ky[j] || !sameJson(x[kx[i]], y[ky[j]])) return false;
    i++;
    j++;
  }
}

function kind(v: unknown): 'null' | 'skip' | 'number' | 'string' | 'boolean' | 'array' | 'object' {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? 'number' : 'null';
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'object':
      return Array.isArray(v) ? 'array' : 'object';
    default:
      return 'skip';
  }
}

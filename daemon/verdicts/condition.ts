/**
 * Alert rule conditions (rules/alerts, see alert-rules.schema.json): an object whose keys must all
 * hold. A scalar means equality (membership for a list-valued field), a list means "one of" (any
 * overlap for a list field), {min, max} a numeric range; `any`, `all` and `not` combine.
 * A field the situation does not have (no MQTT in an RTSP flow) never holds.
 * `because` is no condition: it is how the object reads when it holds (see explain()).
 */

export type Scalar = string | number | boolean;
export type CondValue = Scalar | Scalar[] | { min?: number; max?: number };
export interface Condition {
  any?: Condition[];
  all?: Condition[];
  not?: Condition;
  because?: string;
  [field: string]: CondValue | Condition[] | Condition | undefined;
}

/** The facts a condition reads: field name → value (lists for multi-valued fields). */
export type Situation = Map<string, Scalar | Scalar[] | null>;

/** What held of one field: the situation's values that satisfied it (the overlap, for lists). */
export interface Held {
  field: string;
  values: Scalar[];
}

/** Why a condition held: its leaves that held, or the `because` of an object that held. */
export type Finding = Held | { because: string };

/** The actual values that satisfy `expected`, or null when it does not hold. */
function held(expected: CondValue, actual: Scalar | Scalar[] | null | undefined): Scalar[] | null {
  if (actual === null || actual === undefined) return null;
  if (Array.isArray(expected)) {
    const hit = Array.isArray(actual) ? actual.filter((a) => expected.includes(a)) : expected.includes(actual) ? [actual] : [];
    return hit.length > 0 ? hit : null;
  }
  if (typeof expected === 'object') {
    if (typeof actual !== 'number') return null;
    return (expected.min === undefined || actual >= expected.min) && (expected.max === undefined || actual <= expected.max) ? [actual] : null;
  }
  return (Array.isArray(actual) ? actual.includes(expected) : actual === expected) ? [expected] : null;
}

/** held() !== null, without building the list of values that held. */
function holds(expected: CondValue, actual: Scalar | Scalar[] | null | undefined): boolean {
  if (actual === null || actual === undefined) return false;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return expected.includes(actual);
    for (const a of actual) if (expected.includes(a)) return true;
    return false;
  }
  if (typeof expected === 'object') {
    if (typeof actual !== 'number') return false;
    return (expected.min === undefined || actual >= expected.min) && (expected.max === undefined || actual <= expected.max);
  }
  return Array.isArray(actual) ? actual.includes(expected) : actual === expected;
}

/**
 * Whether the condition holds: the hot path (every rule at every judgement), so it allocates
 * nothing (for...in over the rule's own keys, which come from parsed YAML: plain objects).
 */
export function matches(c: Condition, s: Situation): boolean {
  for (const k in c) {
    const v = c[k];
    if (v === undefined || k === 'because') continue;
    if (k === 'any') {
      let one = false;
      for (const x of v as Condition[]) if ((one = matches(x, s))) break;
      if (!one) return false;
    } else if (k === 'all') {
      for (const x of v as Condition[]) if (!matches(x, s)) return false;
    } else if (k === 'not') {
      if (matches(v as Condition, s)) return false;
    } else if (!holds(v as CondValue, s.get(k))) return false;
  }
  return true;
}

/**
 * What made the condition hold, or null when it does not: every leaf of an `all` and each branch
 * of an `any` that held (not the branches that did not), so that a reason names what was found.
 * An object with `because` reads as that phrase instead of its leaves. A `not` that holds says
 * nothing by itself (what did not happen has no value to name): give its object a `because`.
 */
export function explain(c: Condition, s: Situation): Finding[] | null {
  const out: Finding[] = [];
  for (const k in c) {
    const v = c[k];
    if (v === undefined || k === 'because') continue;
    if (k === 'any') {
      const hits = (v as Condition[]).map((x) => explain(x, s)).filter((x): x is Finding[] => x !== null);
      if (hits.length === 0) return null;
      out.push(...hits.flat());
    } else if (k === 'all') {
      for (const x of v as Condition[]) {
        const f = explain(x, s);
        if (!f) return null;
        out.push(...f);
      }
    } else if (k === 'not') {
      if (matches(v as Condition, s)) return null;
    } else {
      const values = held(v as CondValue, s.get(k));
      if (!values) return null;
      out.push({ field: k, values });
    }
  }
  return c.because !== undefined ? [{ because: c.because }] : out;
}

/**
 * Alert rule conditions (rules/alerts, see alert-rules.schema.json): an object whose keys must all
 * hold. A scalar means equality (membership for a list-valued field), a list means "one of" (any
 * overlap for a list field), {min, max} a numeric range; `any`, `all` and `not` combine.
 * A field the situation does not have (no MQTT in an RTSP flow) never holds.
 */

export type Scalar = string | number | boolean;
export type CondValue = Scalar | Scalar[] | { min?: number; max?: number };
export interface Condition {
  any?: Condition[];
  all?: Condition[];
  not?: Condition;
  [field: string]: CondValue | Condition[] | Condition | undefined;
}

/** The facts a condition reads: field name → value (lists for multi-valued fields). */
export type Situation = Map<string, Scalar | Scalar[] | null>;

function holds(expected: CondValue, actual: Scalar | Scalar[] | null | undefined): boolean {
  if (actual === null || actual === undefined) return false;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) ? actual.some((a) => expected.includes(a)) : expected.includes(actual);
  }
  if (typeof expected === 'object') {
    if (typeof actual !== 'number') return false;
    return (expected.min === undefined || actual >= expected.min) && (expected.max === undefined || actual <= expected.max);
  }
  return Array.isArray(actual) ? actual.includes(expected) : actual === expected;
}

export function matches(c: Condition, s: Situation): boolean {
  for (const [k, v] of Object.entries(c)) {
    if (v === undefined) continue;
    if (k === 'any') {
      if (!(v as Condition[]).some((x) => matches(x, s))) return false;
    } else if (k === 'all') {
      if (!(v as Condition[]).every((x) => matches(x, s))) return false;
    } else if (k === 'not') {
      if (matches(v as Condition, s)) return false;
    } else if (!holds(v as CondValue, s.get(k))) return false;
  }
  return true;
}

/**
 * The server's side of the wire (wire.ts): each route's body schema compiled with Ajv once, at
 * start, and a bad body told as `field: reason`, the first problem only (allErrors would let a
 * crafted body make Ajv collect thousands of errors).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ROUTES, type BodySchema, type RouteName } from './wire.js';

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true, verbose: true });
const compiled = new Map<RouteName, ValidateFunction>();
for (const [name, spec] of Object.entries(ROUTES) as [RouteName, (typeof ROUTES)[RouteName]][]) {
  if ('body' in spec && spec.body) compiled.set(name, ajv.compile(spec.body));
}

/** `retention.alertDays`, `trustedCountries` (array positions are said in the reason). */
function fieldOf(e: ErrorObject): { field: string; index: string | null } {
  const parts = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const names = parts.filter((p) => !/^\d+$/.test(p));
  const index = parts.length && /^\d+$/.test(parts[parts.length - 1]) ? parts[parts.length - 1] : null;
  return { field: names.join('.'), index };
}

/** The first problem of a body as `field: reason`, or null when the body is right. */
export function bodyProblem(name: RouteName, body: unknown): string | null {
  const spec = ROUTES[name] as { body?: BodySchema; bodyOptional?: boolean };
  const validate = compiled.get(name);
  if (!validate || !spec.body) return null;
  if (body === undefined && spec.bodyOptional) return null;
  if (body === undefined) return 'send a JSON object';
  if (validate(body)) return null;
  const e = validate.errors?.[0];
  if (!e) return 'the body does not fit its schema';
  const { field, index } = fieldOf(e);
  const at = (f: string) => (f ? `${f}: ` : '');
  if (e.keyword === 'additionalProperties') {
    const extra = String((e.params as { additionalProperty: string }).additionalProperty);
    const allowed = Object.keys((e.parentSchema as BodySchema | undefined)?.properties ?? {});
    return `${field ? field + '.' : ''}${extra}: unknown field (expected ${allowed.join(', ') || 'none'})`;
  }
  if (e.keyword === 'required') {
    const missing = String((e.params as { missingProperty: string }).missingProperty);
    const want = (e.parentSchema as BodySchema | undefined)?.properties?.[missing]?.description;
    return `${field ? field + '.' : ''}${missing}: missing${want ? ` (${want})` : ''}`;
  }
  if (!field && e.keyword === 'type') return 'send a JSON object';
  const described = (e.parentSchema as BodySchema | undefined)?.description;
  const item = index !== null ? `item ${index}: ` : '';
  return `${at(field)}${item}${described ?? e.message ?? 'not valid'}`;
}

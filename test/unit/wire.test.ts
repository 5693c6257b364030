/**
 * The typed wire (issue 16, "Renovation"): the route map of daemon/server/wire.ts is what the
 * server serves, route for route, and each body schema refuses an unknown field and a value of
 * the wrong type with 400 `field: reason`, before the handler runs (nothing changes).
 */
import { expect, it } from 'vitest';
import { ROUTES, pathOf, type BodySchema, type RouteName } from '../../daemon/server/wire.js';
import { describeCorpus } from '../helpers/corpus.js';
import { daemonSession } from '../helpers/daemon-session.js';

const MAC = '28:cf:e9:21:14:8f';
const PARAMS: Record<string, string> = { device: MAC, mac: MAC, alert: '0000000000000000', mute: '000000000000', token: '00000000' };

function paramsFor(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of path.matchAll(/\{(\w+)\}/g)) out[m[1]] = PARAMS[m[1]];
  return out;
}

/** A value the schema accepts. */
function sample(s: BodySchema): unknown {
  if (s.enum) return s.enum.find((v) => v !== null);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      return s.pattern ? 'FR' : 'abcdefghijkl';
    case 'boolean':
      return true;
    case 'integer':
      return s.minimum ?? 1;
    case 'array':
      return [];
    case 'object': {
      const o: Record<string, unknown> = {};
      for (const k of s.required ?? []) o[k] = sample(s.properties![k]);
      return o;
    }
    default:
      throw new Error(`no sample for ${JSON.stringify(s)}`);
  }
}

/** A value of another JSON type than the schema allows. */
function wrongType(s: BodySchema): unknown {
  const types = Array.isArray(s.type) ? s.type : [s.type];
  for (const v of [12345, 'text', true, { a: 1 }, [1]]) {
    const t = Array.isArray(v) ? 'array' : typeof v === 'number' ? 'integer' : typeof v === 'object' ? 'object' : typeof v;
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) return v;
  }
  throw new Error('no wrong type');
}

const withBody = (Object.keys(ROUTES) as RouteName[]).filter((k) => 'body' in ROUTES[k]);

describeCorpus('the wire: route map and schemas', () => {
  const session = daemonSession();
  const api = session.api.bind(session);

  it('serves every route of the map, and only those: one handler per route, method and path as the map says', async () => {
    const served = session.daemon.server.served();
    const names = served.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual(Object.keys(ROUTES).sort());
    for (const r of served) {
      const spec = ROUTES[r.name];
      expect(r.method, r.name).toBe(spec.method);
      expect(r.pattern.test(pathOf(r.name, paramsFor(spec.path)).replace(/%3A/g, ':')), r.name).toBe(true);
    }
    // And over HTTP: each route of the map answers (not 404 "no such route" nor 405).
    for (const [name, spec] of Object.entries(ROUTES)) {
      if (name === 'logout' || name === 'live') continue; // would end the session; a WebSocket (tested in daemon-api)
      const p = pathOf(name as RouteName, paramsFor(spec.path));
      // Bodies with an unknown field: refused by the schema before any handler changes anything.
      const body = 'body' in spec ? JSON.stringify({ ...(sample(spec.body) as object), zzUnknown: 1 }) : undefined;
      const r = await api(p, { method: spec.method, body });
      expect([404, 405].includes(r.status) && /no such API route|method not allowed/.test(JSON.stringify(r.body)), `${name}: ${r.status} ${JSON.stringify(r.body)}`).toBe(false);
    }
  });

  it.each(withBody)('%s: an unknown field and each field of the wrong type get 400 naming the field', async (name) => {
    const spec = ROUTES[name] as { method: string; path: string; body: BodySchema };
    const p = pathOf(name, paramsFor(spec.path));
    const before = (await api('/api/settings')).body;
    const base = sample(spec.body) as Record<string, unknown>;
    const extra = await api(p, { method: spec.method, body: JSON.stringify({ ...base, zzUnknown: 1 }) });
    expect(extra.status, JSON.stringify(extra.body)).toBe(400);
    expect(extra.body.error).toMatch(/^zzUnknown: unknown field \(expected /);
    for (const [field, schema] of Object.entries(spec.body.properties ?? {})) {
      const r = await api(p, { method: spec.method, body: JSON.stringify({ ...base, [field]: wrongType(schema) }) });
      expect(r.status, `${field}: ${JSON.stringify(r.body)}`).toBe(400);
      expect(r.body.error, field).toMatch(new RegExp(`^${field}: `));
    }
    const arrays = await api(p, { method: spec.method, body: '[]' });
    expect(arrays.status).toBe(400);
    expect(arrays.body.error).toBe('send a JSON object');
    expect((await api('/api/settings')).body).toEqual(before);
  });

  it('names nested fields and array items, and keeps the handlers\' checks of meaning', async () => {
    const r = await api('/api/settings', { method: 'PUT', body: JSON.stringify({ retention: { alertDays: 0 } }) });
    expect([r.status, r.body.error]).toEqual([400, 'retention.alertDays: a whole number from 1 to 100000']);
    const q = await api('/api/settings', { method: 'PUT', body: JSON.stringify({ retention: { weeks: 3 } }) });
    expect(q.body.error).toMatch(/^retention\.weeks: unknown field \(expected alertDays, maxAlerts, aggregateDays, deviceDays\)$/);
    const t = await api('/api/settings', { method: 'PUT', body: JSON.stringify({ trustedCountries: ['FR', 7] }) });
    expect(t.body.error).toBe('trustedCountries: item 1: an ISO 3166-1 alpha-2 code, or "eu"');
    const m = await api('/api/mutes', { method: 'POST', body: JSON.stringify({ rule: 'x', until: '2026-02-30' }) });
    expect([m.status, m.body.error]).toEqual([400, 'until: "2026-02-30" is not a day of the calendar']);
    const z = await api(`/api/devices/${MAC}/zone`, { method: 'PUT', body: JSON.stringify({}) });
    expect([z.status, z.body.error]).toEqual([400, "zone: missing (one of trusted, iot, local-only, quarantine, blocked, or null (the policy's advice))"]);
  });
});

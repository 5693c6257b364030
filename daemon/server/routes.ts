/**
 * The JSON API (docs/api.md). Handlers check their input and answer with plain objects;
 * http.ts turns ApiError into the status code and message.
 */
import { randomBytes } from 'node:crypto';
import { CATEGORIES } from '../devices/rules.js';
import { SEVERITIES, severityRank, type Severity } from '../verdicts/rules.js';
import { EU_EEA } from '../verdicts/countries.js';
import type { Daemon } from '../run/daemon.js';
import type { StoredMute } from '../store/store.js';
import { ApiError, type RequestInfo, type Route } from './http.js';
import { planRoutes } from './plan-routes.js';

const MAC = '([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}|ip:[0-9A-Fa-f:.]+)';

function obj(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'send a JSON object');
  return body as Record<string, unknown>;
}

function only(b: Record<string, unknown>, keys: string[]): void {
  for (const k of Object.keys(b)) if (!keys.includes(k)) throw new ApiError(400, `unknown field "${k}" (expected ${keys.join(', ')})`);
}

function country(v: unknown, field: string): string {
  // JSON.stringify, not String(): {"toString":1} makes String() throw (a 500).
  if (typeof v !== 'string' || !/^[A-Za-z]{2}$/.test(v)) throw new ApiError(400, `${field}: ${JSON.stringify(v).slice(0, 40)} is not an ISO 3166-1 alpha-2 code`);
  return v.toUpperCase();
}

/**
 * ISO 8601 as the config schema has it (a date, or a date and time with its offset), years past
 * 9999 in the expanded form (+010000-…) too: Date.parse alone takes "1" for 2001 and 2026-02-30
 * for March 2.
 */
const ISO_TIME = /^(\d{4}|[+-]\d{6})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

function isoTime(v: string, field: string): number {
  const m = ISO_TIME.exec(v);
  const t = m ? Date.parse(v) : NaN;
  if (!m || Number.isNaN(t)) throw new ApiError(400, `${field}: "${v}" is not an ISO 8601 date or date-time with offset (e.g. 2026-12-31 or 2026-12-31T23:00:00Z)`);
  const day = new Date(Date.UTC(2000, Number(m[2]) - 1, Number(m[3])));
  day.setUTCFullYear(Number(m[1]));
  if (day.getUTCMonth() !== Number(m[2]) - 1 || day.getUTCDate() !== Number(m[3])) throw new ApiError(400, `${field}: "${v}" is not a day of the calendar`);
  return t;
}

export function apiRoutes(d: Daemon): Route[] {
  const route = (method: string, p: string, handler: (r: RequestInfo) => unknown): Route => ({ method, pattern: new RegExp(`^${p}$`), handler });
  const device = (key: string) => {
    const v = d.device(key);
    if (!v) throw new ApiError(404, `no device ${key}`);
    return v;
  };
  return [
    route('GET', '/api/status', () => ({ ...d.stats(), url: d.url, storeOpening: d.store.opening })),
    route('GET', '/api/overview', (r) => {
      const hours = Number(r.query.get('hours') ?? 168);
      if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 90) throw new ApiError(400, 'hours: a whole number from 1 to 2160');
      return d.overview(hours);
    }),
    route('GET', '/api/devices', () => d.devices()),
    route('GET', `/api/devices/${MAC}`, (r) => device(r.params[0])),
    route('PATCH', `/api/devices/${MAC}`, (r) => {
      const key = r.params[0].toLowerCase();
      if (key.startsWith('ip:')) throw new ApiError(400, 'only devices with a MAC address can be labelled');
      const b = obj(r.body);
      only(b, ['label', 'category', 'personal', 'history']);
      if (b.label !== undefined && b.label !== null && (typeof b.label !== 'string' || b.label.length > 64)) throw new ApiError(400, 'label: a text of at most 64 characters, or null');
      if (b.category !== undefined && b.category !== null && !CATEGORIES.includes(b.category as never)) throw new ApiError(400, `category: one of ${CATEGORIES.join(', ')}, or null`);
      if (b.personal !== undefined && b.personal !== null && typeof b.personal !== 'boolean') throw new ApiError(400, 'personal: true, false or null (automatic)');
      if (b.history !== undefined && typeof b.history !== 'boolean') throw new ApiError(400, 'history: true or false');
      if (!d.device(key) && !/^[0-9a-f:]{17}$/.test(key)) throw new ApiError(404, `no device ${key}`);
      return d.setDevice(key, b as Parameters<Daemon['setDevice']>[1]);
    }),
    route('GET', `/api/devices/${MAC}/flows`, (r) => {
      const v = device(r.params[0]);
      if (v.personal && !v.history) return { kept: false, reason: 'personal device: only counters are kept (opt in with history: true)', flows: [] };
      return { kept: true, flows: d.recentFlows(v.mac ?? v.id) };
    }),
    route('GET', `/api/devices/${MAC}/destinations`, (r) => {
      const v = device(r.params[0]);
      if (v.personal && !v.history) return { kept: false, reason: 'personal device: only counters are kept (opt in with history: true)', destinations: [] };
      return { kept: true, destinations: d.destinations(v.mac ?? v.id) };
    }),
    route('GET', `/api/devices/${MAC}/traffic`, (r) => {
      const v = device(r.params[0]);
      return { hours: d.store.data.aggregates[v.mac ?? v.id] ?? [] };
    }),
    route('GET', `/api/devices/${MAC}/alerts`, (r) => {
      const v = device(r.params[0]);
      return d.alerts().filter((a) => (a.device.mac ?? a.device.id) === (v.mac ?? v.id));
    }),
    route('GET', '/api/alerts', (r) => {
      let list = d.alerts();
      const q = r.query;
      const sev = q.get('severity');
      if (sev) {
        if (!SEVERITIES.includes(sev as Severity)) throw new ApiError(400, `severity: one of ${SEVERITIES.join(', ')}`);
        // The least severity shown: severity=high gives high and critical.
        list = list.filter((a) => severityRank(a.severity) >= severityRank(sev as Severity));
      }
      const dev = q.get('device')?.toLowerCase();
      if (dev) list = list.filter((a) => (a.device.mac ?? a.device.id) === dev);
      const rule = q.get('rule');
      if (rule) list = list.filter((a) => a.rule === rule);
      const state = q.get('state');
      if (state) {
        if (!['open', 'acknowledged', 'muted'].includes(state)) throw new ApiError(400, 'state: open, acknowledged or muted');
        list = list.filter((a) => (state === 'muted' ? a.muted : state === 'acknowledged' ? !!a.acknowledged && !a.muted : !a.acknowledged && !a.muted));
      }
      const limit = Number(q.get('limit') ?? 500);
      return list.slice(0, Number.isInteger(limit) && limit > 0 ? limit : 500);
    }),
    route('GET', '/api/alerts/([0-9a-f]{16})', (r) => {
      const a = d.alerts().find((x) => x.id === r.params[0]);
      if (!a) throw new ApiError(404, `no alert ${r.params[0]}`);
      return a;
    }),
    route('POST', '/api/alerts/([0-9a-f]{16})/ack', (r) => {
      const a = d.store.data.alerts.find((x) => x.id === r.params[0]);
      if (!a) throw new ApiError(404, `no alert ${r.params[0]}`);
      d.store.data.acks[a.id] = new Date().toISOString();
      d.store.touch();
      const view = d.alertView(a);
      d.hub.publish({ type: 'alert', new: false, alert: view });
      return view;
    }),
    route('DELETE', '/api/alerts/([0-9a-f]{16})/ack', (r) => {
      const a = d.store.data.alerts.find((x) => x.id === r.params[0]);
      if (!a) throw new ApiError(404, `no alert ${r.params[0]}`);
      delete d.store.data.acks[a.id];
      d.store.touch();
      const view = d.alertView(a);
      d.hub.publish({ type: 'alert', new: false, alert: view });
      return view;
    }),
    route('GET', '/api/mutes', () => d.store.data.mutes),
    route('POST', '/api/mutes', (r) => {
      const b = obj(r.body);
      only(b, ['rule', 'device', 'destination', 'until']);
      for (const k of ['rule', 'device', 'destination', 'until']) if (b[k] !== undefined && (typeof b[k] !== 'string' || (b[k] as string).length > 256)) throw new ApiError(400, `${k}: a text`);
      if (b.rule === undefined && b.device === undefined && b.destination === undefined) throw new ApiError(400, 'a mute needs a rule, a device or a destination: it would silence everything');
      if (b.until !== undefined) isoTime(b.until as string, 'until');
      const m: StoredMute = { id: randomBytes(6).toString('hex'), created: new Date().toISOString(), ...(b as Record<string, string>) };
      if (m.device) m.device = m.device.toLowerCase();
      if (m.until) m.until = new Date(m.until).toISOString();
      d.store.data.mutes.push(m);
      d.store.touch();
      d.applyMutes();
      return m;
    }),
    route('DELETE', '/api/mutes/([0-9a-f]{12})', (r) => {
      const before = d.store.data.mutes.length;
      d.store.data.mutes = d.store.data.mutes.filter((m) => m.id !== r.params[0]);
      if (d.store.data.mutes.length === before) throw new ApiError(404, `no mute ${r.params[0]}`);
      d.store.touch();
      d.applyMutes();
      return { ok: true };
    }),
    route('GET', '/api/settings', () => ({
      homeCountry: d.homeCountry(),
      trustedCountries: d.trustedCountries(),
      trusted: [...d.config.verdicts!.trusted].sort(),
      eu: EU_EEA,
      retention: d.store.retention(),
      exports: { eventLog: d.opts.eventLog ?? null, syslog: d.opts.syslog ?? null, webhook: d.opts.webhook ? new URL(d.opts.webhook).origin : null, metrics: '/metrics' },
      tokens: d.auth.tokens(),
    })),
    route('PUT', '/api/settings', (r) => {
      const b = obj(r.body);
      only(b, ['homeCountry', 'trustedCountries', 'retention']);
      const s = d.store.data.settings;
      if (b.homeCountry !== undefined) s.homeCountry = b.homeCountry === null ? null : country(b.homeCountry, 'homeCountry');
      if (b.trustedCountries !== undefined) {
        if (b.trustedCountries !== null && !Array.isArray(b.trustedCountries)) throw new ApiError(400, 'trustedCountries: a list of codes (or "eu"), or null');
        s.trustedCountries = b.trustedCountries === null ? null : (b.trustedCountries as unknown[]).map((c) => (typeof c === 'string' && c.toLowerCase() === 'eu' ? 'eu' : country(c, 'trustedCountries')));
      }
      if (b.retention !== undefined) {
        const ret = obj(b.retention);
        only(ret, ['alertDays', 'maxAlerts', 'aggregateDays', 'deviceDays']);
        const min: Record<string, number> = { alertDays: 1, maxAlerts: 10, aggregateDays: 1, deviceDays: 1 };
        for (const [k, v] of Object.entries(ret)) if (!Number.isInteger(v) || (v as number) < min[k] || (v as number) > 100_000) throw new ApiError(400, `retention.${k}: a whole number from ${min[k]}`);
        s.retention = { ...s.retention, ...(ret as Record<string, number>) };
      }
      d.store.touch();
      d.applySettings();
      d.housekeeping();
      return { homeCountry: d.homeCountry(), trustedCountries: d.trustedCountries(), trusted: [...d.config.verdicts!.trusted].sort(), retention: d.store.retention() };
    }),
    route('PUT', '/api/password', (r) => {
      const b = obj(r.body);
      const err = d.auth.changePassword(b.current, b.next);
      if (err) throw new ApiError(err.startsWith('the current') ? 403 : 400, err);
      return { ok: true, note: 'every session ended: log in again' };
    }),
    route('GET', '/api/tokens', () => d.auth.tokens()),
    route('POST', '/api/tokens', (r) => {
      const b = obj(r.body);
      if (typeof b.name !== 'string' || b.name.length < 1 || b.name.length > 64) throw new ApiError(400, 'name: what the token is for (1 to 64 characters)');
      return d.auth.createToken(b.name);
    }),
    route('DELETE', '/api/tokens/([0-9a-f]{8})', (r) => {
      if (!d.auth.deleteToken(r.params[0])) throw new ApiError(404, `no token ${r.params[0]}`);
      return { ok: true };
    }),
    ...planRoutes(d),
  ];
}

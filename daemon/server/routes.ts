/**
 * The JSON API (docs/api.md). Each handler is named after its route in wire.ts, whose schema has
 * already checked the body's shape (http.ts); handlers check what a schema cannot (a day of the
 * calendar, a device that exists) and answer with plain objects; http.ts turns ApiError into the
 * status code and message.
 */
import { randomBytes } from 'node:crypto';
import { SEVERITIES, severityRank, type Severity } from '../verdicts/rules.js';
import { StoreLimitError, type StoredMute } from '../store/store.js';
import type { Auth } from './auth.js';
import { ApiError, defineRoute as route, type Route } from './http.js';
import { planRoutes } from './plan-routes.js';
import type { SettingsPatch, VigieService } from './service.js';

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

export function apiRoutes(d: VigieService, auth: Auth): Route[] {
  const device = (key: string) => {
    const v = d.device(key);
    if (!v) throw new ApiError(404, `no device ${key}`);
    return v;
  };
  return [
    route('status', () => d.status()),
    route('overview', (r) => {
      const hours = Number(r.query.get('hours') ?? 168);
      if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 90) throw new ApiError(400, 'hours: a whole number from 1 to 2160');
      return d.overview(hours);
    }),
    route('devices', () => d.devices()),
    route('device', (r) => device(r.params[0])),
    route('updateDevice', (r) => {
      const key = r.params[0].toLowerCase();
      if (key.startsWith('ip:')) throw new ApiError(400, 'only devices with a MAC address can be labelled');
      if (!d.device(key) && !/^[0-9a-f:]{17}$/.test(key)) throw new ApiError(404, `no device ${key}`);
      try {
        return d.setDevice(key, r.body);
      } catch (e) {
        if (e instanceof StoreLimitError) throw new ApiError(409, e.message);
        throw e;
      }
    }),
    route('deviceFlows', (r) => {
      const v = device(r.params[0]);
      if (v.personal && !v.history) return { kept: false, reason: 'personal device: only counters are kept (opt in with history: true)', flows: [] };
      return { kept: true, flows: d.recentFlows(v.mac ?? v.id) };
    }),
    route('deviceDestinations', (r) => {
      const v = device(r.params[0]);
      if (v.personal && !v.history) return { kept: false, reason: 'personal device: only counters are kept (opt in with history: true)', destinations: [] };
      return { kept: true, destinations: d.destinations(v.mac ?? v.id) };
    }),
    route('deviceTraffic', (r) => {
      const v = device(r.params[0]);
      return { hours: d.traffic(v.mac ?? v.id) };
    }),
    route('deviceAlerts', (r) => {
      const v = device(r.params[0]);
      return d.alerts().filter((a) => (a.device.mac ?? a.device.id) === (v.mac ?? v.id));
    }),
    route('alerts', (r) => {
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
    route('alert', (r) => {
      const a = d.alerts().find((x) => x.id === r.params[0]);
      if (!a) throw new ApiError(404, `no alert ${r.params[0]}`);
      return a;
    }),
    route('acknowledge', (r) => {
      const view = d.acknowledge(r.params[0], true);
      if (!view) throw new ApiError(404, `no alert ${r.params[0]}`);
      return view;
    }),
    route('reopen', (r) => {
      const view = d.acknowledge(r.params[0], false);
      if (!view) throw new ApiError(404, `no alert ${r.params[0]}`);
      return view;
    }),
    route('mutes', () => d.mutes()),
    route('addMute', (r) => {
      const b = r.body;
      if (b.rule === undefined && b.device === undefined && b.destination === undefined) throw new ApiError(400, 'a mute needs a rule, a device or a destination: it would silence everything');
      if (b.until !== undefined) isoTime(b.until, 'until');
      const m: StoredMute = { id: randomBytes(6).toString('hex'), created: new Date().toISOString(), ...b };
      if (m.device) m.device = m.device.toLowerCase();
      if (m.until) m.until = new Date(m.until).toISOString();
      try {
        return d.addMute(m);
      } catch (e) {
        if (e instanceof StoreLimitError) throw new ApiError(409, e.message);
        throw e;
      }
    }),
    route('deleteMute', (r) => {
      if (!d.removeMute(r.params[0])) throw new ApiError(404, `no mute ${r.params[0]}`);
      return { ok: true as const };
    }),
    route('settings', () => d.settings()),
    route('updateSettings', (r) => {
      const b = r.body;
      const s: SettingsPatch = {};
      if (b.homeCountry !== undefined) s.homeCountry = b.homeCountry === null ? null : country(b.homeCountry, 'homeCountry');
      if (b.trustedCountries !== undefined) s.trustedCountries = b.trustedCountries === null ? null : b.trustedCountries.map((c) => (c.toLowerCase() === 'eu' ? 'eu' : country(c, 'trustedCountries')));
      if (b.retention !== undefined) s.retention = b.retention;
      return d.updateSettings(s);
    }),
    route('changePassword', async (r) => {
      const c = await auth.changePassword(r.body.current, r.body.next, r.client, r.cookie);
      if (!c.ok) throw new ApiError(c.status, c.error, c.retryAfter);
      return { ok: true as const, note: 'every session ended: log in again' };
    }),
    route('tokens', () => auth.tokens()),
    route('createToken', (r) => {
      try {
        return auth.createToken(r.body.name, r.body.scope ?? 'read');
      } catch (e) {
        throw new ApiError(409, (e as Error).message);
      }
    }),
    route('deleteToken', (r) => {
      if (!auth.deleteToken(r.params[0])) throw new ApiError(404, `no token ${r.params[0]}`);
      return { ok: true as const };
    }),
    ...planRoutes(d.plan, (key) => d.device(key) !== null),
  ];
}

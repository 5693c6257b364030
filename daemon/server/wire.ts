/**
 * The typed wire between the daemon and the dashboard (issue 16, "Renovation"): every route of
 * the API in one map, with its method, path template, who may call it, its request body's JSON
 * Schema and its query parameters; and, beside the map, each route's body and answer types. The
 * server compiles the schemas with Ajv and refuses a bad body with 400 `field: reason`
 * (wire-validate.ts); the dashboard's client (ui/src/lib/api.ts) calls routes by name, so a wrong
 * body or answer type is a compile error there. This file imports only the model (values) and
 * types: the dashboard bundles it, never Ajv nor server code.
 */
import { CATEGORIES } from '../model/device.js';
import { SEVERITIES } from '../model/severity.js';
import { ZONES } from '../model/plan.js';
import type { Category } from '../model/device.js';
import type { PlanDevice, SegmentationPlan, Zone } from '../model/plan.js';
import type { DeviceProfile } from '../model/profile.js';
import type { FlowRecord } from '../model/flow.js';
import type { HourBucket, Retention, StoredMute } from '../store/store-data.js';
import type { StoreOpening } from '../store/store.js';
import type { AlertView, DestinationView, DevicePlanView, DeviceView, Overview, PlanState, Settings, Status } from './api-types.js';

/**
 * Who may call a route. `public`: anyone (logging in). `metrics`: any session or token.
 * `read`: a session, or a `read` or `admin` token. `admin`: a session or an `admin` token.
 * `session`: a browser session only, never a token (the tokens themselves, the password).
 */
export type Access = 'public' | 'metrics' | 'read' | 'admin' | 'session';

/** What a bearer token may do (docs/api.md, "Tokens"). */
export const TOKEN_SCOPES = ['read', 'metrics', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** The path parameters' patterns: `{name}` in a path template. */
export const PARAMS = {
  /** A device: its MAC, or `ip:` and its address for a device seen without one. */
  device: '[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}|ip:[0-9A-Fa-f:.]+',
  /** A device with a MAC address (only those are planned). */
  mac: '[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}',
  alert: '[0-9a-f]{16}',
  mute: '[0-9a-f]{12}',
  token: '[0-9a-f]{8}',
} as const;

/** A JSON Schema (draft 2020-12 as Ajv reads it), as much as the bodies need. */
export interface BodySchema {
  readonly type?: string | readonly string[];
  readonly description?: string;
  readonly properties?: Readonly<Record<string, BodySchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
  readonly items?: BodySchema;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minProperties?: number;
}

export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly access: Access;
  /** The request body; none: the route takes no body (one sent is ignored, as before). */
  readonly body?: BodySchema;
  /** A body may be left out entirely (POST /api/plan/apply without a digest). */
  readonly bodyOptional?: boolean;
  /** Query parameters the route reads (checked by its handler). */
  readonly query?: readonly string[];
  /** Served by http.ts itself rather than by a handler of routes.ts or plan-routes.ts. */
  readonly builtin?: 'session' | 'metrics' | 'websocket';
}

const text = (maxLength: number, description: string, minLength = 0): BodySchema => ({ type: 'string', minLength, maxLength, description });
const country: BodySchema = { type: 'string', pattern: '^[A-Za-z]{2}$', description: 'an ISO 3166-1 alpha-2 code (e.g. FR)' };
const whole = (minimum: number): BodySchema => ({ type: 'integer', minimum, maximum: 100_000, description: `a whole number from ${minimum} to 100000` });

export const ROUTES = {
  login: { method: 'POST', path: '/api/session', access: 'public', builtin: 'session', body: { type: 'object', additionalProperties: false, required: ['password'], properties: { password: text(1024, 'the administrator password') } } },
  session: { method: 'GET', path: '/api/session', access: 'public', builtin: 'session' },
  logout: { method: 'DELETE', path: '/api/session', access: 'public', builtin: 'session' },
  metrics: { method: 'GET', path: '/metrics', access: 'metrics', builtin: 'metrics' },
  live: { method: 'GET', path: '/api/live', access: 'read', builtin: 'websocket', query: ['since'] },

  status: { method: 'GET', path: '/api/status', access: 'read' },
  overview: { method: 'GET', path: '/api/overview', access: 'read', query: ['hours'] },
  devices: { method: 'GET', path: '/api/devices', access: 'read' },
  device: { method: 'GET', path: '/api/devices/{device}', access: 'read' },
  updateDevice: {
    method: 'PATCH',
    path: '/api/devices/{device}',
    access: 'admin',
    body: {
      type: 'object',
      additionalProperties: false,
      properties: {
        label: { type: ['string', 'null'], maxLength: 64, description: 'a text of at most 64 characters, or null' },
        category: { type: ['string', 'null'], enum: [...CATEGORIES, null], description: `one of ${CATEGORIES.join(', ')}, or null` },
        personal: { type: ['boolean', 'null'], description: 'true, false or null (automatic)' },
        history: { type: 'boolean', description: 'true or false' },
      },
    },
  },
  deviceFlows: { method: 'GET', path: '/api/devices/{device}/flows', access: 'read' },
  deviceDestinations: { method: 'GET', path: '/api/devices/{device}/destinations', access: 'read' },
  deviceTraffic: { method: 'GET', path: '/api/devices/{device}/traffic', access: 'read' },
  deviceAlerts: { method: 'GET', path: '/api/devices/{device}/alerts', access: 'read' },
  alerts: { method: 'GET', path: '/api/alerts', access: 'read', query: ['severity', 'device', 'rule', 'state', 'limit'] },
  alert: { method: 'GET', path: '/api/alerts/{alert}', access: 'read' },
  acknowledge: { method: 'POST', path: '/api/alerts/{alert}/ack', access: 'admin' },
  reopen: { method: 'DELETE', path: '/api/alerts/{alert}/ack', access: 'admin' },
  mutes: { method: 'GET', path: '/api/mutes', access: 'read' },
  addMute: {
    method: 'POST',
    path: '/api/mutes',
    access: 'admin',
    body: {
      type: 'object',
      additionalProperties: false,
      properties: {
        rule: text(256, 'a rule id (at most 256 characters)'),
        device: text(256, 'a device (at most 256 characters)'),
        destination: text(256, 'a destination (at most 256 characters)'),
        until: text(256, 'an ISO 8601 date or date-time with offset (e.g. 2026-12-31 or 2026-12-31T23:00:00Z)'),
      },
    },
  },
  deleteMute: { method: 'DELETE', path: '/api/mutes/{mute}', access: 'admin' },
  settings: { method: 'GET', path: '/api/settings', access: 'read' },
  updateSettings: {
    method: 'PUT',
    path: '/api/settings',
    access: 'admin',
    body: {
      type: 'object',
      additionalProperties: false,
      properties: {
        homeCountry: { ...country, type: ['string', 'null'], description: 'an ISO 3166-1 alpha-2 code (e.g. FR), or null' },
        trustedCountries: {
          type: ['array', 'null'],
          maxItems: 300,
          items: { type: 'string', pattern: '^([A-Za-z]{2})$', description: 'an ISO 3166-1 alpha-2 code, or "eu"' },
          description: 'a list of ISO 3166-1 alpha-2 codes (or "eu"), or null',
        },
        retention: {
          type: 'object',
          additionalProperties: false,
          properties: { alertDays: whole(1), maxAlerts: whole(10), aggregateDays: whole(1), deviceDays: whole(1) },
        },
      },
    },
  },
  changePassword: {
    method: 'PUT',
    path: '/api/password',
    access: 'session',
    body: { type: 'object', additionalProperties: false, required: ['current', 'next'], properties: { current: text(1024, 'the password in force'), next: text(1024, 'the new password (at least 10 characters)') } },
  },
  tokens: { method: 'GET', path: '/api/tokens', access: 'session' },
  createToken: {
    method: 'POST',
    path: '/api/tokens',
    access: 'session',
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: { name: text(64, 'what the token is for (1 to 64 characters)', 1), scope: { type: 'string', enum: [...TOKEN_SCOPES], description: `one of ${TOKEN_SCOPES.join(', ')} (default read)` } },
    },
  },
  deleteToken: { method: 'DELETE', path: '/api/tokens/{token}', access: 'session' },

  plan: { method: 'GET', path: '/api/plan', access: 'read', query: ['format', 'part', 'recipe', 'download'] },
  devicePlan: { method: 'GET', path: '/api/devices/{mac}/plan', access: 'read' },
  deviceMud: { method: 'GET', path: '/api/devices/{mac}/mud', access: 'read', query: ['download'] },
  setZone: {
    method: 'PUT',
    path: '/api/devices/{mac}/zone',
    access: 'admin',
    body: { type: 'object', additionalProperties: false, required: ['zone'], properties: { zone: { type: ['string', 'null'], enum: [...ZONES, null], description: `one of ${ZONES.join(', ')}, or null (the policy's advice)` } } },
  },
  setLearning: {
    method: 'POST',
    path: '/api/devices/{mac}/profile',
    access: 'admin',
    body: { type: 'object', additionalProperties: false, required: ['learning'], properties: { learning: { type: 'boolean', description: 'true (learn again from now) or false (freeze now)' } } },
  },
  planState: { method: 'GET', path: '/api/plan/state', access: 'read' },
  applyPlan: {
    method: 'POST',
    path: '/api/plan/apply',
    access: 'admin',
    bodyOptional: true,
    body: { type: 'object', additionalProperties: false, properties: { digest: text(64, 'the plan digest shown with the plan') } },
  },
  confirmPlan: { method: 'POST', path: '/api/plan/confirm', access: 'admin' },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof ROUTES;
/** Routes answered by a handler of routes.ts or plan-routes.ts (the rest are http.ts's own). */
export type HandledRoute = { [K in RouteName]: (typeof ROUTES)[K] extends { builtin: string } ? never : K }[RouteName];

/** Severities accepted by `GET /api/alerts?severity=`. */
export const ALERT_SEVERITIES = SEVERITIES;

/** The request bodies, as the schemas above accept them. */
export interface Bodies {
  login: { password: string };
  updateDevice: { label?: string | null; category?: Category | null; personal?: boolean | null; history?: boolean };
  addMute: { rule?: string; device?: string; destination?: string; until?: string };
  updateSettings: { homeCountry?: string | null; trustedCountries?: string[] | null; retention?: Partial<Retention> };
  changePassword: { current: string; next: string };
  createToken: { name: string; scope?: TokenScope };
  setZone: { zone: Zone | null };
  setLearning: { learning: boolean };
  applyPlan: { digest?: string } | undefined;
}

export type BodyOf<K extends RouteName> = K extends keyof Bodies ? Bodies[K] : undefined;

export interface Ok {
  ok: true;
}
export interface TokenInfo {
  id: string;
  name: string;
  scope: TokenScope;
  created: string;
}
/** Flows or destinations of a personal device without history are not kept. */
export type Kept<K extends string, T> = ({ kept: true } & Record<K, T[]>) | ({ kept: false; reason: string } & Record<K, T[]>);

/** What each route answers (JSON); text answers (`?format=nft`, downloads) are strings. */
export interface Responses {
  login: Ok;
  session: { authenticated: true; via: 'session' | 'token' };
  logout: Ok;
  metrics: string;
  live: never;
  status: Status & { url: string; storeOpening: StoreOpening };
  overview: Overview;
  devices: DeviceView[];
  device: DeviceView;
  updateDevice: DeviceView;
  deviceFlows: Kept<'flows', FlowRecord>;
  deviceDestinations: Kept<'destinations', DestinationView>;
  deviceTraffic: { hours: readonly HourBucket[] };
  deviceAlerts: AlertView[];
  alerts: AlertView[];
  alert: AlertView;
  acknowledge: AlertView;
  reopen: AlertView;
  mutes: readonly StoredMute[];
  addMute: StoredMute;
  deleteMute: Ok;
  settings: Settings;
  updateSettings: Omit<Settings, 'eu' | 'exports' | 'tokens'>;
  changePassword: Ok & { note: string };
  tokens: TokenInfo[];
  createToken: TokenInfo & { token: string };
  deleteToken: Ok;
  plan: SegmentationPlan;
  devicePlan: DevicePlanView;
  /** An RFC 8520 MUD document. */
  deviceMud: object;
  setZone: { device: PlanDevice | null };
  setLearning: DeviceProfile;
  planState: PlanState;
  applyPlan: PlanState;
  confirmPlan: PlanState;
}

/** `{mac: string}` for `/api/devices/{mac}/plan`. */
export type ParamsOf<P extends string> = P extends `${string}{${infer Name}}${infer Rest}` ? { [K in Name]: string } & ParamsOf<Rest> : unknown;
export type RouteParams<K extends RouteName> = ParamsOf<(typeof ROUTES)[K]['path']>;

/** The concrete path of a route (parameters percent-encoded, as a MAC's ':' may be). */
export function pathOf(name: RouteName, params: Record<string, string> = {}): string {
  return ROUTES[name].path.replace(/\{(\w+)\}/g, (_, k: string) => {
    const v = params[k];
    if (v === undefined) throw new Error(`${name}: the path needs ${k}`);
    return encodeURIComponent(v);
  });
}

/** The regular expression a route's path template matches (parameters as capture groups). */
export function patternOf(path: string): RegExp {
  const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, k: string) => {
    if (!(k in PARAMS)) throw new Error(`unknown path parameter {${k}}`);
    return `(${PARAMS[k as keyof typeof PARAMS]})`;
  });
  return new RegExp(`^${source}$`);
}

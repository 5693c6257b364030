// The daemon's JSON API (docs/api.md). Same origin, the session cookie rides along; a 401 means
// the session ended (timeout, password changed elsewhere): the app goes back to the login page.
// `call()` names a route of the daemon's wire map (daemon/server/wire.ts): its path parameters,
// body and answer are typed from the map, so a wrong body or a misread answer fails the build.
import { ROUTES, pathOf, type Bodies, type Responses, type RouteName, type RouteParams } from '../../../daemon/server/wire';

export type { Bodies, Responses, TokenScope } from '../../../daemon/server/wire';
export { TOKEN_SCOPES } from '../../../daemon/server/wire';
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

let onUnauthorised: () => void = () => {};
export function whenUnauthorised(f: () => void): void {
  onUnauthorised = f;
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    credentials: 'same-origin',
    headers: init.body !== undefined ? { 'Content-Type': 'application/json' } : {},
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: text };
  }
  if (!res.ok) {
    const message = (data as { error?: string } | null)?.error ?? res.statusText;
    // A failed login is not a lost session.
    if (res.status === 401 && !(path === '/api/session' && init.method === 'POST')) onUnauthorised();
    throw new ApiError(res.status, message, Number(res.headers.get('Retry-After')) || null);
  }
  return data as T;
}

/** A text answer (the plan as nftables, UCI, MUD): the same errors and session handling as api(). */
export async function apiText(path: string): Promise<string> {
  const res = await fetch(path, { credentials: 'same-origin' });
  const text = await res.text();
  if (!res.ok) {
    if (res.status === 401) onUnauthorised();
    let message = text || res.statusText;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? message;
    } catch {
      /* plain text error */
    }
    throw new ApiError(res.status, message);
  }
  // JSON (a MUD file) is shown indented, as its download is.
  return res.headers.get('Content-Type')?.includes('json') ? JSON.stringify(JSON.parse(text), null, 2) + '\n' : text;
}

/** Routes the dashboard calls with JSON (the live feed and /metrics are not). */
export type CallRoute = Exclude<RouteName, 'live' | 'metrics'>;

type Query = Record<string, string | number | boolean | undefined>;
type ParamsPart<K extends RouteName> = keyof RouteParams<K> extends never ? { params?: undefined } : { params: RouteParams<K> };
type BodyPart<K extends RouteName> = K extends keyof Bodies ? (undefined extends Bodies[K] ? { body?: Bodies[K] } : { body: Bodies[K] }) : { body?: undefined };
export type CallOptions<K extends RouteName> = ParamsPart<K> & BodyPart<K> & { query?: Query };
type Needed<K extends RouteName> = keyof RouteParams<K> extends never ? (K extends keyof Bodies ? (undefined extends Bodies[K] ? false : true) : false) : true;

/** A route of the wire map by name: `call('updateDevice', { params: { device: mac }, body: { label } })`. */
export function call<K extends CallRoute>(name: K, ...args: Needed<K> extends true ? [CallOptions<K>] : [CallOptions<K>?]): Promise<Responses[K]> {
  const o = (args[0] ?? {}) as { params?: Record<string, string>; body?: unknown; query?: Query };
  return api<Responses[K]>(urlOf(name, o.params, o.query), { method: ROUTES[name].method, body: o.body });
}

/** The URL of a route (for apiText and downloads): the path with its parameters, and the query. */
export function urlOf<K extends RouteName>(name: K, params?: RouteParams<K> | Record<string, string>, query: Query = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== false) q.set(k, v === true ? '' : String(v));
  const s = q.toString().replace(/=(?=&|$)/g, '');
  return pathOf(name, (params ?? {}) as Record<string, string>) + (s ? `?${s}` : '');
}

// The daemon's JSON API (docs/api.md). Same origin, the session cookie rides along; a 401 means
// the session ended (timeout, password changed elsewhere): the app goes back to the login page.
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

/**
 * The daemon's HTTP side: the built dashboard, the JSON API under /api, the live WebSocket at
 * /api/live and Prometheus metrics at /metrics. A request must name this box in its Host header
 * (421 otherwise: DNS rebinding would make any web page "same origin"). Every /api route,
 * /metrics and the WebSocket upgrade need a session cookie or a bearer token (401 otherwise),
 * of a scope that allows the route (wire.ts: 403 otherwise); the WebSocket and every
 * cookie-authenticated change also need a same-origin request (Origin, Sec-Fetch-Site), so that
 * another site open in the same browser cannot drive the dashboard. Bodies are checked against
 * the route's schema (wire-validate.ts) before the handler sees them.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { scopeOf, type Auth } from './auth.js';
import type { LiveHub } from './live.js';
import { bodyProblem } from './wire-validate.js';
import { ROUTES, patternOf, type Access, type BodyOf, type HandledRoute, type Responses, type RouteName } from './wire.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Seconds, for a 429. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export interface RequestInfo<B = unknown> {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Checked against the route's schema in wire.ts. */
  body: B;
  params: string[];
  /** The client's address (IPv4-mapped IPv6 unwrapped). */
  client: string;
  /** The session cookie sent, if any (for the login limiter of PUT /api/password). */
  cookie: string | undefined;
}

export type Handler = (req: RequestInfo<never>) => unknown;

/** A handler's answer that is a document rather than JSON (an nft ruleset, a UCI file). */
export class TextReply {
  constructor(
    readonly text: string,
    readonly type: string,
    /** Offered as a download under this name. */
    readonly filename: string | null = null,
  ) {}
}

export interface Route {
  name: RouteName;
  method: string;
  pattern: RegExp;
  access: Access;
  handler: Handler;
}

/** A route of the wire's map with its handler: the body's and the answer's types come from wire.ts. */
export function defineRoute<K extends HandledRoute>(name: K, handler: (r: RequestInfo<BodyOf<K>>) => Responses[K] | TextReply | Promise<Responses[K] | TextReply>): Route {
  const spec = ROUTES[name];
  return { name, method: spec.method, pattern: patternOf(spec.path), access: spec.access, handler: handler as Handler };
}

export interface ServerOptions {
  host: string;
  port: number;
  /** The built dashboard (ui/dist): served as static files, index.html for app routes. */
  uiDir: string | null;
  tls?: { cert: string; key: string } | null;
  routes: Route[];
  auth: Auth;
  hub: LiveHub;
  /** The first message a new WebSocket client gets, besides its sequence number. */
  hello: () => Record<string, unknown>;
  metrics: () => Promise<string>;
  /**
   * Host names (or addresses) the dashboard may be reached by besides the listen address,
   * localhost, the machine's name (and .lan, .local) and its interfaces' addresses
   * (`--allowed-host`, e.g. a name in the router's DNS or a reverse proxy's).
   */
  allowedHosts?: string[];
}

/** Who is asking: a browser session (everything), or a token and its scope. */
type Caller = { via: 'session' } | { via: 'token'; scope: 'read' | 'metrics' | 'admin' };

function allows(access: Access, who: Caller): boolean {
  if (access === 'public') return true;
  if (who.via === 'session') return true;
  if (access === 'metrics') return true;
  if (access === 'read') return who.scope === 'read' || who.scope === 'admin';
  if (access === 'admin') return who.scope === 'admin';
  return false;
}

function denied(access: Access, who: Caller & { via: 'token' }): string {
  if (access === 'session') return 'this needs a browser session (log in with the password): no token may manage tokens or the password';
  return `this token's scope (${who.scope}) does not allow it: it needs ${access === 'admin' ? 'an admin token' : 'a read or admin token'} or a browser session`;
}

/** The name in a Host header, lower case, without its port, brackets or final dot. */
export function hostName(header: string): string {
  let h = header.trim().toLowerCase();
  const v6 = /^\[([^\]]+)\](:\d+)?$/.exec(h);
  if (v6) h = v6[1];
  else if ((h.match(/:/g) ?? []).length === 1) h = h.slice(0, h.indexOf(':'));
  return h.replace(/\.$/, '').replace(/%.*$/, '');
}

const COOKIE = 'vigie_session';
const MAX_BODY = 64 * 1024;

/**
 * Content Security Policy: everything from the box itself, nothing inline but styles Svelte
 * sets through the style attribute, no framing (clickjacking), no plugins, no base rewriting.
 */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function securityHeaders(res: http.ServerResponse, tls: boolean): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), usb=(), payment=()');
  if (tls) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
}

function cookieOf(req: http.IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

function bearerOf(req: http.IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m?.[1];
}

/** The request comes from a page of this very server (or from no browser page at all). */
function sameOrigin(req: http.IncomingMessage, tls: boolean): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  return origin === `${tls ? 'https' : 'http'}://${req.headers.host}`;
}

/** Connections at once from one address: a browser opens six or so, plus a WebSocket a tab. */
const MAX_PER_ADDRESS = 32;

/** Connections at once overall: 512, or fewer under a tight descriptor limit (64 kept for the rest). */
function connectionCap(): number {
  let soft = 1024;
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (m) soft = Number(m[1]);
  } catch {
    // Not Linux, or no /proc: the common default.
  }
  return Math.max(16, Math.min(512, soft - 64));
}

/** The error comes from the client closing or resetting the connection before the request ended. */
function clientGone(req: http.IncomingMessage, e: Error): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE' || (e.message === 'aborted' && (req.destroyed || req.socket.destroyed));
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export class ApiServer {
  private hosts: Set<string> = new Set();
  private hostsAt = 0;
  misdirected = 0;

  /**
   * The names this box answers to (finding 12): re-read every 30 s, as interfaces gain and lose
   * addresses (DHCP, a new IPv6 prefix).
   */
  private hostAllowed(header: string | undefined): boolean {
    // No Host at all is an HTTP/1.0 client, never a browser (browsers always send one).
    if (header === undefined) return true;
    const now = Date.now();
    if (now - this.hostsAt > 30_000) {
      const names = new Set<string>(['localhost', 'localhost.localdomain']);
      const add = (n: string) => n && names.add(hostName(n.includes(':') && !n.startsWith('[') ? `[${n}]` : n));
      add(this.opts.host);
      const me = os.hostname().toLowerCase();
      if (me) for (const n of [me, `${me}.lan`, `${me}.local`]) add(n);
      for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) add(a.address);
      for (const n of this.opts.allowedHosts ?? []) add(n);
      this.hosts = names;
      this.hostsAt = now;
    }
    return this.hosts.has(hostName(header));
  }

  readonly server: http.Server | https.Server;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly tls: boolean;
  requests = 0;
  refused = 0;

  constructor(private readonly opts: ServerOptions) {
    this.tls = !!opts.tls;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.handle(req, res).catch((e: Error) => {
        // A client that hung up mid-request is no fault of ours: one short line a minute at most
        // (a stack per abort would flush a router's small log ring, the generated password with it).
        if (clientGone(req, e)) return this.aborted(req);
        if (!res.headersSent) this.json(res, 500, { error: 'internal error' });
        process.stderr.write(`vigie: http: ${req.method} ${req.url}: ${e.stack ?? e.message}\n`);
      });
    };
    this.server = opts.tls ? https.createServer({ cert: fs.readFileSync(opts.tls.cert), key: fs.readFileSync(opts.tls.key) }, handler) : http.createServer(handler);
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
    // Each connection holds a descriptor: capped overall (within the process's limit) and per
    // address, so that one device cannot use them all and lock the household out.
    this.server.maxConnections = connectionCap();
    this.server.on('connection', (socket: import('node:net').Socket) => {
      const a = socket.remoteAddress ?? '?';
      const n = (this.perAddress.get(a) ?? 0) + 1;
      if (n > MAX_PER_ADDRESS) {
        this.connectionsRefused++;
        socket.destroy();
        return;
      }
      this.perAddress.set(a, n);
      socket.once('close', () => {
        const m = (this.perAddress.get(a) ?? 1) - 1;
        if (m > 0) this.perAddress.set(a, m);
        else this.perAddress.delete(a);
      });
    });
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  private readonly perAddress = new Map<string, number>();
  /** Connections closed at once for going over the per-address cap. */
  connectionsRefused = 0;
  private lastServerError = '';
  private lastServerErrorAt = 0;
  private abortedSince = 0;
  private abortedSilenced = 0;
  aborts = 0;

  private aborted(req: http.IncomingMessage): void {
    this.aborts++;
    const now = Date.now();
    if (now - this.abortedSince < 60_000) {
      this.abortedSilenced++;
      return;
    }
    const more = this.abortedSilenced > 0 ? ` (and ${this.abortedSilenced} more in the last minutes)` : '';
    process.stderr.write(`vigie: http: ${String(req.method).slice(0, 10)} request from ${req.socket.remoteAddress ?? '?'} aborted by the client${more}\n`);
    this.abortedSince = now;
    this.abortedSilenced = 0;
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        // Once listening, an error is a failed accept (EMFILE when descriptors run out): the
        // server goes on, and it is told once a minute at most.
        this.server.on('error', (e: NodeJS.ErrnoException) => {
          const why = e.code ?? e.message;
          if (why === this.lastServerError && Date.now() - this.lastServerErrorAt < 60_000) return;
          this.lastServerError = why;
          this.lastServerErrorAt = Date.now();
          process.stderr.write(`vigie: http: ${e.message}\n`);
        });
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Says goodbye to WebSocket clients, then closes everything within two seconds at most. */
  async close(): Promise<void> {
    this.opts.hub.closeAll();
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      this.server.close(() => {
        clearTimeout(t);
        resolve();
      });
      this.server.closeAllConnections();
      // Clients that do not answer the close frame (gone, or behind a dead link) are cut.
      setTimeout(() => {
        for (const ws of this.wss.clients) ws.terminate();
      }, 500).unref();
    });
    this.wss.close();
  }

  /** Every route this server answers, its own (session, metrics, WebSocket) and the handlers': for the wire's map test. */
  served(): { name: RouteName; method: string; pattern: RegExp }[] {
    const own = (Object.keys(ROUTES) as RouteName[]).filter((k) => 'builtin' in ROUTES[k]).map((k) => ({ name: k, method: ROUTES[k].method, pattern: patternOf(ROUTES[k].path) }));
    return [...own, ...this.opts.routes.map((r) => ({ name: r.name, method: r.method, pattern: r.pattern }))];
  }

  private authorised(req: http.IncomingMessage): Caller | null {
    if (this.opts.auth.session(cookieOf(req, COOKIE))) return { via: 'session' };
    const t = this.opts.auth.token(bearerOf(req));
    if (t) return { via: 'token', scope: scopeOf(t) };
    return null;
  }

  private json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
    res.end(text);
  }

  private async body(req: http.IncomingMessage): Promise<unknown> {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'DELETE') return undefined;
    const type = req.headers['content-type'] ?? '';
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_BODY) throw new ApiError(413, `body over ${MAX_BODY} bytes`);
      chunks.push(c);
    }
    if (size === 0) return undefined;
    // The media type exactly, parameters aside: `\b` let application/json-evil through.
    if (!/^application\/json\s*(;|$)/i.test(type)) throw new ApiError(415, 'send JSON (Content-Type: application/json)');
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new ApiError(400, 'body is not valid JSON');
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.requests++;
    securityHeaders(res, this.tls);
    const url = new URL(req.url ?? '/', 'http://vigie.invalid');
    const p = url.pathname;
    const method = req.method ?? 'GET';
    const addr = req.socket.remoteAddress ?? '?';

    if (!this.hostAllowed(req.headers.host)) {
      this.misdirected++;
      return this.json(res, 421, { error: `Host ${JSON.stringify(String(req.headers.host).slice(0, 100))} is not a name of this box: use its address, or add the name with --allowed-host` });
    }

    if (p === '/api/session') {
      if (method === 'POST') {
        if (!sameOrigin(req, this.tls)) return this.json(res, 403, { error: 'cross-site request refused' });
        let body: unknown;
        try {
          body = await this.body(req);
        } catch (e) {
          if (e instanceof ApiError) return this.json(res, e.status, { error: e.message });
          throw e;
        }
        const problem = bodyProblem('login', body);
        if (problem) return this.json(res, 400, { error: problem });
        const r = await this.opts.auth.login((body as { password: string }).password, addr, Date.now(), cookieOf(req, COOKIE));
        if (!r.ok) {
          this.refused++;
          if (r.status === 429) return this.json(res, 429, { error: 'too many failed logins: wait and try again' }, { 'Retry-After': String(r.retryAfter ?? 60) });
          return this.json(res, 401, { error: 'wrong password' });
        }
        const secure = this.tls ? '; Secure' : '';
        return this.json(res, 200, { ok: true }, { 'Set-Cookie': `${COOKIE}=${r.cookie}; HttpOnly; SameSite=Strict; Path=/${secure}` });
      }
      if (method === 'DELETE') {
        this.opts.auth.logout(cookieOf(req, COOKIE));
        return this.json(res, 200, { ok: true }, { 'Set-Cookie': `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0` });
      }
      if (method === 'GET') {
        const who = this.authorised(req);
        return who ? this.json(res, 200, { authenticated: true, via: who.via }) : this.json(res, 401, { authenticated: false });
      }
      return this.json(res, 405, { error: 'method not allowed' });
    }

    if (p.startsWith('/api/') || p === '/api' || p === '/metrics') {
      const who = this.authorised(req);
      if (!who) {
        this.refused++;
        return this.json(res, 401, { error: 'log in first' }, { 'WWW-Authenticate': 'Bearer realm="vigie"' });
      }
      if (who.via === 'session' && method !== 'GET' && method !== 'HEAD' && !sameOrigin(req, this.tls)) {
        this.refused++;
        return this.json(res, 403, { error: 'cross-site request refused' });
      }
      if (p === '/metrics') {
        if (method !== 'GET' && method !== 'HEAD') return this.json(res, 405, { error: 'method not allowed' });
        const text = await this.opts.metrics();
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Cache-Control': 'no-store' });
        res.end(text);
        return;
      }
      try {
        // A MAC in a path may come percent-encoded (encodeURIComponent turns ':' into %3A).
        const routed = p.replace(/%3a/gi, ':');
        for (const r of this.opts.routes) {
          const m = r.pattern.exec(routed);
          if (!m) continue;
          if (r.method !== method) continue;
          if (who.via === 'token' && !allows(r.access, who)) {
            this.refused++;
            return this.json(res, 403, { error: denied(r.access, who) });
          }
          const body = await this.body(req);
          const problem = bodyProblem(r.name, body);
          if (problem) throw new ApiError(400, problem);
          const out = await r.handler({ method, path: p, query: url.searchParams, body: body as never, params: m.slice(1).map(decodeURIComponent), client: (req.socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.)/, ''), cookie: cookieOf(req, COOKIE) });
          if (out instanceof TextReply) {
            const headers: Record<string, string> = { 'Content-Type': `${out.type}; charset=utf-8`, 'Cache-Control': 'no-store' };
            if (out.filename) headers['Content-Disposition'] = `attachment; filename="${out.filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`;
            res.writeHead(200, headers);
            res.end(out.text);
            return;
          }
          return this.json(res, method === 'POST' ? 201 : 200, out ?? { ok: true });
        }
        await this.body(req);
        const exists = this.opts.routes.some((r) => r.pattern.test(routed));
        return this.json(res, exists ? 405 : 404, { error: exists ? 'method not allowed' : 'no such API route' });
      } catch (e) {
        if (e instanceof ApiError) return this.json(res, e.status, { error: e.message }, e.retryAfter ? { 'Retry-After': String(e.retryAfter) } : {});
        throw e;
      }
    }

    if (method !== 'GET' && method !== 'HEAD') return this.json(res, 405, { error: 'method not allowed' });
    return this.serveStatic(p, res);
  }

  private serveStatic(p: string, res: http.ServerResponse): void {
    const dir = this.opts.uiDir;
    if (!dir || !fs.existsSync(path.join(dir, 'index.html'))) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('The dashboard is not built (npm run build:ui). The API is at /api.\n');
      return;
    }
    let rel: string;
    try {
      rel = decodeURIComponent(p);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = path.resolve(dir, '.' + path.posix.normalize('/' + rel));
    const inside = file === dir || file.startsWith(dir + path.sep);
    let target = inside && fs.existsSync(file) && fs.statSync(file).isFile() ? file : null;
    // App routes (/devices/…, /alerts) get the page; missing files with an extension are 404.
    if (!target && !path.extname(rel)) target = path.join(dir, 'index.html');
    if (!target) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('not found\n');
      return;
    }
    const hashed = /[-.][A-Za-z0-9_-]{8,}\.(js|css|woff2|svg|png)$/.test(target);
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(target)] ?? 'application/octet-stream', 'Cache-Control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache' });
    fs.createReadStream(target).pipe(res);
  }

  private upgrade(req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://vigie.invalid');
    const refuse = (status: number, why: string) => {
      this.refused++;
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(why)}\r\n\r\n${why}`);
    };
    if (!this.hostAllowed(req.headers.host)) {
      this.misdirected++;
      return refuse(421, 'Host is not a name of this box');
    }
    if (url.pathname !== '/api/live') return refuse(404, 'no such endpoint');
    const who = this.authorised(req);
    if (!who) return refuse(401, 'log in first');
    if (who.via === 'token' && !allows(ROUTES.live.access, who)) return refuse(403, denied(ROUTES.live.access, who));
    if (!sameOrigin(req, this.tls)) return refuse(403, 'cross-site WebSocket refused');
    // Caps per address and overall (issue 16, finding 4): refused with the reason before a socket opens.
    const client = req.socket.remoteAddress ?? '?';
    const admission = this.opts.hub.admit(client);
    if (!admission.ok) return refuse(admission.status, admission.reason);
    const sinceText = url.searchParams.get('since');
    const since = sinceText !== null && /^\d+$/.test(sinceText) ? Number(sinceText) : null;
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      // The dashboard only listens: anything it sends is ignored (and capped by maxPayload).
      ws.on('message', () => {});
      this.opts.hub.add(ws, since, this.opts.hello(), client);
    });
  }
}

/**
 * Who may see the dashboard: one administrator password (no default: set from
 * VIGIE_ADMIN_PASSWORD on first start, else generated and shown once), stored as a scrypt hash
 * in `auth.json` beside the store; browser sessions in memory (an HttpOnly, SameSite=Strict
 * cookie); bearer tokens for machine clients (Prometheus, Home Assistant), stored hashed with a
 * scope (read, metrics or admin: a scraper's token must not be an administrator). An open
 * dashboard would repeat the very failure Vigie reports.
 */
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setAside, writeFileAtomicSync } from '../store/atomic-file.js';
import { LoginLimiter, clientKey } from './auth-limiter.js';
import { TOKEN_SCOPES, type TokenScope } from './wire.js';

/**
 * scrypt cost (RFC 7914 §2): N = 2^15, r = 8, p = 1 needs 32 MiB for about 100 ms on a router
 * core. OWASP's 2^17 would need 128 MiB, too much for a 512 MB box; the login rate limit makes
 * up for it. The parameters are stored with each hash, so a later release can raise them.
 */
const SCRYPT = { N: 1 << 15, r: 8, p: 1, keylen: 32 };
const MAXMEM = 64 * 1024 * 1024;
export const MIN_PASSWORD = 10;

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password.normalize('NFC'), salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: MAXMEM });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

function scryptAsync(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keylen, options, (e, key) => (e ? reject(e) : resolve(key))));
}

/**
 * The daemon hashes in libuv's thread pool, never on the event loop (a synchronous scrypt
 * blocked every request ~100 ms per guess). At most two at once: each needs 32 MiB.
 */
const HASH_SLOTS = 2;
let hashing = 0;
const waiting: { urgent: boolean; go: () => void }[] = [];

async function slot<T>(urgent: boolean, f: () => Promise<T>): Promise<T> {
  if (hashing >= HASH_SLOTS) {
    // Known browsers and clean addresses go first: a flood of guesses does not hold them back.
    await new Promise<void>((go) => {
      const i = urgent ? waiting.findIndex((w) => !w.urgent) : -1;
      waiting.splice(i < 0 ? waiting.length : i, 0, { urgent, go });
    });
  } else hashing++;
  try {
    return await f();
  } finally {
    const next = waiting.shift();
    if (next) next.go();
    else hashing--;
  }
}

export async function hashPasswordAsync(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await slot(true, () => scryptAsync(password.normalize('NFC'), salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: MAXMEM }));
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

function parseHash(stored: string): { N: number; r: number; p: number; salt: Buffer; want: Buffer } | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], 'base64');
  const want = Buffer.from(parts[5], 'base64');
  if (!(N > 1 && r > 0 && p > 0) || want.length < 16) return null;
  return { N, r, p, salt, want };
}

export function verifyPassword(password: string, stored: string): boolean {
  const h = parseHash(stored);
  if (!h) return false;
  const got = scryptSync(password.normalize('NFC'), h.salt, h.want.length, { N: h.N, r: h.r, p: h.p, maxmem: Math.max(MAXMEM, 256 * h.N * h.r) });
  return timingSafeEqual(got, h.want);
}

export async function verifyPasswordAsync(password: string, stored: string, urgent = false): Promise<boolean> {
  const h = parseHash(stored);
  if (!h) return false;
  const got = await slot(urgent, () => scryptAsync(password.normalize('NFC'), h.salt, h.want.length, { N: h.N, r: h.r, p: h.p, maxmem: Math.max(MAXMEM, 256 * h.N * h.r) }));
  return timingSafeEqual(got, h.want);
}

export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD) return `too short: at least ${MIN_PASSWORD} characters`;
  if (/^\s|\s$/.test(password)) return 'starts or ends with white space';
  return null;
}

/** A password a person can type: 20 characters from 32 (100 bits), no look-alikes. */
export function generatePassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789AB';
  const b = randomBytes(20);
  let s = '';
  for (let i = 0; i < 20; i++) s += alphabet[b[i] & 31];
  return s.replace(/(.{5})(?=.)/g, '$1-');
}

/**
 * What a bearer token may do. `read`: every GET route and the live feed; `metrics`: /metrics
 * only; `admin`: the changes too. Never the tokens themselves nor the password (sessions only).
 */
export { TOKEN_SCOPES, type TokenScope };

export interface TokenEntry {
  id: string;
  name: string;
  /** Absent in auth.json files written before scopes: taken as `read` (docs/api.md), the safe side. */
  scope?: TokenScope;
  /** sha256 of the secret part (tokens are long random strings: no need for scrypt). */
  hash: string;
  created: string;
}

export interface AuthFile {
  passwordHash: string | null;
  tokens: TokenEntry[];
}

export const AUTH_FILE = 'auth.json';

export function authPath(stateDir: string): string {
  return path.join(stateDir, AUTH_FILE);
}

/** Reads auth.json: null when absent; an unreadable one is set aside (and the caller says so). */
export function readAuthFile(file: string): { auth: AuthFile | null; setAside: string | null; reason: string | null } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { auth: null, setAside: null, reason: null };
    throw e;
  }
  try {
    const a = JSON.parse(text) as AuthFile;
    if (typeof a !== 'object' || a === null || !(a.passwordHash === null || typeof a.passwordHash === 'string') || !Array.isArray(a.tokens)) throw new Error('not an auth file');
    for (const t of a.tokens) if (typeof t.id !== 'string' || typeof t.hash !== 'string') throw new Error('a token entry is broken');
    return { auth: a, setAside: null, reason: null };
  } catch (e) {
    return { auth: null, setAside: setAside(file), reason: (e as Error).message };
  }
}

export function writeAuthFile(file: string, auth: AuthFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomicSync(file, JSON.stringify(auth, null, 1), 0o600);
}

/** `vigie passwd`: sets the password, keeps the tokens. Sessions of a running daemon end. */
export function setPassword(stateDir: string, password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw new Error(`password ${problem}`);
  const file = authPath(stateDir);
  const { auth } = readAuthFile(file);
  writeAuthFile(file, { passwordHash: hashPassword(password), tokens: auth?.tokens ?? [] });
}

interface Session {
  created: number;
  seen: number;
}

/** Browser sessions end after 12 hours unused and after 7 days in any case. */
const IDLE_MS = 12 * 3600e3;
const MAX_AGE_MS = 7 * 86400e3;
/** Tokens are for a few machine clients: a bound keeps auth.json small (issue 16, item 15). */
export const MAX_TOKENS = 64;

/**
 * Sessions that ended (expiry, logout, a new password) are remembered this long, hashed, so that
 * their browser keeps a login limit of its own (auth-limiter.ts); at most RECENT_MAX of them.
 */
const RECENT_MS = 7 * 86400e3;
const RECENT_MAX = 1024;

export type LoginResult = { ok: true; cookie: string } | { ok: false; status: 401 | 429; retryAfter?: number };
export type PasswordChange = { ok: true } | { ok: false; status: 400 | 403 | 429; error: string; retryAfter?: number };

/** The scope of a token entry (older entries have none: read). */
export function scopeOf(t: Pick<TokenEntry, 'scope'>): TokenScope {
  return t.scope && (TOKEN_SCOPES as readonly string[]).includes(t.scope) ? t.scope : 'read';
}

export class Auth {
  private auth: AuthFile;
  private mtime = 0;
  private readonly sessions = new Map<string, Session>();
  /** Ended sessions by cookie hash: when they ended. */
  private readonly recent = new Map<string, number>();
  readonly limiter = new LoginLimiter();
  /** Printed once by the daemon, then forgotten. */
  generated: string | null = null;
  notes: string[] = [];

  constructor(
    private readonly file: string,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const r = readAuthFile(file);
    if (r.setAside) this.notes.push(`${file} was unreadable (${r.reason}): moved to ${r.setAside}; a new password is needed`);
    let auth = r.auth;
    const fromEnv = env.VIGIE_ADMIN_PASSWORD;
    // Read once, then gone from the environment: a child process, a crash report or a debugger
    // dumping process.env would show it otherwise (the initial environment of the process,
    // /proc/PID/environ, cannot be changed from inside: pass it from a file, docs/api.md).
    delete env.VIGIE_ADMIN_PASSWORD;
    if (!auth?.passwordHash) {
      let password: string;
      if (fromEnv !== undefined && fromEnv !== '') {
        const problem = passwordProblem(fromEnv);
        if (problem) throw new Error(`VIGIE_ADMIN_PASSWORD is ${problem}`);
        password = fromEnv;
        this.notes.push('administrator password set from VIGIE_ADMIN_PASSWORD');
      } else {
        password = generatePassword();
        this.generated = password;
      }
      auth = { passwordHash: hashPassword(password), tokens: auth?.tokens ?? [] };
      writeAuthFile(file, auth);
    }
    this.auth = auth;
    this.mtime = this.statMtime();
  }

  private statMtime(): number {
    try {
      return fs.statSync(this.file).mtimeMs;
    } catch {
      return 0;
    }
  }

  /** `vigie passwd` rewrote the file: take the new hash, end every session. */
  private reload(): void {
    const m = this.statMtime();
    if (m === this.mtime) return;
    this.mtime = m;
    const r = readAuthFile(this.file);
    if (!r.auth?.passwordHash) return; // keep the password in force rather than none
    if (r.auth.passwordHash !== this.auth.passwordHash) {
      for (const k of this.sessions.keys()) this.ended(k, Date.now());
      this.sessions.clear();
    }
    this.auth = r.auth;
  }

  /** A session ended: its browser is still known for a while (its own login limit). */
  private ended(key: string, now: number): void {
    this.recent.delete(key);
    this.recent.set(key, now);
    if (this.recent.size > RECENT_MAX) this.recent.delete(this.recent.keys().next().value as string);
  }

  /**
   * Whose failures a login attempt counts against: the browser's own cookie when it holds one
   * of ours (valid, or ended less than RECENT_MS ago), else its address (/64 for IPv6).
   */
  private limitKey(addr: string, cookie: string | undefined, now: number): { key: string; known: boolean } {
    if (cookie) {
      const h = sha256(cookie);
      const s = this.sessions.get(h);
      const endedAt = this.recent.get(h);
      if (s || (endedAt !== undefined && now - Math.min(endedAt, now) < RECENT_MS)) return { key: `session:${h}`, known: true };
    }
    return { key: clientKey(addr), known: false };
  }

  /** Checks a password under the login limiter: null when right, else the refusal. */
  private async checked(password: unknown, addr: string, cookie: string | undefined, now: number): Promise<{ status: 401 | 429; retryAfter?: number } | null> {
    this.reload();
    const { key, known } = this.limitKey(addr, cookie, now);
    const wait = this.limiter.wait(key, now);
    if (wait > 0) return { status: 429, retryAfter: wait };
    const urgent = known || this.limiter.clean(key);
    this.limiter.begin(key, now);
    const hash = this.auth.passwordHash;
    let right = false;
    try {
      right = typeof password === 'string' && password.length <= 1024 && !!hash && (await verifyPasswordAsync(password, hash, urgent));
    } finally {
      if (right) this.limiter.succeed(key);
      else this.limiter.fail(key, now);
    }
    return right ? null : { status: 401 };
  }

  /**
   * A login: `cookie` is the session cookie the browser sent, if any (its own limit, see
   * limitKey). `now` is for tests of clock steps.
   */
  async login(password: unknown, addr: string, now = Date.now(), cookie?: string): Promise<LoginResult> {
    const refused = await this.checked(password, addr, cookie, now);
    if (refused) return { ok: false, ...refused };
    if (cookie) this.logout(cookie, now);
    const fresh = randomBytes(32).toString('base64url');
    this.sessions.set(sha256(fresh), { created: now, seen: now });
    return { ok: true, cookie: fresh };
  }

  logout(cookie: string | undefined, now = Date.now()): void {
    if (!cookie) return;
    const h = sha256(cookie);
    if (this.sessions.delete(h)) this.ended(h, now);
  }

  /** A valid session cookie. */
  session(cookie: string | undefined, now = Date.now()): boolean {
    if (!cookie) return false;
    this.reload();
    const key = sha256(cookie);
    const s = this.sessions.get(key);
    if (!s) return false;
    if (now - s.seen > IDLE_MS || now - s.created > MAX_AGE_MS) {
      this.sessions.delete(key);
      this.ended(key, now);
      return false;
    }
    s.seen = now;
    return true;
  }

  /** A valid bearer token (`vigie_<id>_<secret>`): its entry. */
  token(bearer: string | undefined): TokenEntry | null {
    if (!bearer) return null;
    this.reload();
    const m = /^vigie_([a-z0-9]{8})_([A-Za-z0-9_-]{32,})$/.exec(bearer);
    if (!m) return null;
    const t = this.auth.tokens.find((x) => x.id === m[1]);
    if (!t) return null;
    const a = Buffer.from(sha256(m[2]), 'hex');
    const b = Buffer.from(t.hash, 'hex');
    return a.length === b.length && timingSafeEqual(a, b) ? t : null;
  }

  tokens(): { id: string; name: string; scope: TokenScope; created: string }[] {
    this.reload();
    return this.auth.tokens.map((t) => ({ id: t.id, name: t.name, scope: scopeOf(t), created: t.created }));
  }

  /** A new token: the only time its secret is shown. Read-only unless asked otherwise. */
  createToken(name: string, scope: TokenScope = 'read'): { id: string; name: string; scope: TokenScope; created: string; token: string } {
    this.reload();
    if (this.auth.tokens.length >= MAX_TOKENS) throw new Error(`at most ${MAX_TOKENS} tokens: delete one first`);
    const id = randomBytes(4).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const created = new Date().toISOString();
    this.auth = { ...this.auth, tokens: [...this.auth.tokens, { id, name, scope, hash: sha256(secret), created }] };
    writeAuthFile(this.file, this.auth);
    this.mtime = this.statMtime();
    return { id, name, scope, created, token: `vigie_${id}_${secret}` };
  }

  deleteToken(id: string): boolean {
    this.reload();
    const left = this.auth.tokens.filter((t) => t.id !== id);
    if (left.length === this.auth.tokens.length) return false;
    this.auth = { ...this.auth, tokens: left };
    writeAuthFile(this.file, this.auth);
    this.mtime = this.statMtime();
    return true;
  }

  /**
   * `PUT /api/password` (a session's only): a wrong current password counts as a failed login
   * for that browser, so it is no way round the login limit.
   */
  async changePassword(current: unknown, next: unknown, addr: string, cookie: string | undefined, now = Date.now()): Promise<PasswordChange> {
    if (typeof next !== 'string') return { ok: false, status: 400, error: 'next: the new password is missing' };
    const problem = passwordProblem(next);
    if (problem) return { ok: false, status: 400, error: `next: the new password is ${problem}` };
    const refused = await this.checked(current, addr, cookie, now);
    if (refused?.status === 429) return { ok: false, status: 429, error: 'too many wrong passwords: wait and try again', retryAfter: refused.retryAfter };
    if (refused) return { ok: false, status: 403, error: 'the current password is wrong' };
    const hash = await hashPasswordAsync(next);
    this.reload();
    this.auth = { ...this.auth, passwordHash: hash };
    writeAuthFile(this.file, this.auth);
    this.mtime = this.statMtime();
    for (const k of this.sessions.keys()) this.ended(k, now);
    this.sessions.clear();
    return { ok: true };
  }

  get sessionCount(): number {
    return this.sessions.size;
  }
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/**
 * Who may see the dashboard: one administrator password (no default: set from
 * VIGIE_ADMIN_PASSWORD on first start, else generated and shown once), stored as a scrypt hash
 * in `auth.json` beside the store; browser sessions in memory (an HttpOnly, SameSite=Strict
 * cookie); bearer tokens for machine clients (Prometheus, Home Assistant), stored hashed. An
 * open dashboard would repeat the very failure Vigie reports.
 */
import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setAside, writeFileAtomicSync } from '../store/atomic-file.js';

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

export function verifyPassword(password: string, stored: string): boolean {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], 'base64');
  const want = Buffer.from(parts[5], 'base64');
  if (!(N > 1 && r > 0 && p > 0) || want.length < 16) return false;
  const got = scryptSync(password.normalize('NFC'), salt, want.length, { N, r, p, maxmem: Math.max(MAXMEM, 256 * N * r) });
  return timingSafeEqual(got, want);
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

export interface TokenEntry {
  id: string;
  name: string;
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

/** Login failures: 5 per address per 15 minutes, 30 overall per minute. */
const PER_ADDRESS = { failures: 5, windowMs: 15 * 60e3 };
const OVERALL = { failures: 30, windowMs: 60e3 };

export type LoginResult = { ok: true; cookie: string } | { ok: false; status: 401 | 429; retryAfter?: number };

export class Auth {
  private auth: AuthFile;
  private mtime = 0;
  private readonly sessions = new Map<string, Session>();
  private readonly failures = new Map<string, number[]>();
  private overall: number[] = [];
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
    if (!auth?.passwordHash) {
      const fromEnv = env.VIGIE_ADMIN_PASSWORD;
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
    if (r.auth.passwordHash !== this.auth.passwordHash) this.sessions.clear();
    this.auth = r.auth;
  }

  private limited(addr: string, now: number): number {
    // Failures "in the future" (the clock stepped back) count as now: a lockout lasts one window at most.
    const mine = (this.failures.get(addr) ?? []).map((t) => Math.min(t, now)).filter((t) => now - t < PER_ADDRESS.windowMs);
    if (this.failures.has(addr)) this.failures.set(addr, mine);
    this.overall = this.overall.map((t) => Math.min(t, now)).filter((t) => now - t < OVERALL.windowMs);
    if (mine.length >= PER_ADDRESS.failures) return Math.ceil((mine[0] + PER_ADDRESS.windowMs - now) / 1000);
    if (this.overall.length >= OVERALL.failures) return Math.ceil((this.overall[0] + OVERALL.windowMs - now) / 1000);
    return 0;
  }

  login(password: unknown, addr: string, now = Date.now()): LoginResult {
    this.reload();
    const wait = this.limited(addr, now);
    if (wait > 0) return { ok: false, status: 429, retryAfter: wait };
    if (typeof password !== 'string' || password.length > 1024 || !this.auth.passwordHash || !verifyPassword(password, this.auth.passwordHash)) {
      const list = (this.failures.get(addr) ?? []).filter((t) => now - t < PER_ADDRESS.windowMs);
      list.push(now);
      this.failures.set(addr, list);
      this.overall.push(now);
      if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value as string);
      return { ok: false, status: 401 };
    }
    this.failures.delete(addr);
    const cookie = randomBytes(32).toString('base64url');
    this.sessions.set(sha256(cookie), { created: now, seen: now });
    return { ok: true, cookie };
  }

  logout(cookie: string | undefined): void {
    if (cookie) this.sessions.delete(sha256(cookie));
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

  tokens(): Omit<TokenEntry, 'hash'>[] {
    this.reload();
    return this.auth.tokens.map(({ id, name, created }) => ({ id, name, created }));
  }

  /** A new token: the only time its secret is shown. */
  createToken(name: string): { id: string; name: string; token: string } {
    this.reload();
    const id = randomBytes(4).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    this.auth = { ...this.auth, tokens: [...this.auth.tokens, { id, name, hash: sha256(secret), created: new Date().toISOString() }] };
    writeAuthFile(this.file, this.auth);
    this.mtime = this.statMtime();
    return { id, name, token: `vigie_${id}_${secret}` };
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

  changePassword(current: unknown, next: unknown): string | null {
    this.reload();
    if (typeof current !== 'string' || !this.auth.passwordHash || !verifyPassword(current, this.auth.passwordHash)) return 'the current password is wrong';
    if (typeof next !== 'string') return 'the new password is missing';
    const problem = passwordProblem(next);
    if (problem) return `the new password is ${problem}`;
    this.auth = { ...this.auth, passwordHash: hashPassword(next) };
    writeAuthFile(this.file, this.auth);
    this.mtime = this.statMtime();
    this.sessions.clear();
    return null;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

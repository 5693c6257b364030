/**
 * Cleartext logins of the old text protocols, line by line: what a client line asks and what a
 * server line answers. Pure functions; the session (state.ts) carries what spans lines.
 * Secrets are never returned: a password is reported as present, never kept.
 * - FTP: RFC 959 §4.1.1 (USER, PASS), RFC 4217 §4 (AUTH TLS); replies 230/530.
 * - POP3: RFC 1939 §7 (USER, PASS, APOP), RFC 2595 §4 (STLS), RFC 5034 (AUTH); +OK/-ERR.
 * - IMAP: RFC 9051 §6.2.3 (LOGIN), §6.2.2 (AUTHENTICATE), §6.2.1 (STARTTLS); tagged OK/NO.
 * - SMTP: RFC 4954 (AUTH; 334 challenges, 235/535), RFC 3207 (STARTTLS).
 * - SASL PLAIN: RFC 4616 §2 (authzid NUL authcid NUL passwd, base64 on the wire).
 */

export type LoginProtocol = 'ftp' | 'pop3' | 'imap' | 'smtp' | 'telnet';

export type ClientStep =
  | { kind: 'user'; username: string }
  | { kind: 'pass'; present: boolean }
  | { kind: 'user-pass'; username: string | null; present: boolean; mechanism: string }
  /** AUTH/AUTHENTICATE without an initial response: the next lines answer challenges. */
  | { kind: 'sasl'; mechanism: string; tag: string | null }
  | { kind: 'starttls' }
  | { kind: 'command'; verb: string; tag: string | null };

/** RFC 4616: the authentication identity and whether a password follows, from base64. */
export function saslPlain(b64: string): { username: string | null; present: boolean } | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return null;
  const raw = Buffer.from(b64, 'base64');
  const a = raw.indexOf(0);
  const b = a < 0 ? -1 : raw.indexOf(0, a + 1);
  if (b < 0) return null;
  return { username: raw.toString('utf8', a + 1, b) || null, present: b + 1 < raw.length };
}

export function base64Text(b64: string): string | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length === 0) return null;
  return Buffer.from(b64, 'base64').toString('utf8');
}

/** An IMAP astring (RFC 9051 §9): atom or quoted string; a literal's size only. */
function imapStrings(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (s[i] === ' ') i++;
    if (i >= s.length) break;
    if (s[i] === '"') {
      let j = i + 1;
      let v = '';
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\\' && j + 1 < s.length) j++;
        v += s[j++];
      }
      out.push(v);
      i = j + 1;
    } else {
      const j = s.indexOf(' ', i);
      out.push(s.slice(i, j < 0 ? s.length : j));
      i = j < 0 ? s.length : j;
    }
  }
  return out;
}

export function clientLine(p: LoginProtocol, line: string): ClientStep | null {
  if (p === 'imap') {
    const m = /^(\S+) (\S+)(?: (.*))?$/.exec(line);
    if (!m) return null;
    const [, tag, verb, rest = ''] = m;
    const v = verb.toUpperCase();
    if (v === 'LOGIN') {
      const args = imapStrings(rest);
      // A literal ({n}) user name arrives on the next line: the password is still sent.
      const user = args[0] && !/^\{\d+\+?\}$/.test(args[0]) ? args[0] : null;
      return { kind: 'user-pass', username: user, present: args.length >= 2 || /\{\d+\+?\}$/.test(rest), mechanism: 'LOGIN' };
    }
    if (v === 'AUTHENTICATE') return authenticate(rest, tag);
    if (v === 'STARTTLS') return { kind: 'starttls' };
    return { kind: 'command', verb: v, tag };
  }
  const sp = line.indexOf(' ');
  const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
  const arg = sp < 0 ? '' : line.slice(sp + 1);
  if (p === 'ftp' || p === 'pop3') {
    if (verb === 'USER') return { kind: 'user', username: arg.trim() };
    if (verb === 'PASS') return { kind: 'pass', present: arg.length > 0 };
    if (p === 'pop3' && verb === 'APOP') return { kind: 'user-pass', username: arg.split(' ')[0] || null, present: false, mechanism: 'APOP' };
    if ((p === 'ftp' && verb === 'AUTH' && /^(TLS|SSL|TLS-C|TLS-P)$/i.test(arg.trim())) || (p === 'pop3' && verb === 'STLS')) return { kind: 'starttls' };
    if (p === 'pop3' && verb === 'AUTH' && arg) return authenticate(arg, null);
    return { kind: 'command', verb, tag: null };
  }
  if (p === 'smtp') {
    if (verb === 'AUTH') return authenticate(arg, null);
    if (verb === 'STARTTLS') return { kind: 'starttls' };
    return { kind: 'command', verb, tag: null };
  }
  return null;
}

function authenticate(rest: string, tag: string | null): ClientStep {
  const [mech, initial] = rest.trim().split(/\s+/, 2);
  const mechanism = (mech ?? '').toUpperCase();
  if (mechanism === 'PLAIN' && initial && initial !== '=') {
    const plain = saslPlain(initial);
    return { kind: 'user-pass', username: plain?.username ?? null, present: plain?.present ?? false, mechanism };
  }
  if (mechanism === 'LOGIN' && initial) return { kind: 'user', username: base64Text(initial) ?? '' };
  return { kind: 'sasl', mechanism, tag };
}

/** A server reply: whether it accepts or refuses a login step, and whether it is a challenge. */
export type ServerReply = 'ok' | 'fail' | 'challenge' | 'other';

export function serverLine(p: LoginProtocol, line: string, loginTag: string | null): ServerReply {
  switch (p) {
    case 'ftp':
      return /^230[ -]/.test(line) ? 'ok' : /^530[ -]/.test(line) ? 'fail' : 'other';
    case 'smtp':
      return /^235[ -]/.test(line) ? 'ok' : /^535[ -]/.test(line) ? 'fail' : /^334[ -]?/.test(line) ? 'challenge' : 'other';
    case 'pop3':
      return line.startsWith('+OK') ? 'ok' : line.startsWith('-ERR') ? 'fail' : line.startsWith('+ ') || line === '+' ? 'challenge' : 'other';
    case 'imap': {
      if (line.startsWith('+')) return 'challenge';
      if (!loginTag || !line.startsWith(`${loginTag} `)) return 'other';
      const status = line.slice(loginTag.length + 1, loginTag.length + 4).toUpperCase();
      return status.startsWith('OK') ? 'ok' : status.startsWith('NO') || status.startsWith('BAD') ? 'fail' : 'other';
    }
    default:
      return 'other';
  }
}

/**
 * Telnet (RFC 854): the text of a buffer without its commands (IAC sequences, RFC 854 p.14;
 * subnegotiation IAC SB ... IAC SE, RFC 855). `state` carries a command split across calls.
 */
export function telnetText(buf: Buffer, off: number, end: number, state: { mode: number }): string {
  // Most segments hold no IAC at all: one native conversion instead of a string built per byte.
  if (state.mode === 0 && (end <= off || !includesIac(buf, off, end))) return buf.toString('latin1', off, end);
  let out = '';
  for (let i = off; i < end; i++) {
    const c = buf[i];
    switch (state.mode) {
      case 0: // data
        if (c === 255) state.mode = 1;
        else out += String.fromCharCode(c);
        break;
      case 1: // after IAC
        if (c === 255) {
          out += '\xff';
          state.mode = 0;
        } else if (c >= 251 && c <= 254) state.mode = 2;
        else if (c === 250) state.mode = 3;
        else state.mode = 0;
        break;
      case 2: // option byte of WILL/WONT/DO/DONT
        state.mode = 0;
        break;
      case 3: // inside SB
        if (c === 255) state.mode = 4;
        break;
      case 4: // IAC inside SB
        state.mode = c === 240 ? 0 : 3;
        break;
    }
  }
  return out;
}

/** A server's login and password prompts, and the usual outcomes, as Unix login prints them. */
function includesIac(buf: Buffer, off: number, end: number): boolean {
  // Not buf.indexOf: buf may be a whole read chunk, and the search must stop at `end`.
  for (let i = off; i < end; i++) if (buf[i] === 255) return true;
  return false;
}

/**
 * What a server segment leaves of the screen's last line: with no IAC in it (state at data), only
 * its last `tail` bytes can matter, and only those are converted.
 */
export function telnetTail(buf: Buffer, off: number, end: number, state: { mode: number }, tail: number): string {
  if (end - off > tail && state.mode === 0 && !includesIac(buf, off, end)) return buf.toString('latin1', end - tail, end);
  return telnetText(buf, off, end, state);
}

export function telnetPrompt(text: string): 'user' | 'pass' | 'fail' | 'ok' | null {
  const t = text.trimEnd();
  if (/(login|username|user name):$/i.test(t)) return 'user';
  if (/password:$/i.test(t)) return 'pass';
  if (/login incorrect|authentication fail|access denied|permission denied/i.test(t)) return 'fail';
  if (/last login|[$#>] ?$/.test(t)) return 'ok';
  return null;
}

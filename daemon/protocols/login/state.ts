/**
 * A cleartext login session (FTP, POP3, IMAP, SMTP, Telnet): lines of both directions through
 * parser.ts; reports who logged in, whether a password went over the wire (never its value),
 * whether the server took it, and whether the session switched to TLS (then it stops).
 */
import { type FlowContext, PendingBytes, type StreamParser } from '../parser-types.js';
import { base64Text, clientLine, type LoginProtocol, saslPlain, serverLine, telnetPrompt, telnetTail, telnetText } from './parser.js';

export interface LoginFacts {
  protocol: LoginProtocol;
  username: string | null;
  passwordPresent: boolean;
  mechanism: string | null;
  accepted: boolean | null;
  anonymous: boolean;
  starttls: boolean;
  commands: number;
}

const LINE_LIMIT = 4096;
const ANONYMOUS = /^(anonymous|ftp)$/i;

/** Bytes of a greeting read at most: IMAP capability lists and SMTP banners can be long. */
export const GREETING_LIMIT = 4096;

const SMTP_PORTS = [25, 587, 2525];
const SMTP_WORDS = /E?SMTP|postfix|exim|sendmail|mail/i;

/**
 * What a greeting says: the protocol, or `pending-220` for a 220 reply cut by the segment's end
 * before anything named SMTP or FTP (a long multi-line banner, or one written line by line): the
 * session then reads the rest of it and decides (it reports no application until then).
 */
export type Greeting = LoginProtocol | 'pending-220';

/**
 * The greeting (the server's first reply) that marks each protocol, or null: POP3 `+OK` (RFC
 * 1939 §4), IMAP `* OK`/`* PREAUTH` (RFC 9051 §7.1.1, §7.1.4), SMTP and FTP `220`, on one line or
 * several (`220-` lines then a `220 ` line, RFC 5321 §4.2.1; RFC 959 §4.2), Telnet option
 * negotiation (RFC 854). The greeting is read to its end within GREETING_LIMIT bytes, and must be
 * text (a CR, LF and TAB aside, no control bytes: RFC 5321 §4.2 textstring, RFC 9051 §9
 * TEXT-CHAR). When the segment ends before the greeting does, the POP3 and IMAP markers decide;
 * a 220 decides by the port or a word already seen, else is `pending-220`.
 */
export function greetingProtocol(buf: Buffer, off: number, len: number, ports: [number, number]): Greeting | null {
  if (len >= 3 && buf[off] === 255 && buf[off + 1] >= 251 && buf[off + 1] <= 254) return 'telnet';
  if (len < 4) return null;
  const end = off + Math.min(len, GREETING_LIMIT);
  // Where the first line ends (its LF), checking it is text on the way.
  let eol = -1;
  for (let i = off; i < end; i++) {
    const c = buf[i];
    if (c === 10) {
      eol = i;
      break;
    }
    if (c < 32 && c !== 9 && c !== 13) return null;
    if (c === 127) return null;
  }
  const lineEnd = eol < 0 ? end : eol;
  const head = buf.toString('latin1', off, Math.min(lineEnd, off + 16));
  // Cut by the segment (no LF yet): the marker and what follows it must be there.
  const cut = eol < 0;
  if (/^\+OK( |\r?$)/.test(head)) return 'pop3';
  if (/^\* (OK|PREAUTH)( |\r?$)/i.test(head) && (!cut || /^\* \S+ /.test(head))) return 'imap';
  if (!/^220[ -]/.test(head)) return null;
  // SMTP's name may be on any line of a multi-line 220: look at them all (what the segment has).
  const r = smtpReply(buf, off, end);
  const p = reply220(r.text, ports);
  if (p) return p;
  // The reply goes on past these bytes (and this is not the limit): the session reads the rest.
  return !r.complete && r.end === off + len && len < GREETING_LIMIT ? 'pending-220' : null;
}

const SMTP_OR_FTP_PORTS = (ports: readonly number[], list: readonly number[]) => list.includes(ports[0]) || list.includes(ports[1]);

/** What a 220 greeting's text names: SMTP (its port or words), FTP, or nothing. */
function reply220(text: string, ports: readonly number[]): LoginProtocol | null {
  if (SMTP_OR_FTP_PORTS(ports, SMTP_PORTS) || SMTP_WORDS.test(text)) return 'smtp';
  if (SMTP_OR_FTP_PORTS(ports, [21]) || /FTP/i.test(text)) return 'ftp';
  return null;
}

/**
 * The text of a 220 reply in buf[off, end): its `220-` continuation lines up to the `220 ` line,
 * or up to the end of the bytes if they stop first (RFC 5321 §4.2.1: every line carries the
 * code, the last one a space after it). A line that is not one (FTP allows free text inside a
 * multi-line reply, RFC 959 §4.2) or not text ends what is read. `complete`: the last line was
 * read to its LF; `end`: where reading stopped.
 */
function smtpReply(buf: Buffer, off: number, end: number): { text: string; complete: boolean; end: number } {
  let p = off;
  const stop = (complete: boolean) => ({ text: buf.toString('latin1', off, p), complete, end: p });
  while (p < end) {
    const n = Math.min(4, end - p);
    for (let k = 0; k < n; k++) {
      const c = buf[p + k];
      if (k < 3 ? c !== (k < 2 ? 0x32 : 0x30) : c !== 0x20 && c !== 0x2d) return stop(true);
    }
    const last = n === 4 && buf[p + 3] === 0x20;
    let nl = p;
    for (; nl < end && buf[nl] !== 10; nl++) if ((buf[nl] < 32 && buf[nl] !== 9 && buf[nl] !== 13) || buf[nl] === 127) return stop(true);
    if (nl >= end) {
      p = end;
      return stop(false);
    }
    p = nl + 1;
    if (last) return stop(true);
  }
  return stop(false);
}

export class LoginSession implements StreamParser {
  readonly encrypted = false;
  readonly f: LoginFacts;
  private readonly pending = [new PendingBytes(LINE_LIMIT), new PendingBytes(LINE_LIMIT)];
  private readonly telnet = [{ mode: 0 }, { mode: 0 }];
  private telnetLine = ['', ''];
  /** What the next client line is, after a challenge or prompt. */
  private expect: 'user' | 'pass' | 'plain' | null = null;
  private loginTag: string | null = null;
  private awaitingVerdict = false;
  private done = false;
  /** A 220 greeting still arriving that has not yet said SMTP or FTP: its text so far. */
  private greeting: string | null = null;

  constructor(
    private readonly ctx: FlowContext,
    protocol: Greeting,
  ) {
    if (protocol === 'pending-220') this.greeting = '';
    // Until the greeting decides, 'smtp' only holds the place: the session reports nothing.
    this.f = { protocol: protocol === 'pending-220' ? 'smtp' : protocol, username: null, passwordPresent: false, mechanism: null, accepted: null, anonymous: false, starttls: false, commands: 0 };
    ctx.followAll();
  }

  get app(): string {
    // The StreamParser type says string; the stage treats null as "not recognised" (see peek()).
    return this.greeting === null ? this.f.protocol : (null as unknown as string);
  }

  facts(): { login: LoginFacts } | null {
    return this.greeting === null ? { login: this.f } : null;
  }

  /** The rest of a pending 220 greeting, line by line: decide at its last line (or its limit). */
  private greetingLine(line: string): void {
    const text = (this.greeting += `${line}\n`);
    const last = /^220 /.test(line) || text.length >= GREETING_LIMIT;
    const p = reply220(text, [this.ctx.origPort, this.ctx.respPort]);
    if (p) {
      this.f.protocol = p;
      this.greeting = null;
    } else if (last) this.drop();
  }

  /** Not a login protocol after all. */
  private drop(): void {
    this.done = true;
    this.ctx.stop();
  }

  gap(dir: number): void {
    this.pending[dir].length = 0;
  }

  data(dir: number, buf: Buffer, off: number, len: number): void {
    if (this.done) return;
    // The client spoke before a pending greeting named its protocol: it never will.
    if (this.greeting !== null && dir === 0) return this.drop();
    if (this.f.protocol === 'telnet') return this.telnetData(dir, buf, off, len);
    const v = this.pending[dir].join(buf, off, len);
    let start = v.off;
    for (let i = v.off; i < v.end; i++) {
      if (v.buf[i] !== 10) continue;
      const line = v.buf.toString('latin1', start, i > start && v.buf[i - 1] === 13 ? i - 1 : i);
      start = i + 1;
      if (dir === 0) this.client(line);
      else if (this.greeting !== null) this.greetingLine(line);
      else this.server(line);
      if (this.done) return;
    }
    // A line longer than the limit is dropped: nothing in these protocols needs one.
    if (!this.pending[dir].keep(v.buf, start, v.end)) this.pending[dir].length = 0;
  }

  private client(line: string): void {
    const f = this.f;
    f.commands++;
    if (this.expect) {
      const e = this.expect;
      this.expect = null;
      if (line === '*') return; // SASL cancel
      if (e === 'plain') {
        const p = saslPlain(line.trim());
        if (p) this.login(p.username, p.present);
      } else if (e === 'user') f.username = base64Text(line.trim()) ?? f.username;
      else this.login(f.username, line.trim().length > 0);
      return;
    }
    const step = clientLine(f.protocol, line);
    if (!step) return;
    this.ctx.emit('login', () => ({ protocol: f.protocol, command: step.kind === 'command' ? step.verb : step.kind, username: 'username' in step ? step.username : null, passwordPresent: 'present' in step ? step.present : null }), 0);
    switch (step.kind) {
      case 'user':
        f.username = step.username;
        f.anonymous = ANONYMOUS.test(step.username);
        break;
      case 'pass':
        this.login(f.username, step.present);
        break;
      case 'user-pass':
        f.mechanism = step.mechanism;
        this.login(step.username, step.present);
        if (f.protocol === 'imap') this.loginTag = /^(\S+)/.exec(line)![1];
        break;
      case 'sasl':
        f.mechanism = step.mechanism;
        if (f.protocol === 'imap') this.loginTag = step.tag;
        break;
      case 'starttls':
        f.starttls = true;
        break;
    }
  }

  private login(username: string | null, present: boolean): void {
    const f = this.f;
    if (username) {
      f.username = username;
      f.anonymous = ANONYMOUS.test(username);
    }
    f.passwordPresent ||= present;
    this.awaitingVerdict = true;
  }

  private server(line: string): void {
    const f = this.f;
    const r = serverLine(f.protocol, line, this.loginTag);
    if (f.starttls && (r === 'ok' || /^220[ -]/.test(line) || /^\+OK/.test(line) || /^\S+ OK/i.test(line))) {
      // The server agreed to TLS: what follows is encrypted, nothing more to read.
      this.done = true;
      this.ctx.stop();
      return;
    }
    if (r === 'challenge') {
      // SASL LOGIN asks for the user name then the password (RFC 4954 §4 example); PLAIN for one blob.
      const mech = f.mechanism;
      if (mech === 'LOGIN') {
        const text = base64Text(line.replace(/^(334 ?|\+ ?)/, '').trim()) ?? '';
        this.expect = /pass/i.test(text) || f.username !== null ? 'pass' : 'user';
      } else if (mech === 'PLAIN') this.expect = 'plain';
      return;
    }
    if (r === 'fail' && f.protocol === 'ftp' && !this.awaitingVerdict && f.username !== null && f.accepted === null) {
      // 530 straight after USER: the server refused the user before any password (RFC 959 §5.4).
      f.accepted = false;
      return;
    }
    // Only the reply to the login itself counts (later commands have their own OK/NO).
    if (!this.awaitingVerdict || (r !== 'ok' && r !== 'fail')) return;
    f.accepted = r === 'ok';
    this.awaitingVerdict = false;
    this.ctx.emit('login', () => ({ protocol: f.protocol, accepted: f.accepted, username: f.username }), 1);
  }

  /** Telnet: the server prompts, the client types (often a byte per segment). */
  private telnetData(dir: number, buf: Buffer, off: number, len: number): void {
    const f = this.f;
    const text = dir === 1 ? telnetTail(buf, off, off + len, this.telnet[1], 256) : telnetText(buf, off, off + len, this.telnet[0]);
    if (dir === 1) {
      this.telnetLine[1] = (this.telnetLine[1] + text).slice(-256);
      const lastLine = this.telnetLine[1].split(/[\r\n]/).pop() ?? '';
      const seen = telnetPrompt(lastLine) ?? telnetPrompt(this.telnetLine[1]);
      if (seen === 'user' || seen === 'pass') this.expect = seen;
      else if ((seen === 'fail' || seen === 'ok') && this.awaitingVerdict) {
        f.accepted = seen === 'ok';
        this.awaitingVerdict = false;
        this.ctx.emit('login', () => ({ protocol: 'telnet', accepted: f.accepted, username: f.username }), 1);
        // Logged in: what follows is the shell session, with nothing more of the login to learn
        // (a refused login goes on: the next attempt may follow).
        if (f.accepted) {
          this.done = true;
          this.ctx.stop();
        }
      }
      if (/[\r\n]/.test(text)) this.telnetLine[1] = lastLine;
      return;
    }
    for (const ch of text) {
      if (ch === '\r' || ch === '\n') {
        const line = this.telnetLine[0];
        this.telnetLine[0] = '';
        if (!this.expect) continue;
        const e = this.expect;
        this.expect = null;
        this.telnetLine[1] = '';
        f.commands++;
        if (e === 'user') {
          f.username = line.trim() || f.username;
          this.ctx.emit('login', () => ({ protocol: 'telnet', command: 'user', username: f.username, passwordPresent: null }), 0);
        } else {
          this.login(f.username, line.length > 0);
          this.ctx.emit('login', () => ({ protocol: 'telnet', command: 'pass', username: f.username, passwordPresent: line.length > 0 }), 0);
        }
      } else if (ch !== '\0' && this.telnetLine[0].length < 256) {
        this.telnetLine[0] += ch === '\x7f' || ch === '\b' ? '' : ch;
        if (ch === '\x7f' || ch === '\b') this.telnetLine[0] = this.telnetLine[0].slice(0, -1);
      }
    }
  }
}

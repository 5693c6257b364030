/**
 * A cleartext login session (FTP, POP3, IMAP, SMTP, Telnet): lines of both directions through
 * parser.ts; reports who logged in, whether a password went over the wire (never its value),
 * whether the server took it, and whether the session switched to TLS (then it stops).
 */
import { type FlowContext, PendingBytes, type StreamParser } from '../parser-types.js';
import { base64Text, clientLine, type LoginProtocol, saslPlain, serverLine, telnetPrompt, telnetText } from './parser.js';

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

/** The greeting (first server line) that marks each protocol, or null. */
export function greetingProtocol(buf: Buffer, off: number, len: number, ports: [number, number]): LoginProtocol | null {
  if (len >= 3 && buf[off] === 255 && buf[off + 1] >= 251 && buf[off + 1] <= 254) return 'telnet';
  const head = buf.toString('latin1', off, off + Math.min(len, 256));
  const line = head.split(/\r?\n/)[0];
  if (!/\r?\n/.test(head)) return null;
  if (/^\+OK( |$)/.test(line)) return 'pop3';
  if (/^\* (OK|PREAUTH)( |$)/i.test(line)) return 'imap';
  if (/^220[ -]/.test(line)) {
    const has = (p: number[]) => p.includes(ports[0]) || p.includes(ports[1]);
    if (has([25, 587, 2525]) || /E?SMTP|postfix|exim|sendmail|mail/i.test(line)) return 'smtp';
    if (has([21]) || /FTP/i.test(line)) return 'ftp';
  }
  return null;
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

  constructor(
    private readonly ctx: FlowContext,
    protocol: LoginProtocol,
  ) {
    this.f = { protocol, username: null, passwordPresent: false, mechanism: null, accepted: null, anonymous: false, starttls: false, commands: 0 };
    ctx.followAll();
  }

  get app(): string {
    return this.f.protocol;
  }

  facts(): Record<string, unknown> {
    return { login: this.f };
  }

  gap(dir: number): void {
    this.pending[dir].length = 0;
  }

  data(dir: number, buf: Buffer, off: number, len: number): void {
    if (this.done) return;
    if (this.f.protocol === 'telnet') return this.telnetData(dir, buf, off, len);
    const v = this.pending[dir].join(buf, off, len);
    let start = v.off;
    for (let i = v.off; i < v.end; i++) {
      if (v.buf[i] !== 10) continue;
      const line = v.buf.toString('latin1', start, i > start && v.buf[i - 1] === 13 ? i - 1 : i);
      start = i + 1;
      if (dir === 0) this.client(line);
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
    const text = telnetText(buf, off, off + len, this.telnet[dir]);
    if (dir === 1) {
      this.telnetLine[1] = (this.telnetLine[1] + text).slice(-256);
      const lastLine = this.telnetLine[1].split(/[\r\n]/).pop() ?? '';
      const seen = telnetPrompt(lastLine) ?? telnetPrompt(this.telnetLine[1]);
      if (seen === 'user' || seen === 'pass') this.expect = seen;
      else if ((seen === 'fail' || seen === 'ok') && this.awaitingVerdict) {
        f.accepted = seen === 'ok';
        this.awaitingVerdict = false;
        this.ctx.emit('login', () => ({ protocol: 'telnet', accepted: f.accepted, username: f.username }), 1);
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

/** Cleartext logins' contract (see ../contract.ts): FTP, POP3, IMAP, SMTP AUTH and Telnet. */
import { flag, type ProtocolContract } from '../contract.js';
import type { LoginFacts } from './state.js';
import { greetingProtocol, LoginSession } from './state.js';

const clear = <T>(v: { encrypted: boolean }, x: T): T | undefined => (v.encrypted ? undefined : x);

export const login = {
  key: 'login',
  title: 'Logins: FTP (RFC 959), POP3 (RFC 1939), IMAP (RFC 9051), SMTP AUTH (RFC 4954), Telnet (RFC 854)',
  apps: { ftp: 'FTP', pop3: 'POP3', imap: 'IMAP', smtp: 'SMTP', telnet: 'Telnet' },
  // FTP, POP3, IMAP, SMTP and Telnet servers speak first: their greeting names them.
  stream: {
    greeting: (ctx, dir, buf, off, len) => {
      if (dir !== 1) return null;
      const p = greetingProtocol(buf, off, len, [ctx.origPort, ctx.respPort]);
      return p ? new LoginSession(ctx, p) : null;
    },
  },
  fields: [
    { name: 'login.protocol', type: 'string', description: 'The login protocol: ftp, pop3, imap, smtp or telnet.', value: (f, v) => clear(v, f.protocol), says: (xs, c) => `it logs in over ${xs.map((x) => c.appName(String(x))).join(', ')}, unencrypted` },
    {
      name: 'login.passwordPresent',
      type: 'boolean',
      description: 'The device sent a password in cleartext (its value is never kept).',
      value: (f, v) => clear(v, v.deviceIsClient && f.passwordPresent),
      says: flag((c) => `its ${c.appName(String(c.field('login.protocol') ?? '')) || 'login'} password travels in cleartext`, 'it sends no cleartext password'),
    },
    { name: 'login.accepted', type: 'boolean', description: 'The server accepted the login.', value: (f, v) => clear(v, f.accepted === true), says: flag('the server accepted the login', 'the server refused the login') },
  ],
  evidence: (x) => x,
} satisfies ProtocolContract<'login', LoginFacts>;

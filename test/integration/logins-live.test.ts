/**
 * Cleartext logins against real servers in a test "cloud": vsftpd (FTP), dovecot (IMAP, POP3),
 * aiosmtpd (SMTP AUTH), inetutils telnetd (Telnet), driven by curl and the telnet client. The
 * user names we read are compared with tshark's credentials report (an independent dissector);
 * the alert must say a password was sent, and no output may contain one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoginFacts } from '../../daemon/protocols/login/state.js';
import type { AnalysisReport, FlowRecord } from '../../daemon/report/types.js';
import { vigie } from '../helpers/cli.js';
import { HomeLab, haveCommands, waitForListen } from '../helpers/home-lab.js';
import { canMakeNamespaces } from '../helpers/netns.js';

const ready =
  canMakeNamespaces() && haveCommands('vsftpd', 'dovecot', 'aiosmtpd', 'socat', 'telnet', 'curl', 'tcpdump', 'tshark') && fs.existsSync('/usr/sbin/telnetd');

const SERVER = '192.0.2.40';
const PC = '52:54:00:12:34:56';
const SECRET = 'Pa55-w0rd-never-shown';

type Login = LoginFacts;

describe.skipIf(!ready)('cleartext logins to real servers', () => {
  let lab: HomeLab;
  let report: AnalysisReport;
  let json: string;
  let pcap: string;
  const logins = (proto: string): { flow: FlowRecord; login: Login }[] =>
    report.flows.filter((f) => (f.protocol as { login?: Login } | null)?.login?.protocol === proto).map((flow) => ({ flow, login: (flow.protocol as { login: Login }).login }));

  beforeAll(async () => {
    lab = new HomeLab('vigie-lgn-');
    const d = lab.dir;
    fs.chmodSync(d, 0o755); // dovecot's mail process runs as nobody
    lab.cloudAddress(SERVER);
    // vsftpd: anonymous logins allowed (any password), local users refused.
    fs.mkdirSync(path.join(d, 'empty'));
    fs.mkdirSync(path.join(d, 'ftproot'));
    fs.writeFileSync(
      path.join(d, 'vsftpd.conf'),
      ['listen=YES', `listen_address=${SERVER}`, 'background=NO', 'anonymous_enable=YES', 'local_enable=NO', 'no_anon_password=NO', `anon_root=${d}/ftproot`, `secure_chroot_dir=${d}/empty`, 'run_as_launching_user=YES', 'seccomp_sandbox=NO', 'pasv_enable=YES', 'xferlog_enable=NO', ''].join('\n'),
    );
    lab.spawn(lab.cloud, ['vsftpd', path.join(d, 'vsftpd.conf')]);
    // dovecot: IMAP and POP3 without TLS, one user in a passwd-file.
    const mail = path.join(d, 'mail');
    fs.mkdirSync(mail, { mode: 0o777 });
    fs.chmodSync(mail, 0o777);
    fs.writeFileSync(path.join(d, 'users'), `bob:{PLAIN}${SECRET}::::${mail}/bob\n`);
    fs.writeFileSync(
      path.join(d, 'dovecot.conf'),
      [
        `base_dir = ${d}/dovecot-run`,
        `state_dir = ${d}/dovecot-state`,
        'protocols = imap pop3',
        `listen = ${SERVER}`,
        'ssl = no',
        'disable_plaintext_auth = no',
        'auth_mechanisms = plain login',
        'log_path = /dev/stderr',
        'mail_location = maildir:~/Maildir',
        'first_valid_uid = 1',
        `passdb {\n  driver = passwd-file\n  args = ${d}/users\n}`,
        `userdb {\n  driver = static\n  args = uid=nobody gid=nogroup home=${mail}/%u\n}`,
        '',
      ].join('\n'),
    );
    lab.spawn(lab.cloud, ['dovecot', '-F', '-c', path.join(d, 'dovecot.conf')]);
    // aiosmtpd with AUTH over cleartext (what a badly set up relay does).
    fs.writeFileSync(
      path.join(d, 'smtpd.py'),
      [
        'import asyncio',
        'from aiosmtpd.controller import Controller',
        'from aiosmtpd.smtp import AuthResult',
        'class H:',
        '    async def handle_DATA(self, server, session, envelope):',
        "        return '250 OK'",
        'def auth(server, session, envelope, mechanism, data):',
        `    return AuthResult(success=(data.login == b'bob' and data.password == b'${SECRET}'))`,
        `c = Controller(H(), hostname='${SERVER}', port=25, authenticator=auth, auth_require_tls=False)`,
        'c.start()',
        'asyncio.get_event_loop().run_forever()',
      ].join('\n'),
    );
    lab.spawn(lab.cloud, ['/usr/bin/python3', path.join(d, 'smtpd.py')]);
    // telnetd behind socat, with a login program that prompts as login(1) does.
    fs.writeFileSync(
      path.join(d, 'login.sh'),
      `#!/bin/sh\nprintf 'camlogin: '\nread u\nprintf 'Password: '\nread p\necho\nif [ "$p" = "${SECRET}" ]; then echo 'Last login: never'; printf '$ '; read x; else echo 'Login incorrect'; fi\n`,
      { mode: 0o755 },
    );
    lab.spawn(lab.cloud, ['socat', `TCP-LISTEN:23,bind=${SERVER},reuseaddr,fork`, `EXEC:/usr/sbin/telnetd -E ${d}/login.sh`]);
    // A web server for an HTTP Basic login (RFC 7617).
    fs.mkdirSync(path.join(d, 'www'));
    lab.spawn(lab.cloud, ['/usr/bin/python3', '-m', 'http.server', '--bind', SERVER, '--directory', path.join(d, 'www'), '80']);
    for (const p of [21, 143, 110, 25, 23, 80]) await waitForListen(lab, lab.cloud, p, 15_000);

    const pc = lab.host('pc', PC);
    lab.address(pc, '192.168.50.31/24');
    pcap = path.join(d, 'logins.pcap');
    await lab.startCapture(pcap);
    const c = (cmd: string) => lab.sh(pc.ns, `${cmd} || true`, 30_000);
    c(`curl -s --max-time 10 -u anonymous:${SECRET} ftp://${SERVER}/ -o /dev/null`);
    c(`curl -s --max-time 10 -u bob:${SECRET} ftp://${SERVER}/ -o /dev/null`);
    c(`curl -s --max-time 10 -u bob:${SECRET} imap://${SERVER}/ -o /dev/null`);
    c(`curl -s --max-time 10 -u bob:wrong-${SECRET} imap://${SERVER}/ -o /dev/null`);
    c(`curl -s --max-time 10 -u bob:${SECRET} pop3://${SERVER}/ -o /dev/null`);
    fs.writeFileSync(path.join(d, 'mail.txt'), 'Subject: hi\r\n\r\nhello\r\n');
    c(`curl -s --max-time 10 -u bob:${SECRET} --login-options AUTH=PLAIN --mail-from a@example.org --mail-rcpt b@example.org -T ${d}/mail.txt smtp://${SERVER}/`);
    c(`curl -s --max-time 10 -u bob:${SECRET} --login-options AUTH=LOGIN --mail-from a@example.org --mail-rcpt b@example.org -T ${d}/mail.txt smtp://${SERVER}/`);
    c(`curl -s --max-time 10 -u bob:${SECRET} http://${SERVER}/ -o /dev/null`);
    c(`(sleep 1; echo admin; sleep 1; echo '${SECRET}'; sleep 1; echo exit; sleep 1) | timeout 10 telnet ${SERVER} 23 >/dev/null 2>&1`);
    await lab.stopCapture();
    if (process.env.VIGIE_KEEP_PCAP) fs.copyFileSync(pcap, process.env.VIGIE_KEEP_PCAP);
    const cfg = path.join(d, 'vigie.yaml');
    fs.writeFileSync(cfg, 'homeCountry: FR\nnetworks:\n  - { cidr: 192.0.2.0/24, country: US, org: "Example Mail (test)" }\n');
    const r = vigie(['analyze', pcap, '--json', '--config', cfg]);
    expect(r.stderr).toBe('');
    json = r.stdout;
    report = JSON.parse(json) as AnalysisReport;
  }, 180_000);

  afterAll(() => lab?.destroy());

  function tsharkRows(filter: string, fields: string[]): string[][] {
    const out = lab.sh(lab.router, `tshark -r ${pcap} -Y '${filter}' -T fields ${fields.map((f) => `-e ${f}`).join(' ')} -E separator=/t`);
    return out.split('\n').filter((l) => l.trim() !== '').map((l) => l.split('\t'));
  }

  /** User names in the SASL responses tshark shows (PLAIN: RFC 4616; LOGIN: base64 of the name). */
  function saslUsers(values: string[], plainOnly = false): string[] {
    const users: string[] = [];
    for (const v of values) {
      for (const tok of v.split(/[\s,]+/)) {
        if (!/^[A-Za-z0-9+/]{4,}={0,2}$/.test(tok)) continue;
        const raw = Buffer.from(tok, 'base64');
        const parts = raw.toString('latin1').split('\0');
        if (parts.length === 3) users.push(parts[1]);
        else if (!plainOnly && /^[\x20-\x7e]+$/.test(raw.toString('latin1')) && raw.length < 64) users.push(raw.toString('latin1'));
      }
    }
    return users;
  }

  /** tshark's credentials table: protocol and user name per packet. */
  function tsharkCredentials(): { protocol: string; username: string }[] {
    const out = lab.sh(lab.router, `tshark -r ${pcap} -q -z credentials`);
    const rows: { protocol: string; username: string }[] = [];
    for (const line of out.split('\n')) {
      const m = /^\s*\d+\s+(\S+)\s+(\S+)/.exec(line);
      if (m) rows.push({ protocol: m[1].toLowerCase(), username: m[2] });
    }
    return rows;
  }

  it('FTP: anonymous accepted; bob refused at USER (vsftpd is anonymous-only), so no password left; user names as tshark reads them', () => {
    const f = logins('ftp').map((x) => x.login);
    expect(f.map((l) => [l.username, l.passwordPresent, l.accepted, l.anonymous])).toEqual([
      ['anonymous', true, true, true],
      ['bob', false, false, false],
    ]);
    expect(tsharkCredentials().filter((c) => c.protocol === 'ftp').map((c) => c.username)).toEqual(['anonymous']);
    const users = tsharkRows('ftp.request.command == "USER"', ['ftp.request.arg']).map((r) => r[0]);
    expect(f.map((l) => l.username)).toEqual(users);
  });

  it('IMAP and POP3 against dovecot: user, password present, accepted or not', () => {
    expect(logins('imap').map((x) => [x.login.username, x.login.passwordPresent, x.login.accepted])).toEqual([
      ['bob', true, true],
      ['bob', true, false],
    ]);
    expect(logins('pop3').map((x) => [x.login.username, x.login.passwordPresent, x.login.accepted])).toEqual([['bob', true, true]]);
    expect(saslUsers(tsharkRows('imap.request.command == "AUTHENTICATE"', ['imap.request']).map((r) => r[0]))).toEqual(['bob', 'bob']);
    // tshark shows the SASL response line as a command of its own.
    expect(saslUsers(tsharkRows('pop.request', ['pop.request.command']).map((r) => r[0] ?? ''), true)).toEqual(['bob']);
  });

  it('SMTP AUTH PLAIN and LOGIN against aiosmtpd: the user inside the SASL exchange, accepted', () => {
    expect(logins('smtp').map((x) => [x.login.mechanism, x.login.username, x.login.passwordPresent, x.login.accepted])).toEqual([
      ['PLAIN', 'bob', true, true],
      ['LOGIN', 'bob', true, true],
    ]);
    const rows = tsharkRows('smtp.auth.username || smtp.auth.username_password', ['smtp.auth.username_password', 'smtp.auth.username']);
    expect(saslUsers(rows.map((r) => r.join(' ')))).toEqual(['bob', 'bob']);
  });

  it('Telnet through telnetd: the user typed at the prompt, password present, accepted', () => {
    expect(logins('telnet').map((x) => [x.login.username, x.login.passwordPresent, x.login.accepted])).toEqual([['admin', true, true]]);
  });

  it('every login with a password raises the cleartext-credentials alert; Telnet is critical', () => {
    const alerts = report.alerts.filter((a) => a.rule === 'credentials-cleartext-internet');
    // One alert per destination: the server, whatever the protocol (all on one address).
    expect(alerts).toHaveLength(1);
    const a = alerts[0];
    expect(a.severity).toBe('critical');
    const withPassword = ['ftp', 'imap', 'pop3', 'smtp', 'telnet'].flatMap((p) => logins(p)).filter((x) => x.login.passwordPresent);
    expect(withPassword).toHaveLength(7);
    const basic = report.flows.filter((f) => ((f.protocol as { http?: { authorization: string[] } } | null)?.http?.authorization ?? []).includes('Basic'));
    expect(basic).toHaveLength(1);
    expect(a.count).toBe(withPassword.length + basic.length);
    expect(tsharkRows('http.authorization', ['http.authbasic']).length).toBe(1);
    expect(a.destination).toMatchObject({ ip: SERVER, country: 'US' });
  });

  it('no output contains the password', () => {
    expect(json).not.toContain(SECRET);
    expect(vigie(['analyze', pcap, '--events']).stdout).not.toContain(SECRET);
  });
});

/**
 * Flows recognised without their beginning, and look-alikes that must not be, on traffic of real
 * programs in namespaces; tshark reads the same capture as the independent oracle.
 * - TLS after the handshake: openssl s_client sessions (TLS 1.3, 1.2, 1.0, and 1.2 on the MQTT
 *   port 8883) complete their handshake before tcpdump starts, then exchange lines: tls with
 *   helloSeen false and the record version; a fully captured curl session keeps its hello.
 * - DNS over TCP: dig +tcp against dnsmasq is dns; an XMPP stream and protobuf frames behind a
 *   2-byte length (which the former DNS check took for queries) on 5222 and 443 are not.
 * - Long greetings: dovecot (IMAP, POP3) with a 300+ byte login_greeting and aiosmtpd with a
 *   multi-line 220 whose only "ESMTP" is on its last line, on ports that say nothing, written at
 *   once or line by line: the login (password present) and STARTTLS are still seen.
 * - WebSocket after the Upgrade: ws (npm) clients and servers, plain and permessage-deflate, and
 *   MQTT inside (a ws-to-TCP bridge in front of mosquitto): websocket or mqtt-ws, upgradeSeen false.
 *
 * Namespaces are named vmid-*, links vm*, addresses 10.242.0.0/24.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoginFacts } from '../../daemon/protocols/login/state.js';
import type { TlsFacts } from '../../daemon/protocols/tls/state.js';
import type { WebSocketFacts } from '../../daemon/protocols/websocket/state.js';
import type { MqttFacts } from '../../daemon/protocols/mqtt/state.js';
import type { AnalysisReport, FlowRecord } from '../../daemon/report/types.js';
import { vigie } from '../helpers/cli.js';
import { ROOT } from '../helpers/corpus.js';
import { haveCommands } from '../helpers/home-lab.js';
import { canMakeNamespaces, sleep, TestNet } from '../helpers/netns.js';
import { tsharkFields } from '../helpers/tshark.js';

const root = canMakeNamespaces();
const tools = haveCommands('openssl', 'dnsmasq', 'dig', 'socat', 'dovecot', 'curl', 'mosquitto', 'tcpdump', 'tshark') && fs.existsSync('/usr/bin/python3');
const reason = !root ? 'needs root and ip netns' : !tools ? 'needs openssl, dnsmasq, dig, socat, dovecot, curl, mosquitto, python3-aiosmtpd, tcpdump and tshark' : '';

const CLI = '10.242.0.1';
const SRV = '10.242.0.2';
const SECRET = 'Mid-str34m-never-shown';
/** 330 bytes of greeting: longer than the 256 the greeting probe used to read. */
const LONG = `Vigie test mail service. ${'This server greets with a long text, as some appliances and hosted mail do with their legal notices. '.repeat(3)}Welcome.`;

/** A notice without the words that name SMTP (the greeting probe's keywords), on the 220- lines. */
const NOTICE = 'This relay greets with a long notice, as appliances and hosted services do with their legal texts. '.repeat(3).trim();

/** The ws scripts: a server (echo, optionally permessage-deflate), a ws-to-TCP bridge to mosquitto, a client driven by stdin. */
const WS_JS = String.raw`
import { createRequire } from 'node:module';
import net from 'node:net';
import readline from 'node:readline';
const require = createRequire(process.argv[2]);
const { WebSocket, WebSocketServer } = require('ws');
const [mode, host, port, extra] = process.argv.slice(3);
if (mode === 'server' || mode === 'bridge') {
  const wss = new WebSocketServer({ host, port: Number(port), perMessageDeflate: extra === 'deflate' ? { threshold: 0 } : false });
  wss.on('connection', (s) => {
    if (mode === 'server') return s.on('message', (m, binary) => s.send(m, { binary }));
    const t = net.connect(1883, '127.0.0.1');
    t.on('data', (d) => s.send(d, { binary: true }));
    s.on('message', (m) => t.write(m));
    s.on('close', () => t.end());
    t.on('close', () => s.close());
  });
  wss.on('listening', () => console.log('listening'));
} else {
  const ws = new WebSocket('ws://' + host + ':' + port + '/live', extra ? [extra] : undefined);
  const str = (s) => { const b = Buffer.from(s); return Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]); };
  const packet = (h, body) => Buffer.concat([Buffer.from([h, body.length]), body]);
  ws.on('open', () => {
    console.log('open');
    // MQTT 3.1.1 CONNECT (clean session, keep-alive 60) before the capture starts.
    if (extra === 'mqtt') ws.send(packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 2, 0, 60]), str('vigie-mid')])));
  });
  ws.on('message', (m, binary) => console.log(binary && m[0] === 0x20 ? 'connack' : 'got ' + m.length));
  ws.on('pong', () => console.log('pong'));
  ws.on('close', (c) => { console.log('closed ' + c); process.exit(0); });
  readline.createInterface({ input: process.stdin }).on('line', (l) => {
    const [cmd, n] = l.split(' ');
    if (cmd === 'text') ws.send(JSON.stringify({ seq: Number(n), temperature: 21.5, room: 'salle de séjour' }));
    if (cmd === 'binary') ws.send(Buffer.alloc(Number(n), 0xab));
    if (cmd === 'ping') ws.ping('hb');
    if (cmd === 'close') ws.close(1000, 'bye');
    if (cmd === 'subscribe') ws.send(packet(0x82, Buffer.concat([Buffer.from([0, 1]), str('vigie/mid/#'), Buffer.from([0])])));
    if (cmd === 'publish') ws.send(packet(0x30, Buffer.concat([str('vigie/mid/temperature'), Buffer.from('{"t":21.5}')])));
    if (cmd === 'pingreq') ws.send(Buffer.from([0xc0, 0]));
    if (cmd === 'disconnect') ws.send(Buffer.from([0xe0, 0]));
  });
}
`;

/**
 * aiosmtpd with a multi-line 220 (RFC 5321 §4.2.1) whose only "ESMTP" is on the last line, AUTH
 * and STARTTLS: on 10025 the reply in one write, on 10026 in two, the first ending inside the
 * notice (the next segment starts mid-line: no probe of it alone can read it as a greeting).
 */
const SMTPD_PY = (d: string) => `
import asyncio, ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult
LINES = ['relay.example.test welcomes you', ${JSON.stringify(NOTICE)}, 'Unsolicited bulk messages are refused']
class Banner(SMTP):
    greeted = False
    async def push(self, status):
        if not self.greeted and status.startswith('220 '):
            self.greeted = True
            lines = ['220-' + l for l in LINES] + ['220 relay.example.test ESMTP ready']
            if self.split:
                # Two writes, the first ending inside the notice line: the next segment starts mid-line.
                whole = ('\\r\\n'.join(lines) + '\\r\\n').encode()
                cut = whole.index(b'long notice')
                self._writer.write(whole[:cut])
                await self._writer.drain()
                await asyncio.sleep(0.1)
                self._writer.write(whole[cut:])
                await self._writer.drain()
                return
            status = '\\r\\n'.join(lines)
        await super().push(status)
class Whole(Banner):
    split = False
class Split(Banner):
    split = True
class H:
    async def handle_DATA(self, server, session, envelope):
        return '250 OK'
def auth(server, session, envelope, mechanism, data):
    return AuthResult(success=(data.login == b'bob' and data.password == b'${SECRET}'))
class C(Controller):
    def __init__(self, cls, *a, **k):
        self.cls = cls
        super().__init__(*a, **k)
    def factory(self):
        return self.cls(self.handler, **self.SMTP_kwargs)
tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain('${d}/cert.pem', '${d}/key.pem')
for cls, port in ((Whole, 10025), (Split, 10026)):
    C(cls, H(), hostname='${SRV}', port=port, authenticator=auth, auth_require_tls=False, tls_context=tls).start()
print('listening', flush=True)
asyncio.get_event_loop().run_forever()
`;

/** Protobuf frames behind a 2-byte big-endian length: field 1 (varint), 2 (string), 3 (varint 0), 4 (string). */
function protobufFrame(a: Buffer, text: string): Buffer {
  const body = Buffer.concat([a, Buffer.from([0x22, Buffer.byteLength(text)]), Buffer.from(text)]);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length);
  return Buffer.concat([len, body]);
}
/** 08 96 01 | 12 06 "vigie!" | 18 00: the former check read id 0x0896, opcode 0, 0x0676 questions and a root name. */
const FRAME_5222 = protobufFrame(Buffer.from([0x08, 0x96, 0x01, 0x12, 0x06, ...Buffer.from('vigie!'), 0x18, 0x00]), 'sensor=kitchen;temperature=21.5;humidity=40');
/** 08 01 | 10 e8 07 | 1a 04 "ping" | 20 00: opcode 2 (STATUS), 0x071a questions, a root name. */
const FRAME_443 = protobufFrame(Buffer.from([0x08, 0x01, 0x10, 0xe8, 0x07, 0x1a, 0x04, ...Buffer.from('ping'), 0x20, 0x00]), 'device=plug-42;firmware=1.0.17;uptime=86400');
const XMPP_CLIENT = "<?xml version='1.0'?><stream:stream to='example.test' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
const XMPP_SERVER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='5bc1a2f0' from='example.test' version='1.0' xml:lang='en'><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>";

/** A child process whose output is kept from the start, to wait for a line in it. */
class Proc {
  out = '';
  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.out += d.toString()));
  }
  async waitFor(what: string | RegExp, ms = 15_000): Promise<void> {
    const until = Date.now() + ms;
    const seen = () => (typeof what === 'string' ? this.out.includes(what) : what.test(this.out));
    while (!seen()) {
      if (this.child.exitCode !== null) throw new Error(`exited ${this.child.exitCode} before ${String(what)}: ${this.out}`);
      if (Date.now() > until) throw new Error(`no ${String(what)} in: ${this.out}`);
      await sleep(50);
    }
  }
  write(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }
}

/** TLS sessions whose handshake precedes the capture: server port, openssl version options, expected record version. */
const TLS_CASES = [
  { port: 4433, opts: ['-tls1_3'], record: 'TLSv1.2', version: null, app: 'tls' },
  { port: 4434, opts: ['-tls1_2'], record: 'TLSv1.2', version: null, app: 'tls' },
  { port: 4435, opts: ['-tls1', '-cipher', 'DEFAULT:@SECLEVEL=0'], record: 'TLSv1.0', version: 'TLSv1.0', app: 'tls' },
  { port: 8883, opts: ['-tls1_2'], record: 'TLSv1.2', version: null, app: 'mqtt-tls' },
] as const;

describe.skipIf(!root || !tools)(`flows seen without their start, on real programs in namespaces${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let net: TestNet;
  let dir: string;
  let pcap: string;
  let report: AnalysisReport;
  let json: string;
  let eventsText: string;
  const sh = (ns: string, cmd: string, timeout = 30_000) => net.exec(ns, ['sh', '-c', cmd], { timeout }).toString();
  const waitListen = async (ns: string, port: number) => {
    for (let i = 0; i < 200; i++) {
      if (sh(ns, `ss -Hltn 'sport = :${port}'`).trim() !== '') return;
      await sleep(100);
    }
    throw new Error(`nothing listens on ${port}`);
  };
  const flowTo = (port: number) => report.flows.filter((f) => f.proto === 'tcp' && f.resp.port === port);
  const tshark = (fields: string[], filter: string, extra: string[] = []) => tsharkFields(pcap, fields, [...extra, '-Y', filter]);

  beforeAll(async () => {
    net = new TestNet('vmid-');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmid-'));
    try {
      const d = dir;
      fs.chmodSync(d, 0o755); // dovecot's mail process runs as nobody
      const cli = net.ns('cli');
      const srv = net.ns('srv');
      net.link(cli, 'vmc', `${CLI}/24`, srv, 'vms', `${SRV}/24`);
      sh(srv, `cd ${d} && openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=mid.example.test -days 1 -keyout key.pem -out cert.pem 2>/dev/null`);
      const spawn = (ns: string, cmd: string[]) => new Proc(net.spawn(ns, cmd));

      // TLS servers, one per session (s_server serves one connection at a time), and a web one.
      const tlsServers = TLS_CASES.map((c) => spawn(srv, ['openssl', 's_server', '-accept', `${SRV}:${c.port}`, '-cert', `${d}/cert.pem`, '-key', `${d}/key.pem`, ...c.opts]));
      spawn(srv, ['openssl', 's_server', '-quiet', '-accept', `${SRV}:4443`, '-cert', `${d}/cert.pem`, '-key', `${d}/key.pem`, '-www']);
      // DNS, and the look-alikes on 5222 and 443.
      spawn(srv, ['dnsmasq', '--no-daemon', '--conf-file=/dev/null', `--listen-address=${SRV}`, '--bind-interfaces', '--no-resolv', '--no-hosts', '--port=53', '--address=/example.test/192.0.2.7', `--pid-file=${d}/dnsmasq.pid`, '--log-facility=-']);
      fs.writeFileSync(path.join(d, 'xmpp-server.txt'), XMPP_SERVER);
      fs.writeFileSync(path.join(d, 'xmpp-client.txt'), XMPP_CLIENT);
      fs.writeFileSync(path.join(d, 'frame-5222.bin'), FRAME_5222);
      fs.writeFileSync(path.join(d, 'frame-443.bin'), FRAME_443);
      fs.writeFileSync(path.join(d, 'reply.bin'), protobufFrame(Buffer.from([0x08, 0x02]), 'status=ok'));
      // Each server reads the client's first bytes, then answers.
      spawn(srv, ['socat', `TCP-LISTEN:5222,bind=${SRV},reuseaddr,fork`, `SYSTEM:dd bs=4096 count=1 status=none >/dev/null; [ -f ${d}/xmpp-turn ] && cat ${d}/xmpp-server.txt || cat ${d}/reply.bin; sleep 1`]);
      spawn(srv, ['socat', `TCP-LISTEN:443,bind=${SRV},reuseaddr,fork`, `SYSTEM:dd bs=4096 count=1 status=none >/dev/null; cat ${d}/reply.bin; sleep 1`]);
      // dovecot: IMAP and POP3 with the long greeting; TLS offered (STARTTLS, STLS), cleartext logins allowed.
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
          `listen = ${SRV}`,
          'ssl = yes',
          `ssl_cert = <${d}/cert.pem`,
          `ssl_key = <${d}/key.pem`,
          'disable_plaintext_auth = no',
          'auth_mechanisms = plain login',
          `login_greeting = ${LONG}`,
          'log_path = /dev/stderr',
          'mail_location = maildir:~/Maildir',
          'first_valid_uid = 1',
          `passdb {\n  driver = passwd-file\n  args = ${d}/users\n}`,
          `userdb {\n  driver = static\n  args = uid=nobody gid=nogroup home=${mail}/%u\n}`,
          '',
        ].join('\n'),
      );
      spawn(srv, ['dovecot', '-F', '-c', path.join(d, 'dovecot.conf')]);
      fs.writeFileSync(path.join(d, 'smtpd.py'), SMTPD_PY(d));
      const smtpd = spawn(srv, ['/usr/bin/python3', path.join(d, 'smtpd.py')]);
      // WebSocket: an echo server, one with permessage-deflate, and a bridge to mosquitto.
      fs.writeFileSync(path.join(d, 'ws.mjs'), WS_JS);
      const pkg = path.join(ROOT, 'package.json');
      fs.writeFileSync(path.join(d, 'mosquitto.conf'), 'listener 1883 127.0.0.1\nallow_anonymous true\n');
      spawn(srv, ['mosquitto', '-c', path.join(d, 'mosquitto.conf')]);
      const wsServers = [
        spawn(srv, ['node', path.join(d, 'ws.mjs'), pkg, 'server', SRV, '8080']),
        spawn(srv, ['node', path.join(d, 'ws.mjs'), pkg, 'server', SRV, '8081', 'deflate']),
        spawn(srv, ['node', path.join(d, 'ws.mjs'), pkg, 'bridge', SRV, '8082']),
      ];
      await smtpd.waitFor('listening');
      for (const w of wsServers) await w.waitFor('listening');
      for (const p of [4433, 4434, 4435, 8883, 4443, 53, 5222, 443, 143, 110, 10025, 10026, 1883]) await waitListen(srv, p);

      // Before the capture: TLS handshakes done, WebSocket upgrades done, MQTT CONNECT answered.
      const tlsClients = TLS_CASES.map((c) => spawn(cli, ['openssl', 's_client', '-connect', `${SRV}:${c.port}`, '-servername', 'mid.example.test', ...c.opts]));
      for (const c of tlsClients) await c.waitFor('Verify return code');
      for (const s of tlsServers) await s.waitFor('ACCEPT');
      await sleep(500); // TLS 1.3 session tickets follow the handshake
      const wsClients = [
        spawn(cli, ['node', path.join(d, 'ws.mjs'), pkg, 'client', SRV, '8080']),
        spawn(cli, ['node', path.join(d, 'ws.mjs'), pkg, 'client', SRV, '8081']),
      ];
      const mqttWs = spawn(cli, ['node', path.join(d, 'ws.mjs'), pkg, 'client', SRV, '8082', 'mqtt']);
      for (const w of wsClients) await w.waitFor('open');
      await mqttWs.waitFor('connack');
      await sleep(300);

      pcap = path.join(d, 'midstream.pcap');
      const dump = spawn(cli, ['tcpdump', '-Z', 'root', '-i', 'vmc', '--immediate-mode', '-U', '-s', '0', '-w', pcap]);
      await dump.waitFor('listening');
      await sleep(300);

      // TLS application data both ways (lines not starting with Q, R or K: s_client commands).
      for (let i = 0; i < 3; i++) {
        for (const c of tlsClients) c.write(`hello from the client, line ${i}`);
        await sleep(200);
        for (const s of tlsServers) s.write(`hello from the server, line ${i}`);
        await sleep(200);
      }
      // A TLS session captured whole: its hello is read as before.
      sh(cli, `curl -sk --max-time 10 --resolve full.example.test:4443:${SRV} https://full.example.test:4443/ -o /dev/null`);
      // DNS over TCP, and the look-alikes.
      expect(sh(cli, `dig +tcp +short @${SRV} host.example.test`).trim()).toBe('192.0.2.7');
      sh(cli, `(cat ${d}/frame-5222.bin; sleep 1) | socat - TCP:${SRV}:5222 >/dev/null`);
      sh(cli, `(cat ${d}/frame-443.bin; sleep 1) | socat - TCP:${SRV}:443 >/dev/null`);
      fs.writeFileSync(path.join(d, 'xmpp-turn'), '');
      sh(cli, `(cat ${d}/xmpp-client.txt; sleep 1) | socat - TCP:${SRV}:5222 >/dev/null`);
      // Logins after the long greetings, in cleartext and with STARTTLS.
      const c = (cmd: string) => sh(cli, `${cmd} || true`);
      c(`curl -s --max-time 10 -u bob:${SECRET} imap://${SRV}/ -o /dev/null`);
      c(`curl -s --max-time 10 --ssl-reqd -k -u bob:${SECRET} imap://${SRV}/ -o /dev/null`);
      c(`curl -s --max-time 10 -u bob:${SECRET} pop3://${SRV}/ -o /dev/null`);
      c(`curl -s --max-time 10 --ssl-reqd -k -u bob:${SECRET} pop3://${SRV}/ -o /dev/null`);
      fs.writeFileSync(path.join(d, 'mail.txt'), 'Subject: hi\r\n\r\nhello\r\n');
      for (const port of [10025, 10026]) {
        c(`curl -s --max-time 10 -u bob:${SECRET} --login-options AUTH=PLAIN --mail-from a@example.test --mail-rcpt b@example.test -T ${d}/mail.txt smtp://${SRV}:${port}/`);
        c(`curl -s --max-time 10 --ssl-reqd -k -u bob:${SECRET} --mail-from a@example.test --mail-rcpt b@example.test -T ${d}/mail.txt smtp://${SRV}:${port}/`);
      }
      // WebSocket frames: text, binary (16- and 64-bit lengths), ping, close.
      for (const w of wsClients) {
        for (const cmd of ['text 1', 'text 2', 'binary 300', 'ping', 'binary 70000', 'text 3']) {
          w.write(cmd);
          await sleep(150);
        }
        w.write('close');
        await w.waitFor('closed');
      }
      for (const cmd of ['subscribe', 'publish', 'pingreq', 'publish', 'disconnect']) {
        mqttWs.write(cmd);
        await sleep(200);
      }
      await mqttWs.waitFor('closed');
      await sleep(500);

      const done = new Promise((r) => dump.child.on('exit', r));
      dump.child.kill('SIGINT');
      await done;
      if (process.env.VIGIE_KEEP_PCAP) fs.copyFileSync(pcap, process.env.VIGIE_KEEP_PCAP);
      const r = vigie(['analyze', pcap, '--json']);
      expect(r.stderr).toBe('');
      json = r.stdout;
      report = JSON.parse(json) as AnalysisReport;
      eventsText = vigie(['analyze', pcap, '--events']).stdout;
    } catch (e) {
      net.destroy();
      throw e;
    }
  }, 180_000);

  afterAll(() => {
    net?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const tlsOf = (f: FlowRecord) => (f.protocol as { tls: TlsFacts }).tls;

  it('TLS after its handshake: tls (mqtt-tls on 8883), helloSeen false, the record version; tshark reads TLS records and no hello there', () => {
    for (const c of TLS_CASES) {
      const flows = flowTo(c.port);
      expect(flows, `port ${c.port}`).toHaveLength(1);
      const f = flows[0];
      expect(f.app, `port ${c.port}`).toBe(c.app);
      expect(f.encrypted).toBe(true);
      const t = tlsOf(f);
      expect(t).toMatchObject({ helloSeen: false, sni: null, ja3: null, ja4: null, recordVersion: c.record, version: c.version, mqtt: c.app === 'mqtt-tls' });
      // The oracle: tshark (told the port is TLS) reads records of the application-data type
      // with that version, both ways, and no handshake message of type 1 or 2.
      const rows = tshark(['tcp.srcport', 'tls.record.content_type', 'tls.record.version'], `tcp.port==${c.port} && tls.record`, ['-d', `tcp.port==${c.port},tls`]);
      expect(rows.length, `port ${c.port}: records`).toBeGreaterThanOrEqual(6);
      expect(new Set(rows.map((r) => r[0])).size).toBe(2);
      expect(new Set(rows.flatMap((r) => r[1].split(',')))).toEqual(new Set(['23']));
      const hex = { 'TLSv1.2': '0x0303', 'TLSv1.0': '0x0301' }[c.record];
      expect(new Set(rows.flatMap((r) => r[2].split(',')))).toEqual(new Set([hex]));
      expect(tshark(['frame.number'], `tcp.port==${c.port} && tls.handshake.type`, ['-d', `tcp.port==${c.port},tls`])).toEqual([]);
    }
  });

  it('a TLS session captured whole keeps its hello: helloSeen true, the SNI tshark reads', () => {
    const f = flowTo(4443)[0];
    expect(f.app).toBe('tls');
    const t = tlsOf(f);
    expect(t.helloSeen).toBe(true);
    const sni = tshark(['tls.handshake.extensions_server_name'], 'tcp.port==4443 && tls.handshake.type==1', ['-d', 'tcp.port==4443,tls']);
    expect(sni).toEqual([['full.example.test']]);
    expect(t.sni).toBe('full.example.test');
    expect(t.version).toBe('TLSv1.3');
  });

  it('dig +tcp against dnsmasq is dns, as tshark reads it', () => {
    const f = flowTo(53).filter((x) => x.proto === 'tcp');
    expect(f).toHaveLength(1);
    expect(f[0].app).toBe('dns');
    const rows = tshark(['dns.flags.response', 'dns.qry.name', 'dns.a'], 'tcp.port==53 && dns');
    expect(rows.map((r) => r[0])).toEqual(['0', '1']);
    expect(rows[0][1]).toBe('host.example.test');
    expect(rows[1][2]).toBe('192.0.2.7');
    expect(tshark(['frame.number'], 'tcp.port==53 && _ws.malformed')).toEqual([]);
  });

  it('protobuf frames and an XMPP stream on 5222 and 443 are not dns; tshark, told they are DNS, finds them malformed', () => {
    const look = [...flowTo(5222), ...flowTo(443)];
    expect(look).toHaveLength(3);
    for (const f of look) expect(f.app, `${f.resp.port}`).toBeNull();
    // The client's bytes as DNS over TCP: tshark marks each malformed (or reads no DNS at all).
    for (const port of [5222, 443]) {
      const asDns = tshark(['frame.number', '_ws.malformed', 'dns.count.queries'], `tcp.port==${port} && tcp.len>0 && tcp.dstport==${port}`, ['-d', `tcp.port==${port},dns`]);
      expect(asDns.length).toBeGreaterThanOrEqual(1);
      for (const r of asDns) expect(r[1] !== '' || r[2] === '' || Number(r[2]) > 1, `frame ${r[0]}: ${r.join(' ')}`).toBe(true);
    }
    // tshark's own port rule reads 5222 as XMPP: the stream is there.
    expect(tshark(['xmpp.stream'], 'tcp.port==5222 && xmpp.stream').length).toBeGreaterThanOrEqual(1);
  });

  const logins = (proto: string) => report.flows.filter((f) => (f.protocol as { login?: LoginFacts } | null)?.login?.protocol === proto).map((f) => (f.protocol as { login: LoginFacts }).login);

  it('greetings tshark shows longer than 300 bytes: the dovecot greeting in IMAP and POP3, a multi-line 220 whose ESMTP is on its last line', () => {
    // The server segment that carries each greeting, as tshark reads its line.
    const imap = tshark(['tcp.len'], 'tcp.srcport==143 && imap.line contains "* OK [CAPABILITY" && imap.line contains "Welcome."');
    expect(imap).toHaveLength(2);
    expect(imap.every((r) => Number(r[0]) > 300)).toBe(true);
    const pop = tshark(['tcp.len'], 'tcp.srcport==110 && pop.response.indicator == "+OK" && pop.response.description contains "Welcome."');
    expect(pop).toHaveLength(2);
    expect(pop.every((r) => Number(r[0]) > 300)).toBe(true);
    // SMTP on 10025 is not SMTP to tshark: its reassembled stream says what the server sent.
    const banner = execFileSync('tshark', ['-n', '-r', pcap, '-q', '-z', 'follow,tcp,ascii,' + tshark(['tcp.stream'], 'tcp.port==10025')[0][0]], { encoding: 'utf8' });
    const lines = banner.split(/\r?\n/).filter((l) => /^220[ -]/.test(l));
    expect(lines.length).toBe(4);
    expect(lines.slice(0, 3).every((l) => l.startsWith('220-') && !/E?SMTP|postfix|exim|sendmail|mail/i.test(l))).toBe(true);
    expect(lines[3]).toBe('220 relay.example.test ESMTP ready');
    expect(lines.join('\r\n').length).toBeGreaterThan(300);
    // On 10026 the greeting comes in two segments: the first names nothing and stops mid-line, the second starts mid-line.
    const segs = new Map<string, string[]>();
    for (const [stream, payload] of tshark(['tcp.stream', 'tcp.payload'], 'tcp.srcport==10026 && tcp.len>0')) segs.set(stream, [...(segs.get(stream) ?? []), Buffer.from(payload.replace(/:/g, ''), 'hex').toString('latin1')]);
    expect(segs.size).toBe(2);
    for (const [first, second] of segs.values()) {
      expect(first.startsWith('220-relay.example.test welcomes you\r\n220-This relay greets with a ')).toBe(true);
      expect(/E?SMTP|postfix|exim|sendmail|mail|\n$/i.test(first)).toBe(false);
      expect(second.startsWith('long notice')).toBe(true);
      expect(second).toContain('220 relay.example.test ESMTP ready\r\n');
    }
  });

  it('after a long greeting the cleartext logins are seen (password present), and STARTTLS, as tshark reads the commands', () => {
    const imap = logins('imap');
    expect(imap.map((l) => [l.username, l.passwordPresent, l.accepted, l.starttls])).toEqual([
      ['bob', true, true, false],
      [null, false, null, true],
    ]);
    const pop3 = logins('pop3');
    expect(pop3.map((l) => [l.username, l.passwordPresent, l.accepted, l.starttls])).toEqual([
      ['bob', true, true, false],
      [null, false, null, true],
    ]);
    // SMTP on 10025 (the greeting in one segment) and 10026 (in two, read to its last line).
    for (const port of [10025, 10026]) {
      const smtp = flowTo(port).map((f) => (f.protocol as { login: LoginFacts } | null)?.login);
      expect(smtp.map((l) => l && [l.protocol, l.mechanism, l.username, l.passwordPresent, l.accepted, l.starttls]), `port ${port}`).toEqual([
        ['smtp', 'PLAIN', 'bob', true, true, false],
        ['smtp', null, null, false, null, true],
      ]);
    }
    // The oracle: the commands tshark reads (SMTP decoded on 10025 for it).
    expect(tshark(['imap.request.command'], 'imap.request.command').map((r) => r[0].toUpperCase())).toEqual(expect.arrayContaining(['AUTHENTICATE', 'STARTTLS']));
    expect(tshark(['pop.request.command'], 'pop.request.command').map((r) => r[0].toUpperCase())).toEqual(expect.arrayContaining(['AUTH', 'STLS']));
    // (tshark 4.0 keeps four letters of a command: STARTTLS reads STAR.)
    const smtpCmds = tshark(['smtp.req.command'], 'smtp.req.command', ['-d', 'tcp.port==10025,smtp', '-d', 'tcp.port==10026,smtp']).map((r) => r[0].toUpperCase());
    expect(smtpCmds).toEqual(expect.arrayContaining(['AUTH', 'STAR']));
  });

  const wsOf = (f: FlowRecord) => (f.protocol as { websocket: WebSocketFacts }).websocket;

  it('WebSocket after its Upgrade: websocket, upgradeSeen false, the frames tshark decodes (opcodes, masks, close code)', () => {
    for (const port of [8080, 8081]) {
      const f = flowTo(port);
      expect(f, `port ${port}`).toHaveLength(1);
      expect(f[0].app).toBe('websocket');
      const w = wsOf(f[0]);
      const rows = tshark(['tcp.srcport', 'websocket.opcode', 'websocket.mask', 'websocket.rsv'], `tcp.port==${port} && websocket`, ['-d', `tcp.port==${port},websocket`]);
      const frames = rows.flatMap((r) => r[1].split(',').map((op, i) => ({ from: r[0], op: Number(op), mask: r[2].split(',')[i], rsv: r[3].split(',')[i] })));
      expect(frames.length).toBeGreaterThanOrEqual(14);
      expect(w.upgradeSeen).toBe(false);
      expect(w.frames).toBe(frames.length);
      expect(w.textFrames).toBe(frames.filter((x) => x.op === 1).length);
      expect(w.binaryFrames).toBe(frames.filter((x) => x.op === 2).length);
      expect(w.controlFrames).toBe(frames.filter((x) => x.op >= 8).length);
      // The masking side is the client, the originator here.
      expect(frames.filter((x) => x.mask === '1').every((x) => x.from === String(f[0].orig.port))).toBe(true);
      expect(w.client).toBe('orig');
      expect(w.compressed).toBe(frames.some((x) => x.rsv === '0x04'));
      expect(w.compressed).toBe(port === 8081);
      const close = tshark(['websocket.payload.close.status_code'], `tcp.port==${port} && websocket.opcode==8`, ['-d', `tcp.port==${port},websocket`]);
      expect(w.closeCode).toBe(Number(close[0][0]));
      expect(w.mqtt).toBe(false);
    }
  });

  it('MQTT inside WebSocket frames without the Upgrade: mqtt-ws, the packets tshark shows in the unmasked binary payloads', () => {
    const f = flowTo(8082);
    expect(f).toHaveLength(1);
    expect(f[0].app).toBe('mqtt-ws');
    const p = f[0].protocol as { websocket: WebSocketFacts; mqtt: MqttFacts };
    expect(p.websocket).toMatchObject({ upgradeSeen: false, mqtt: true, client: 'orig' });
    // tshark unmasks the frames; the first byte of each binary payload is the MQTT packet type.
    const payloads = tshark(['data.data'], 'tcp.port==8082 && websocket.opcode==2', ['-d', 'tcp.port==8082,websocket'])
      .flatMap((r) => r[0].split(','))
      .map((h) => Buffer.from(h.replace(/:/g, ''), 'hex'));
    const types = payloads.map((b) => b[0] >> 4);
    // SUBSCRIBE, SUBACK, PUBLISH (ours) and its copy to our subscription, PINGREQ/PINGRESP, PUBLISH again, DISCONNECT.
    expect(types.filter((t) => t === 3).length).toBe(p.mqtt.publishes);
    expect(p.mqtt.publishes).toBe(4);
    const topics = payloads.filter((b) => b[0] >> 4 === 3).map((b) => b.toString('utf8', 4, 4 + b.readUInt16BE(2)));
    expect([...new Set(topics)]).toEqual(p.mqtt.topics);
    expect(p.mqtt.subscriptions).toEqual(['vigie/mid/#']);
    expect(types).toContain(8);
  });

  it('no output contains the password', () => {
    expect(json).not.toContain(SECRET);
    expect(eventsText).not.toContain(SECRET);
    expect(eventsText.length).toBeGreaterThan(0);
  });
});

/**
 * Issue 16, item 7: names seen on the network (DHCP/mDNS/SNI host names) and file names must not
 * reach a terminal or syslog raw: an ESC would recolour or erase the screen, a newline forge a line.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../daemon/analysis/analyze.js';
import { Daemon } from '../../daemon/run/daemon.js';
import { renderSummary } from '../../daemon/report/summary.js';
import { SyslogSender } from '../../daemon/exports/alert-exports.js';
import type { Alert } from '../../daemon/verdicts/alert.js';
import { vigie } from '../helpers/cli.js';
import { writePcapng } from '../helpers/pcap-writer.js';

const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const HOSTILE = 'cam\u001b[2J\u001b[31m\r\nvigie: forged line\u009b1m\u007f';

let dir: string;

function alert(): Alert {
  return {
    id: 'a1',
    rule: 'test-rule',
    severity: 'high',
    title: `contacts ${HOSTILE}`,
    reasons: [],
    device: { id: 'dev1', mac: '02:00:00:00:00:01', ip: '192.168.1.10', vendor: null, hostname: HOSTILE, label: null, category: 'camera' },
    destination: { ip: '203.0.113.5', port: 443, hostname: `evil.example\n<11>1 forged`, country: 'XX', asn: null, org: null, label: null, platform: null },
    protocol: 'tls',
    encrypted: true,
    evidence: {},
    remediation: [],
    firstSeen: '2026-01-01T00:00:00.000Z',
    lastSeen: '2026-01-01T00:00:00.000Z',
    count: 1,
    muted: false,
  };
}

describe('control characters in human and syslog output', () => {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-hardening-ctl-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the analyze summary escapes names in its tables', async () => {
    const frame = Buffer.alloc(60);
    frame.writeUInt16BE(0x0800, 12);
    const file = path.join(dir, 'one.pcapng');
    fs.writeFileSync(file, writePcapng([{ linkType: 1 }], [{ data: frame, ts: 1_700_000_000 }]));
    const report = await analyzeCapture(file);
    report.alerts.push(alert());
    const text = renderSummary(report);
    expect(text).not.toMatch(CONTROL);
    expect(text.split('\n').some((l) => l.startsWith('vigie: forged'))).toBe(false);
    expect(text).toContain('cam\\x1b[2J\\x1b[31m\\r\\nvigie: forged line\\x9b1m\\x7f');
  });

  it('an error naming a file with controls in its name stays one escaped line', () => {
    const r = vigie(['analyze', path.join(dir, 'x\nvigie: forged\u001b[2K.pcap')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(CONTROL);
    expect(r.stderr).toContain('x\\nvigie: forged\\x1b[2K.pcap');
  });

  it('a syslog message is one line without controls', async () => {
    const server = dgram.createSocket('udp4');
    await new Promise<void>((res) => server.bind(0, '127.0.0.1', () => res()));
    const got = new Promise<string>((res) => server.once('message', (m) => res(m.toString('utf8'))));
    const sender = new SyslogSender('127.0.0.1', server.address().port);
    try {
      sender.alert(alert());
      const msg = await got;
      expect(msg).not.toMatch(/[\n\r]/);
      expect(msg).not.toMatch(CONTROL);
      expect(msg).toContain('cam\\x1b[2J');
      expect(msg).not.toContain('\n<11>1 forged');
    } finally {
      sender.close();
      server.close();
    }
  });

  it('the daemon log (stderr, hence logd or the journal) escapes a replayed file name', async () => {
    const frame = Buffer.alloc(60);
    frame.writeUInt16BE(0x0800, 12);
    const file = path.join(dir, 'replay\nvigie: forged\u001b[2K.pcapng');
    fs.writeFileSync(file, writePcapng([{ linkType: 1 }], [{ data: frame, ts: 1_700_000_000 }]));
    const logs: string[] = [];
    const d = await Daemon.start({ read: file, speed: 0, filter: '', stateDir: path.join(dir, 'state'), listen: '127.0.0.1', port: 0, rules: [], commitInterval: 3600, uiDir: null, env: { VIGIE_ADMIN_PASSWORD: 'correct horse battery' }, log: (m) => logs.push(m) });
    try {
      const replaying = logs.find((l) => l.startsWith('replaying'));
      expect(replaying).toContain('replay\\nvigie: forged\\x1b[2K.pcapng');
      for (const l of logs) expect(l).not.toMatch(CONTROL);
    } finally {
      await d.stop();
    }
  });

  it('rule-file errors stay one escaped line each, in rules check and analyze', () => {
    const rules = path.join(dir, 'rules');
    fs.mkdirSync(path.join(rules, 'alerts'), { recursive: true });
    fs.writeFileSync(path.join(rules, 'alerts', 'x\nvigie: forged\u001b[2K.yaml'), 'alerts: [\n  oops: :\n');
    const check = vigie(['rules', 'check', rules]);
    expect(check.status).toBe(1);
    expect(check.stdout).not.toMatch(CONTROL);
    expect(check.stdout.split('\n').some((l) => l.startsWith('vigie: forged'))).toBe(false);
    expect(check.stdout).toContain('x\\nvigie: forged\\x1b[2K.yaml:');
    const capture = path.join(dir, 'rules-case.pcapng');
    fs.writeFileSync(capture, writePcapng([{ linkType: 1 }], [{ data: Buffer.alloc(60), ts: 1_700_000_000 }]));
    const r = vigie(['analyze', '--rules', rules, capture]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^vigie: rules: invalid rule files:\n/);
    expect(r.stderr).not.toMatch(CONTROL);
    expect(r.stderr.split('\n').some((l) => l.startsWith('vigie: forged'))).toBe(false);
  });
});

/** What a user sees when the input is wrong: one line naming it and the reason, exit code 2. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vigie } from '../helpers/cli.js';
import { casePath, itCorpus } from '../helpers/corpus.js';
import { haveTool } from '../helpers/tshark.js';

const BASE = casePath('suricata-verify/tls-client-hello-frag-01');
let dir: string;

function oneLineError(r: { status: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
}

describe('vigie analyze: errors and inputs', () => {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-cli-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a missing file', () => {
    oneLineError(vigie(['analyze', path.join(dir, 'nope.pcap')]), /^vigie: .*nope\.pcap: no such file$/);
  });

  it('a directory', () => {
    oneLineError(vigie(['analyze', dir]), /is a directory/);
  });

  it('a file that is not a capture', () => {
    const f = path.join(dir, 'notes.pcap');
    fs.writeFileSync(f, 'hello, this is text\n');
    oneLineError(vigie(['analyze', f]), /notes\.pcap: not a pcap or pcapng capture \(starts with 0x68656c6c\)$/);
  });

  it('an empty file', () => {
    const f = path.join(dir, 'empty.pcap');
    fs.writeFileSync(f, '');
    oneLineError(vigie(['analyze', f]), /empty\.pcap: empty file$/);
  });

  itCorpus('a file cut inside its header', () => {
    const f = path.join(dir, 'short.pcap');
    fs.writeFileSync(f, fs.readFileSync(BASE).subarray(0, 10));
    oneLineError(vigie(['analyze', f]), /short\.pcap: file ends inside the 24-byte pcap header/);
  });

  itCorpus.skipIf(!haveTool('editcap'))('an unsupported link type (editcap -T ieee-802-11)', () => {
    const f = path.join(dir, 'wifi.pcap');
    execFileSync('editcap', ['-F', 'pcap', '-T', 'ieee-802-11', BASE, f]);
    oneLineError(vigie(['analyze', f]), /wifi\.pcap: unsupported link type 105 \(ieee802-11\); supported: ethernet/);
    const ng = path.join(dir, 'wifi.pcapng');
    execFileSync('editcap', ['-F', 'pcapng', '-T', 'ieee-802-11', BASE, ng]);
    oneLineError(vigie(['analyze', ng]), /wifi\.pcapng: unsupported link type 105 \(ieee802-11\) on interface 0/);
  });

  it('empty standard input is an error, not an empty report', () => {
    oneLineError(vigie(['analyze', '-'], Buffer.alloc(0)), /^vigie: standard input: empty input: no capture data arrived$/);
  });

  itCorpus('standard input gives the same report as the file', () => {
    const fromFile = JSON.parse(vigie(['analyze', '--json', BASE]).stdout);
    const piped = vigie(['analyze', '--json', '-'], fs.readFileSync(BASE));
    expect(piped.status).toBe(0);
    const fromStdin = JSON.parse(piped.stdout);
    expect(fromStdin.capture.source).toBe('-');
    fromStdin.capture.source = fromFile.capture.source;
    expect(fromStdin).toEqual(fromFile);
  });

  itCorpus('a truncated file is analysed up to the cut, with a warning that says where', () => {
    const f = path.join(dir, 'cut.pcap');
    const whole = fs.readFileSync(BASE);
    fs.writeFileSync(f, whole.subarray(0, whole.length - 7));
    const r = vigie(['analyze', '--json', f]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^vigie: warning: .*cut\.pcap: cut at byte \d+ after packet 61: input ends inside a record/);
    expect(JSON.parse(r.stdout).capture.packets).toBe(61);
  });

  it('a bad option value', () => {
    const r = vigie(['analyze', '--max-flows', 'lots', BASE]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--max-flows must be a positive whole number/);
    oneLineError(vigie(['analyze', '--lan', '10.0.0.0/99', BASE]), /--lan: bad prefix length in 10\.0\.0\.0\/99/);
  });

  itCorpus('the summary names the capture, its devices and its flows', () => {
    const r = vigie(['analyze', BASE]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Capture {2}.*tls-client-hello-frag-01\/input\.pcap {2}\(pcap, ethernet\)/);
    expect(r.stdout).toMatch(/62 packets/);
    expect(r.stdout).toMatch(/Devices \(1\)\n.*\n {2}12:7d:63:bb:4a:c7/);
    expect(r.stdout).toMatch(/Top flows by volume \(1 of 1\)/);
    expect(r.stdout).toMatch(/Alerts: none/);
  });
});

/**
 * Issue 16, item 13 (part): YAML alias and merge-key bombs, oversized files and non-numeric CLI
 * sizes get a clear `file:line` (or flag) error and exit 2, never an internal error with a stack.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vigie } from '../helpers/cli.js';
import { ROOT } from '../helpers/corpus.js';
import { writePcapng } from '../helpers/pcap-writer.js';

let dir: string;
let capture: string;

/** Ten levels of ten-fold aliasing: 10^10 nodes if expanded. */
function aliasBomb(): string {
  const lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(',')}]`);
  return lines.join('\n') + '\n';
}

/** The same through YAML 1.1 merge keys. */
function mergeBomb(): string {
  const lines = ['%YAML 1.1', '---', 'm0: &m0 {k0: 1, k1: 1, k2: 1, k3: 1, k4: 1, k5: 1, k6: 1, k7: 1, k8: 1, k9: 1}'];
  for (let i = 1; i < 10; i++) lines.push(`m${i}: &m${i} {<<: [${Array(10).fill(`*m${i - 1}`).join(',')}], k${i}x: 1}`);
  return lines.join('\n') + '\n';
}

function expectCleanError(r: { status: number | null; stderr: string; stdout: string }, pattern: RegExp, status = 2): void {
  const out = r.stderr + r.stdout;
  expect(out).not.toMatch(/internal error/);
  expect(out).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
  expect(out).toMatch(pattern);
  expect(r.status).toBe(status);
}

describe('YAML bombs and bad sizes', () => {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-hardening-yaml-'));
    capture = path.join(dir, 'one.pcapng');
    const frame = Buffer.alloc(60);
    frame.writeUInt16BE(0x0800, 12);
    fs.writeFileSync(capture, writePcapng([{ linkType: 1 }], [{ data: frame, ts: 1_700_000_000 }]));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('an alias bomb in the config file: file:line, exit 2', () => {
    const cfg = path.join(dir, 'alias.yaml');
    fs.writeFileSync(cfg, aliasBomb());
    expectCleanError(vigie(['analyze', '--config', cfg, capture]), /alias\.yaml:\d+: .*alias/i);
  });

  it('a merge-key bomb in the config file: file:line, exit 2', () => {
    const cfg = path.join(dir, 'merge.yaml');
    fs.writeFileSync(cfg, mergeBomb());
    expectCleanError(vigie(['analyze', '--config', cfg, capture]), /merge\.yaml:\d+: .*alias/i);
  });

  it('an alias bomb in a rules folder: rules check names file:line', () => {
    const rules = path.join(dir, 'rules');
    fs.mkdirSync(path.join(rules, 'alerts'), { recursive: true });
    fs.writeFileSync(path.join(rules, 'alerts', 'bomb.yaml'), aliasBomb());
    expectCleanError(vigie(['rules', 'check', rules]), /bomb\.yaml:\d+: .*alias/i, 1);
    // And through a config that names the folder: refused with exit 2.
    const cfg = path.join(dir, 'with-rules.yaml');
    fs.writeFileSync(cfg, `rules: [${JSON.stringify(rules)}]\n`);
    expectCleanError(vigie(['analyze', '--config', cfg, capture]), /bomb\.yaml:\d+: .*alias/i);
  });

  it('an oversized config file is refused before it is parsed', () => {
    const cfg = path.join(dir, 'big.yaml');
    fs.writeFileSync(cfg, '# padding\n'.repeat(1_000_000) + 'lan: ["192.168.1.0/24"]\n');
    expectCleanError(vigie(['analyze', '--config', cfg, capture]), /big\.yaml.*too large/);
  });

  it('--event-log-size abc is refused: exit 2 naming the flag', () => {
    // A missing capture to replay: were the flag accepted, the daemon would stop on that instead.
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/vigie.js'), 'run', '--event-log-size', 'abc', '--read', path.join(dir, 'none.pcap'), '--state-dir', path.join(dir, 'state'), '--listen', '127.0.0.1', '--port', '0'], { encoding: 'utf8', timeout: 20_000 });
    expectCleanError(r, /--event-log-size/);
    for (const bad of ['', '-5', '1.5', '10MB']) {
      const r2 = spawnSync(process.execPath, [path.join(ROOT, 'bin/vigie.js'), 'run', `--event-log-size=${bad}`, '--read', path.join(dir, 'none.pcap'), '--state-dir', path.join(dir, 'state'), '--listen', '127.0.0.1', '--port', '0'], { encoding: 'utf8', timeout: 20_000 });
      expectCleanError(r2, /--event-log-size/);
    }
  });

  it('table sizes out of range are refused: exit 2 naming the flag', () => {
    for (const [flag, bad] of [['--max-flows', '3'], ['--max-flows', 'many'], ['--max-devices', '1.5'], ['--max-devices', '20000000']]) {
      const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/vigie.js'), 'run', flag, bad, '--read', path.join(dir, 'none.pcap'), '--state-dir', path.join(dir, 'state'), '--listen', '127.0.0.1', '--port', '0'], { encoding: 'utf8', timeout: 20_000 });
      expectCleanError(r, new RegExp(flag));
    }
  });
});

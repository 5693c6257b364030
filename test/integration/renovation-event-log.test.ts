/**
 * Finding 13 of issue 16: the event log does not follow symlinks, neither one present at start
 * (vigie run refuses it, exit 2 naming --event-log) nor one planted between writes (O_NOFOLLOW:
 * the write is refused and counted, the file the link names stays untouched).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLog } from '../../daemon/exports/alert-exports.js';
import { emptyPcap } from '../helpers/spawn-daemon.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-evlog-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('event log and symlinks', () => {
  it('vigie run refuses an event log path that is a symlink', () => {
    const target = path.join(dir, 'target-1');
    fs.writeFileSync(target, 'untouched\n');
    const link = path.join(dir, 'events-1.jsonl');
    fs.symlinkSync(target, link);
    const pcap = path.join(dir, 'empty.pcap');
    emptyPcap(pcap);
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/vigie.js'), 'run', '--read', pcap, '--event-log', link, '--state-dir', path.join(dir, 'state'), '--listen', '127.0.0.1', '--port', '0'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, VIGIE_ADMIN_PASSWORD: 'correct-horse-battery-staple' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--event-log.*symbolic link/);
    expect(r.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(fs.readFileSync(target, 'utf8')).toBe('untouched\n');
  });

  it('a symlink planted after start is not followed (O_NOFOLLOW)', () => {
    const file = path.join(dir, 'events-2.jsonl');
    const target = path.join(dir, 'target-2');
    fs.writeFileSync(target, 'untouched\n');
    const told: string[] = [];
    const log = new EventLog(file, 1 << 20, 3, (m) => told.push(m));
    log.write({ type: 'test', n: 1 });
    expect(log.written).toBe(1);
    fs.rmSync(file);
    fs.symlinkSync(target, file);
    log.write({ type: 'test', n: 2 });
    log.write({ type: 'test', n: 3 });
    expect(fs.readFileSync(target, 'utf8')).toBe('untouched\n');
    expect(log.written).toBe(1);
    expect(log.errors).toBe(2);
    expect(told).toEqual([`event log write failed: ${file} became a symbolic link: not followed`]);
  });
});

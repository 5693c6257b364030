/**
 * Issue 16, finding 6, at the daemon: `vigie run` with a catastrophic user pattern stops at start
 * (exit 2, file:line and the reason), and a SIGHUP that brings one in is refused, the rules in
 * force kept, the reason logged, the daemon answering.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emptyPcap, spawnDaemon, until, type Spawned } from '../helpers/spawn-daemon.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-safe-regex-run-'));
const running: Spawned[] = [];
afterAll(() => {
  for (const d of running) d.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

function writeRules(d: string, pattern: string): void {
  fs.mkdirSync(path.join(d, 'devices'), { recursive: true });
  fs.writeFileSync(path.join(d, 'devices', 'mine.yaml'), `rules:\n  - id: my-rule\n    description: a household rule\n    source: "written by the household"\n    match: { hostname: ${JSON.stringify(pattern)} }\n    category: camera\n    weight: 0.9\n`);
}

describe('catastrophic user patterns at the daemon', () => {
  it('vigie run refuses to start on one: exit 2, file:line and the reason', () => {
    const rules = path.join(dir, 'bad');
    writeRules(rules, '(a+)+$');
    const pcap = path.join(dir, 'empty.pcap');
    emptyPcap(pcap);
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/vigie.js'), 'run', '--read', pcap, '--state-dir', path.join(dir, 'state-bad'), '--listen', '127.0.0.1', '--port', '0', '--home-country', 'FR', '--rules', rules], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, VIGIE_ADMIN_PASSWORD: 'correct-horse-battery-staple' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${path.join(rules, 'devices', 'mine.yaml')}:5: rules.0.match.hostname: pattern "(a+)+$" can take exponential time (nested quantifier)`);
  });

  it('SIGHUP with one is refused: logged, the daemon answers; a safe one then reloads', async () => {
    const rules = path.join(dir, 'reload');
    writeRules(rules, '^cam-');
    const d = await spawnDaemon(dir, { stateDir: path.join(dir, 'state-reload'), args: ['--rules', rules] });
    running.push(d);
    await d.settled();
    // Answers at once: the event loop is free (an unauthenticated question is enough to show it).
    const answers = async () => {
      const t = Date.now();
      const r = await fetch(new URL('/api/session', d.base));
      await r.text();
      return r.status === 401 && Date.now() - t < 2000;
    };
    expect(await answers()).toBe(true);

    writeRules(rules, '(\\w+\\s?)+$');
    d.child.kill('SIGHUP');
    await until('the refused reload', async () => /reload refused/.test(d.stderr()));
    expect(d.stderr()).toMatch(/reload refused, the rules and settings in force stay: .*mine\.yaml:5: rules\.0\.match\.hostname: pattern "\(\\\\w\+\\\\s\?\)\+\$" can take exponential time \(nested quantifier\)/);
    expect(await answers()).toBe(true);

    writeRules(rules, '^cam-(x\\d+)$');
    d.child.kill('SIGHUP');
    await until('the reload', async () => /reloaded: \d+ device rules/.test(d.stderr()));
    expect(await answers()).toBe(true);
  });
});

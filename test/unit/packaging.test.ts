/**
 * Packaging: the systemd unit's exposure by systemd's own measure, and OpenWrt's files: the
 * shipped /etc/config/vigie read by `vigie run` (UCI syntax, the same schema and errors as the
 * YAML config, run settings applied), the procd script's syntax, the capability set, and the
 * feed Makefile installing what exists.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, readConfigFile } from '../../daemon/config/load.js';
import { parseUci } from '../../daemon/config/uci.js';
import { casePath, itCorpus } from '../helpers/corpus.js';
import { haveTool } from '../helpers/tshark.js';

const ROOT = path.resolve(__dirname, '../..');
const OPENWRT = path.join(ROOT, 'systemd/openwrt');
const dirs: string[] = [];
function write(name: string, text: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-pkg-'));
  dirs.push(d);
  const f = path.join(d, name);
  fs.writeFileSync(f, text);
  return f;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('systemd unit', () => {
  const unit = path.join(ROOT, 'systemd/vigie.service');
  it.skipIf(!haveTool('systemd-analyze'))('has an exposure of at most 2.5 by systemd-analyze security', () => {
    const out = execFileSync('systemd-analyze', ['security', '--offline=true', '--no-pager', unit], { encoding: 'utf8' });
    const m = /Overall exposure level for vigie\.service: (\d+\.\d+)/.exec(out);
    expect(m, out.slice(-500)).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(2.5);
  });

  it('runs unprivileged with CAP_NET_RAW only, and leaves W+X memory to V8', () => {
    const text = fs.readFileSync(unit, 'utf8');
    expect(text).toMatch(/^DynamicUser=yes$/m);
    expect(text).toMatch(/^CapabilityBoundingSet=CAP_NET_RAW$/m);
    expect(text).toMatch(/^AmbientCapabilities=CAP_NET_RAW$/m);
    expect(text).toMatch(/^StateDirectory=vigie$/m);
    expect(text).toMatch(/^ProtectSystem=strict$/m);
    expect(text).not.toMatch(/^MemoryDenyWriteExecute/m);
  });
});

describe('V8 flags', () => {
  it('are the same for the CLI, the systemd unit and the OpenWrt init script and UCI file', async () => {
    const { NODE_FLAGS } = (await import(path.join(ROOT, 'bin/node-flags.js'))) as { NODE_FLAGS: string[] };
    expect(NODE_FLAGS).toContain('--max-semi-space-size=2');
    const flags = NODE_FLAGS.join(' ');
    expect(fs.readFileSync(path.join(ROOT, 'systemd/vigie.service'), 'utf8')).toMatch(new RegExp(`^ExecStart=/usr/bin/node ${flags} `, 'm'));
    expect(fs.readFileSync(path.join(OPENWRT, 'files/vigie.init'), 'utf8')).toContain(`config_get node_options main node_options '${flags}'`);
    expect(fs.readFileSync(path.join(OPENWRT, 'files/vigie.config'), 'utf8')).toContain(`option node_options '${flags} --max-old-space-size=160'`);
  });
});

describe('OpenWrt UCI configuration', () => {
  const shipped = path.join(OPENWRT, 'files/vigie.config');

  it('reads the shipped /etc/config/vigie: run settings, and the rest as the YAML config would', () => {
    const c = readConfigFile(shipped);
    expect(c.run).toEqual({ interface: 'br-lan', port: 8090, stateDir: '/etc/vigie', commitInterval: 3600, eventLog: '/tmp/vigie-events.jsonl' });
    expect(c.learningPeriod).toBe(600);
    expect(c.segment).toEqual({ learningDays: 7, lanInterfaces: ['br-lan'], rollbackSeconds: 60 });
    const engine = loadConfig(shipped);
    expect(engine.verdicts!.learningPeriod).toBe(600);
    expect(engine.segment).toMatchObject({ learningSeconds: 7 * 86400, lanInterfaces: ['br-lan'], rollbackSeconds: 60, protect: [] });
    expect(engine.segment!.policy.length).toBeGreaterThan(3);
  });

  it('gives the same engine settings as the equivalent YAML', () => {
    const uci = write(
      'vigie',
      [
        "config vigie 'main'",
        "\toption home_country 'fr'",
        "\tlist trusted_country 'eu'",
        "\tlist trusted_country 'CH'",
        "\tlist lan '100.64.0.0/10'",
        'config network',
        "\toption cidr '203.0.113.0/24'",
        "\toption country 'CN'",
        "\toption asn '64500'",
        "\toption org 'It'\\''s a \"test\" cloud'",
        'config device',
        "\toption mac 'AA:BB:CC:DD:EE:FF'",
        '\toption label "Nursery \\"cam\\""',
        "\toption category 'baby_monitor'",
        "\toption zone 'quarantine'",
        'config mute',
        "\toption rule 'device-joined'",
        "\toption until '2027-01-01'",
        '',
      ].join('\n'),
    );
    const yml = write(
      'vigie.yaml',
      [
        'homeCountry: fr',
        'trustedCountries: [eu, CH]',
        'lan: [100.64.0.0/10]',
        'networks:',
        `  - { cidr: 203.0.113.0/24, country: CN, asn: 64500, org: "It's a \\"test\\" cloud" }`,
        'devices:',
        '  "AA:BB:CC:DD:EE:FF": { label: "Nursery \\"cam\\"", category: baby_monitor, zone: quarantine }',
        'mutes:',
        '  - { rule: device-joined, until: "2027-01-01" }',
        '',
      ].join('\n'),
    );
    const a = loadConfig(uci);
    const b = loadConfig(yml);
    expect(a.deviceOverrides).toEqual({ 'aa:bb:cc:dd:ee:ff': { label: 'Nursery "cam"', category: 'baby_monitor', zone: 'quarantine' } });
    expect(a.deviceOverrides).toEqual(b.deviceOverrides);
    expect([...a.verdicts!.trusted].sort()).toEqual([...b.verdicts!.trusted].sort());
    expect(a.verdicts!.trusted.has('FR') && a.verdicts!.trusted.has('CH') && a.verdicts!.trusted.has('DE')).toBe(true);
    expect(a.verdicts!.mutes).toEqual(b.verdicts!.mutes);
    expect(a.lanPrefixes).toEqual(b.lanPrefixes);
    expect(a.verdicts!.geo.lookup('203.0.113.7')).toEqual(b.verdicts!.geo.lookup('203.0.113.7'));
    expect(a.verdicts!.geo.lookup('203.0.113.7')).toMatchObject({ country: 'CN', asn: 64500, org: 'It\'s a "test" cloud' });
  });

  it.each([
    ["config vigie 'main'\n\toption port 'eighty'\n", /vigie:2: run\.port: must be integer/],
    ["config vigie 'main'\n\toption colour 'red'\n", /vigie:2: unknown option "colour" in a vigie section/],
    ["config vigie 'main'\n\toption home_country 'France'\n", /vigie:2: homeCountry: must match pattern/],
    ["config vigie 'main'\n\toption webhook 'ftp://x'\n", /vigie:2: run\.webhook: must match pattern/],
    ["config vigie 'main'\n\toption home_country 'FR\n", /vigie:2: unterminated single quote/],
    ['config device\n\toption label x\n', /vigie:1: a device section needs option mac/],
    ["config firewall\n", /vigie:1: unknown section type "firewall"/],
    ["config network\n\toption cidr '10.0.0.0/33'\n\toption country CN\n", /10\.0\.0\.0\/33/],
    ["option port 1\n", /vigie:1: option outside a config section/],
  ])('refuses %j with its line', (text, error) => {
    const f = write('vigie', text);
    let message = '';
    try {
      loadConfig(f);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(error);
  });

  it('keeps the last of repeated options and every list value in order, as uci does', () => {
    const s = parseUci("config vigie main\n\toption port 1\n\toption port 2\n\tlist lan a\n\tlist lan 'b c'\n# comment\n");
    expect(s[0].options.get('port')!.values).toEqual(['2']);
    expect(s[0].options.get('lan')!.values).toEqual(['a', 'b c']);
  });

  itCorpus('drives `vigie run`: the port and state folder come from the UCI file', async () => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-pkg-state-'));
    dirs.push(state);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const f = write('vigie', ["config vigie 'main'", "\toption enabled '1'", "\toption listen '127.0.0.1'", `\toption port '${port}'`, `\toption state_dir '${state}'`, "\toption commit_interval '1'", ''].join('\n'));
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/vigie.js'), 'run', '--read', casePath('peafowl/mqtt-1'), '--speed', 'max', '--config', f], { env: { ...process.env, VIGIE_ADMIN_PASSWORD: 'correct-horse-battery' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    try {
      const until = Date.now() + 15_000;
      while (!log.includes('dashboard at') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(log).toContain(`dashboard at http://127.0.0.1:${port}/`);
      const res = await fetch(`http://127.0.0.1:${port}/api/alerts`);
      expect(res.status).toBe(401);
      expect(fs.existsSync(path.join(state, 'store.json'))).toBe(true);
      expect(fs.existsSync(path.join(state, 'auth.json'))).toBe(true);
    } finally {
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
    }
  }, 30_000);
});

describe('OpenWrt package files', () => {
  it('has a procd script that parses and a capability set with CAP_NET_RAW only', () => {
    execFileSync('sh', ['-n', path.join(OPENWRT, 'files/vigie.init')]);
    const init = fs.readFileSync(path.join(OPENWRT, 'files/vigie.init'), 'utf8');
    for (const p of ['respawn', 'no_new_privs 1', 'user vigie', 'local caps=/usr/share/vigie/capabilities.json', 'procd_set_param capabilities "$caps"', 'procd_add_jail', 'procd_add_reload_trigger vigie', '--config /etc/config/vigie']) expect(init).toContain(p);
    const caps = JSON.parse(fs.readFileSync(path.join(OPENWRT, 'files/capabilities.json'), 'utf8')) as Record<string, string[]>;
    for (const set of ['bounding', 'effective', 'ambient', 'permitted', 'inheritable']) expect(caps[set]).toEqual(['CAP_NET_RAW']);
    // CAP_NET_ADMIN only when the household turned plan applying on (option allow_apply '1').
    expect(init).toMatch(/if \[ "\$allow_apply" = 1 \]; then\n(?:\t\t.*\n)*?\t\tprocd_append_param command --allow-apply\n\t\tcaps=\/usr\/share\/vigie\/capabilities-apply\.json/);
    expect(fs.readFileSync(path.join(OPENWRT, 'files/vigie.config'), 'utf8')).toContain("option allow_apply '0'");
    const apply = JSON.parse(fs.readFileSync(path.join(OPENWRT, 'files/capabilities-apply.json'), 'utf8')) as Record<string, string[]>;
    for (const set of ['bounding', 'effective', 'ambient', 'permitted', 'inheritable']) expect(apply[set]).toEqual(['CAP_NET_RAW', 'CAP_NET_ADMIN']);
  });

  it('has a feed Makefile that installs the files that exist', () => {
    const mk = fs.readFileSync(path.join(OPENWRT, 'Makefile'), 'utf8');
    for (const m of mk.matchAll(/\.\/files\/([\w.-]+)/g)) expect(fs.existsSync(path.join(OPENWRT, 'files', m[1])), m[1]).toBe(true);
    expect(mk).toMatch(/USERID:=vigie=/);
    expect(mk).toMatch(/node-gyp rebuild --arch=\$\(CPU\)/);
  });
});

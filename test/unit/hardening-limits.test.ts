/**
 * Issue 16, item 2: the service files set a descriptor limit, so that the daemon's connection
 * cap (the limit less 64) is known rather than whatever the service manager hands down. The
 * OpenWrt script's start_service is run for real with procd's helpers stubbed to print.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

const STUBS = `
config_load() { :; }
config_get() { eval "$1=\\$4"; }
config_get_bool() { eval "$1=\\$4"; }
mkdir() { :; }
chown() { :; }
chmod() { :; }
procd_open_instance() { :; }
procd_close_instance() { echo close; }
procd_set_param() { echo "set $*"; }
procd_append_param() { :; }
procd_add_jail() { :; }
procd_add_jail_mount() { :; }
procd_add_jail_mount_rw() { :; }
`;

describe('descriptor limits of the services', () => {
  it('the procd instance gets limits nofile', () => {
    const out = execFileSync('sh', ['-c', `${STUBS}\n. "$0"\nstart_service`, path.join(ROOT, 'systemd/openwrt/files/vigie.init')], { encoding: 'utf8' });
    const lines = out.split('\n');
    const limit = lines.findIndex((l) => /^set limits nofile=\d+ \d+$/.test(l));
    expect(limit, out).toBeGreaterThanOrEqual(0);
    expect(limit).toBeLessThan(lines.indexOf('close'));
    const [soft, hard] = lines[limit].split('=')[1].split(' ').map(Number);
    expect(soft).toBeGreaterThanOrEqual(256);
    expect(hard).toBeGreaterThanOrEqual(soft);
  });

  it('the systemd unit sets LimitNOFILE in [Service]', () => {
    const unit = fs.readFileSync(path.join(ROOT, 'systemd/vigie.service'), 'utf8');
    const service = /^\[Service\]\n([\s\S]*?)(?=^\[)/m.exec(unit)?.[1] ?? '';
    const m = /^LimitNOFILE=(\d+)$/m.exec(service);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(256);
  });
});

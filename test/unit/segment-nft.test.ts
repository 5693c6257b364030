/**
 * The nftables and dnsmasq output of segmentation plans, checked against the real oracle: `nft
 * -c -f` must accept every ruleset (run in a network namespace of its own, `unshare -n`, so the
 * machine's ruleset is never in play), and loading one, reading it back with `nft -j`, shows the
 * sets the plan says; loading twice gives the same listing and leaves other tables alone. Also:
 * names that try to break out of a comment, bounds, refusals, the dnsmasq lines, the apply
 * script's syntax in dash and busybox ash, ssh addresses, the dry run's comparison.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../daemon/capture/errors.js';
import type { PlanDevice, SegmentationPlan } from '../../daemon/model/plan.js';
import { checkOwnTablesOnly } from '../../daemon/segment/apply.js';
import { diffTables, parseNftJson } from '../../daemon/segment/nft-diff.js';
import { buildNftModel, canonicalIPv6, countNftElements, NFT_BOUNDS, sanitizeComment } from '../../daemon/segment/nft-model.js';
import { renderDnsmasq, renderNft } from '../../daemon/segment/nft.js';
import { parseRemote, sshArgv } from '../../daemon/segment/remote.js';
import { segmentScript, type ScriptAction } from '../../daemon/segment/rollback-script.js';
import { haveCommands } from '../helpers/home-lab.js';
import { planDevice, planPeer, segmentationPlan } from '../helpers/plans.js';

const root = process.getuid?.() === 0;
const canNft = root && haveCommands('nft', 'unshare') && spawnSync('unshare', ['-n', 'true']).status === 0;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-segnft-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
/** Runs a shell script in a network namespace of its own (gone when it exits), with FILE as $1. */
function inScratchNs(text: string, script: string): { status: number | null; stdout: string; stderr: string } {
  const file = path.join(dir, `r${fileNo++}.nft`);
  fs.writeFileSync(file, text);
  const r = spawnSync('unshare', ['-n', 'sh', '-c', script, 'sh', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function nftCheck(text: string): void {
  const r = inScratchNs(text, 'nft -c -f "$1"');
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
}

const mac = (i: number): string => `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const CTL = planPeer('b8:27:eb:00:00:04', ['192.168.1.4', '2001:db8:60::4', 'fe80::4'], 'controller', 'Controller');
const NVR = planPeer('b8:27:eb:00:00:05', ['192.168.1.5'], 'peer', 'NVR');
const ROUTED = planPeer(null, ['10.0.9.9'], 'controller', 'Home server on another subnet');

function everyZone(): SegmentationPlan {
  return segmentationPlan(
    [
      planDevice('3c:ef:8c:5a:10:01', 'quarantine', { name: 'Camera', ips: ['192.168.1.11', '2001:db8:60::11', 'fe80::11'], lan: [CTL, NVR] }),
      planDevice('ec:a8:6b:20:30:40', 'trusted', { name: 'Laptop', ips: ['192.168.1.12'] }),
      planDevice('50:02:91:aa:bb:01', 'iot', { name: 'Plug', ips: ['192.168.1.13'], hosts: [{ name: 'cloud.plug.test', addresses: ['198.51.100.20', '2001:db8:1::20'] }, { name: 'time.plug.test' }], ipv4: ['198.51.100.20', '203.0.113.7'], ipv6: ['2001:DB8:1:0:0::20'], lan: [CTL, ROUTED] }),
      planDevice('50:02:91:aa:bb:02', 'iot', { name: 'Bulb', ips: ['192.168.1.14'], hosts: [{ name: 'cloud.plug.test' }] }),
      planDevice('00:11:32:00:00:01', 'local-only', { name: 'NAS camera', ips: ['192.168.1.15'], lan: [NVR] }),
      planDevice('00:11:32:00:00:02', 'blocked', { name: 'Stranger', ips: ['192.168.1.16'], lan: [CTL] }),
    ],
    { lanInterfaces: ['br-lan', 'br-guest'] },
  );
}

function bigPlan(n: number): SegmentationPlan {
  const zones = ['iot', 'quarantine', 'local-only', 'blocked', 'trusted'] as const;
  const devices: PlanDevice[] = [];
  for (let i = 0; i < n; i++) {
    const z = zones[i % zones.length];
    devices.push(
      planDevice(mac(i + 1), z, {
        name: `device ${i}`,
        ips: [`10.${(i >> 8) & 255}.${i & 255}.1`, `2001:db8:60::${(i + 1).toString(16)}`],
        hosts: z === 'iot' ? [{ name: `d${i}.cloud.test`, addresses: [`198.51.${(i >> 8) & 255}.${i & 255}`] }, { name: 'shared.cloud.test' }] : [],
        ipv4: z === 'iot' ? [`203.0.${(i >> 8) & 255}.${i & 255}`] : [],
        ipv6: z === 'iot' ? [`2001:db8:1::${(i + 1).toString(16)}`] : [],
        lan: z === 'trusted' || z === 'blocked' ? [] : [CTL],
      }),
    );
  }
  return segmentationPlan(devices);
}

describe('renderNft: nft -c accepts every plan', () => {
  const plans: [string, () => SegmentationPlan][] = [
    ['no device', () => segmentationPlan([])],
    ['only trusted devices', () => segmentationPlan([planDevice('ec:a8:6b:20:30:40', 'trusted')])],
    ['every zone, two LAN interfaces, routed and bridged peers', everyZone],
    ['an iot device with IPv6-only allow-lists', () => segmentationPlan([planDevice('50:02:91:aa:bb:03', 'iot', { ips: ['2001:db8:60::30'], hosts: [{ name: 'v6.cloud.test', addresses: ['2001:db8:1::30'] }], ipv6: ['2001:db8:1::31'] })])],
    ['an iot device with nothing allowed', () => segmentationPlan([planDevice('50:02:91:aa:bb:04', 'iot')])],
    ['200 devices', () => bigPlan(200)],
    [
      'names with quotes, newlines, control and bidirectional characters',
      () =>
        segmentationPlan([
          planDevice('3c:ef:8c:5a:10:02', 'quarantine', { name: 'Cam "front"\n}\ntable inet evil { chain x { type filter hook input priority 0; policy drop; } }\n#' }),
          planDevice('3c:ef:8c:5a:10:03', 'iot', { name: 'Plug \u202e\u0000\r\t\\"; drop # 🔌 Salle de séjour' }),
          planDevice('3c:ef:8c:5a:10:04', 'blocked', { name: 'x'.repeat(500) }),
          planDevice('3c:ef:8c:5a:10:05', 'local-only', { name: '' }),
        ]),
    ],
  ];
  for (const [what, make] of plans) {
    it.skipIf(!canNft)(what, () => {
      const text = renderNft(make());
      nftCheck(text);
      nftCheck(renderNft(make(), { dnsmasq: false }));
    });
  }

  it.skipIf(!canNft)('a device name cannot add a table, a rule or end a comment', () => {
    const text = renderNft(plans[6][1]());
    expect(text).not.toMatch(/^table inet evil/m);
    // Every comment string closes on its own line: no quote inside.
    for (const line of text.split('\n')) {
      const m = /comment "(.*)"$/.exec(line);
      if (m) expect(m[1]).not.toContain('"');
      expect(line).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u202e]/);
    }
    const r = inScratchNs(text, 'nft -f "$1" && nft list tables');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(['table bridge vigie', 'table inet vigie']);
  });
});

describe('renderNft: loaded in a scratch namespace', () => {
  it.skipIf(!canNft)('reads back the sets of the plan, replaces only its own tables, and loads twice to the same listing', () => {
    const plan = everyZone();
    const model = buildNftModel(plan);
    const script = [
      "printf '%s\\n' 'table inet fw4 {' 'chain forward { type filter hook forward priority filter; policy accept; tcp dport 9 drop; }' '}' | nft -f -",
      'nft -f "$1"',
      'nft list ruleset > "$1.one"',
      'nft -f "$1"',
      'nft list ruleset > "$1.two"',
      'cmp -s "$1.one" "$1.two" && echo same',
      'nft -j list table inet vigie',
      'echo',
      'nft -j list table bridge vigie',
      'echo',
      'nft list table inet fw4',
    ].join(' && ');
    const r = inScratchNs(renderNft(plan), script);
    expect(r.status, r.stderr).toBe(0);
    const [same, inetJson, bridgeJson, ...fw4] = r.stdout.split('\n').filter(Boolean);
    expect(same).toBe('same');
    expect(fw4.join('\n')).toContain('tcp dport 9 drop');
    const live = [...parseNftJson(inetJson, 'inet'), ...parseNftJson(bridgeJson, 'bridge')];
    const byName = new Map(live.map((s) => [`${s.family} ${s.name}`, s.elements]));
    for (const s of model.sets) expect(byName.get(`${s.family} ${s.name}`), s.name).toEqual([...s.elements].sort());
    for (const m of model.maps) expect(byName.get(`${m.family} ${m.name}`), m.name).toEqual(m.elements.map(([k, c]) => `${k} → jump ${c}`).sort());
    // The counted elements are the loaded ones.
    expect(live.reduce((n, s) => n + s.elements.length, 0)).toBe(countNftElements(plan));
    // What the plan says, as nft prints it.
    expect(byName.get('inet d500291aabb01_v4')).toEqual(['198.51.100.20', '203.0.113.7']);
    expect(byName.get('inet d500291aabb01_v6')).toEqual(['2001:db8:1::20']);
    expect(byName.get('inet zone_quarantine')).toEqual(['3c:ef:8c:5a:10:01']);
    expect(byName.get('bridge zone_iot')).toEqual(['50:02:91:aa:bb:01', '50:02:91:aa:bb:02']);
    // Quarantine keeps controllers only; local-only all its peers; link-local addresses are not routed.
    expect(byName.get('bridge d3cef8c5a1001_lanmac')).toEqual(['b8:27:eb:00:00:04']);
    expect(byName.get('inet d3cef8c5a1001_lan6')).toEqual(['2001:db8:60::4']);
    expect(byName.get('bridge d001132000001_lanmac')).toEqual(['b8:27:eb:00:00:05']);
    expect(byName.get('inet d500291aabb01_lan4')).toEqual(['10.0.9.9', '192.168.1.4']);
    expect(byName.get('inet to_dev6')).toEqual(['2001:db8:60::11 → jump dev_in_3cef8c5a1001']);
    // Trusted devices appear nowhere.
    expect(r.stdout).not.toContain('ec:a8:6b:20:30:40');
  });

  it.skipIf(!canNft)('the dry run reads what is loaded and names what a new plan changes', () => {
    const a = everyZone();
    const r = inScratchNs(renderNft(a), 'nft -f "$1" && nft -j list table inet vigie && echo && nft -j list table bridge vigie');
    expect(r.status, r.stderr).toBe(0);
    const [inetJson, bridgeJson] = r.stdout.split('\n').filter(Boolean);
    const live = { inet: parseNftJson(inetJson, 'inet'), bridge: parseNftJson(bridgeJson, 'bridge') };
    expect(diffTables(buildNftModel(a), live)).toEqual(['Zones: no change.', 'Sets: no change.']);
    const b = everyZone();
    b.devices[0].zone = 'blocked';
    b.devices[2].allow.ipv4 = ['198.51.100.20', '203.0.113.8'];
    const lines = diffTables(buildNftModel(b), live);
    expect(lines).toContain('  3c:ef:8c:5a:10:01 Camera: quarantine → blocked');
    const v4 = lines.indexOf('  inet d500291aabb01_v4 (Plug: internet IPv4 it may reach): +1 −1');
    expect(lines.slice(v4, v4 + 3)).toEqual(['  inet d500291aabb01_v4 (Plug: internet IPv4 it may reach): +1 −1', '    + 203.0.113.8', '    - 203.0.113.7']);
    expect(lines).toContain('  inet d3cef8c5a1001_lan4: removed, with its 1 element');
    expect(lines.at(-1)).toMatch(/dnsmasq added at resolution time/);
    expect(diffTables(buildNftModel(b), { inet: null, bridge: null })[0]).toBe("Vigie's tables are not loaded: the whole plan is new.");
  });
});

describe('bounds and refusals', () => {
  it('caps each allow-list at the plan bound (v4 and v6 together), and counts what it cut', () => {
    const hosts = Array.from({ length: 6 }, (_, i) => ({ name: `h${i}.test`, addresses: [`198.51.100.${i + 1}`] }));
    const plan = segmentationPlan([planDevice('50:02:91:aa:bb:01', 'iot', { hosts, ipv4: ['203.0.113.1', '203.0.113.2'], ipv6: ['2001:db8::1'], lan: [CTL, NVR, ROUTED] })], { limits: { hostsPerDevice: 4, addressesPerDevice: 5, lanPeersPerDevice: 2 } });
    const m = buildNftModel(plan);
    const v4 = m.sets.find((s) => s.name === 'd500291aabb01_v4')!;
    const v6 = m.sets.find((s) => s.name === 'd500291aabb01_v6')!;
    expect(v4.elements.length + v6.elements.length).toBe(5);
    expect(m.cut.addresses).toBe(2 + 1 + 4 + 3 - 5 - 3);
    expect(m.cut.hosts).toBe(2);
    expect(m.devices[0].hosts).toEqual(['h0.test', 'h1.test', 'h2.test', 'h3.test']);
    expect(m.cut.lanPeers).toBe(1);
    expect(m.sets.find((s) => s.name === 'd500291aabb01_lanmac')!.elements).toEqual(['b8:27:eb:00:00:04', 'b8:27:eb:00:00:05']);
    // Room for dnsmasq's additions: twice the bound with dnsmasq, the bound without.
    expect(v4.size).toBe(10);
    expect(buildNftModel(plan, { dnsmasq: false }).sets.find((s) => s.name === 'd500291aabb01_v4')!.size).toBe(5);
    expect(countNftElements(plan)).toBe(m.elements);
  });

  it('sizes are declared on every set and map, none smaller than its elements', () => {
    const text = renderNft(bigPlan(200));
    const blocks = text.split(/\n\t(?:set|map) /).slice(1);
    expect(blocks.length).toBeGreaterThan(200);
    for (const b of blocks) {
      const size = Number(/\n\t\tsize (\d+)\n/.exec(b)?.[1]);
      const elements = (/elements = \{\n([\s\S]*?)\n\t\t\}/.exec(b)?.[1] ?? '').split('\n').filter(Boolean).length;
      expect(size).toBeGreaterThan(0);
      expect(elements).toBeLessThanOrEqual(size);
    }
  });

  const refused: [string, (p: SegmentationPlan) => void, RegExp][] = [
    ['a MAC that is not one', (p) => (p.devices[0].mac = '3c:ef:8c:5a:10'), /not a MAC address/],
    ['the same MAC twice', (p) => (p.devices[1].mac = p.devices[0].mac), /in the plan twice/],
    ['an unknown zone', (p) => ((p.devices[0] as { zone: string }).zone = 'dmz'), /unknown zone "dmz"/],
    ['an allowed address that is not one', (p) => (p.devices[2].allow.ipv4 = ['198.51.100.300']), /not an IPv4 or IPv6 address/],
    ['a scoped IPv6 address', (p) => (p.devices[2].allow.ipv6 = ['fe80::1%eth0']), /not an IPv4 or IPv6 address/],
    ['a host name that would break the dnsmasq line', (p) => (p.devices[2].allow.hosts[0].name = 'evil.test/#inet#fw4#x'), /not a host name/],
    ['an interface name with a quote', (p) => (p.lanInterfaces = ['br-lan"']), /not an interface name/],
    ['no LAN interface', (p) => (p.lanInterfaces = []), /at least one LAN interface/],
    ['a bound above what a router holds', (p) => (p.limits.addressesPerDevice = NFT_BOUNDS.addressesPerDevice + 1), /at most 4096 on a router/],
    ['a bound that is not a positive integer', (p) => (p.limits.hostsPerDevice = 0), /must be a positive integer/],
    ['a peer MAC that is not one', (p) => (p.devices[0].lan = [planPeer('nope', [], 'controller')]), /lan\[0\]\.mac/],
  ];
  for (const [what, spoil, message] of refused) {
    it(`refuses ${what} with an InputError`, () => {
      const p = everyZone();
      spoil(p);
      expect(() => renderNft(p)).toThrow(InputError);
      expect(() => renderNft(p)).toThrow(message);
    });
  }

  it('refuses more restricted devices than a router holds', () => {
    const devices = Array.from({ length: NFT_BOUNDS.devices + 1 }, (_, i) => planDevice(mac(i + 1), 'blocked'));
    expect(() => renderNft(segmentationPlan(devices))).toThrow(/1025 restricted devices: at most 1024/);
  });
});

describe('names and addresses', () => {
  it('sanitizeComment keeps the words and drops what could end a comment', () => {
    expect(sanitizeComment('Cam "front"\n} drop')).toBe('Cam front } drop');
    expect(sanitizeComment('a\u202eb\u0000c\\d')).toBe('a b c d');
    expect(sanitizeComment('Salle de séjour 🔌')).toBe('Salle de séjour 🔌');
    expect(sanitizeComment('\n\t')).toBe('(unnamed)');
    expect([...sanitizeComment('é'.repeat(300))].length).toBeLessThanOrEqual(64);
    expect(Buffer.byteLength(sanitizeComment('🔌'.repeat(300)))).toBeLessThanOrEqual(120);
  });

  it('canonicalIPv6 writes addresses as nft prints them', () => {
    expect(canonicalIPv6('2001:DB8:0:0:0::1')).toBe('2001:db8::1');
    expect(canonicalIPv6('2001:db8:0:1:0:0:0:1')).toBe('2001:db8:0:1::1');
    expect(canonicalIPv6('::ffff:192.0.2.1')).toBe('::ffff:192.0.2.1');
    expect(canonicalIPv6('198.51.100.1')).toBeNull();
    expect(canonicalIPv6('fe80::1%br-lan')).toBeNull();
  });
});

describe('renderDnsmasq', () => {
  it('one nftset line per allowed name, a shared name listing every device\'s sets', () => {
    const text = renderDnsmasq(everyZone());
    const lines = text.split('\n').filter((l) => l.startsWith('nftset='));
    expect(lines).toEqual([
      'nftset=/cloud.plug.test/4#inet#vigie#d500291aabb01_v4,6#inet#vigie#d500291aabb01_v6,4#inet#vigie#d500291aabb02_v4,6#inet#vigie#d500291aabb02_v6',
      'nftset=/time.plug.test/4#inet#vigie#d500291aabb01_v4,6#inet#vigie#d500291aabb01_v6',
    ]);
    // The sets it names are the ones renderNft makes.
    const nft = renderNft(everyZone());
    for (const set of lines.flatMap((l) => [...l.matchAll(/#vigie#(\w+)/g)].map((m) => m[1]))) expect(nft).toContain(`\tset ${set} {`);
    for (const l of text.split('\n')) expect(l === '' || l.startsWith('#') || l.startsWith('nftset=')).toBe(true);
  });

  it('nothing but comments for a plan without iot devices; names lower-cased without the final dot', () => {
    expect(renderDnsmasq(segmentationPlan([planDevice('3c:ef:8c:5a:10:01', 'quarantine')])).split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([]);
    const p = segmentationPlan([planDevice('50:02:91:aa:bb:01', 'iot', { hosts: [{ name: 'Cloud.Plug.Test.' }] })]);
    expect(renderDnsmasq(p)).toContain('nftset=/cloud.plug.test/4#');
  });

  it('a name shared by more devices than one line holds gets sets of its own, which their chains accept', () => {
    const plan = bigPlan(200);
    const model = buildNftModel(plan);
    const text = renderDnsmasq(plan);
    for (const l of text.split('\n')) expect(l.length).toBeLessThanOrEqual(1000);
    const shared = model.dnsmasq.find((l) => l.host === 'shared.cloud.test')!;
    expect(shared.devices).toHaveLength(40);
    expect(shared.sets).toEqual([expect.stringMatching(/^4#inet#vigie#n[0-9a-f]{8}_v4$/), expect.stringMatching(/^6#inet#vigie#n[0-9a-f]{8}_v6$/)]);
    const v4 = shared.sets[0].split('#')[3];
    const nft = renderNft(plan);
    // Once in each of the 40 devices' outbound chains, once in their inbound ones.
    expect(nft.split('\n').filter((l) => l.trim() === `ip daddr @${v4} return`)).toHaveLength(40);
    expect(nft.split('\n').filter((l) => l.trim() === `ip saddr @${v4} return`)).toHaveLength(40);
    // A name of one device keeps the device's own sets.
    expect(model.dnsmasq.find((l) => l.host === 'd0.cloud.test')!.sets).toEqual(['4#inet#vigie#d020000000001_v4', '6#inet#vigie#d020000000001_v6']);
  });

  it.skipIf(!canNft || !haveCommands('dnsmasq', 'dig', 'ip', 'ss'))('dnsmasq fills the sets its lines name when it forwards a lookup (its own sets, or the shared ones)', () => {
    const plan = bigPlan(200);
    const conf = path.join(dir, 'fill-dnsmasq.conf');
    fs.writeFileSync(conf, renderDnsmasq(plan));
    const shared = buildNftModel(plan).dnsmasq.find((l) => l.host === 'shared.cloud.test')!.sets.map((x) => x.split('#')[3]);
    const script = [
      'ip link set lo up && ip addr add 127.0.0.2/8 dev lo',
      'nft -f "$1"',
      // The internet's resolver, and the router's forwarding to it with Vigie's lines.
      `dnsmasq --keep-in-foreground --pid-file=${path.join(dir, 'fill-up.pid')} --conf-file=/dev/null --listen-address=127.0.0.2 --bind-interfaces --no-resolv --no-hosts --log-facility=/dev/null --address=/shared.cloud.test/198.51.100.77 --address=/shared.cloud.test/2001:db8:1::77 --address=/d0.cloud.test/198.51.100.78 & up=$!`,
      `dnsmasq --keep-in-foreground --pid-file=${path.join(dir, 'fill-rt.pid')} --conf-file=${conf} --listen-address=127.0.0.1 --port=5353 --bind-interfaces --no-resolv --no-hosts --log-facility=/dev/null --server=127.0.0.2 & rt=$!`,
      // Both listening before the first lookup (at most 10 s under load).
      "n=0; until ss -Hlun 'sport = :53' | grep -q . && ss -Hlun 'sport = :5353' | grep -q .; do n=$((n+1)); [ $n -gt 100 ] && exit 9; sleep 0.1; done",
      'dig +short +time=1 +tries=1 -p 5353 @127.0.0.1 shared.cloud.test A',
      'dig +short +time=1 +tries=1 -p 5353 @127.0.0.1 shared.cloud.test AAAA',
      'dig +short +time=1 +tries=1 -p 5353 @127.0.0.1 d0.cloud.test A',
      'sleep 0.2',
      `nft list set inet vigie ${shared[0]}`,
      `nft list set inet vigie ${shared[1]}`,
      'nft list set inet vigie d020000000001_v4',
      'kill $up $rt',
    ].join('\n');
    const r = inScratchNs(renderNft(plan), script);
    expect(r.status, r.stderr).toBe(0);
    const [a, aaaa, own] = r.stdout.split('\n');
    expect([a, aaaa, own]).toEqual(['198.51.100.77', '2001:db8:1::77', '198.51.100.78']);
    const elements = (listing: string): string[] => (/elements = \{([^}]*)\}/.exec(listing)?.[1] ?? '').split(',').map((e) => e.trim()).filter(Boolean).sort();
    const sets = r.stdout.split(/\n(?=table inet vigie)/).slice(1);
    expect(elements(sets[0])).toEqual(['198.51.100.77']);
    expect(elements(sets[1])).toEqual(['2001:db8:1::77']);
    // Device 0's own set: its learned addresses from the plan, and the one dnsmasq added.
    expect(elements(sets[2])).toEqual(['198.51.0.0', '198.51.100.78', '203.0.0.0']);
  });

  it.skipIf(!haveCommands('dnsmasq'))('dnsmasq --test accepts the file', () => {
    const f = path.join(dir, 'vigie-dnsmasq.conf');
    fs.writeFileSync(f, renderDnsmasq(bigPlan(200)));
    const r = spawnSync('dnsmasq', ['--test', `--conf-file=${f}`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
});

describe('the apply script', () => {
  const actions: ScriptAction[] = ['apply', 'confirm', 'status', 'rollback', 'show'];
  const shells = [['dash'], ['busybox', 'sh']].filter((s) => haveCommands(s[0]));
  for (const sh of shells) {
    it(`parses in ${sh.join(' ')} for every action`, () => {
      for (const a of actions) {
        const script = segmentScript(a, { runDir: "/tmp/it's here", rollbackSeconds: 60, nftText: renderNft(everyZone()), dnsmasqPidFile: '/run/dnsmasq.pid' });
        const r = spawnSync(sh[0], [...sh.slice(1), '-n'], { input: script, encoding: 'utf8' });
        expect(r.status, `${a}: ${r.stderr}`).toBe(0);
      }
    });

    it(`${sh.join(' ')}: the embedded plan comes out byte for byte, even with a line equal to the here-document's end`, () => {
      const text = 'table inet vigie\nVIGIE_PLAN_END\n$HOME `id` \\ \'q\'\n';
      const script = segmentScript('apply', { runDir: '/tmp/x', rollbackSeconds: 5, nftText: text }).replace(/vigie_main <\/dev\/null\nexit \$\?\n$/, 'vigie_plan\n');
      const r = spawnSync(sh[0], [...sh.slice(1), '-s'], { input: script, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(text);
    });

    it(`${sh.join(' ')}: a script cut short does nothing`, () => {
      const runDir = path.join(dir, `cut-${sh[0]}`);
      const script = segmentScript('apply', { runDir, rollbackSeconds: 5, nftText: renderNft(everyZone()) });
      const r = spawnSync(sh[0], [...sh.slice(1), '-s'], { input: script.slice(0, script.lastIndexOf('vigie_main')), encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(fs.existsSync(runDir)).toBe(false);
    });
  }

  it('refuses nft text that touches other tables than Vigie\'s', () => {
    expect(() => checkOwnTablesOnly(renderNft(everyZone()))).not.toThrow();
    expect(() => checkOwnTablesOnly(renderNft(segmentationPlan([])))).not.toThrow();
    for (const [text, message] of [
      ['flush ruleset\n', /flush ruleset would touch other tables/],
      ['table inet fw4 {\n}\n', /not inet fw4/],
      ['add rule inet fw4 input drop\n', /not inet fw4/],
      ['table inet vigie {\n}\ndelete table ip nat\n', /line 3: .*not ip nat/],
      ['include "/etc/nftables.d/*.nft"\n', /include is not allowed/],
      ['', /empty/],
    ] as const) {
      expect(() => checkOwnTablesOnly(text)).toThrow(InputError);
      expect(() => checkOwnTablesOnly(text)).toThrow(message);
    }
  });
});

describe('parseRemote and the ssh command', () => {
  it('reads ssh://[user@]host[:port], root and 22 by default', () => {
    expect(parseRemote('ssh://root@192.168.1.1:2222')).toEqual({ user: 'root', host: '192.168.1.1', port: 2222 });
    expect(parseRemote('ssh://router.lan')).toEqual({ user: 'root', host: 'router.lan', port: 22 });
    expect(parseRemote('ssh://admin@[2001:db8::1]:22', { identityFile: 'id', knownHostsFile: 'kh' })).toEqual({ user: 'admin', host: '2001:db8::1', port: 22, identityFile: path.resolve('id'), knownHostsFile: path.resolve('kh') });
  });

  for (const [spec, message] of [
    ['root@192.168.1.1', /expected ssh:\/\//],
    ['ssh://root:secret@192.168.1.1', /no password/],
    ['ssh://root@192.168.1.1:0', /port/],
    ['ssh://root@192.168.1.1:70000', /not a valid ssh:\/\/ address|port/],
    ['ssh://root@192.168.1.1/etc', /no path/],
    ['ssh://-oProxyCommand=touch%20x', /not a host name/],
    ['ssh://-oProxyCommand=x@host', /not a user name/],
  ] as const) {
    it(`refuses ${spec}`, () => {
      expect(() => parseRemote(spec)).toThrow(InputError);
      expect(() => parseRemote(spec)).toThrow(message);
    });
  }

  it('key-only, the pinned known_hosts alone, no shared connection', () => {
    const argv = sshArgv(parseRemote('ssh://root@192.0.2.1:2222', { identityFile: '/k/id', knownHostsFile: '/k/known_hosts' }));
    const opts = argv.filter((_, i) => argv[i - 1] === '-o');
    expect(opts).toEqual(expect.arrayContaining(['BatchMode=yes', 'PasswordAuthentication=no', 'StrictHostKeyChecking=yes', 'UserKnownHostsFile=/k/known_hosts', 'GlobalKnownHostsFile=/dev/null', 'UpdateHostKeys=no', 'IdentitiesOnly=yes', 'ControlPath=none']));
    expect(argv.slice(-4)).toEqual(['2222', '--', 'root@192.0.2.1', 'sh -s']);
    expect(argv[argv.indexOf('-i') + 1]).toBe('/k/id');
    // ssh itself accepts the command line (-G prints the configuration it would use, connects nowhere).
    if (haveCommands('ssh')) {
      const g = execFileSync('ssh', ['-G', ...argv.slice(1, -1)], { encoding: 'utf8' });
      expect(g).toMatch(/^stricthostkeychecking true$/m);
      expect(g).toMatch(/^batchmode yes$/m);
      expect(g).toMatch(/^port 2222$/m);
    }
  });
});

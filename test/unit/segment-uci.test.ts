/**
 * OpenWrt UCI output of a segmentation plan (daemon/segment/uci.ts): hand-built plans with every
 * field filled, the output parsed back with the project's UCI parser and checked for the
 * firewall4 and dnsmasq traps (uci-check.ts), and the checker shown catching each trap on
 * hand-made broken configurations, so that a clean result means something.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parseUci, type UciSection } from '../../daemon/config/uci.js';
import type { SegmentationPlan, Zone } from '../../daemon/model/plan.js';
import { renderMud } from '../../daemon/segment/mud.js';
import { checkDnsmasqTraps, checkUciTraps, parseUciFirewall } from '../../daemon/segment/uci-check.js';
import { DNSMASQ_MAX_LINE, dnsmasqLines, familyFromSetName } from '../../daemon/segment/uci-dhcp.js';
import { renderUci } from '../../daemon/segment/uci.js';
import { ROOT } from '../helpers/corpus.js';
import { planDevice, planHost, planPeer, segmentationPlan } from '../helpers/plans.js';

// ---- hand-built plans (test/helpers/plans.ts), every field of daemon/model/plan.ts filled ----

const MAC = { plug: 'aa:bb:cc:00:00:01', cam: 'aa:bb:cc:00:00:02', toy: 'aa:bb:cc:00:00:03', evil: 'aa:bb:cc:00:00:04', laptop: 'aa:bb:cc:00:00:05', ha: 'aa:bb:cc:00:00:09', nvr: 'aa:bb:cc:00:00:0a' };

function everyZone(): SegmentationPlan {
  return segmentationPlan([
    planDevice(MAC.plug, 'iot', {
      name: 'Kitchen plug',
      ips: ['192.168.1.20', 'fe80::1', '2001:db8:1::20'],
      allow: {
        hosts: [planHost('a1.tuyaeu.com', ['203.0.113.5'], { ports: [{ proto: 'tcp', port: 443 }, { proto: 'udp', port: 6667 }] }), planHost('m1.tuyaeu.com', ['203.0.113.6'], { ports: [{ proto: 'tcp', port: 8883 }] })],
        ipv4: ['198.51.100.7', '203.0.113.5', '203.0.113.6'],
        ipv6: [],
      },
      lan: [planPeer(MAC.ha, ['192.168.1.9'], 'controller', 'Home Assistant', [{ proto: 'tcp', port: 6668 }])],
    }),
    planDevice(MAC.cam, 'local-only', { name: 'Garden camera', category: 'camera', ips: ['192.168.1.21'], lan: [planPeer(MAC.nvr, ['192.168.1.10'], 'peer', 'NVR', [{ proto: 'tcp', port: 554 }])] }),
    planDevice(MAC.toy, 'quarantine', { name: 'Talking bear', category: 'toy', ips: [], lan: [planPeer(MAC.ha, ['192.168.1.9'], 'controller', 'peer', [{ proto: 'tcp', port: 80 }])] }),
    planDevice(MAC.evil, 'blocked', { name: 'Unknown box', category: 'unknown', source: 'user', rule: null, ips: ['192.168.1.23'] }),
    planDevice(MAC.laptop, 'trusted', { name: 'Laptop', category: 'computer', ips: ['192.168.1.50'], rule: 'personal', profile: { state: 'none', learningUntil: null, changes: 0 } }),
  ]);
}

// The fixtures are plans as the schema defines them (not shapes the renderer happens to accept).
const planSchema = JSON.parse(fs.readFileSync(path.join(ROOT, 'daemon/segment/plan.schema.json'), 'utf8'));
const ajv = String(planSchema.$schema).includes('2020-12') ? new Ajv2020.default({ allErrors: true, strict: false }) : new Ajv.default({ allErrors: true, strict: false });
addFormats.default(ajv);
const validatePlan = ajv.compile(planSchema);

// ---- reading the output back ----

function get(s: UciSection, key: string): string | undefined {
  return s.options.get(key)?.values[0];
}
function all(s: UciSection, key: string): string[] {
  return (s.options.get(key)?.values ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean);
}
function rules(fw: UciSection[]): UciSection[] {
  return fw.filter((s) => s.type === 'rule');
}
function setOf(fw: UciSection[], name: string): UciSection | undefined {
  return fw.find((s) => s.type === 'ipset' && get(s, 'name') === name);
}

describe('renderUci: every zone', () => {
  const plan = everyZone();
  const out = renderUci(plan);
  const fw = parseUciFirewall(out.firewall);
  const dhcp = parseUciFirewall(out.dhcp);

  it('the fixture is a valid plan', () => {
    expect(validatePlan(plan), JSON.stringify(validatePlan.errors?.slice(0, 3))).toBe(true);
  });

  it('parses back and has none of the traps', () => {
    expect(fw.length).toBeGreaterThan(20);
    expect(checkUciTraps(fw)).toEqual([]);
    expect(checkDnsmasqTraps(dhcp, fw)).toEqual([]);
  });

  it('names every section vigie_* and every rule "vigie ..."', () => {
    for (const s of [...fw, ...dhcp]) {
      expect(s.name, `${s.type} at line ${s.line}`).toMatch(/^vigie_[a-z0-9_]+$/);
      if (s.type === 'rule' || s.type === 'redirect') expect(get(s, 'name')).toMatch(/^vigie /);
    }
  });

  it('leaves the trusted device out', () => {
    expect(out.firewall).not.toContain(MAC.laptop);
    expect(out.dhcp).not.toContain(MAC.laptop);
  });

  it('gives each zone one MAC set per family with its devices', () => {
    for (const [zone, key, mac] of [['iot', 'iot', MAC.plug], ['local-only', 'localonly', MAC.cam], ['quarantine', 'quarantine', MAC.toy], ['blocked', 'blocked', MAC.evil]] as const) {
      for (const f of [4, 6]) {
        const s = setOf(fw, `vigie_${key}_mac${f}`);
        expect(s, `${zone} IPv${f}`).toBeDefined();
        expect(get(s!, 'family')).toBe(`ipv${f}`);
        expect(all(s!, 'match')).toEqual(['src_mac']);
        expect(all(s!, 'entry')).toEqual([mac]);
      }
    }
  });

  it('says proto all and the set\'s family on every rule that uses a set', () => {
    const withSet = rules(fw).filter((r) => get(r, 'ipset'));
    expect(withSet.length).toBeGreaterThan(10);
    for (const r of withSet) {
      expect(get(r, 'proto'), r.name!).toBe('all');
      expect(get(r, 'family'), r.name!).toBe(get(setOf(fw, get(r, 'ipset')!)!, 'family'));
    }
  });

  it('drops each zone as the plan says, for both families', () => {
    const drops = (key: string, f: number): UciSection[] => rules(fw).filter((r) => get(r, 'target') === 'DROP' && get(r, 'ipset') === `vigie_${key}_mac${f}`);
    for (const f of [4, 6]) {
      // routed: iot and local-only lose the internet, quarantine and blocked everything routed
      expect(drops('iot', f).map((r) => get(r, 'dest'))).toContain('wan');
      expect(drops('localonly', f).map((r) => get(r, 'dest'))).toContain('wan');
      expect(drops('quarantine', f).map((r) => get(r, 'dest'))).toContain('*');
      expect(drops('blocked', f).map((r) => get(r, 'dest'))).toContain('*');
      // the router: a rule without dest is fw4's input chain
      for (const key of ['iot', 'localonly', 'quarantine', 'blocked']) expect(drops(key, f).some((r) => get(r, 'dest') === undefined), `${key} router IPv${f}`).toBe(true);
    }
  });

  it('lets restricted devices reach the router for DHCP, DNS and NTP only, before the drops; blocked not even that', () => {
    const rs = rules(fw);
    const accepts = rs.filter((r) => get(r, 'target') === 'ACCEPT' && get(r, 'dest') === undefined);
    const ports = accepts.flatMap((r) => all(r, 'dest_port'));
    expect(ports).toEqual(expect.arrayContaining(['53', '67', '547', '123']));
    for (const r of accepts) {
      expect(all(r, 'src_mac')).toEqual(expect.arrayContaining([MAC.plug, MAC.cam, MAC.toy]));
      expect(all(r, 'src_mac')).not.toContain(MAC.evil);
      expect(get(r, 'proto') === 'all' && r.options.has('dest_port')).toBe(false);
    }
    const firstDrop = rs.findIndex((r) => get(r, 'target') === 'DROP' && get(r, 'dest') === undefined);
    const lastAccept = rs.map((r, i) => (accepts.includes(r) ? i : -1)).reduce((a, b) => Math.max(a, b));
    expect(lastAccept).toBeLessThan(firstDrop);
  });

  it('iot: refuses DNS over TLS, then accepts its learnt addresses and names, then drops the rest', () => {
    const rs = rules(fw);
    const idx = (pred: (r: UciSection) => boolean): number => rs.findIndex(pred);
    const dot = idx((r) => all(r, 'dest_port').includes('853'));
    const accept = idx((r) => get(r, 'target') === 'ACCEPT' && get(r, 'dest') === 'wan');
    const drop = idx((r) => get(r, 'ipset') === 'vigie_iot_mac4' && get(r, 'dest') === 'wan');
    expect(dot).toBeGreaterThanOrEqual(0);
    expect(dot).toBeLessThan(accept);
    expect(accept).toBeLessThan(drop);
    expect(get(rs[dot], 'target')).toBe('REJECT');

    const addr = setOf(fw, 'vigie_d_aabbcc000001_ip4')!;
    expect(all(addr, 'match')).toEqual(['dest_ip']);
    expect(all(addr, 'entry')).toEqual(['198.51.100.7', '203.0.113.5', '203.0.113.6']);
    expect(setOf(fw, 'vigie_d_aabbcc000001_ip6')).toBeUndefined(); // no IPv6 destination learnt

    // the names, filled by dnsmasq: every allowed name is in the dhcp part, pointing at sets of the firewall part
    const domains = dhcp.flatMap((s) => all(s, 'domain'));
    expect(domains.sort()).toEqual(['a1.tuyaeu.com', 'm1.tuyaeu.com']);
    for (const s of dhcp) for (const n of all(s, 'name')) expect(setOf(fw, n), n).toBeDefined();
    const groupAccepts = rs.filter((r) => get(r, 'target') === 'ACCEPT' && /^vigie_g\d+_dst[46]$/.test(get(r, 'ipset') ?? ''));
    expect(groupAccepts.map((r) => get(r, 'family')).sort()).toEqual(['ipv4', 'ipv6']);
    for (const r of groupAccepts) expect(all(r, 'src_mac')).toEqual([MAC.plug]);
  });

  it('gives local-only, quarantine and blocked no way to the internet', () => {
    for (const r of rules(fw).filter((x) => get(x, 'target') === 'ACCEPT' && get(x, 'dest') !== undefined)) {
      for (const mac of [MAC.cam, MAC.toy, MAC.evil]) expect(all(r, 'src_mac'), r.name!).not.toContain(mac);
    }
  });

  it('refuses connections from the internet to restricted devices by their addresses, link-local left out', () => {
    const inbound = rules(fw).filter((r) => get(r, 'src') === 'wan');
    const ips = inbound.flatMap((r) => all(r, 'dest_ip'));
    expect(ips).toEqual(expect.arrayContaining(['192.168.1.20', '2001:db8:1::20', '192.168.1.21', '192.168.1.23']));
    expect(ips).not.toContain('fe80::1');
    for (const r of inbound) expect(get(r, 'target')).toBe('DROP');
  });

  it('redirects the DNS of restricted devices to the router, one redirect per family', () => {
    const redirects = fw.filter((s) => s.type === 'redirect');
    expect(redirects.map((r) => get(r, 'family')).sort()).toEqual(['ipv4', 'ipv6']);
    for (const r of redirects) {
      expect(get(r, 'src')).toBe('lan');
      expect(get(r, 'src_dport')).toBe('53');
      expect(all(r, 'src_mac').sort()).toEqual([MAC.plug, MAC.cam, MAC.toy].sort());
    }
  });

  it('says plainly what it needs and what it cannot do', () => {
    expect(out.firewall).toMatch(/dnsmasq-full/);
    expect(out.dhcp).toMatch(/Needs dnsmasq-full/);
    expect(out.firewall).toMatch(/\[!\]/);
    expect(out.firewall).toMatch(/fw4 check/);
    expect(out.firewall).toMatch(/same\s*(#\s*)?bridge/);
    expect(out.notes.some((n) => /dnsmasq-full/.test(n))).toBe(true);
    expect(out.notes.some((n) => /same bridge/.test(n) && /nft output/.test(n))).toBe(true);
    expect(out.recipe).toBeNull();
  });
});

/**
 * The recipe spans several files; /etc/config/wireless has `config wifi-iface`, a type libuci
 * accepts (uci_validate_type allows any printable character) but the project's stricter parser
 * (daemon/config/uci.ts, made for /etc/config/vigie) does not: read it as wifi_iface.
 */
function parseRecipe(text: string): UciSection[] {
  return parseUci(text.replace(/^config wifi-iface /gm, 'config wifi_iface ')).map((s) => (s.type === 'wifi_iface' ? { ...s, type: 'wifi-iface' } : s));
}

describe('renderUci: the iot network recipe', () => {
  const plan = everyZone();
  const out = renderUci(plan, { iotNetworkRecipe: true });
  const recipe = parseRecipe(out.recipe!);

  it('has the network, SSID with isolation, zone, forwardings and DHCP pool, all vigie_*', () => {
    const types = recipe.map((s) => s.type);
    for (const t of ['device', 'interface', 'wifi-iface', 'dhcp', 'zone', 'forwarding']) expect(types).toContain(t);
    for (const s of recipe) expect(s.name).toMatch(/^vigie_/);
    const wifi = recipe.find((s) => s.type === 'wifi-iface')!;
    expect(get(wifi, 'isolate')).toBe('1');
    expect(get(wifi, 'network')).toBe('vigie_iot');
    expect(get(recipe.find((s) => s.type === 'dhcp')!, 'interface')).toBe('vigie_iot');
    expect(get(recipe.find((s) => s.type === 'zone')!, 'forward')).toBe('REJECT');
  });

  it('merged with the firewall part, still has no trap; the local-only camera keeps its NVR', () => {
    const fwPart = recipe.filter((s) => ['zone', 'forwarding', 'rule'].includes(s.type));
    expect(checkUciTraps([...parseUciFirewall(out.firewall), ...fwPart])).toEqual([]);
    const peerRule = fwPart.find((s) => s.type === 'rule' && all(s, 'src_mac').includes(MAC.cam))!;
    expect(all(peerRule, 'dest_ip')).toEqual(['192.168.1.10']);
    expect(all(peerRule, 'dest_port')).toEqual(['554']);
    expect(get(peerRule, 'proto')).toBe('tcp');
  });

  it('lists the devices to move', () => {
    for (const mac of [MAC.plug, MAC.cam, MAC.toy]) expect(out.recipe).toContain(mac);
    expect(out.recipe).not.toContain(MAC.laptop);
  });
});

describe('renderUci: IPv6-only hosts', () => {
  const plan = segmentationPlan([
    planDevice(MAC.plug, 'iot', {
      ips: ['2001:db8:1::20'],
      allow: { hosts: [planHost('v6only.example.net', ['2001:db8::5', '2001:db8::6'])], ipv4: [], ipv6: ['2001:db8::5', '2001:db8::6', '2001:db8::7'] },
    }),
  ]);
  const fw = parseUciFirewall(renderUci(plan).firewall);

  it('is a valid plan and gives no trap', () => {
    expect(validatePlan(plan), JSON.stringify(validatePlan.errors?.slice(0, 3))).toBe(true);
    expect(checkUciTraps(fw)).toEqual([]);
  });

  it('loads the IPv6 addresses into an IPv6 set, makes no empty IPv4 address set, and still drops IPv4', () => {
    expect(all(setOf(fw, 'vigie_d_aabbcc000001_ip6')!, 'entry')).toEqual(['2001:db8::5', '2001:db8::6', '2001:db8::7']);
    expect(setOf(fw, 'vigie_d_aabbcc000001_ip4')).toBeUndefined();
    // the name may resolve to A records too: both DNS-filled sets exist
    expect(setOf(fw, 'vigie_g1_dst4')).toBeDefined();
    expect(setOf(fw, 'vigie_g1_dst6')).toBeDefined();
    expect(rules(fw).some((r) => get(r, 'ipset') === 'vigie_iot_mac4' && get(r, 'target') === 'DROP' && get(r, 'family') === 'ipv4')).toBe(true);
  });
});

describe('renderUci: names with odd characters', () => {
  const evilName = "Bob's \"cam\"\nconfig rule 'pwned'\n\toption target 'ACCEPT' # \\ ✓ Ωmega " + 'x'.repeat(300);
  const label63 = 'a'.repeat(62) + 'b';
  const long = [label63, label63, label63, 'c'.repeat(61)].join('.'); // 253 characters
  const plan = segmentationPlan([
    planDevice(MAC.plug, 'iot', {
      name: evilName,
      ips: ['192.168.1.50'],
      allow: {
        hosts: [
          planHost('_dns-sd._udp.example.com'),
          planHost('cdn.example.org.'),
          planHost(long),
          planHost('bad-.example.com', ['203.0.113.9']),
          planHost('1.2.3.4'),
        ],
        ipv4: ['203.0.113.9'],
        ipv6: [],
      },
    }),
    planDevice(MAC.cam, 'quarantine', { name: 'Café ☕ caméra', ips: ['192.168.1.30'] }),
  ]);
  const out = renderUci(plan, { iotNetworkRecipe: true });
  const fw = parseUciFirewall(out.firewall);
  const dhcp = parseUciFirewall(out.dhcp);

  it('is a valid plan', () => {
    expect(long.length).toBe(253);
    expect(validatePlan(plan), JSON.stringify(validatePlan.errors?.slice(0, 3))).toBe(true);
  });

  it('keeps the names out of the syntax: no injected section, rule names short and plain ASCII', () => {
    expect(fw.some((s) => s.name === 'pwned')).toBe(false);
    expect(parseRecipe(out.recipe!).some((s) => s.name === 'pwned')).toBe(false);
    for (const r of fw.filter((s) => s.type === 'rule' || s.type === 'redirect')) {
      const n = get(r, 'name')!;
      expect(Buffer.byteLength(n)).toBeLessThanOrEqual(122);
      expect(n).toMatch(/^[\x20-\x7e]+$/);
      expect(n).not.toMatch(/["\\']/);
    }
    expect(checkUciTraps(fw)).toEqual([]);
    expect(checkDnsmasqTraps(dhcp, fw)).toEqual([]);
  });

  it('writes the names dnsmasq takes, normalised, and says which it left out', () => {
    const domains = dhcp.flatMap((s) => all(s, 'domain')).sort();
    expect(domains).toEqual(['_dns-sd._udp.example.com', 'cdn.example.org', long].sort());
    expect(out.notes.some((n) => n.includes('bad-.example.com'))).toBe(true);
    expect(out.notes.some((n) => n.includes('"1.2.3.4"'))).toBe(true);
    // the address of the refused name stays allowed
    expect(all(setOf(fw, 'vigie_d_aabbcc000001_ip4')!, 'entry')).toEqual(['203.0.113.9']);
  });
});

describe('dnsmasq: one set list per name, lines it can read', () => {
  // 40 iot devices share two names and each has 30 long names of its own: without grouping the
  // shared names would need 80 sets on one line (over 3000 characters).
  const shared = ['time.example.com', 'ota.example.com'];
  const devices = Array.from({ length: 40 }, (_, i) => {
    const mac = `02:00:00:00:00:${i.toString(16).padStart(2, '0')}`;
    const own = Array.from({ length: 30 }, (_, j) => planHost(`device${i}-service${j}-${'x'.repeat(40)}.cloud.example.net`));
    return planDevice(mac, 'iot', { ips: ['192.168.1.50'], allow: { hosts: [...shared.map((n) => planHost(n)), ...own], ipv4: [], ipv6: [] } });
  });
  const out = renderUci(segmentationPlan(devices));
  const fw = parseUciFirewall(out.firewall);
  const dhcp = parseUciFirewall(out.dhcp);

  it('puts every name in exactly one section, within the line limit, with no trap', () => {
    const count = new Map<string, number>();
    for (const s of dhcp) for (const d of all(s, 'domain')) count.set(d, (count.get(d) ?? 0) + 1);
    expect(count.size).toBe(2 + 40 * 30);
    expect([...count.values()].every((n) => n === 1)).toBe(true);
    for (const s of dhcp) {
      const l = dnsmasqLines(all(s, 'domain'), all(s, 'name'));
      expect(l.nftset.length).toBeLessThanOrEqual(DNSMASQ_MAX_LINE);
      expect(l.nftset).toMatch(/\/4#inet#fw4#vigie_g\d+_dst4,6#inet#fw4#vigie_g\d+_dst6$/);
    }
    expect(dhcp.length).toBeGreaterThan(41); // the long own names need several sections per device
    expect(checkDnsmasqTraps(dhcp, fw)).toEqual([]);
    expect(checkUciTraps(fw)).toEqual([]);
  });

  it('lets each device reach only its own names: the shared group has all 40 MACs, each own group one', () => {
    const groupOf = (d: string): string => all(dhcp.find((s) => all(s, 'domain').includes(d))!, 'name')[0];
    const sharedRule = rules(fw).find((r) => get(r, 'ipset') === groupOf('time.example.com'))!;
    expect(all(sharedRule, 'src_mac')).toHaveLength(40);
    expect(groupOf('ota.example.com')).toBe(groupOf('time.example.com'));
    const own = rules(fw).find((r) => get(r, 'ipset') === groupOf(`device7-service3-${'x'.repeat(40)}.cloud.example.net`))!;
    expect(all(own, 'src_mac')).toEqual(['02:00:00:00:00:07']);
  });

  it('infers the family from the set name as the init script does', () => {
    expect(familyFromSetName('vigie_g1_dst4')).toBe('4');
    expect(familyFromSetName('vigie_g1_dst6')).toBe('6');
    expect(familyFromSetName('allow_6_x')).toBe('6');
    expect(familyFromSetName('4set')).toBe('4');
    expect(familyFromSetName('vigie_g14')).toBe(null); // a digit before the 4: not a family
    expect(familyFromSetName('allowlist')).toBe(null);
  });
});

// ---- the checker against hand-made broken configurations ----

const GOOD = `
config ipset 'vigie_x_mac4'
	option name 'vigie_x_mac4'
	option family 'ipv4'
	list match 'src_mac'
	list entry 'aa:bb:cc:dd:ee:01'

config ipset 'vigie_x_mac6'
	option name 'vigie_x_mac6'
	option family 'ipv6'
	list match 'src_mac'
	list entry 'aa:bb:cc:dd:ee:01'

config rule 'vigie_x_drop4'
	option name 'vigie x: drop IPv4'
	option src '*'
	option dest 'wan'
	option ipset 'vigie_x_mac4'
	option family 'ipv4'
	option proto 'all'
	option target 'DROP'

config rule 'vigie_x_drop6'
	option name 'vigie x: drop IPv6'
	option src '*'
	option dest 'wan'
	option ipset 'vigie_x_mac6'
	option family 'ipv6'
	option proto 'all'
	option target 'DROP'
`;

function traps(text: string): string[] {
  return checkUciTraps(parseUciFirewall(text));
}

describe('checkUciTraps catches each trap', () => {
  it('finds nothing in the good configuration', () => {
    expect(traps(GOOD)).toEqual([]);
  });

  const cases: [what: string, broken: string, expected: RegExp][] = [
    ['an ipset without family', GOOD.replace("\toption family 'ipv4'\n\tlist match", '\tlist match'), /no option family: fw4 makes it IPv4/],
    ['family any on an ipset', GOOD.replace("option family 'ipv4'\n\tlist match", "option family 'any'\n\tlist match"), /family 'any': refused by fw4/],
    ['family inet (read as IPv4)', GOOD.replace("option family 'ipv4'\n\tlist match", "option family 'inet'\n\tlist match"), /'inet' is read as IPv4/],
    ['a drop rule using a set without proto', GOOD.replace("\toption proto 'all'\n\toption target 'DROP'\n\nconfig rule 'vigie_x_drop6'", "\toption target 'DROP'\n\nconfig rule 'vigie_x_drop6'"), /without proto 'all'.*ICMP and every other protocol/],
    ['a rule whose family is not the set\'s', GOOD.replace("option ipset 'vigie_x_mac6'\n\toption family 'ipv6'", "option ipset 'vigie_x_mac6'\n\toption family 'ipv4'"), /family IPv4 but set vigie_x_mac6 is IPv6: fw4 skips it/],
    ['a rule using a set without family', GOOD.replace("option ipset 'vigie_x_mac4'\n\toption family 'ipv4'", "option ipset 'vigie_x_mac4'"), /without option family/],
    ['a MAC set rule for IPv4 only', GOOD.split("config rule 'vigie_x_drop6'")[0], /IPv4 only and no rule does the same for IPv6: the IPv6 traffic of those devices passes/],
    ['an IPv6 twin that misses a device', GOOD.replace("option family 'ipv4'\n\tlist match 'src_mac'\n\tlist entry 'aa:bb:cc:dd:ee:01'", "option family 'ipv4'\n\tlist match 'src_mac'\n\tlist entry 'aa:bb:cc:dd:ee:01'\n\tlist entry 'aa:bb:cc:dd:ee:02'"), /vigie_x_mac4 for IPv4 only/],
    ['a rule name too long for the nft comment', GOOD.replace('vigie x: drop IPv4', `vigie ${'x'.repeat(120)}`), /nft comment.*128 bytes/],
    ['a set name too long for nft', GOOD.replace(/vigie_x_mac4/g, `vigie_${'m'.repeat(260)}`), /bytes, nft allows 255/],
    ['a set name that is not an identifier', GOOD.replace("option name 'vigie_x_mac4'", "option name '4 bad name'").replace("option ipset 'vigie_x_mac4'", "option ipset '4 bad name'"), /not an fw4 identifier/],
    ['two sections with one name', GOOD.replace("config rule 'vigie_x_drop6'", "config rule 'vigie_x_drop4'"), /section name 'vigie_x_drop4' already used/],
    ['two sets with one name', GOOD.replace("option name 'vigie_x_mac6'", "option name 'vigie_x_mac4'"), /set name 'vigie_x_mac4' already used/],
    ['two rules with one name', GOOD.replace('vigie x: drop IPv6', 'vigie x: drop IPv4'), /rule name 'vigie x: drop IPv4' already used/],
    ['an unknown option', GOOD.replace("option target 'DROP'", "option target 'DROP'\n\toption dest_mac 'aa:bb:cc:dd:ee:ff'"), /unknown option 'dest_mac'/],
    ['an option fw4 does not support', GOOD.replace("option target 'DROP'", "option target 'DROP'\n\toption extra '--foo'"), /'extra' is not supported by fw4/],
    ['a list where fw4 wants an option', GOOD.replace("option family 'ipv6'\n\toption proto", "list family 'ipv6'\n\toption proto"), /'family' must be an option, not a list/],
    ['a text comment on an ipset', GOOD.replace("option family 'ipv4'\n\tlist match", "option comment 'my devices'\n\toption family 'ipv4'\n\tlist match"), /reads it as a boolean/],
    ['a destination MAC set', GOOD.replace("list match 'src_mac'\n\tlist entry 'aa:bb:cc:dd:ee:01'\n\nconfig ipset 'vigie_x_mac6'", "list match 'dest_mac'\n\tlist entry 'aa:bb:cc:dd:ee:01'\n\nconfig ipset 'vigie_x_mac6'"), /destination MAC address matching not supported/],
    ['ports with proto all', GOOD.replace("option proto 'all'\n\toption target 'DROP'\n\nconfig rule 'vigie_x_drop6'", "option proto 'all'\n\toption dest_port '443'\n\toption target 'DROP'\n\nconfig rule 'vigie_x_drop6'"), /ports with proto all are ignored/],
    ['a rule using an unknown set', GOOD.replace("option ipset 'vigie_x_mac6'", "option ipset 'vigie_y_mac6'"), /references unknown set 'vigie_y_mac6'/],
    ['an unknown zone', GOOD.replace("option dest 'wan'", "option dest 'wan6'"), /dest 'wan6' is not a zone/],
    ['an ipset without match', GOOD.replace("\tlist match 'src_mac'\n\tlist entry 'aa:bb:cc:dd:ee:01'\n\nconfig ipset 'vigie_x_mac6'", "\tlist entry 'aa:bb:cc:dd:ee:01'\n\nconfig ipset 'vigie_x_mac6'"), /has no datatypes assigned/],
    ['a section type fw4 does not read', GOOD.replace("config rule 'vigie_x_drop6'", "config rules 'vigie_x_drop6'"), /does not read 'rules' sections/],
    ['an invalid MAC entry', GOOD.replace("list entry 'aa:bb:cc:dd:ee:01'\n\nconfig rule", "list entry 'aa:bb:cc:dd:ee'\n\nconfig rule"), /entry 'aa:bb:cc:dd:ee' is not a MAC address/],
    ['an IPv6 entry in an IPv4 set', `config ipset 'vigie_a4'\n\toption name 'vigie_a4'\n\toption family 'ipv4'\n\tlist match 'dest_ip'\n\tlist entry '2001:db8::1'\n`, /is IPv6 in an IPv4 set/],
    ['a redirect without family', `config redirect 'vigie_r'\n\toption name 'vigie r'\n\toption src 'lan'\n\toption src_dport '53'\n\tlist proto 'udp'\n\toption target 'DNAT'\n`, /makes the redirect IPv4 only/],
    ['a DNAT from any zone', `config redirect 'vigie_r'\n\toption name 'vigie r'\n\toption src '*'\n\toption family 'ipv4'\n\toption src_dport '53'\n\toption target 'DNAT'\n`, /must not have source '\*' for dnat target/],
    ['a bad target', GOOD.replace("option target 'DROP'", "option target 'DENY'"), /target 'DENY' is not an fw4 target/],
  ];
  for (const [what, broken, expected] of cases) {
    it(what, () => {
      const found = traps(broken);
      expect(found.some((p) => expected.test(p)), `expected ${expected} in:\n${found.join('\n')}`).toBe(true);
    });
  }
});

describe('checkDnsmasqTraps catches each trap', () => {
  const fw = parseUciFirewall(`
config ipset 'vigie_g1_dst4'
	option name 'vigie_g1_dst4'
	option family 'ipv4'
	list match 'dest_ip'

config ipset 'vigie_g1_dst6'
	option name 'vigie_g1_dst6'
	option family 'ipv6'
	list match 'dest_ip'
`);
  const good = `
config ipset 'vigie_g1_dns1'
	list name 'vigie_g1_dst4'
	list name 'vigie_g1_dst6'
	list domain 'a.example.com'
	option table 'fw4'
	option table_family 'inet'
`;
  const dns = (text: string): string[] => checkDnsmasqTraps(parseUciFirewall(text), fw);

  it('finds nothing in the good section', () => {
    expect(dns(good)).toEqual([]);
  });

  const cases: [string, string, RegExp][] = [
    ['one name in two sections', good + good.replace('vigie_g1_dns1', 'vigie_g1_dns2'), /also in .*the last line wins/],
    ['a line over 1023 characters', good.replace("list domain 'a.example.com'", Array.from({ length: 40 }, (_, i) => `list domain 'host${i}-${'y'.repeat(20)}.example.com'`).join('\n\t')), /1023 .*refuses to start/],
    ['option family over names of both families', good.replace("option table 'fw4'", "option family '4'\n\toption table 'fw4'"), /applies to every name of the section/],
    ['option family ipv4 instead of 4', good.replace("option table 'fw4'", "option family 'ipv4'\n\toption table 'fw4'"), /dnsmasq wants 4 or 6/],
    ['a set name without its family', good.replace("list name 'vigie_g1_dst6'", "list name 'vigie_g1_names'"), /cannot be told from its name/],
    ['a set the firewall does not define', good.replace("list name 'vigie_g1_dst6'", "list name 'vigie_g2_dst6'"), /vigie_g2_dst6 is not defined in the firewall/],
    ['an unknown option', good.replace("option table 'fw4'", "option tabel 'fw4'\n\toption table 'fw4'"), /unknown option 'tabel'/],
    ['a name that is not a DNS name', good.replace('a.example.com', 'bad name.example.com'), /is not a DNS name/],
  ];
  for (const [what, broken, expected] of cases) {
    it(what, () => {
      const found = dns(broken);
      expect(found.some((p) => expected.test(p)), `expected ${expected} in:\n${found.join('\n')}`).toBe(true);
    });
  }

  it('a set whose name says IPv6 but is IPv4 in the firewall', () => {
    const fw2 = parseUciFirewall(`config ipset 'vigie_z6'\n\toption name 'vigie_z6'\n\toption family 'ipv4'\n\tlist match 'dest_ip'\n`);
    const found = checkDnsmasqTraps(parseUciFirewall(`config ipset 'vigie_z_dns'\n\tlist name 'vigie_z6'\n\tlist domain 'a.example.com'\n`), fw2);
    expect(found.some((p) => /gets IPv6 answers but is an IPv4 set/.test(p)), found.join('\n')).toBe(true);
  });
});

describe('200 devices', () => {
  const zones: Zone[] = ['iot', 'iot', 'iot', 'local-only', 'quarantine', 'blocked', 'trusted'];
  const devices = Array.from({ length: 200 }, (_, i) => {
    const mac = `02:00:00:00:${Math.floor(i / 256).toString(16).padStart(2, '0')}:${(i % 256).toString(16).padStart(2, '0')}`;
    const zone = zones[i % zones.length];
    const iot = zone === 'iot';
    const hosts = iot ? Array.from({ length: 20 }, (_, j) => planHost(j < 5 ? `shared${j}.example.com` : `d${i}-h${j}.vendor${i % 9}.example.net`, [`203.0.${i % 250}.${j + 1}`, `2001:db8:${i.toString(16)}::${j + 1}`])) : [];
    return planDevice(mac, zone, {
      ips: [`192.168.${Math.floor(i / 250)}.${(i % 250) + 2}`, `2001:db8:ffff::${i.toString(16)}`],
      allow: { hosts, ipv4: hosts.flatMap((h) => h.addresses.filter((a) => a.includes('.'))), ipv6: hosts.flatMap((h) => h.addresses.filter((a) => a.includes(':'))) },
      lan: zone === 'blocked' || zone === 'trusted' ? [] : [planPeer(MAC.ha, ['192.168.1.9'], 'controller', 'peer', [{ proto: 'tcp', port: 8123 }]), ...(zone === 'quarantine' ? [] : [planPeer(MAC.nvr, ['192.168.1.10'], 'peer', 'peer', [{ proto: 'tcp', port: 554 }])])],
    });
  });
  const plan = segmentationPlan(devices);

  it('renders UCI and every MUD file well under a second, and the output has no trap', () => {
    expect(validatePlan(plan), JSON.stringify(validatePlan.errors?.slice(0, 3))).toBe(true);
    // Three runs: the first includes compiling the code; the best shows the cost on a busy machine.
    const times: number[] = [];
    let out = renderUci(plan);
    let muds: unknown[] = [];
    for (let run = 0; run < 3; run++) {
      const t0 = performance.now();
      out = renderUci(plan, { iotNetworkRecipe: true });
      muds = plan.devices.map((d) => renderMud(plan, d)).filter((m) => m !== null);
      times.push(performance.now() - t0);
    }
    console.log(`200 devices: UCI ${out.firewall.length + out.dhcp.length} bytes and ${muds.length} MUD files in ${times.map((t) => t.toFixed(0)).join(' / ')} ms`);
    expect(muds.length).toBe(plan.devices.filter((d) => d.zone !== 'trusted').length);
    expect(times[0]).toBeLessThan(1000);
    expect(Math.min(...times)).toBeLessThan(400);
    const fw = parseUciFirewall(out.firewall);
    expect(checkUciTraps(fw)).toEqual([]);
    expect(checkDnsmasqTraps(parseUciFirewall(out.dhcp), fw)).toEqual([]);
  });
});

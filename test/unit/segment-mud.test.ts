/**
 * RFC 8520 MUD files of a segmentation plan (daemon/segment/mud.ts): hand-built plans with every
 * field filled, every produced file validated by yanglint against the IETF modules (RFC 8520,
 * RFC 8519) and by checkMudPairs (every from-device ACE has its to-device mirror). yanglint and
 * the pair checker are both shown rejecting broken files, so that passing means something.
 */
import { describe, expect, it } from 'vitest';
import type { PlanHost, Zone } from '../../daemon/model/plan.js';
import { checkMudPairs, mudFileName, mudUrl, renderMud, type MudAce, type MudAcl, type MudFile } from '../../daemon/segment/mud.js';
import { planDevice, planHost, planPeer, segmentationPlan } from '../helpers/plans.js';
import { yanglint, yanglintAll, yanglintMissing } from '../helpers/yanglint.js';

const NO_YANGLINT = yanglintMissing();
const skipNote = NO_YANGLINT ? ` (skipped: ${NO_YANGLINT})` : '';

// ---- hand-built plans (test/helpers/plans.ts), every field of daemon/model/plan.ts filled ----

const TCP443: PlanHost['ports'] = [{ proto: 'tcp', port: 443 }];

const HA = 'aa:bb:cc:00:00:09';
const bulb = planDevice('aa:bb:cc:00:00:01', 'iot', {
  vendor: 'Acme Lighting',
  model: 'Bulb 2000',
  category: 'light',
  allow: {
    hosts: [
      planHost('api.lighting.example.com', ['203.0.113.5', '2001:db8::5'], { ports: [{ proto: 'tcp', port: 443 }, { proto: 'udp', port: 123 }] }),
      planHost('v6only.example.net', ['2001:db8::6'], { ports: [{ proto: 'tcp', port: 8883 }] }),
      planHost('ping.example.org', ['203.0.113.8'], { ports: [{ proto: 'icmp', port: 0 }] }),
    ],
    ipv4: ['198.51.100.7', '203.0.113.5', '203.0.113.8'],
    ipv6: ['2001:db8::5', '2001:db8::6'],
  },
  evidence: {
    alerts: [{ id: 'x', rule: 'cleartext', severity: 'low', title: 't' }],
    category: [],
    destinations: [{ host: '198.51.100.7', port: 5683, proto: 'udp', country: 'US', encrypted: false, up: 10, down: 10, learned: true }],
  },
  lan: [planPeer(HA, ['192.168.1.9', 'fe80::9'], 'controller', 'Home Assistant', [{ proto: 'tcp', port: 80 }]), planPeer('aa:bb:cc:00:00:0b', ['192.168.1.11'], 'peer', 'Bridge', [{ proto: 'udp', port: 5353 }])],
});
const camera = planDevice('aa:bb:cc:00:00:02', 'local-only', {
  category: 'camera',
  vendor: null,
  model: null,
  lan: [planPeer('aa:bb:cc:00:00:0a', ['192.168.1.10'], 'peer', 'NVR', [{ proto: 'tcp', port: 554 }]), planPeer(HA, ['192.168.1.9'], 'controller', 'peer', [{ proto: 'tcp', port: 8000 }])],
});
// A quarantined toy whose plan (wrongly) still carries destinations and a peer: none may appear.
const toy = planDevice('aa:bb:cc:00:00:03', 'quarantine', {
  category: 'toy',
  allow: { hosts: [planHost('cloud.toy.example', ['203.0.113.50'], { ports: TCP443 })], ipv4: ['203.0.113.50'], ipv6: [] },
  lan: [planPeer(HA, ['192.168.1.9'], 'controller', 'peer', [{ proto: 'tcp', port: 443 }]), planPeer('aa:bb:cc:00:00:0c', ['192.168.1.12'], 'peer', 'peer', [{ proto: 'tcp', port: 22 }])],
});
const evil = planDevice('aa:bb:cc:00:00:04', 'blocked', { lan: [planPeer(HA, ['192.168.1.9'], 'controller', 'peer', [{ proto: 'tcp', port: 80 }])] });
const laptop = planDevice('aa:bb:cc:00:00:05', 'trusted', { category: 'computer' });
// generated: the MUD container's last-update, checked below.
const plan = segmentationPlan([bulb, camera, toy, evil, laptop], { generated: '2025-05-01T10:00:00.000Z' });

// ---- reading a MUD file ----

function acl(m: MudFile, suffix: string): MudAcl {
  return m['ietf-access-control-list:acls'].acl.find((a) => a.name.endsWith(suffix))!;
}
function aces(m: MudFile, suffix: string): MudAce[] {
  return acl(m, suffix).aces?.ace ?? [];
}
function matching(list: MudAce[], pred: (x: Record<string, any>) => boolean): MudAce[] {
  return list.filter((e) => pred(e.matches as Record<string, any>));
}
const hasInternet = (e: MudAce): boolean => {
  const m = e.matches as Record<string, any>;
  const l3 = m.ipv4 ?? m.ipv6 ?? {};
  return Object.keys(l3).some((k) => /dnsname|network/.test(k));
};
function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

describe('mudFileName', () => {
  it('is the MAC without separators, lower case, .mud.json', () => {
    expect(mudFileName('AA:BB:CC:00:00:01')).toBe('aabbcc000001.mud.json');
    expect(mudFileName('aa-bb-cc-00-00-01')).toBe('aabbcc000001.mud.json');
    expect(() => mudFileName('aa:bb:cc')).toThrow(/not a MAC/);
  });
});

describe('renderMud: every zone', () => {
  const muds = new Map(plan.devices.map((d) => [d.zone, renderMud(plan, d)]));

  it('gives a trusted device no MUD file', () => {
    expect(muds.get('trusted')).toBeNull();
  });

  it(`every file passes yanglint${skipNote}`, { skip: !!NO_YANGLINT }, () => {
    const bad = yanglintAll([...muds].filter(([, m]) => m).map(([z, m]) => ({ name: `zone-${z}.mud.json`, doc: m })));
    expect(Object.fromEntries(bad)).toEqual({});
  });

  it('pairs every from-device ACE with its to-device mirror', () => {
    for (const [z, m] of muds) if (m) expect(checkMudPairs(m), z).toEqual([]);
  });

  it('fills the ietf-mud container (RFC 8520 §3)', () => {
    const m = muds.get('iot')!['ietf-mud:mud'];
    expect(m['mud-version']).toBe(1);
    expect(m['mud-url']).toBe('https://vigie.home.arpa/mud/aabbcc000001.mud.json');
    expect(m['last-update']).toBe('2025-05-01T10:00:00.000Z');
    expect(m['cache-validity']).toBe(48);
    expect(m['is-supported']).toBe(true);
    expect(m.systeminfo).toContain('zone iot');
    expect(m['mfg-name']).toBe('Acme Lighting');
    expect(m['model-name']).toBe('Bulb 2000');
    const lo = muds.get('local-only')!['ietf-mud:mud'];
    expect('mfg-name' in lo).toBe(false);
    expect('model-name' in lo).toBe(false);
    for (const [, f] of muds) {
      if (!f) continue;
      const names = (p: 'from-device-policy' | 'to-device-policy'): string[] => f['ietf-mud:mud'][p]['access-lists']['access-list'].map((x) => x.name);
      expect(names('from-device-policy')).toEqual([expect.stringMatching(/-v4fr$/), expect.stringMatching(/-v6fr$/)]);
      expect(names('to-device-policy')).toEqual([expect.stringMatching(/-v4to$/), expect.stringMatching(/-v6to$/)]);
      expect(f['ietf-access-control-list:acls'].acl.map((a) => a.type)).toEqual(['ipv4-acl-type', 'ipv4-acl-type', 'ipv6-acl-type', 'ipv6-acl-type']);
    }
  });

  it('iot: its names as dst-dnsname / src-dnsname with ports, TCP initiated by the device', () => {
    const m = muds.get('iot')!;
    const out = matching(aces(m, 'v4fr'), (x) => x.ipv4?.['ietf-acldns:dst-dnsname'] === 'api.lighting.example.com');
    expect(out.map((e) => e.matches)).toEqual([
      { ipv4: { protocol: 6, 'ietf-acldns:dst-dnsname': 'api.lighting.example.com' }, tcp: { 'ietf-mud:direction-initiated': 'from-device', 'destination-port': { operator: 'eq', port: 443 } } },
      { ipv4: { protocol: 17, 'ietf-acldns:dst-dnsname': 'api.lighting.example.com' }, udp: { 'destination-port': { operator: 'eq', port: 123 } } },
    ]);
    const back = matching(aces(m, 'v4to'), (x) => x.ipv4?.['ietf-acldns:src-dnsname'] === 'api.lighting.example.com' && x.tcp);
    expect(back.map((e) => e.matches)).toEqual([{ ipv4: { protocol: 6, 'ietf-acldns:src-dnsname': 'api.lighting.example.com' }, tcp: { 'ietf-mud:direction-initiated': 'from-device', 'source-port': { operator: 'eq', port: 443 } } }]);
    // ICMP: protocol 1 (IPv4) and no port
    expect(matching(aces(m, 'v4fr'), (x) => x.ipv4?.['ietf-acldns:dst-dnsname'] === 'ping.example.org').map((e) => e.matches)).toEqual([{ ipv4: { protocol: 1, 'ietf-acldns:dst-dnsname': 'ping.example.org' } }]);
  });

  it('iot: an address without a name as a /32 network, with the port it was seen on', () => {
    const m = muds.get('iot')!;
    expect(matching(aces(m, 'v4fr'), (x) => x.ipv4?.['destination-ipv4-network']).map((e) => e.matches)).toEqual([
      { ipv4: { protocol: 17, 'destination-ipv4-network': '198.51.100.7/32' }, udp: { 'destination-port': { operator: 'eq', port: 5683 } } },
    ]);
    // addresses that belong to a name are covered by the name
    expect(JSON.stringify(m)).not.toContain('203.0.113.5/32');
  });

  it('iot and local-only: LAN peers as local-networks, controllers as my-controller initiated to the device', () => {
    for (const z of ['iot', 'local-only'] as const) {
      const m = muds.get(z)!;
      const ctrl = matching(aces(m, 'v4to'), (x) => x['ietf-mud:mud']?.['my-controller']);
      expect(ctrl.length, z).toBe(1);
      expect((ctrl[0].matches as any).tcp).toMatchObject({ 'ietf-mud:direction-initiated': 'to-device', 'destination-port': { operator: 'eq' } });
      const peers = matching(aces(m, 'v4fr'), (x) => x['ietf-mud:mud']?.['local-networks']);
      expect(peers.length, z).toBe(1);
      expect(JSON.stringify(peers[0].matches['ietf-mud:mud'])).toBe('{"local-networks":[null]}');
    }
    // the controller has an IPv6 address too: the IPv6 ACLs carry it, the IPv4-only peer they do not
    const v6 = aces(muds.get('iot')!, 'v6fr');
    expect(matching(v6, (x) => x['ietf-mud:mud']?.['my-controller']).length).toBe(1);
    expect(matching(v6, (x) => x['ietf-mud:mud']?.['local-networks']).length).toBe(0);
  });

  it('local-only and quarantine: no internet entry; quarantine keeps only its controllers', () => {
    for (const z of ['local-only', 'quarantine'] as const) {
      const m = muds.get(z)!;
      for (const s of ['v4fr', 'v4to', 'v6fr', 'v6to']) expect(aces(m, s).filter(hasInternet), `${z} ${s}`).toEqual([]);
    }
    const q = muds.get('quarantine')!;
    const all = [...aces(q, 'v4fr'), ...aces(q, 'v4to')];
    expect(all.length).toBe(2);
    for (const e of all) expect(Object.keys((e.matches as any)['ietf-mud:mud'])).toEqual(['my-controller']);
  });

  it('blocked: ACLs without a single entry', () => {
    const m = muds.get('blocked')!;
    for (const a of m['ietf-access-control-list:acls'].acl) expect(a.aces).toBeUndefined();
  });
});

describe('renderMud: IPv6-only hosts and odd names', () => {
  const d = planDevice('02:00:00:00:00:01', 'iot', {
    name: 'Bob\'s "bulb"\n\tsecond line ✓',
    vendor: 'Ünïcode Ltd.\r\n',
    allow: {
      hosts: [
        planHost('v6.example.net', ['2001:db8::1'], { ports: TCP443 }),
        planHost('UPPER.Example.COM.', [], { ports: TCP443 }),
        planHost('_srv._tcp.example.com', ['203.0.113.1'], { ports: TCP443 }),
        planHost('bad-.example.com', ['203.0.113.9', '2001:db8::9'], { ports: TCP443 }),
        planHost('also bad.example.com', [], { ports: TCP443 }),
      ],
      ipv4: ['203.0.113.1', '203.0.113.9'],
      ipv6: ['2001:db8::1', '2001:db8::9'],
    },
  });
  const p = segmentationPlan([d]);
  const m = renderMud(p, d)!;

  it(`passes yanglint${skipNote}`, { skip: !!NO_YANGLINT }, () => {
    const r = yanglint(m, 'odd.mud.json');
    expect(r.message).toBe('');
    expect(r.ok).toBe(true);
  });

  it('pairs up', () => {
    expect(checkMudPairs(m)).toEqual([]);
  });

  it('puts a name with only IPv6 addresses in the IPv6 ACLs only', () => {
    const has = (suffix: string): boolean => JSON.stringify(acl(m, suffix)).includes('"v6.example.net"');
    expect(has('v6fr') && has('v6to')).toBe(true);
    expect(has('v4fr') || has('v4to')).toBe(false);
  });

  it('normalises names, falls back to addresses for a name the YANG type refuses, drops one it cannot place', () => {
    const text = JSON.stringify(m);
    expect(text).toContain('"upper.example.com"');
    expect(text).toContain('"_srv._tcp.example.com"');
    expect(text).not.toContain('bad-.example.com');
    expect(text).not.toContain('also bad');
    expect(matching(aces(m, 'v4fr'), (x) => x.ipv4?.['destination-ipv4-network'] === '203.0.113.9/32').length).toBe(1);
    expect(matching(aces(m, 'v6fr'), (x) => x.ipv6?.['destination-ipv6-network'] === '2001:db8::9/128').length).toBe(1);
  });

  it('keeps free text on one line', () => {
    expect(m['ietf-mud:mud'].systeminfo).not.toMatch(/[\n\r\t]/);
    expect(m['ietf-mud:mud'].systeminfo).toContain('Bob\'s "bulb" second line ✓');
    expect(m['ietf-mud:mud']['mfg-name']).toBe('Ünïcode Ltd.');
  });
});

describe('MUD URL', () => {
  it('joins the base and the file name; https only', () => {
    expect(mudUrl('aa:bb:cc:00:00:01', 'https://mud.example.com/devices')).toBe('https://mud.example.com/devices/aabbcc000001.mud.json');
    expect(renderMud(plan, bulb, { mudUrlBase: 'https://mud.example.com/' })!['ietf-mud:mud']['mud-url']).toBe('https://mud.example.com/aabbcc000001.mud.json');
    expect(() => mudUrl('aa:bb:cc:00:00:01', 'http://mud.example.com/')).toThrow(/https/);
    expect(() => mudUrl('aa:bb:cc:00:00:01', 'not a url')).toThrow(/not a URL/);
    expect(() => mudUrl('aa:bb:cc:00:00:01', 'https://x.example/?a=1')).toThrow(/query/);
  });
});

describe(`yanglint rejects broken MUD files${skipNote}`, { skip: !!NO_YANGLINT }, () => {
  const good = renderMud(plan, bulb)!;

  it('accepts the original', () => {
    expect(yanglint(good).ok).toBe(true);
  });

  const breaks: [what: string, edit: (m: any) => void, expected: RegExp][] = [
    ['a wrong type (mud-version "one")', (m) => (m['ietf-mud:mud']['mud-version'] = 'one'), /mud-version|Invalid/],
    ['a value out of range (cache-validity 200)', (m) => (m['ietf-mud:mud']['cache-validity'] = 200), /range/],
    ['a missing mandatory field (is-supported)', (m) => delete m['ietf-mud:mud']['is-supported'], /Mandatory node "is-supported"/],
    ['an unknown node (sysinfo)', (m) => (m['ietf-mud:mud'].sysinfo = 'x'), /"sysinfo" not found/],
    ['a policy naming an ACL that does not exist', (m) => (m['ietf-mud:mud']['to-device-policy']['access-lists']['access-list'][0].name = 'nope'), /leafref/],
    ['a DNS name the type refuses', (m) => (m['ietf-access-control-list:acls'].acl[0].aces.ace[0].matches.ipv4['ietf-acldns:dst-dnsname'] = 'bad-.example.com'), /union|dst-dnsname/],
    ['a bare address where a prefix is due', (m) => (m['ietf-access-control-list:acls'].acl[0].aces.ace.find((e: any) => e.matches.ipv4?.['destination-ipv4-network']).matches.ipv4['destination-ipv4-network'] = '198.51.100.7'), /destination-ipv4-network|pattern|Invalid/],
    ['direction-initiated on UDP (only TCP has it)', (m) => (m['ietf-access-control-list:acls'].acl[0].aces.ace.find((e: any) => e.matches.udp).matches.udp['ietf-mud:direction-initiated'] = 'from-device'), /direction-initiated/],
  ];
  it('but not an IPv4 match in an IPv6 ACL: the `when` of RFC 8519 tests /acls/acl/type of every ACL; checkMudPairs sees it', () => {
    const broken = clone(good) as any;
    broken['ietf-access-control-list:acls'].acl[2].aces.ace[0].matches = { ipv4: { protocol: 6 } };
    expect(yanglint(broken, 'mixed.mud.json').ok).toBe(true);
    expect(checkMudPairs(broken).some((p) => /ipv4 matches in an ipv6-acl-type ACL/.test(p))).toBe(true);
  });

  for (const [what, edit, expected] of breaks) {
    it(what, () => {
      const broken = clone(good);
      edit(broken);
      const r = yanglint(broken, 'broken.mud.json');
      expect(r.ok, r.message).toBe(false);
      expect(r.message).toMatch(expected);
    });
  }
});

describe('checkMudPairs rejects unpaired policies', () => {
  const good = renderMud(plan, bulb)!;

  it('accepts the original', () => {
    expect(checkMudPairs(good)).toEqual([]);
  });

  const breaks: [what: string, edit: (m: any) => void, expected: RegExp][] = [
    ['a from-device ACE without its answer', (m) => m['ietf-access-control-list:acls'].acl[1].aces.ace.splice(0, 1), /host0-fr: no to-device ACE answers it/],
    ['an answer on another port', (m) => (m['ietf-access-control-list:acls'].acl[1].aces.ace[0].matches.tcp['source-port'].port = 444), /no to-device ACE answers it/],
    ['an answer that forgot to swap the name', (m) => {
      const ip = m['ietf-access-control-list:acls'].acl[1].aces.ace[0].matches.ipv4;
      ip['ietf-acldns:dst-dnsname'] = ip['ietf-acldns:src-dnsname'];
      delete ip['ietf-acldns:src-dnsname'];
    }, /no to-device ACE answers it/],
    ['an answer with the other direction-initiated', (m) => (m['ietf-access-control-list:acls'].acl[1].aces.ace[0].matches.tcp['ietf-mud:direction-initiated'] = 'to-device'), /no from-device ACE goes with it/],
    ['a to-device ACE nobody asked for', (m) => m['ietf-access-control-list:acls'].acl[1].aces.ace.push({ name: 'extra', matches: { ipv4: { protocol: 6 } }, actions: { forwarding: 'accept' } }), /extra: no from-device ACE goes with it/],
    ['an IPv6 from-device ACL without a to-device one', (m) => m['ietf-mud:mud']['to-device-policy']['access-lists']['access-list'].pop(), /ipv6-acl-type: a from-device ACL but no to-device ACL/],
    ['a policy naming a missing ACL', (m) => (m['ietf-mud:mud']['from-device-policy']['access-lists']['access-list'][0].name = 'gone'), /names ACL "gone", which is not defined/],
    ['an IPv6 match in an IPv4 ACL', (m) => {
      m['ietf-access-control-list:acls'].acl[0].aces.ace[0].matches = { ipv6: { protocol: 6 } };
    }, /ipv6 matches in an ipv4-acl-type ACL/],
  ];
  for (const [what, edit, expected] of breaks) {
    it(what, () => {
      const broken = clone(good);
      edit(broken);
      const found = checkMudPairs(broken);
      expect(found.some((p) => expected.test(p)), found.join('\n')).toBe(true);
    });
  }
});

describe('200 devices', () => {
  const zones: Zone[] = ['iot', 'iot', 'local-only', 'quarantine', 'blocked', 'trusted'];
  const devices = Array.from({ length: 200 }, (_, i) => {
    const mac = `02:00:00:00:${Math.floor(i / 256).toString(16).padStart(2, '0')}:${(i % 256).toString(16).padStart(2, '0')}`;
    const zone = zones[i % zones.length];
    const hosts = zone === 'iot' ? Array.from({ length: 16 }, (_, j) => planHost(j % 4 === 0 ? `shared${j}.example.com` : `d${i}-h${j}.vendor${i % 7}.example.net`, j % 3 === 0 ? [`2001:db8:${i.toString(16)}::${j + 1}`] : [`203.0.${i % 250}.${j + 1}`], { ports: [{ proto: j % 2 ? 'udp' : 'tcp', port: 1000 + j }] })) : [];
    return planDevice(mac, zone, {
      allow: { hosts, ipv4: hosts.flatMap((h) => h.addresses.filter((a) => a.includes('.'))), ipv6: hosts.flatMap((h) => h.addresses.filter((a) => a.includes(':'))) },
      lan: zone === 'blocked' || zone === 'trusted' ? [] : [planPeer(HA, ['192.168.1.9'], 'controller', 'peer', [{ proto: 'tcp', port: 80 }]), ...(zone === 'quarantine' ? [] : [planPeer(null, ['fe80::77'], 'peer', 'peer', [])])],
    });
  });
  const p = segmentationPlan(devices);

  it(`renders every MUD file in well under a second; all pair up and pass yanglint${skipNote}`, () => {
    const t0 = performance.now();
    const muds = p.devices.map((d) => ({ d, m: renderMud(p, d) }));
    const ms = performance.now() - t0;
    const files = muds.filter((x) => x.m !== null);
    console.log(`200 devices: ${files.length} MUD files in ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(1000);
    expect(files.length).toBe(devices.filter((d) => d.zone !== 'trusted').length);
    expect(new Set(files.map((x) => mudFileName(x.d.mac))).size).toBe(files.length);
    for (const { d, m } of files) expect(checkMudPairs(m), d.mac).toEqual([]);
    if (NO_YANGLINT) return;
    const t1 = performance.now();
    const bad = yanglintAll(files.map(({ d, m }) => ({ name: mudFileName(d.mac), doc: m })));
    console.log(`yanglint on ${files.length} files: ${(performance.now() - t1).toFixed(0)} ms`);
    expect(Object.fromEntries(bad)).toEqual({});
  });
});

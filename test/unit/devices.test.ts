/** Device inventory: vendors, randomised MACs, every rule type, user overrides, rule files. */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classify, type Identity } from '../../daemon/devices/classify.js';
import { DeviceFacts } from '../../daemon/devices/facts.js';
import { isRandomized, ouiVendor } from '../../daemon/devices/oui.js';
import { OuiTable, PagedOuiTable } from '../../daemon/devices/oui-table.js';
import { loadDeviceRules } from '../../daemon/devices/rules.js';
import { cloudOf, cloudOfProtocol, loadCloudPlatforms, RuleLoadError } from '../../daemon/rules/load.js';
import { vigie } from '../helpers/cli.js';
import { casePath, itCorpus, describeCorpus, ROOT } from '../helpers/corpus.js';
import { eventsOf } from '../helpers/events.js';

const require = createRequire(import.meta.url);
const FIXTURE = path.join(ROOT, 'test/fixtures/rules-all-types');
const rules = loadDeviceRules([FIXTURE]);
const none: Identity = { mac: '00:00:00:00:00:01', ouiVendor: null, randomized: false };

function facts(fill: (f: DeviceFacts) => void): DeviceFacts {
  const f = new DeviceFacts();
  fill(f);
  return f;
}

describe('MAC vendors (IEEE registries through oui-data)', () => {
  it('names MA-L vendors and prefers the longest (MA-M, MA-S) assignment', () => {
    expect(ouiVendor('3c:ef:8c:10:20:30')).toMatch(/Dahua/);
    expect(ouiVendor('c0:56:e3:00:00:01')).toMatch(/Hikvision/);
    // 8C:1F:64 is an MA-S block: the registration authority's own name must not be reported.
    expect(ouiVendor('8c:1f:64:ff:c0:00')).not.toBe('IEEE Registration Authority');
  });
  it('the compact table built into dist gives every registry entry its name, UTF-8 intact, and nothing else, in memory and read from its file', () => {
    const raw = JSON.parse(fs.readFileSync(require.resolve('oui-data'), 'utf8')) as Record<string, string>;
    const file = path.join(ROOT, 'dist/devices/oui-table.txt');
    for (const table of [new OuiTable(fs.readFileSync(file)), PagedOuiTable.open(file)]) {
      let accented = 0;
      for (const [prefix, entry] of Object.entries(raw)) {
        const name = entry.split('\n')[0].trim().replace(/[\t\n\r]/g, ' ');
        expect(table.get(prefix.toUpperCase()), prefix).toBe(name);
        if (/[^\x00-\x7f]/.test(name)) accented++;
      }
      expect(accented).toBeGreaterThan(0);
      for (const missing of ['000000A', 'FFFFFF', 'G00000', '', '000', 'FFFFFFFFF']) expect(table.get(missing), missing).toBeUndefined();
    }
  });
  it('randomised (locally administered) MACs have no vendor', () => {
    expect(isRandomized('da:a1:19:00:00:01')).toBe(true);
    expect(isRandomized('3c:ef:8c:10:20:30')).toBe(false);
    expect(ouiVendor('da:a1:19:00:00:01')).toBeNull();
  });
});

describe('classification', () => {
  const cases: [string, Identity, (f: DeviceFacts) => void, string][] = [
    ['oui', { ...none, ouiVendor: 'Acme Cameras Ltd' }, () => {}, 'unknown'], // 0.5 alone is not enough
    ['macPrefix', { ...none, mac: '02:11:22:33:44:55', randomized: true }, () => {}, 'toy'],
    ['dhcpParams', none, (f) => (f.dhcpParams = [1, 3, 6, 15]), 'printer'],
    ['mdnsService', none, (f) => f.add(f.mdnsServices, '_acme._tcp.local'), 'hub'],
    ['mdnsModel', none, (f) => f.add(f.mdnsModels, 'md=Speaker 2'), 'speaker'],
    ['ssdpServer', none, (f) => f.add(f.ssdpServers, 'Linux UPnP/1.0 AcmeTV/3'), 'tv'],
    ['ssdpType', none, (f) => f.add(f.ssdpTypes, 'urn:acme:device:Tv:1'), 'tv'],
    ['domain', none, (f) => f.add(f.domains, 'api.eu.toys.example'), 'toy'],
    ['protocol', none, (f) => f.add(f.protocols, 'rtsp-server'), 'camera'],
    ['mqttTopic', none, (f) => f.add(f.mqttTopics, 'doorbell/ring'), 'doorbell'],
    ['ja4', none, (f) => f.add(f.ja4, 't13d1516h2_8daaf6152771_e5627efa2ab1'), 'computer'],
  ];
  for (const [kind, id, fill, want] of cases) {
    it(`rule type ${kind}`, () => {
      const c = classify(rules, id, facts(fill));
      expect(c.category).toBe(want);
      if (want !== 'unknown') expect(c.evidence.length).toBeGreaterThan(0);
    });
  }

  it('independent observations add up, with the evidence, vendor and model', () => {
    const c = classify(rules, { ...none, ouiVendor: 'Acme Cameras Ltd' }, facts((f) => {
      f.dhcpVendorClass = 'acme-dhcp 2.1';
      f.hostname('cam-x200', 'dhcp');
    }));
    expect(c.category).toBe('camera');
    expect(c.confidence).toBeCloseTo(1 - 0.5 * 0.6 * 0.5, 2);
    expect(c.vendor).toBe('Acme');
    expect(c.model).toBe('Acme x200');
    expect(c.evidence.map((e) => e.rule).sort()).toEqual(['t-host', 't-oui', 't-vc']);
    expect(c.evidence.find((e) => e.rule === 't-host')!.observation).toBe('host name (dhcp) "cam-x200"');
  });

  it('conflicting evidence keeps a device unknown', () => {
    const c = classify(rules, none, facts((f) => {
      f.add(f.protocols, 'rtsp-server'); // camera 0.7
      f.add(f.mqttTopics, 'doorbell/ring'); // doorbell 0.9: close enough to doubt? no: 0.9 vs 0.7
    }));
    expect(c.category).toBe('doorbell');
    const tie = classify(rules, none, facts((f) => {
      f.add(f.ssdpServers, 'AcmeTV/1'); // tv 0.9
      f.add(f.domains, 'toys.example'); // toy 0.9
    }));
    expect(tie.category).toBe('unknown');
    expect(tie.evidence.length).toBe(2);
  });
});

describe('rule files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-rules-'));
  fs.mkdirSync(path.join(dir, 'devices'));
  const write = (name: string, text: string) => fs.writeFileSync(path.join(dir, 'devices', name), text);

  it('the built-in rules are valid and every one names its source', () => {
    const r = vigie(['rules', 'check']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\d+ device rules, \d+ families, \d+ module makers, \d+ cloud platforms, \d+ alert rules, \d+ zone rules, all valid/);
    for (const rule of loadDeviceRules().rules) expect(rule.source.length).toBeGreaterThan(10);
    for (const p of loadCloudPlatforms()) expect(p.source.length).toBeGreaterThan(10);
  });

  it('cloud platforms: a host name and its parents find their platform; bad entries are refused', () => {
    const platforms = loadCloudPlatforms();
    expect(cloudOf(platforms, 'apiieu.ezvizlife.com')?.id).toBe('ezviz');
    expect(cloudOf(platforms, 'openapi.tuyaeu.com.')?.country).toBe('CN');
    expect(cloudOf(platforms, 'notring.com')).toBeUndefined();
    expect(cloudOf(platforms, 'openapi.easy4ip.com')?.id).toBe('imou');
    expect(cloudOf(platforms, 'avs-alexa-eu.amazon.com')?.id).toBe('alexa');
    expect(cloudOf(platforms, 'www.amazon.com')).toBeUndefined();
    expect(cloudOfProtocol(platforms, 'cs2-p2p')?.country).toBe('CN');
    // Every platform family the inventory issue names has an entry.
    const ids = new Set(platforms.map((p) => p.id));
    for (const id of ['tuya', 'meari-cloudedge', 'ezviz', 'hik-connect', 'imou', 'xiaomi', 'tp-link-kasa-tapo', 'reolink', 'wyze', 'ring', 'nest', 'alexa', 'eufy', 'arlo', 'throughtek-kalay', 'cs2-ilnkp2p'])
      expect(ids.has(id), id).toBe(true);
    fs.mkdirSync(path.join(dir, 'clouds'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'clouds', 'x.yaml'), 'platforms:\n  - id: acme\n    name: Acme\n    operator: Acme\n    country: France\n    domains: [acme.example]\n');
    const r = vigie(['rules', 'check', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/x\.yaml:2: platforms\.0\.source: must have required property 'source'/);
    expect(r.stdout).toMatch(/x\.yaml:5: platforms\.0\.country: must match pattern/);
    fs.writeFileSync(path.join(dir, 'clouds', 'x.yaml'), 'platforms:\n  - id: acme\n    name: Acme\n    operator: Acme\n    country: FR\n    source: nowhere in particular\n');
    const r2 = vigie(['rules', 'check', dir]);
    expect(r2.status).toBe(1);
    expect(r2.stdout).toMatch(/x\.yaml:2: platforms\.0.*domains/);
    fs.rmSync(path.join(dir, 'clouds'), { recursive: true });
  });

  it('vigie rules check names file, line, field and reason, and fails', () => {
    write('a.yaml', 'rules:\n  - id: ok-rule\n    description: fine\n    source: "a public source"\n    match: { hostname: "^x" }\n    weight: 0.5\n  - id: bad-one\n    description: no source\n    match: { hostname: "(" }\n    category: toaster\n    weight: 2\n');
    write('b.yaml', 'rules: [\n  oops: :\n');
    write('c.yaml', 'rules:\n  - id: twice\n    description: dup\n    source: "another source"\n    match: { hostname: "(" }\n    weight: 0.5\n  - id: twice\n    description: dup\n    source: "another source"\n    match: { hostname: "^y" }\n    weight: 0.5\n');
    const r = vigie(['rules', 'check', dir]);
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/a\.yaml:7: rules\.1\.source: must have required property 'source'/),
        expect.stringMatching(/a\.yaml:10: rules\.1\.category: must be equal to one of the allowed values/),
        expect.stringMatching(/a\.yaml:11: rules\.1\.weight: must be <= 1/),
        expect.stringMatching(/b\.yaml:\d+: \(file\): YAML: /),
        expect.stringMatching(/c\.yaml:7: rules\.1\.id: duplicate rule id "twice"/),
        expect.stringMatching(/c\.yaml:5: rules\.0\.match\.hostname: bad regular expression/),
      ]),
    );
  });

  it('a broken rules folder is refused whole: loading throws, nothing half-loaded', () => {
    expect(() => loadDeviceRules([dir])).toThrow(RuleLoadError);
  });

  itCorpus('vigie analyze with a broken rules folder stops with the errors, exit 2', () => {
    const r = vigie(['analyze', '--rules', dir, casePath('suricata-verify/mdns')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/invalid rule files:\n.*a\.yaml:7/);
  });
});

describeCorpus('user overrides and the corpus', () => {
  it('a label and category from --config always beat the rules', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-cfg-'));
    const cfg = path.join(dir, 'vigie.yaml');
    fs.writeFileSync(cfg, 'devices:\n  "A8:60:B6:0B:27:CD": { label: "Study iMac", category: tv }\n');
    const r = vigie(['analyze', '--json', '--config', cfg, casePath('suricata-verify/mdns')]);
    expect(r.status).toBe(0);
    const dev = JSON.parse(r.stdout).devices.find((d: { mac: string }) => d.mac === 'a8:60:b6:0b:27:cd');
    expect([dev.label, dev.category, dev.categorySource, dev.confidence]).toEqual(['Study iMac', 'tv', 'user', 1]);
    expect(dev.evidence.map((e: { rule: string }) => e.rule)).toContain('mdns-model-mac'); // the rules' view stays visible
    fs.writeFileSync(cfg, 'devices:\n  "not-a-mac": { label: x }\n');
    const bad = vigie(['analyze', '--config', cfg, casePath('suricata-verify/mdns')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^vigie: config: .*vigie\.yaml:1: devices: must match pattern/);
  });

  it('mDNS: the iMac announcing model=iMac17,1 is a computer made by Apple, named by its instance', async () => {
    const { report } = await eventsOf(casePath('suricata-verify/mdns'), await import('../../daemon/config/load.js').then((m) => m.loadConfig(undefined)));
    const d = report.devices.find((x) => x.mac === 'a8:60:b6:0b:27:cd')!;
    expect([d.category, d.vendor, d.hostname]).toEqual(['computer', 'Apple', 'John’s iMac']);
  });

  it('DHCP: a client sending "MSFT 5.0" with host name NicksMacBook is a computer', async () => {
    const { report } = await eventsOf(casePath('suricata-verify/dhcp-eve-extended-option-60'), await import('../../daemon/config/load.js').then((m) => m.loadConfig(undefined)));
    const d = report.devices[0];
    expect([d.category, d.hostname]).toEqual(['computer', 'NicksMacBook']);
    expect(d.evidence[0].observation).toBe('DHCP vendor class "MSFT 5.0"');
  });

  it('SSDP: the router announcing MiniUPnPd has evidence, but not enough alone: it stays unknown', async () => {
    const { report } = await eventsOf(casePath('suricata-verify/sip-ssdp-pm'), await import('../../daemon/config/load.js').then((m) => m.loadConfig(undefined)));
    const d = report.devices[0];
    expect(d.category).toBe('unknown');
    expect(d.evidence.map((e) => e.rule)).toEqual(['ssdp-miniupnpd']);
    expect(d.vendor).toBe('NETGEAR');
  });
  void execFileSync;
});

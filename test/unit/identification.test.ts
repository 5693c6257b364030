/**
 * The classifier's reasoning on made-up rules (test/fixtures/rules-knowledge): families give brand
 * and category, module makers are not brands, contradictions are shown and lower the confidence,
 * one observation counts once, TXT conditions read their own service, browsing is not offering,
 * a cloud does not name a phone's brand, and the model comes from the device's own words.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classify, type Identity } from '../../daemon/devices/classify.js';
import { DeviceFacts } from '../../daemon/devices/facts.js';
import { loadDeviceRules } from '../../daemon/devices/rules.js';
import { RuleLoadError } from '../../daemon/rules/load.js';
import { ROOT } from '../helpers/corpus.js';

const k = loadDeviceRules([path.join(ROOT, 'test/fixtures/rules-knowledge')]);
const none: Identity = { mac: '00:00:00:00:00:01', ouiVendor: null, randomized: false };
const facts = (fill: (f: DeviceFacts) => void) => {
  const f = new DeviceFacts();
  fill(f);
  return f;
};

describe('families, brands and module makers', () => {
  it('a family gives its brand and category; the rule\'s own category wins; `unknown` names none', () => {
    const cam = classify(k, none, facts((f) => f.hostname('acmecam-x9', 'dhcp')));
    expect([cam.category, cam.vendor, cam.model]).toEqual(['camera', 'AcmeCam', 'x9']);
    const multi = classify(k, none, facts((f) => f.hostname('acmemulti-12', 'dhcp')));
    expect([multi.category, multi.vendor]).toEqual(['unknown', 'AcmeMulti']);
    const bulb = classify(k, none, facts((f) => f.add(f.homekitModels, 'AM-BULB-2')));
    expect([bulb.category, bulb.vendor, bulb.model]).toEqual(['plug_or_light', 'AcmeMulti', 'AM-BULB-2']);
    const os = classify(k, none, facts((f) => f.add(f.ssdpServers, 'AcmeCamOS/2 UPnP/1.0')));
    expect([os.category, os.vendor]).toEqual(['unknown', 'AcmeCam']);
  });

  it('the same facts classified again, then grown, give what a first classification of them gives (steady rules are remembered per device)', () => {
    const f = new DeviceFacts();
    f.add(f.domains, 'example.org');
    f.hostname('living-room', 'dhcp');
    const before = classify(k, none, f);
    expect(before.category).toBe('unknown');
    expect(classify(k, none, f)).toEqual(before);
    // A host name arrives later: the remembered results of the host-name rules must not hold.
    f.hostname('acmecam-x9', 'dhcp');
    const after = classify(k, none, f);
    expect([after.category, after.vendor, after.model]).toEqual(['camera', 'AcmeCam', 'x9']);
    expect(after).toEqual(classify(k, none, facts((g) => {
      g.add(g.domains, 'example.org');
      g.hostname('living-room', 'dhcp');
      g.hostname('acmecam-x9', 'dhcp');
    })));
    // Another MAC on the same facts (never in practice, but the memory is keyed by it too).
    const esp: Identity = { mac: '24:0a:c4:00:00:01', ouiVendor: 'Espressif Inc.', randomized: false };
    expect(classify(k, esp, f).module).toBe('Wi-Fi module: Espressif');
  });

  it('a module maker\'s MAC names no brand, says what is inside, and leaves the brand to brand signals', () => {
    const esp: Identity = { mac: '24:0a:c4:00:00:01', ouiVendor: 'Espressif Inc.', randomized: false };
    const bare = classify(k, esp, new DeviceFacts());
    expect([bare.vendor, bare.module, bare.category]).toEqual([null, 'Wi-Fi module: Espressif', 'unknown']);
    expect(bare.evidence.find((e) => e.rule === 'module-espressif')?.observation).toBe('MAC vendor (IEEE) "Espressif Inc."');
    const kasa = classify(k, esp, facts((f) => f.add(f.kasaTypes, 'IOT.SMARTPLUGSWITCH')));
    expect([kasa.vendor, kasa.module, kasa.category]).toEqual(['TP-Link', 'Wi-Fi module: Espressif', 'plug_or_light']);
    // Any other registrant stays the vendor when nothing better is known.
    expect(classify(k, { ...esp, ouiVendor: 'Acme Widgets Ltd' }, new DeviceFacts()).vendor).toBe('Acme Widgets Ltd');
  });

  it('a cloud the device contacts names its brand, but never a phone\'s (its owner\'s app reaches the same cloud)', () => {
    const dev = classify(k, none, facts((f) => f.add(f.domains, 'eu.api.acmecloud.example')));
    expect([dev.vendor, dev.category]).toEqual(['AcmeCloud', 'unknown']); // 0.5 alone does not name a category
    const phone = classify(k, none, facts((f) => {
      f.hostname('android-0123456789abcdef', 'dhcp');
      f.add(f.domains, 'eu.api.acmecloud.example');
    }));
    expect(phone.vendor).toBeNull();
    expect(classify(k, none, facts((f) => f.add(f.domains, 'notacmecloud.example'))).vendor).toBeNull();
  });
});

describe('scores and contradictions', () => {
  it('one rule of weight 0.65 names a category alone', () => {
    const c = classify(k, none, facts((f) => f.hostname('android-0123456789abcdef', 'dhcp')));
    expect([c.category, c.confidence, c.conflicts]).toEqual(['phone', 0.65, []]);
  });

  it('a Windows DHCP signature on an Android host name: no category, both shown', () => {
    const c = classify(k, none, facts((f) => {
      f.hostname('android-0123456789abcdef', 'dhcp');
      f.dhcpVendorClass = 'MSFT 5.0';
    }));
    expect(c.category).toBe('unknown');
    expect(c.conflicts.map((x) => [x.category, x.score, x.rules])).toEqual([['phone', 0.65, ['k-android']], ['computer', 0.6, ['k-windows']]]);
  });

  it('a weaker rival lowers the confidence of the category it does not prevent, and is listed', () => {
    const c = classify(k, none, facts((f) => {
      f.add(f.kasaTypes, 'IOT.SMARTPLUGSWITCH'); // plug 0.9
      f.add(f.domains, 'acmecloud.example'); // camera 0.5
    }));
    expect(c.category).toBe('plug_or_light');
    expect(c.confidence).toBe(0.45);
    expect(c.conflicts).toEqual([{ category: 'camera', score: 0.5, rules: ['k-cloud'] }]);
  });

  it('one observation read by two rules counts once (the stronger)', () => {
    const c = classify(k, none, facts((f) => f.offer('_ipp._tcp.local', 'Office', [])));
    expect(c.evidence.map((e) => e.rule).sort()).toEqual(['k-ipp', 'k-ipp-2']);
    expect(c.confidence).toBe(0.6);
  });

  it('a doorbell is a camera too: camera behaviour supports it instead of contradicting it', () => {
    const c = classify(k, none, facts((f) => {
      f.upnpField('modelName', 'Doorbell Pro');
      f.add(f.protocols, 'rtsp-server');
    }));
    expect([c.category, c.conflicts]).toEqual(['doorbell', []]);
    expect(c.confidence).toBe(0.96);
  });

  it('every condition of a rule must hold', () => {
    expect(classify(k, none, facts((f) => f.hostname('gw', 'dhcp'))).category).toBe('unknown');
    expect(classify(k, { ...none, mac: '0a:0b:0c:01:02:03' }, facts((f) => f.hostname('gw', 'dhcp'))).category).toBe('hub');
  });

  it('a platform endpoint is evidence without brand or category', () => {
    const c = classify(k, none, facts((f) => f.add(f.domains, 'a1b2c3-ats.iot.eu-west-1.amazonaws.com')));
    expect(c.evidence.map((e) => [e.rule, e.signal, e.category, e.vendor])).toEqual([['k-platform', 'cloud', null, null]]);
  });
});

describe('mDNS: offered, browsed, TXT of its own service', () => {
  it('a TXT condition reads the TXT of the service its rule names, not another\'s', () => {
    const right = classify(k, none, facts((f) => f.offer('_googlecast._tcp.local', 'Living room', ['md=Chromecast Ultra', 'fn=Living room'])));
    expect([right.category, right.vendor]).toEqual(['tv', 'Google']);
    const wrong = classify(k, none, facts((f) => {
      f.offer('_googlecast._tcp.local', 'x', []);
      f.offer('_http._tcp.local', 'x', ['md=Chromecast Ultra']);
    }));
    expect(wrong.category).toBe('unknown');
  });

  it('browsing for printers does not make a printer', () => {
    const c = classify(k, none, facts((f) => f.add(f.mdnsBrowses, '_ipp._tcp.local')));
    expect([c.category, c.evidence]).toEqual(['unknown', []]);
  });
});

describe('model in the device\'s own words', () => {
  it('Kasa, HomeKit, UPnP, ONVIF and TXT models, in that order, when no rule extracts one', () => {
    expect(classify(k, none, facts((f) => f.add(f.kasaModels, 'KP115(US)'))).model).toBe('KP115(US)');
    expect(classify(k, none, facts((f) => {
      f.upnpField('modelName', 'Hue Bridge');
      f.upnpField('modelNumber', 'BSB002');
    })).model).toBe('Hue Bridge BSB002');
    expect(classify(k, none, facts((f) => f.add(f.wsdScopes, 'onvif://www.onvif.org/hardware/IPC-HFW1230S'))).model).toBe('IPC-HFW1230S');
    expect(classify(k, none, facts((f) => f.add(f.mdnsModels, 'ty=HP LaserJet MFP M140w'))).model).toBe('HP LaserJet MFP M140w');
  });
});

describe('rule files of the new kinds', () => {
  it('an unknown family, a bad TXT expression and a bad module pattern are named with file and line', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-know-'));
    for (const s of ['devices', 'families', 'modules']) fs.mkdirSync(path.join(dir, s));
    fs.writeFileSync(path.join(dir, 'devices', 'a.yaml'), 'rules:\n  - id: x-one\n    description: d\n    source: "a public source"\n    match: { hostname: "^x" }\n    family: nosuch\n    weight: 0.5\n  - id: x-two\n    description: d\n    source: "a public source"\n    match: { mdnsService: _a._tcp.local, mdnsTxt: ["^ok", "("] }\n    weight: 0.5\n');
    fs.writeFileSync(path.join(dir, 'modules', 'm.yaml'), 'modules:\n  - { id: bad, oui: "(", maker: X, kind: chipset, source: "a public source" }\n');
    fs.writeFileSync(path.join(dir, 'families', 'f.yaml'), 'families:\n  - { family: fam, brand: B, category: toaster, reason: "a reason here", source: "a public source" }\n');
    let err: RuleLoadError | null = null;
    try {
      loadDeviceRules([dir]);
    } catch (e) {
      err = e as RuleLoadError;
    }
    expect(err).toBeInstanceOf(RuleLoadError);
    const text = err!.message;
    expect(text).toMatch(/f\.yaml:2: families\.0\.category/);
    expect(text).toMatch(/m\.yaml:2: modules\.0\.oui: bad regular expression/);
    expect(text).toMatch(/a\.yaml:6: rules\.0\.family: unknown family "nosuch"/);
    expect(text).toMatch(/a\.yaml:11: rules\.1\.match\.mdnsTxt: bad regular expression/);
  });
});

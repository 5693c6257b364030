/**
 * Acceptance of device identification on a home made of namespaces: each device announces
 * itself with a real client where one exists (dhclient with its host name and vendor class,
 * avahi-daemon publishing Google Cast TXT, miniupnpd serving its UPnP description) and with a
 * scripted device where none does (an ONVIF camera's WS-Discovery, a Kasa plug's get_sysinfo).
 * The router's tcpdump records the LAN; `vigie analyze --json` must name every device's category,
 * brand and model with its evidence, leave the brandless module unknown with its module maker,
 * never make a printer of a laptop that only browses for printers, and never give a phone the
 * brand of the cloud its app reaches.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisReport, DeviceRecord } from '../../daemon/report/types.js';
import { vigie } from '../helpers/cli.js';
import { CAMERA, KASA_CLIENT, PLUG_PY, PROBER, SYSINFO } from '../helpers/lab-devices.js';
import { HomeLab, haveCommands } from '../helpers/home-lab.js';
import { canMakeNamespaces, sleep } from '../helpers/netns.js';

const ready = canMakeNamespaces() && haveCommands('dnsmasq', 'dhclient', 'tcpdump', 'avahi-daemon', 'miniupnpd', 'dig', 'curl', 'python3', 'unshare');

const MAC = {
  camera: '3c:ef:8c:5a:20:01', // Zhejiang Dahua Technology (IEEE MA-L 3C:EF:8C)
  plug: '50:c7:bf:11:22:33', // TP-LINK TECHNOLOGIES (MA-L 50:C7:BF)
  cast: '54:60:09:44:55:66', // Google (MA-L 54:60:09)
  gateway: '02:5e:00:00:00:77', // locally administered: no registrant to lean on
  phone: 'da:a1:19:77:88:99', // a phone's private address
  laptop: '02:11:22:33:44:55',
  esp: '24:0a:c4:12:34:56', // Espressif Inc.: a module, not a brand
};

const CAST_SERVICE = `<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group>
  <name>Living Room TV</name>
  <service>
    <type>_googlecast._tcp</type>
    <port>8009</port>
    <txt-record>id=4f1d3e2c0b9a8d7e6f5a4b3c2d1e0f9a</txt-record>
    <txt-record>md=Chromecast Ultra</txt-record>
    <txt-record>fn=Living Room TV</txt-record>
    <txt-record>ca=4101</txt-record>
  </service>
</service-group>
`;

describe.skipIf(!ready)('identification of a home of devices announcing themselves with real clients', () => {
  let lab: HomeLab;
  let report: AnalysisReport;
  const dev = (mac: string) => report.devices.find((d) => d.mac === mac) as DeviceRecord;

  beforeAll(async () => {
    lab = new HomeLab('vident-');
    const d = lab.dir;
    try {
      lab.sh(lab.router, 'ip link set br-lan type bridge mcast_snooping 0');
      lab.startDnsmasq({ 'devs.acmecloud.example': '203.0.113.40' });
      const h = Object.fromEntries(Object.entries(MAC).map(([n, m]) => [n, lab.host(n, m)])) as Record<keyof typeof MAC, { ns: string }>;
      const pcap = path.join(d, 'home.pcap');
      await lab.startCapture(pcap);
      const dhcp = (name: keyof typeof MAC, conf: string) => {
        fs.writeFileSync(path.join(d, `${name}.conf`), conf);
        lab.sh(h[name].ns, `dhclient -1 -cf ${d}/${name}.conf -pf ${d}/${name}.pid -lf ${d}/${name}.leases -sf /sbin/dhclient-script eth0 && ip route add 224.0.0.0/4 dev eth0`);
      };
      dhcp('camera', 'send host-name "IPC-HDW2431T";\nsend vendor-class-identifier "udhcp 1.30.1";\n');
      dhcp('plug', 'send host-name "KP115";\n');
      dhcp('cast', 'send host-name "Chromecast-Ultra";\nsend vendor-class-identifier "dhcpcd-6.8.2:Linux-3.10.79:armv7l:Marvell";\n');
      dhcp('gateway', 'send host-name "mesh-ap";\n');
      dhcp('phone', 'send host-name "android-3f9a0c2d1b7e6a55";\nsend vendor-class-identifier "android-dhcp-13";\n');
      dhcp('laptop', 'send host-name "work-laptop";\n');
      dhcp('esp', 'send host-name "ESP_12AB34";\nsend vendor-class-identifier "udhcp 1.29.3";\n');
      const ip = (name: keyof typeof MAC) => lab.sh(h[name].ns, "ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1").trim();

      for (const [n, code] of Object.entries({ 'camera.py': CAMERA, 'prober.py': PROBER, 'plug.py': PLUG_PY, 'kasa.py': KASA_CLIENT })) fs.writeFileSync(path.join(d, n), code);
      const waitReady = (child: ReturnType<HomeLab['spawn']>) =>
        new Promise<void>((resolve, reject) => {
          let seen = '';
          child.stdout!.on('data', (b: Buffer) => (seen += b.toString()).includes('ready') && resolve());
          child.on('exit', (c) => reject(new Error(`exited ${c}: ${seen}`)));
        });
      // The camera's ONVIF discovery and the Kasa plug's local protocol.
      await Promise.all([waitReady(lab.spawn(h.camera.ns, ['python3', '-u', `${d}/camera.py`, ip('camera')])), waitReady(lab.spawn(h.plug.ns, ['python3', '-u', `${d}/plug.py`, JSON.stringify(SYSINFO)]))]);

      // The Chromecast: avahi-daemon without D-Bus, its service file mounted in its own namespace.
      fs.mkdirSync(path.join(d, 'services'));
      fs.writeFileSync(path.join(d, 'services', 'cast.service'), CAST_SERVICE);
      fs.writeFileSync(path.join(d, 'avahi.conf'), ['[server]', 'host-name=Chromecast-Ultra', 'use-ipv4=yes', 'use-ipv6=no', 'allow-interfaces=eth0', 'enable-dbus=no', '[publish]', 'publish-workstation=no', 'publish-hinfo=no', ''].join('\n'));
      const avahi = lab.spawn(h.cast.ns, ['unshare', '-m', 'sh', '-c', `mount --bind ${d}/services /etc/avahi/services && mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon && exec avahi-daemon -f ${d}/avahi.conf --no-drop-root --no-chroot --no-rlimits --no-proc-title`]);
      let avahiLog = '';
      avahi.stderr!.on('data', (b: Buffer) => (avahiLog += b.toString()));
      for (let i = 0; i < 100 && !avahiLog.includes('successfully established'); i++) await sleep(100);
      expect(avahiLog).toContain('successfully established');

      // The mesh access point: miniupnpd announcing an InternetGatewayDevice and serving its description.
      lab.sh(h.gateway.ns, 'ip link add wanx type veth peer name wany && ip addr add 10.99.0.1/32 dev wanx && ip link set wanx up && ip link set wany up');
      fs.writeFileSync(path.join(d, 'miniupnpd.conf'), ['ext_ifname=wanx', 'listening_ip=eth0', 'http_port=5000', 'enable_natpmp=no', 'enable_upnp=yes', 'secure_mode=yes', 'uuid=3e8a2b10-5c1d-4f6e-9a7b-000000000077', 'friendly_name=Mesh AP', 'deny 0-65535 0.0.0.0/0 0-65535', ''].join('\n'));
      lab.spawn(h.gateway.ns, ['miniupnpd', '-d', '-f', `${d}/miniupnpd.conf`, '-P', `${d}/miniupnpd.pid`]);

      // The phone: the Kasa app finds the plug, the Cast and ONVIF apps look around, its app's cloud.
      await sleep(1500);
      expect(lab.sh(h.phone.ns, `python3 ${d}/kasa.py ${ip('phone')} 192.168.50.255 ${ip('plug')}`, 15_000)).toContain('udp KP115(US)');
      expect(lab.sh(h.phone.ns, `python3 ${d}/prober.py ${ip('phone')}`, 15_000)).toContain('answers 1');
      lab.sh(h.phone.ns, 'dig +short +tries=1 +time=1 -p 5353 @224.0.0.251 _googlecast._tcp.local PTR || true');
      lab.sh(h.phone.ns, 'dig +short +tries=1 +time=1 devs.acmecloud.example || true');
      for (let i = 0; i < 50 && !lab.sh(h.gateway.ns, "ss -Hltn 'sport = :5000'").trim(); i++) await sleep(100);
      expect(lab.sh(h.phone.ns, `curl -s --max-time 5 http://${ip('gateway')}:5000/rootDesc.xml`)).toContain('InternetGatewayDevice');
      // The laptop only browses for printers.
      lab.sh(h.laptop.ns, 'dig +short +tries=1 +time=1 -p 5353 @224.0.0.251 _ipp._tcp.local PTR || true');
      await sleep(1000);
      await lab.stopCapture();
      const r = vigie(['analyze', '--json', pcap]);
      expect(r.status, r.stderr).toBe(0);
      report = JSON.parse(r.stdout) as AnalysisReport;
      if (process.env.VIGIE_KEEP_PCAP) fs.copyFileSync(pcap, process.env.VIGIE_KEEP_PCAP);
    } catch (e) {
      lab.destroy();
      throw e;
    }
  }, 180_000);

  afterAll(() => lab?.destroy());

  const summary = (d: DeviceRecord) => [d.category, d.vendor, d.model];

  it('the Dahua camera: by its model host name and its ONVIF announcement', () => {
    const d = dev(MAC.camera);
    expect(summary(d)).toEqual(['camera', 'Dahua', 'IPC-HDW2431T']);
    expect(d.evidence.map((e) => e.signal)).toEqual(expect.arrayContaining(['host-name', 'self-described']));
    expect(d.observations.wsdTypes).toEqual(expect.arrayContaining(['NetworkVideoTransmitter']));
    expect(d.confidence).toBeGreaterThanOrEqual(0.9);
  });

  it('the Kasa plug: its get_sysinfo answer names model and kind, its alias is its name', () => {
    const d = dev(MAC.plug);
    expect(summary(d)).toEqual(['plug_or_light', 'TP-Link', 'KP115']);
    expect(d.observations.kasaModels).toEqual(['KP115(US)']);
    expect(d.observations.hostnames.map((x) => x.name)).toContain('Living Room Lamp');
  });

  it('the Chromecast: Google Cast TXT md= offered through avahi', () => {
    const d = dev(MAC.cast);
    expect(d.category).toBe('tv');
    expect(d.vendor).toBe('Google');
    expect(d.model).toMatch(/^Chromecast Ultra$/);
    const cast = d.observations.mdnsOffers.find((o) => o.service === '_googlecast._tcp.local');
    expect(cast?.txt).toEqual(expect.arrayContaining(['md=Chromecast Ultra', 'fn=Living Room TV']));
    expect(JSON.stringify(d)).not.toContain('4f1d3e2c0b9a8d7e6f5a4b3c2d1e0f9a'); // the Cast id is an identifier
  });

  it('the access point: the UPnP gateway it announces and the description it served', () => {
    const d = dev(MAC.gateway);
    expect(d.category).toBe('network');
    expect(d.observations.upnp.deviceType).toEqual(expect.arrayContaining([expect.stringMatching(/^urn:schemas-upnp-org:device:InternetGatewayDevice:[12]$/)]));
    expect(d.observations.upnp.friendlyName).toEqual(['Mesh AP']);
  });

  it('the phone: an Android phone, none of the answers it received credited to it, no brand from its app\'s cloud', () => {
    const d = dev(MAC.phone);
    expect([d.category, d.vendor]).toEqual(['phone', null]);
    expect(d.observations.kasaModels).toEqual([]);
    expect(d.observations.wsdTypes).toEqual([]);
    expect(Object.keys(d.observations.upnp)).toEqual([]);
    expect(d.observations.mdnsServices).toEqual([]);
    expect(d.observations.mdnsBrowses).toContain('_googlecast._tcp.local');
  });

  it('the laptop that browses for printers is not a printer', () => {
    const d = dev(MAC.laptop);
    expect(d.category).not.toBe('printer');
    expect(d.observations.mdnsBrowses).toEqual(['_ipp._tcp.local']);
    expect(d.observations.mdnsServices).toEqual([]);
  });

  it('the ESP module with factory firmware: no brand, the module maker said, and no category', () => {
    const d = dev(MAC.esp);
    expect([d.category, d.vendor, d.module]).toEqual(['unknown', null, 'Wi-Fi module: Espressif']);
    expect(d.evidence.map((e) => e.rule)).toContain('module-espressif');
  });

  it('nobody is named wrongly: every named device is one of those above, with the evidence cited', () => {
    for (const d of report.devices) {
      for (const e of d.evidence) expect(e.source.length, e.rule).toBeGreaterThan(8);
      if (d.category === 'unknown') continue;
      const expected: Record<string, string> = { [MAC.camera]: 'camera', [MAC.plug]: 'plug_or_light', [MAC.cast]: 'tv', [MAC.gateway]: 'network', [MAC.phone]: 'phone' };
      expect([d.mac, d.category]).toEqual([d.mac, expected[d.mac ?? ''] ?? 'unknown']);
    }
  });
});

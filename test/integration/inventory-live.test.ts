/**
 * The device inventory on a home made for the test: a camera whose MAC has a camera maker's OUI
 * and whose DHCP host name names its model, a Windows laptop, an Android phone with a randomised
 * MAC, and a device that says nothing about itself. Real dhclient and dnsmasq; tcpdump records
 * the LAN; the analysis must name each one, with its evidence, and leave the silent one unknown.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import type { AnalysisReport, DeviceRecord } from '../../daemon/report/types.js';
import { eventsOf } from '../helpers/events.js';
import { HomeLab, haveCommands } from '../helpers/home-lab.js';
import { canMakeNamespaces } from '../helpers/netns.js';
import { tsharkFields } from '../helpers/tshark.js';

const ready = canMakeNamespaces() && haveCommands('dnsmasq', 'dhclient', 'tcpdump', 'tshark');

const CAMERA = '3c:ef:8c:5a:10:01'; // Zhejiang Dahua Technology (IEEE MA-L 3C:EF:8C)
const LAPTOP = 'ec:a8:6b:20:30:40';
const PHONE = 'da:a1:19:77:88:99'; // locally administered: a phone's private address
const MYSTERY = '02:00:00:00:00:42';

describe.skipIf(!ready)('device inventory on a capture of real DHCP clients', () => {
  let lab: HomeLab;
  let report: AnalysisReport;
  let pcap: string;
  const dev = (mac: string) => report.devices.find((d) => d.mac === mac) as DeviceRecord;

  beforeAll(async () => {
    lab = new HomeLab('vigie-inv-');
    const d = lab.dir;
    lab.startDnsmasq({});
    const hosts = {
      camera: lab.host('cam', CAMERA),
      laptop: lab.host('laptop', LAPTOP),
      phone: lab.host('phone', PHONE),
      mystery: lab.host('mystery', MYSTERY),
    };
    pcap = path.join(d, 'home.pcap');
    await lab.startCapture(pcap);
    const dhcp = (name: keyof typeof hosts, conf: string) => {
      fs.writeFileSync(path.join(d, `${name}.conf`), conf);
      lab.sh(hosts[name].ns, `dhclient -1 -cf ${d}/${name}.conf -pf ${d}/${name}.pid -lf ${d}/${name}.leases -sf /bin/true eth0`);
    };
    dhcp('camera', 'send host-name "IPC-HFW1230S";\nsend vendor-class-identifier "udhcp 1.30.1";\n');
    dhcp('laptop', 'send host-name "DESKTOP-4F2K9QX";\nsend vendor-class-identifier "MSFT 5.0";\n');
    dhcp('phone', 'send host-name "android-3f9a0c2d1b7e6a55";\nsend vendor-class-identifier "android-dhcp-13";\n');
    lab.address(hosts.mystery, '192.168.50.42/24');
    lab.sh(hosts.mystery.ns, 'ping -c 2 -i 0.2 192.168.50.1 >/dev/null');
    await lab.stopCapture();
    ({ report } = await eventsOf(pcap, loadConfig(undefined)));
  }, 120_000);

  afterAll(() => lab?.destroy());

  it('the camera: Dahua by its MAC, model from its DHCP host name', () => {
    const c = dev(CAMERA);
    expect([c.category, c.vendor, c.model, c.hostname]).toEqual(['camera', 'Dahua', 'IPC-HFW1230S', 'IPC-HFW1230S']);
    expect(c.confidence).toBeGreaterThan(0.8);
    expect(c.evidence.map((e) => e.rule).sort()).toEqual(['dhcp-vendor-udhcp', 'hostname-dahua-ipc', 'oui-dahua']);
  });

  it('the laptop: Windows by its vendor class and generated name', () => {
    const l = dev(LAPTOP);
    expect([l.category, l.hostname]).toEqual(['computer', 'DESKTOP-4F2K9QX']);
    expect(l.evidence.map((e) => e.rule).sort()).toEqual(['dhcp-vendor-windows', 'hostname-windows-default']);
  });

  it('the phone: Android, randomised MAC, no vendor from it', () => {
    const p = dev(PHONE);
    expect([p.category, p.randomizedMac, p.vendor]).toEqual(['phone', true, null]);
    expect(p.evidence.map((e) => e.rule).sort()).toEqual(['dhcp-vendor-android', 'hostname-android-default']);
  });

  it('the silent device stays unknown, without evidence', () => {
    const m = dev(MYSTERY);
    expect([m.category, m.confidence, m.evidence]).toEqual(['unknown', 0, []]);
    expect(m.ips.map((a) => a.ip)).toContain('192.168.50.42');
  });

  it('host names and vendor classes as tshark reads the DHCP requests', () => {
    const rows = tsharkFields(pcap, ['dhcp.hw.mac_addr', 'dhcp.option.hostname', 'dhcp.option.vendor_class_id']).filter((r) => r[1]);
    for (const [mac, host] of rows) expect(dev(mac).hostname).toBe(host);
    expect(new Set(rows.map((r) => r[0]))).toEqual(new Set([CAMERA, LAPTOP, PHONE]));
  });
});

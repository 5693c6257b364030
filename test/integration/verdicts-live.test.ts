/**
 * Verdicts on a home made for the test: real mosquitto brokers, ffmpeg and curl in network
 * namespaces; "internet" hosts on documentation addresses mapped to countries by the config's
 * `networks`. `vigie analyze --json --home-country FR` must raise:
 * - a camera publishing with a user name and password to a broker abroad: critical, evidence
 *   names the user, never the password; three connections give one alert counted three times;
 * - a baby monitor connecting anonymously to a broker abroad that accepts it (Meari's failure):
 *   critical, says anonymous; the broker's name places it on the CloudEdge platform;
 * - the camera on MQTT over TLS: no cleartext alert;
 * - the camera pushing RTSP to a relay abroad: critical;
 * - a laptop on HTTPS: nothing above low.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisReport } from '../../daemon/report/types.js';
import type { Alert } from '../../daemon/verdicts/alert.js';
import { vigie } from '../helpers/cli.js';
import { HomeLab, haveCommands, waitForListen } from '../helpers/home-lab.js';
import { canMakeNamespaces } from '../helpers/netns.js';

const ready = canMakeNamespaces() && haveCommands('mosquitto', 'mosquitto_pub', 'mosquitto_passwd', 'dnsmasq', 'ffmpeg', 'openssl', 'curl', 'tcpdump');

const BROKER_CN = '203.0.113.10'; // "abroad": mapped to CN below
const RELAY_CN = '203.0.113.20';
const WEB_FR = '198.51.100.30'; // at home: mapped to FR
const CAMERA = '3c:ef:8c:5a:10:01'; // Zhejiang Dahua Technology (IEEE MA-L)
const BABY = '02:11:22:33:44:55';
const LAPTOP = 'ec:a8:6b:20:30:40';
const PASSWORD = 'Sup3rSecretCamPass';

describe.skipIf(!ready)('alerts on a capture of cameras talking to brokers abroad', () => {
  let lab: HomeLab;
  let report: AnalysisReport;
  let json: string;
  let plain: AnalysisReport;
  let config: string;
  const alertsOf = (mac: string) => report.alerts.filter((a) => a.device.mac === mac);
  const one = (mac: string, rule: string, dest?: string): Alert => {
    const found = alertsOf(mac).filter((a) => a.rule === rule && (!dest || a.destination?.ip === dest));
    expect(found, `${rule} for ${mac}`).toHaveLength(1);
    return found[0];
  };

  beforeAll(async () => {
    lab = new HomeLab('vigie-vrd-');
    const d = lab.dir;
    for (const ip of [BROKER_CN, RELAY_CN, WEB_FR]) lab.cloudAddress(ip);
    lab.sh(lab.cloud, `cd ${d} && openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=mqtt.cloudedge360.com -days 1 -keyout key.pem -out cert.pem 2>/dev/null`);
    lab.sh(lab.cloud, `cd ${d} && mosquitto_passwd -c -b pw camuser ${PASSWORD}`);
    fs.writeFileSync(
      path.join(d, 'mosquitto.conf'),
      ['user root', 'per_listener_settings true', `listener 1883 ${BROKER_CN}`, 'allow_anonymous true', `listener 1884 ${BROKER_CN}`, 'allow_anonymous false', `password_file ${d}/pw`, `listener 8883 ${BROKER_CN}`, 'allow_anonymous true', `certfile ${d}/cert.pem`, `keyfile ${d}/key.pem`, ''].join('\n'),
    );
    lab.spawn(lab.cloud, ['mosquitto', '-c', path.join(d, 'mosquitto.conf')]);
    lab.spawn(lab.cloud, ['ffmpeg', '-nostdin', '-loglevel', 'error', '-rtsp_flags', 'listen', '-i', `rtsp://${RELAY_CN}:8554/live`, '-f', 'null', '-']);
    lab.spawn(lab.cloud, ['openssl', 's_server', '-quiet', '-accept', `${WEB_FR}:443`, '-cert', path.join(d, 'cert.pem'), '-key', path.join(d, 'key.pem'), '-www']);
    lab.startDnsmasq({ 'mqtt.cloudedge360.com': BROKER_CN, 'relay.example.com': RELAY_CN, 'www.example.fr': WEB_FR });
    for (const p of [1883, 1884, 8883, 8554, 443]) await waitForListen(lab, lab.cloud, p);

    const cam = lab.host('cam', CAMERA);
    const baby = lab.host('baby', BABY);
    const laptop = lab.host('laptop', LAPTOP);
    lab.address(cam, '192.168.50.21/24');
    lab.address(baby, '192.168.50.22/24');
    lab.address(laptop, '192.168.50.23/24');
    const pcap = path.join(d, 'home.pcap');
    await lab.startCapture(pcap);
    // The camera: three cleartext sessions with credentials, one over TLS, an RTSP push.
    for (let i = 0; i < 3; i++) lab.sh(cam.ns, `mosquitto_pub -V mqttv311 -h ${BROKER_CN} -p 1884 -i ipc-hfw1230s -u camuser -P ${PASSWORD} -t cam/1/motion -m '{"motion":${i}}'`);
    lab.sh(cam.ns, `mosquitto_pub -h mqtt.cloudedge360.com -p 8883 --cafile ${d}/cert.pem --insecure -i cam-tls -t cam/1/tls -m over-tls`);
    lab.sh(cam.ns, `ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc=size=160x120:rate=10 -t 2 -c:v mpeg4 -f rtsp -rtsp_transport tcp rtsp://relay.example.com:8554/live`, 60_000);
    // The baby monitor: anonymous, accepted, publishes a JPEG snapshot (the Meari pattern).
    const jpeg = path.join(d, 'snap.jpg');
    lab.sh(baby.ns, `ffmpeg -nostdin -loglevel error -f lavfi -i testsrc=size=64x48 -frames:v 1 ${jpeg}`);
    lab.sh(baby.ns, `mosquitto_pub -h mqtt.cloudedge360.com -p 1883 -i meari-baby-01 -t device/snap -f ${jpeg}`);
    // The laptop: HTTPS only.
    lab.sh(laptop.ns, 'curl -sk -o /dev/null https://www.example.fr/');
    await lab.stopCapture();
    if (process.env.VIGIE_KEEP_PCAP) fs.copyFileSync(pcap, process.env.VIGIE_KEEP_PCAP);

    config = path.join(d, 'vigie.yaml');
    fs.writeFileSync(
      config,
      [
        'networks:',
        `  - { cidr: 203.0.113.0/24, country: CN, asn: 64500, org: "Example Cloud (test)", label: test cloud abroad }`,
        `  - { cidr: 198.51.100.0/24, country: FR, org: "Example Hosting FR (test)" }`,
        'devices:',
        `  "${BABY}": { label: Nursery cam, category: baby_monitor }`,
        '',
      ].join('\n'),
    );
    const r = vigie(['analyze', pcap, '--json', '--home-country', 'FR', '--config', config]);
    expect(r.stderr).toBe('');
    json = r.stdout;
    report = JSON.parse(json) as AnalysisReport;
    plain = JSON.parse(vigie(['analyze', pcap, '--json', '--config', config]).stdout) as AnalysisReport;
  }, 180_000);

  afterAll(() => lab?.destroy());

  it('camera with credentials to a broker abroad: critical, user named, password only said present', () => {
    const a = one(CAMERA, 'mqtt-cleartext-internet', BROKER_CN);
    expect(a.severity).toBe('critical');
    expect(a.destination).toMatchObject({ ip: BROKER_CN, port: 1884, country: 'CN', asn: 64500, org: 'Example Cloud (test)', label: 'test cloud abroad' });
    expect(a.device).toMatchObject({ mac: CAMERA, ip: '192.168.50.21', vendor: 'Dahua', category: 'camera' });
    expect(a.protocol).toBe('mqtt');
    expect(a.encrypted).toBe(false);
    expect(a.evidence.mqtt).toMatchObject({ clientId: 'ipc-hfw1230s', username: 'camuser', passwordPresent: true, protocolVersion: '3.1.1', connackCode: 0, anonymous: false, sampleTopics: ['cam/1/motion'], payloadKinds: ['json'] });
    // The title names the device (vendor and MAC: no label, no name of its own), the broker and
    // its country; the reasons only what held (the order depends on when the category was learnt).
    expect(a.title).toBe(`Dahua ${CAMERA} sends its MQTT password in cleartext to ${BROKER_CN} (China)`);
    expect([...a.reasons].sort()).toEqual([`${BROKER_CN} is in China, outside the trusted countries`, 'its MQTT password travels in cleartext', 'the device is a camera'].sort());
    expect(a.remediation.join(' ')).toMatch(/Isolate .* with its segmentation plan/);
    expect(a.remediation).toContain(`Block ${BROKER_CN} (China) at the router if the device works without it.`);
  });

  it('three connections give one alert with a count of three', () => {
    expect(one(CAMERA, 'mqtt-cleartext-internet', BROKER_CN).count).toBe(3);
  });

  it('baby monitor accepted anonymously by a broker abroad: critical, says anonymous, names the platform', () => {
    const a = one(BABY, 'mqtt-cleartext-internet');
    expect(a.severity).toBe('critical');
    expect(a.device).toMatchObject({ label: 'Nursery cam', category: 'baby_monitor' });
    expect(a.evidence.mqtt).toMatchObject({ anonymous: true, accepted: true, connackCode: 0, passwordPresent: false, username: null, payloadKinds: ['jpeg'] });
    expect(a.destination).toMatchObject({ hostname: 'mqtt.cloudedge360.com', country: 'CN', platform: { id: 'meari-cloudedge', country: 'CN' } });
    expect(a.title).toBe('Nursery cam publishes images or video without encryption to mqtt.cloudedge360.com (China)');
    // Each branch that held, named; not the password it never sent.
    expect([...a.reasons].sort()).toEqual(['mqtt.cloudedge360.com is in China, outside the trusted countries', 'the device is a baby monitor', 'the broker accepts anonymous clients', 'it publishes JPEG images over MQTT'].sort());
    expect(a.remediation).toContain("If the device sent a password, change it in the vendor's app, CloudEdge (Meari); it has been readable on the way.");
  });

  it('MQTT over TLS gives no cleartext alert', () => {
    const tls = report.flows.find((f) => f.device === CAMERA && f.resp.port === 8883);
    expect(tls?.app).toBe('mqtt-tls');
    expect(alertsOf(CAMERA).filter((a) => a.destination?.port === 8883)).toEqual([]);
  });

  it('camera pushing RTSP to a relay abroad: critical', () => {
    const a = one(CAMERA, 'media-cleartext-internet', RELAY_CN);
    expect(a.severity).toBe('critical');
    expect(a.protocol).toBe('rtsp');
    expect((a.evidence.rtsp as { publishing: boolean }).publishing).toBe(true);
    expect(a.title).toBe(`Dahua ${CAMERA} streams its camera picture unencrypted to relay.example.com (China)`);
    expect([...a.reasons].sort()).toEqual(['relay.example.com is in China, outside the trusted countries', 'the device is a camera', 'it streams over RTSP'].sort());
  });

  it('laptop on HTTPS: nothing above low', () => {
    expect(report.devices.some((d) => d.mac === LAPTOP)).toBe(true);
    expect(alertsOf(LAPTOP).filter((a) => !['info', 'low'].includes(a.severity))).toEqual([]);
  });

  it('no output carries the captured password or a payload', () => {
    expect(json).not.toContain(PASSWORD);
    expect(json).not.toContain('"motion":1');
    const events = vigie(['analyze', path.join(lab.dir, 'home.pcap'), '--events']).stdout;
    expect(events.length).toBeGreaterThan(1000);
    expect(events).not.toContain(PASSWORD);
  });

  it('without a home country nothing counts as abroad: the same broker is medium for a device with no other risk', () => {
    const a = plain.alerts.find((x) => x.device.mac === CAMERA && x.rule === 'mqtt-cleartext-internet');
    expect(a?.severity).toBe('medium');
    expect(a?.reasons).toEqual([]);
    expect(a?.title).toBe(`Dahua ${CAMERA} sends its MQTT password in cleartext to ${BROKER_CN} (China)`);
    expect(plain.alerts.every((x) => x.reasons.every((r) => !/trusted countries/.test(r)))).toBe(true);
  });

  it('alerts are sorted most severe first and follow the schema fields', () => {
    const ranks = report.alerts.map((a) => ['info', 'low', 'medium', 'high', 'critical'].indexOf(a.severity));
    expect([...ranks].sort((x, y) => y - x)).toEqual(ranks);
    for (const a of report.alerts) expect(a.id).toMatch(/^[0-9a-f]{16}$/);
  });
});

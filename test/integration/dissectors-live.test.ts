/**
 * The dissectors on traffic made by real programs: a router namespace (dnsmasq), a camera on the
 * LAN (dhclient with a host name and vendor class, dig, mosquitto 3.1.1 and 5.0 clients with and
 * without credentials, an anonymous subscriber to `#`, MQTT over TLS and over WebSocket, ffmpeg
 * pushing RTSP, curl over HTTPS) and a "cloud" namespace (mosquitto, an ffmpeg RTSP listener, an
 * openssl TLS server). The router's LAN is recorded with tcpdump, then analysed; tshark reads the
 * same file as the independent oracle.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProtocolEvent } from '../../daemon/protocols/events.js';
import type { AnalysisReport } from '../../daemon/report/types.js';
import { eventsOf } from '../helpers/events.js';
import { HomeLab, haveCommands, waitForListen } from '../helpers/home-lab.js';
import { canMakeNamespaces } from '../helpers/netns.js';
import { tsharkFields } from '../helpers/tshark.js';

const ready = canMakeNamespaces() && haveCommands('mosquitto', 'mosquitto_pub', 'mosquitto_sub', 'dnsmasq', 'dhclient', 'dig', 'ffmpeg', 'openssl', 'curl', 'tcpdump', 'tshark') && fs.existsSync('/usr/bin/python3');

const BROKER = '203.0.113.10';
const RTSP_RELAY = '198.51.100.20';
const HTTPS = '192.0.2.30';

describe.skipIf(!ready)('dissectors on a capture of real clients in test namespaces', () => {
  let lab: HomeLab;
  let events: ProtocolEvent[];
  let report: AnalysisReport;
  let pcap: string;

  beforeAll(async () => {
    lab = new HomeLab('vigie-e2e-');
    const d = lab.dir;
    for (const ip of [BROKER, RTSP_RELAY, HTTPS]) lab.cloudAddress(ip);
    // TLS material for the broker and the web server.
    lab.sh(lab.cloud, `cd ${d} && openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=broker.example.com -days 1 -keyout key.pem -out cert.pem 2>/dev/null`);
    lab.sh(lab.cloud, `cd ${d} && mosquitto_passwd -c -b pw camuser campass`);
    fs.writeFileSync(
      path.join(d, 'mosquitto.conf'),
      [
        'user root',
        'per_listener_settings true',
        `listener 1883 ${BROKER}`,
        'allow_anonymous true',
        `listener 1884 ${BROKER}`,
        'allow_anonymous false',
        `password_file ${d}/pw`,
        `listener 8883 ${BROKER}`,
        'allow_anonymous true',
        `certfile ${d}/cert.pem`,
        `keyfile ${d}/key.pem`,
        `listener 8080 ${BROKER}`,
        'protocol websockets',
        'allow_anonymous true',
        `listener 443 ${BROKER}`,
        'allow_anonymous true',
        `certfile ${d}/cert.pem`,
        `keyfile ${d}/key.pem`,
        '',
      ].join('\n'),
    );
    lab.spawn(lab.cloud, ['mosquitto', '-c', path.join(d, 'mosquitto.conf')]);
    lab.spawn(lab.cloud, ['ffmpeg', '-nostdin', '-loglevel', 'error', '-rtsp_flags', 'listen', '-i', `rtsp://${RTSP_RELAY}:8554/live`, '-f', 'null', '-']);
    lab.spawn(lab.cloud, ['ffmpeg', '-nostdin', '-loglevel', 'error', '-rtsp_flags', 'listen', '-rtsp_transport', 'udp', '-i', `rtsp://${RTSP_RELAY}:8555/live`, '-f', 'null', '-']);
    lab.spawn(lab.cloud, ['ffmpeg', '-nostdin', '-loglevel', 'error', '-listen', '1', '-i', `rtmp://${RTSP_RELAY}:1935/live/cam`, '-f', 'null', '-']);
    lab.spawn(lab.cloud, ['openssl', 's_server', '-quiet', '-accept', `${HTTPS}:8443`, '-cert', path.join(d, 'cert.pem'), '-key', path.join(d, 'key.pem'), '-www']);
    lab.startDnsmasq({ 'broker.example.com': BROKER, 'relay.example.com': RTSP_RELAY, 'secure.example.com': HTTPS });
    for (const p of [1883, 1884, 8883, 8080, 443, 8554, 8555, 1935, 8443]) await waitForListen(lab, lab.cloud, p);

    const cam = lab.host('camera', '3c:ef:8c:10:20:30');
    pcap = path.join(d, 'home.pcap');
    await lab.startCapture(pcap);
    fs.writeFileSync(path.join(d, 'dhclient.conf'), 'send host-name "c200-camera";\nsend vendor-class-identifier "ipcam-vendor-1.0";\nrequest subnet-mask, routers, domain-name-servers, host-name, ntp-servers;\n');
    lab.sh(cam.ns, `dhclient -1 -v -cf ${d}/dhclient.conf -pf ${d}/dhclient.pid -lf ${d}/dhclient.leases -sf /bin/true eth0 2>&1 | tail -1`);
    // dhclient -sf /bin/true configures nothing: apply the lease by hand.
    const lease = fs.readFileSync(path.join(d, 'dhclient.leases'), 'utf8');
    const ip = /fixed-address ([\d.]+);/.exec(lease)![1];
    lab.sh(cam.ns, `ip addr add ${ip}/24 dev eth0 && ip route add default via 192.168.50.1`);
    lab.sh(cam.ns, 'dig +short broker.example.com');
    lab.sh(cam.ns, `mosquitto_pub -V mqttv311 -h broker.example.com -p 1884 -i cam-311 -u camuser -P campass -t cams/c200/state -m '{"motion":true}'`);
    lab.sh(cam.ns, `mosquitto_pub -V mqttv5 -h broker.example.com -p 1884 -i cam-5 -u camuser -P campass -t cams/c200/snapshot -f ${d}/cert.pem`);
    // An anonymous reader of everything, and a publisher for it to read.
    const sub = lab.spawn(cam.ns, ['mosquitto_sub', '-V', 'mqttv311', '-h', BROKER, '-p', '1883', '-i', 'spy', '-t', '#', '-C', '1', '-W', '5']);
    await new Promise((r) => setTimeout(r, 500));
    lab.sh(cam.ns, `mosquitto_pub -h ${BROKER} -p 1883 -i anon-cam -t baby/monitor/1 -m hello`);
    await new Promise((r) => sub.on('exit', r));
    lab.sh(cam.ns, `mosquitto_pub -h broker.example.com -p 8883 --cafile ${d}/cert.pem --insecure -i cam-tls -t cams/c200/tls -m secret-payload`);
    fs.writeFileSync(
      path.join(d, 'ws.py'),
      [
        'import paho.mqtt.client as mqtt, time',
        `c = mqtt.Client(client_id="cam-ws", transport="websockets")`,
        'c.username_pw_set("wsuser", "wspass")',
        `c.connect("${BROKER}", 8080)`,
        'c.loop_start()',
        'c.publish("cams/c200/ws", "{\\"ok\\":1}").wait_for_publish()',
        'c.disconnect(); c.loop_stop()',
      ].join('\n'),
    );
    lab.sh(cam.ns, `/usr/bin/python3 ${d}/ws.py`);
    lab.sh(cam.ns, `ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc=size=160x120:rate=10 -t 2 -c:v mpeg4 -f rtsp -rtsp_transport tcp rtsp://relay.example.com:8554/live`, 60_000);
    lab.sh(cam.ns, 'curl -sk -o /dev/null https://secure.example.com:8443/');
    // MQTT over TLS on 443, told apart from HTTPS by its ALPN (AWS IoT's scheme).
    lab.sh(cam.ns, `mosquitto_pub -h broker.example.com -p 443 --cafile ${d}/cert.pem --insecure --tls-alpn x-amzn-mqtt-ca -i cam-443 -t cams/c200/alpn -m x`);
    // RTSP with RTP over UDP: the media flows are tied to the session that announced their ports.
    lab.sh(cam.ns, `ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc=size=160x120:rate=10 -t 2 -c:v mpeg4 -f rtsp -rtsp_transport udp rtsp://relay.example.com:8555/live`, 60_000);
    // RTMP push.
    lab.sh(cam.ns, `ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc=size=160x120:rate=10 -t 1 -c:v flv1 -f flv rtmp://relay.example.com:1935/live/cam`, 60_000);
    // A STUN binding request with a SOFTWARE attribute (RFC 8489 §14.14), sent the way a P2P camera does.
    const stun = Buffer.concat([Buffer.from('0001000c2112a442', 'hex'), Buffer.from('0102030405060708090a0b0c', 'hex'), Buffer.from('80220008', 'hex'), Buffer.from('cam-p2p!')]);
    fs.writeFileSync(path.join(d, 'stun.bin'), stun);
    lab.sh(cam.ns, `bash -c 'cat ${d}/stun.bin > /dev/udp/${BROKER}/3478'`);
    // The camera serves MJPEG and FLV over HTTP; the cloud fetches them (a remote viewer).
    const mjpeg = lab.spawn(cam.ns, ['ffmpeg', '-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=5', '-t', '3', '-f', 'mpjpeg', '-content_type', 'multipart/x-mixed-replace;boundary=ffmpeg', '-listen', '1', 'http://0.0.0.0:8081/']);
    const flv = lab.spawn(cam.ns, ['ffmpeg', '-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=5', '-t', '3', '-c:v', 'flv1', '-f', 'flv', '-listen', '1', 'http://0.0.0.0:8082/']);
    await waitForListen(lab, cam.ns, 8081);
    await waitForListen(lab, cam.ns, 8082);
    lab.sh(lab.cloud, `curl -s --max-time 2 -o /dev/null http://${ip}:8081/ || true`);
    lab.sh(lab.cloud, `curl -s --max-time 2 -o /dev/null http://${ip}:8082/ || true`);
    mjpeg.kill('SIGKILL');
    flv.kill('SIGKILL');
    // DHCPv6 information request (stateless): nobody answers, the request is what we read.
    lab.sh(cam.ns, `timeout 4 dhclient -6 -S -1 -v -cf ${d}/dhclient.conf -pf ${d}/dhclient6.pid -lf ${d}/dhclient6.leases -sf /bin/true eth0 >/dev/null 2>&1 || true`, 10_000);
    // IPv6 neighbour discovery: pinging all nodes makes the router solicit the camera's address.
    lab.sh(cam.ns, 'ping -6 -c 2 -i 0.2 ff02::1%eth0 >/dev/null || true');
    await lab.stopCapture();
    if (process.env.VIGIE_KEEP_PCAP) fs.copyFileSync(pcap, process.env.VIGIE_KEEP_PCAP);
    ({ events, report } = await eventsOf(pcap));
  }, 180_000);

  afterAll(() => lab?.destroy());

  const mqttFacts = () => report.flows.filter((f) => f.protocol && 'mqtt' in f.protocol).map((f) => ({ flow: f, m: (f.protocol as { mqtt: Record<string, unknown> }).mqtt }));

  it('DHCP: host name, vendor class and parameter list of dhclient, as tshark reads them', () => {
    const dhcp = events.filter((e) => e.type === 'dhcp').map((e) => e.dhcp as Record<string, unknown>);
    const discover = dhcp.find((m) => m.messageType === 'DISCOVER')!;
    expect([discover.hostname, discover.vendorClass, discover.chaddr]).toEqual(['c200-camera', 'ipcam-vendor-1.0', '3c:ef:8c:10:20:30']);
    const t = tsharkFields(pcap, ['dhcp.option.hostname', 'dhcp.option.vendor_class_id', 'dhcp.option.request_list_item']).find((r) => r[0] !== '')!;
    expect(t[0]).toBe('c200-camera');
    expect(t[1]).toBe('ipcam-vendor-1.0');
    expect((discover.paramRequestList as number[]).join(',')).toBe(t[2]);
    expect(dhcp.some((m) => m.messageType === 'ACK' && String(m.yiaddr).startsWith('192.168.50.'))).toBe(true);
  });

  it('DNS: the camera asked dnsmasq, and its flows are named by what it asked', () => {
    const answers = events.filter((e) => e.type === 'dns' && (e.dns as { response: boolean }).response).flatMap((e) => (e.dns as { answers: { data: string }[] }).answers.map((a) => a.data));
    expect(answers).toContain(BROKER);
    const toBroker = report.flows.filter((f) => f.resp.ip === BROKER && f.resp.port === 1884);
    expect(toBroker.length).toBe(2);
    expect(toBroker.every((f) => f.hostname === 'broker.example.com' && f.hostnameSource === 'dns')).toBe(true);
  });

  it('MQTT 3.1.1 and 5.0 with credentials: user name kept, password only said to be there', () => {
    const m = mqttFacts();
    const v4 = m.find((x) => x.m.clientId === 'cam-311')!.m;
    const v5 = m.find((x) => x.m.clientId === 'cam-5')!.m;
    expect([v4.version, v4.username, v4.passwordPresent, v4.accepted]).toEqual([4, 'camuser', true, true]);
    expect([v5.version, v5.username, v5.passwordPresent, v5.accepted]).toEqual([5, 'camuser', true, true]);
    expect(v5.payloadKinds).toEqual(['text']); // a PEM file is text
    const clientIds = tsharkFields(pcap, ['mqtt.clientid'], ['-d', 'tcp.port==1884,mqtt']).map((r) => r[0]).filter(Boolean);
    expect(clientIds).toEqual(expect.arrayContaining(['cam-311', 'cam-5', 'spy', 'anon-cam']));
    const all = JSON.stringify(events) + JSON.stringify(report);
    expect(all).not.toContain('campass');
    expect(all).not.toContain('wspass');
    expect(all).not.toContain('secret-payload');
  });

  it('an anonymous subscription to # that the broker accepts', () => {
    const spy = mqttFacts().find((x) => x.m.clientId === 'spy')!.m;
    expect([spy.anonymous, spy.accepted, spy.subscribedAll, spy.subscribedAllGranted]).toEqual([true, true, true, true]);
    expect(spy.topics).toContain('baby/monitor/1'); // what the broker then sent it
  });

  it('MQTT over TLS on 8883: encrypted, broker named by SNI', () => {
    const f = report.flows.find((x) => x.resp.port === 8883)!;
    expect([f.app, f.encrypted]).toEqual(['mqtt-tls', true]);
    const sni = tsharkFields(pcap, ['tls.handshake.extensions_server_name', 'tcp.dstport']).find((r) => r[1] === '8883' && r[0] !== '')![0];
    expect((f.protocol as { tls: { sni: string } }).tls.sni).toBe(sni);
    expect(sni).toBe('broker.example.com');
  });

  it('MQTT over WebSocket: the MQTT session inside the frames', () => {
    const f = report.flows.find((x) => x.resp.port === 8080)!;
    expect(f.app).toBe('mqtt-ws');
    const m = (f.protocol as { mqtt: Record<string, unknown>; http: Record<string, unknown> }).mqtt;
    expect([m.clientId, m.username, m.passwordPresent]).toEqual(['cam-ws', 'wsuser', true]);
    expect(m.topics).toEqual(['cams/c200/ws']);
  });

  it('RTSP: ffmpeg pushing video out (ANNOUNCE, RECORD) to the relay', () => {
    const f = report.flows.find((x) => x.resp.port === 8554)!;
    const r = (f.protocol as { rtsp: { methods: string[]; publishing: boolean; urls: string[] } }).rtsp;
    expect(r.publishing).toBe(true);
    expect(r.methods).toEqual(expect.arrayContaining(['ANNOUNCE', 'SETUP', 'RECORD']));
    const urls = tsharkFields(pcap, ['rtsp.url']).map((x) => x[0]).filter(Boolean);
    expect(r.urls).toEqual(expect.arrayContaining([...new Set(urls)]));
  });

  it('MQTT over TLS on 443 is told from HTTPS by its ALPN', () => {
    const f = report.flows.find((x) => x.resp.port === 443)!;
    expect([f.app, f.encrypted]).toEqual(['mqtt-tls', true]);
    expect((f.protocol as { tls: { alpn: string[]; sni: string } }).tls).toMatchObject({ alpn: ['x-amzn-mqtt-ca'], sni: 'broker.example.com' });
  });

  it('RTP over UDP tied to the RTSP session that announced its ports, as tshark sees the streams', () => {
    const rtp = report.flows.filter((x) => x.app === 'rtp');
    expect(rtp.length).toBeGreaterThan(0);
    expect(rtp.every((x) => (x.protocol as { rtp: { rtspSession: boolean } }).rtp.rtspSession)).toBe(true);
    // UDP streams only: tshark also reads the RTP interleaved in the first (TCP) RTSP session.
    const ssrcs = tsharkFields(pcap, ['rtp.ssrc', 'udp.srcport'], ['-o', 'rtp.heuristic_rtp:TRUE']).filter((r) => r[0] && r[1]).map((r) => parseInt(r[0], 16));
    expect(rtp.flatMap((x) => (x.protocol as { rtp: { ssrcs: number[] } }).rtp.ssrcs)).toEqual(expect.arrayContaining([...new Set(ssrcs)]));
    expect(report.flows.some((x) => x.app === 'rtcp')).toBe(true);
  });

  it('RTMP push recognised, in cleartext', () => {
    const f = report.flows.find((x) => x.resp.port === 1935)!;
    expect([f.app, f.encrypted]).toEqual(['rtmp', false]);
  });

  it('STUN binding request with its SOFTWARE, as tshark decodes it', () => {
    const f = report.flows.find((x) => x.resp.port === 3478)!;
    expect(f.app).toBe('stun');
    const sw = tsharkFields(pcap, ['stun.att.software']).map((r) => r[0]).find(Boolean);
    expect((f.protocol as { stun: { software: string[] } }).stun.software).toEqual([sw]);
  });

  it('MJPEG and FLV served over HTTP by the camera', () => {
    const mjpeg = report.flows.find((x) => x.resp.port === 8081)!;
    const flv = report.flows.find((x) => x.resp.port === 8082)!;
    expect((mjpeg.protocol as { http: { mjpeg: boolean } }).http.mjpeg).toBe(true);
    expect((flv.protocol as { http: { flv: boolean } }).http.flv).toBe(true);
    const ctype = tsharkFields(pcap, ['http.content_type', 'tcp.srcport'], ['-d', 'tcp.port==8081,http', '-o', 'http.desegment_body:FALSE']).find((r) => r[1] === '8081' && r[0])![0];
    expect(ctype).toMatch(/^multipart\/x-mixed-replace/);
  });

  it('IPv6 neighbour discovery binds the camera’s link-local address to its MAC', () => {
    const cam = report.devices.find((x) => x.mac === '3c:ef:8c:10:20:30')!;
    const ndp = cam.ips.filter((a) => a.source === 'ndp' || a.ip.startsWith('fe80:'));
    expect(ndp.length).toBeGreaterThan(0);
    const t = tsharkFields(pcap, ['icmpv6.nd.na.target_address', 'icmpv6.opt.linkaddr']).filter((r) => r[0] && r[1]);
    const theirs = t.find((r) => r[1] === '3c:ef:8c:10:20:30');
    expect(theirs, 'tshark sees an advertisement from the camera').toBeDefined();
    expect(cam.ips.map((a) => a.ip)).toContain(theirs![0]);
  });

  it('DHCPv6 from dhclient -6: message type and client DUID, as tshark reads them', () => {
    const ours = events.filter((e) => e.type === 'dhcpv6').map((e) => e.dhcpv6 as { type: string; clientDuid: string; requestedOptions: number[] | null });
    expect(ours.length).toBeGreaterThan(0);
    const t = tsharkFields(pcap, ['dhcpv6.msgtype', 'dhcpv6.duid.bytes', 'dhcpv6.requested_option_code']).filter((r) => r[0]);
    expect(ours.length).toBe(t.length);
    expect(ours[0].type).toBe('INFORMATION-REQUEST');
    expect(t[0][0]).toBe('11');
    expect(ours[0].clientDuid).toBe(t[0][1].replace(/:/g, ''));
    expect((ours[0].requestedOptions ?? []).join(',')).toBe(t[0][2]);
  });

  it('HTTPS from curl: SNI and JA3 as tshark computes them', () => {
    const f = report.flows.find((x) => x.resp.port === 8443);
    expect(f, JSON.stringify(report.flows.map((x) => [x.proto, x.orig.port, x.resp.ip, x.resp.port, x.app]))).toBeDefined();
    const t = tsharkFields(pcap, ['tls.handshake.extensions_server_name', 'tls.handshake.ja3', 'tcp.dstport'], ['-d', 'tcp.port==8443,tls']).find((r) => r[2] === '8443' && r[0] !== '')!;
    const tls = (f!.protocol as { tls: { sni: string; ja3: string } }).tls;
    expect([tls.sni, tls.ja3]).toEqual([t[0], t[1]]);
  });
});

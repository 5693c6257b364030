/**
 * `vigie segment --apply` on a router made for the test (test/helpers/router-lab.ts): real nft,
 * real dnsmasq filling the allow-lists through its nftset lines, a real mosquitto broker with a
 * password, a real sshd for the remote path. The plan: a camera in quarantine with no
 * controller, a laptop trusted, a plug in iot allowed cloud.plug.test and controlled by the
 * controller, the controller trusted. Checked:
 * - everything works before (so that each failure after is the plan's doing);
 * - unconfirmed, the router rolls back by itself to exactly the ruleset it had; confirmed, the
 *   plan stays after the delay; a second apply while one is pending is refused;
 * - with the plan: the camera's MQTT, ping, IPv6 and already open connection to the internet
 *   fail, and so does the bridge between it and the laptop; the laptop still reaches its site;
 *   the plug reaches cloud.plug.test once it resolved it through the router (asked of another
 *   resolver: redirected), the set filling at resolution, but not other.plug.test; the
 *   controller reaches the plug, the laptop does not; the plug cannot reach the router's sshd;
 * - over ssh (key only, pinned host key): the timer runs on the router and restores the plan
 *   that was loaded before, with the addresses dnsmasq had added; confirm works; a changed or
 *   unknown host key is refused and changes nothing; nft's refusal changes nothing either.
 *
 * The first part builds the plan by hand and applies its nft text through one helper,
 * applyOnRouter(nftText, …). The second runs the whole path through the CLI: tcpdump records the
 * devices, `vigie segment capture.pcap` builds the plan, `--apply`, `--status`, `--confirm` load
 * and keep it on the router.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../daemon/capture/errors.js';
import type { SegmentationPlan } from '../../daemon/model/plan.js';
import { applyPlan, confirmPlan, dryRun, parseRemote, status, type TargetOptions } from '../../daemon/segment/apply.js';
import { renderDnsmasq, renderNft } from '../../daemon/segment/nft.js';
import { haveCommands } from '../helpers/home-lab.js';
import { canMakeNamespaces, sleep } from '../helpers/netns.js';
import { type LabDevice, type LabSsh, planDevice, planPeer, RouterLab, segmentationPlan } from '../helpers/router-lab.js';

const NEEDS = ['nft', 'dnsmasq', 'mosquitto', 'mosquitto_pub', 'mosquitto_passwd', 'ssh', 'ssh-keygen', 'dig', 'ping', 'ss'];
const missing = process.getuid?.() !== 0 ? 'needs root' : !canMakeNamespaces() ? 'needs network namespaces' : !haveCommands(...NEEDS) || !fs.existsSync('/usr/sbin/sshd') ? `needs ${NEEDS.join(', ')} and /usr/sbin/sshd` : null;

const BROKER = '203.0.113.1';
const SITE = '198.51.100.10';
const SITE6 = '2001:db8:1::10';
const CLOUD = '198.51.100.20';
const CLOUD6 = '2001:db8:1::20';
const OTHER = '198.51.100.30';
const OTHER6 = '2001:db8:1::30';
const UPSTREAM_DNS = '198.51.100.53';
/** A resolver the plug asks on its own: nothing answers there, only the redirect to the router can. */
const OWN_RESOLVER = '192.0.2.53';
const MQTT_PASSWORD = 'cam-Secret-42';

const MACS = { camera: '3c:ef:8c:5a:10:01', laptop: 'ec:a8:6b:20:30:40', plug: '50:02:91:aa:bb:01', controller: 'b8:27:eb:00:00:04' };

describe.skipIf(missing !== null)('vigie segment --apply on a router: enforcement, rollback, ssh', () => {
  let lab: RouterLab;
  let ssh: LabSsh;
  let dev: Record<keyof typeof MACS, LabDevice>;
  let plan: SegmentationPlan;
  let nftText: string;
  let runDir: string;
  let held: Awaited<ReturnType<RouterLab['hold']>>;
  let laptopSink: () => string;
  let cameraSink: () => string;

  /** The plan of the test, by hand. */
  const handPlan = (cameraZone: 'quarantine' | 'blocked' = 'quarantine'): SegmentationPlan =>
    segmentationPlan([
      planDevice(MACS.camera, cameraZone, { name: 'Camera "garden"\nrm -rf', ips: [dev.camera.ip4, dev.camera.ip6] }),
      planDevice(MACS.laptop, 'trusted', { name: 'Laptop', ips: [dev.laptop.ip4, dev.laptop.ip6] }),
      planDevice(MACS.plug, 'iot', {
        name: 'Plug',
        ips: [dev.plug.ip4, dev.plug.ip6],
        hosts: [{ name: 'cloud.plug.test' }],
        lan: [planPeer(MACS.controller, [dev.controller.ip4, dev.controller.ip6], 'controller', 'Controller')],
      }),
      planDevice(MACS.controller, 'trusted', { name: 'Controller', ips: [dev.controller.ip4, dev.controller.ip6] }),
    ]);
  const handPlanText = (p: SegmentationPlan): string => renderNft(p);

  const local = (): TargetOptions => ({
    // busybox's ash when there is one: the shell of OpenWrt; the ssh path runs the system sh.
    localPrefix: ['ip', 'netns', 'exec', lab.router, ...(haveCommands('busybox') ? ['busybox'] : [])],
    runDir,
    dnsmasqPidFile: lab.routerDnsPidFile,
  });
  const remote = (knownHosts = ssh.knownHosts): TargetOptions => ({
    remote: parseRemote(`ssh://root@${ssh.host}:${ssh.port}`, { identityFile: ssh.clientKey, knownHostsFile: knownHosts }),
    runDir,
    dnsmasqPidFile: lab.routerDnsPidFile,
  });
  /** The one place the plan reaches the router. */
  const applyOnRouter = (text: string, target: TargetOptions, rollbackSeconds: number) => applyPlan(text, { ...target, rollbackSeconds });

  const ruleset = (stateless = false): string => lab.sh(lab.router, `nft ${stateless ? '-s ' : ''}list ruleset`);
  const setElements = (name: string): string[] => {
    const doc = JSON.parse(lab.sh(lab.router, `nft -j list set inet vigie ${name}`)) as { nftables: { set?: { elem?: unknown[] } }[] };
    return (doc.nftables.find((x) => x.set)?.set?.elem ?? []).map(String);
  };
  /** Rollback timers running in the router's namespace. */
  const timers = (): string[] =>
    execFileSync('ip', ['netns', 'pids', lab.router], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .filter((pid) => {
        try {
          return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('vigie-rollback-timer');
        } catch {
          return false;
        }
      });
  const plugSet = (fam: 4 | 6): string => `d${MACS.plug.replace(/:/g, '')}_v${fam}`;
  const mqtt = (d: LabDevice) => lab.run(d.ns, ['timeout', '3', 'mosquitto_pub', '-h', BROKER, '-p', '1883', '-u', 'cam', '-P', MQTT_PASSWORD, '-t', 'cam/motion', '-m', 'on', '-q', '1']);
  const waitUntilSettled = async (target: TargetOptions, seconds: number): Promise<void> => {
    for (let t = 0; t < (seconds + 6) * 4; t++) {
      if (!(await status(target)).pending) return;
      await sleep(250);
    }
    throw new Error('the rollback did not happen in time');
  };

  beforeAll(async () => {
    lab = new RouterLab('sgapl-');
    runDir = path.join(lab.dir, 'run');
    for (const a of [BROKER, SITE, SITE6, CLOUD, CLOUD6, OTHER, OTHER6, UPSTREAM_DNS]) lab.internetAddress(a);
    dev = {
      camera: lab.device('camera', MACS.camera, 11),
      laptop: lab.device('laptop', MACS.laptop, 12),
      plug: lab.device('plug', MACS.plug, 13),
      controller: lab.device('controller', MACS.controller, 14),
    };
    plan = handPlan();
    nftText = handPlanText(plan);
    // Another table that must come out untouched: the router's own firewall. Like OpenWrt's fw4,
    // it tracks connections from the start, so an open connection is "established" for nft.
    lab.sh(lab.router, `printf '%s\\n' 'table inet fw4 {' 'chain input { type filter hook input priority filter; policy accept; tcp dport 9 drop; }' 'chain forward { type filter hook forward priority filter; policy accept; ct state established,related accept; }' '}' | nft -f -`);
    await Promise.all([
      lab.startServers(lab.internet, [80, 7]),
      lab.startServers(dev.plug.ns, [8080]),
      lab.startMosquitto(BROKER, 'cam', MQTT_PASSWORD),
      lab.startUpstreamDns(UPSTREAM_DNS, { 'cloud.plug.test': [CLOUD, CLOUD6], 'other.plug.test': [OTHER, OTHER6], 'site.test': [SITE, SITE6] }),
    ]);
    await lab.startRouterDns(UPSTREAM_DNS, renderDnsmasq(plan));
    // One-way traffic on the bridge: each direction must be stopped by its own rules.
    [laptopSink, cameraSink] = await Promise.all([lab.udpSink(dev.laptop.ns, 5000), lab.udpSink(dev.camera.ns, 5000)]);
    ssh = await lab.startSshd();
  });

  afterAll(() => {
    lab?.destroy();
  });

  it('before the plan: every path works', async () => {
    // Paths that must work get time to (ten probes start at once on a loaded machine); the checks
    // that a path is cut keep the short wait.
    const SURE = { timeoutMs: 6000 };
    const [pub, ping4, web6, bridge, site, other, laptopToPlug, ctlToPlug, plugToSsh, resolved] = await Promise.all([
      mqtt(dev.camera),
      lab.ping(dev.camera.ns, SITE),
      lab.tcp(dev.camera.ns, SITE6, 80, SURE),
      lab.ping(dev.camera.ns, dev.laptop.ip4),
      lab.tcp(dev.laptop.ns, SITE, 80, SURE),
      lab.tcp(dev.plug.ns, OTHER, 80, SURE),
      lab.tcp(dev.laptop.ns, dev.plug.ip4, 8080, SURE),
      lab.tcp(dev.controller.ns, dev.plug.ip4, 8080, SURE),
      lab.tcp(dev.plug.ns, ssh.host, ssh.port, SURE),
      // Fills the router's dnsmasq cache: after the apply, only its SIGHUP makes the next lookup fill the set.
      lab.dig(dev.plug.ns, '192.168.60.1', 'cloud.plug.test', 'A'),
    ]);
    expect(pub.code, pub.stderr).toBe(0);
    expect(ping4).toBe(true);
    expect(web6).toBe(`hello ${SITE6}`);
    expect(bridge).toBe(true);
    expect(site).toBe(`hello ${SITE}`);
    expect(other).toBe(`hello ${OTHER}`);
    expect(laptopToPlug).toBe(`hello ${dev.plug.ip4}`);
    expect(ctlToPlug).toBe(`hello ${dev.plug.ip4}`);
    expect(plugToSsh).toMatch(/^SSH-2\.0-/);
    expect(resolved).toEqual([CLOUD]);
    // A connection the camera opened before the plan: it must stop with it.
    held = await lab.hold(dev.camera.ns, SITE, 7);
    expect(await held.send('before')).toBe('before');
    expect(lab.log(lab.internet, 'node')).toContain('got before');
    await Promise.all([lab.udpSend(dev.camera.ns, dev.laptop.ip4, 5000, 'cam-before'), lab.udpSend(dev.laptop.ns, dev.camera.ip4, 5000, 'laptop-before')]);
    await sleep(300);
    expect(laptopSink()).toContain('got cam-before');
    expect(cameraSink()).toContain('got laptop-before');
    expect(await dryRun(plan, nftText, local())).toContain("Vigie's tables are not loaded: the whole plan is new.");
  });

  it('unconfirmed, the router rolls back by itself to exactly the ruleset it had; a second apply meanwhile is refused', async () => {
    const before = ruleset();
    expect(before).not.toContain('vigie');
    const r = await applyOnRouter(nftText, local(), 3);
    expect(r.previous).toEqual({ inet: 'absent', bridge: 'absent' });
    expect(ruleset()).toContain('table inet vigie');
    const s = await status(local());
    expect(s.pending).toBe(true);
    expect(s.timerAlive).toBe(true);
    expect(s.secondsLeft).toBeGreaterThan(0);
    expect(s.secondsLeft).toBeLessThanOrEqual(3);
    await expect(applyOnRouter(nftText, local(), 3)).rejects.toThrow(/waits for confirmation/);
    await waitUntilSettled(local(), 3);
    expect(ruleset()).toBe(before);
    expect((await status(local())).last?.event).toBe('rolled-back');
    await expect(confirmPlan(local())).rejects.toThrow(/rolled back .*too late/);
  });

  it('confirmed, the plan stays after the delay', async () => {
    await applyOnRouter(nftText, local(), 2);
    await confirmPlan(local());
    await sleep(3500);
    const s = await status(local());
    expect(s.pending).toBe(false);
    expect(s.last?.event).toBe('confirmed');
    expect(s.tables).toEqual({ inet: 'present', bridge: 'present' });
    expect(timers()).toEqual([]);
  });

  it('enforces the plan: the camera is cut off, the laptop unchanged, the plug reaches only what it resolved, its controller reaches it', async () => {
    // Only resolution fills the plug's allow-list (the plan lists no address for its name).
    expect(setElements(plugSet(4))).toEqual([]);
    const [pub, ping4, ping6, web6, bridge, bridgeIn, site, site6, stillOpen] = await Promise.all([
      mqtt(dev.camera),
      lab.ping(dev.camera.ns, SITE),
      lab.ping(dev.camera.ns, SITE6),
      lab.tcp(dev.camera.ns, SITE6, 80),
      lab.ping(dev.camera.ns, dev.laptop.ip4),
      lab.ping(dev.laptop.ns, dev.camera.ip4),
      lab.tcp(dev.laptop.ns, SITE, 80),
      lab.tcp(dev.laptop.ns, SITE6, 80),
      held.send('after'),
    ]);
    expect(pub.code).not.toBe(0);
    expect(ping4).toBe(false);
    expect(ping6).toBe(false);
    expect(web6).toBeNull();
    expect(bridge).toBe(false);
    expect(bridgeIn).toBe(false);
    expect(site).toBe(`hello ${SITE}`);
    expect(site6).toBe(`hello ${SITE6}`);
    expect(stillOpen).toBeNull();
    // Neither half of that connection passes: the server did not get the camera's line either.
    expect(lab.log(lab.internet, 'node')).not.toContain('got after');
    await Promise.all([lab.udpSend(dev.camera.ns, dev.laptop.ip4, 5000, 'cam-after'), lab.udpSend(dev.laptop.ns, dev.camera.ip4, 5000, 'laptop-after'), lab.udpSend(dev.camera.ns, dev.laptop.ip6, 5000, 'cam-after6')]);
    await sleep(300);
    expect(laptopSink()).not.toContain('cam-after');
    expect(cameraSink()).not.toContain('laptop-after');

    // The plug asks its own resolver: the query is redirected to the router's dnsmasq.
    expect(await lab.dig(dev.plug.ns, OWN_RESOLVER, 'cloud.plug.test', 'A')).toEqual([CLOUD]);
    expect(await lab.dig(dev.plug.ns, OWN_RESOLVER, 'cloud.plug.test', 'AAAA')).toEqual([CLOUD6]);
    expect(await lab.dig(dev.plug.ns, '192.168.60.1', 'other.plug.test', 'A')).toEqual([OTHER]);
    expect(setElements(plugSet(4))).toEqual([CLOUD]);
    expect(setElements(plugSet(6))).toEqual([CLOUD6]);
    const [cloud, cloud6, other, other6, ctlToPlug, ctlToPlug6, laptopToPlug, plugToSsh, laptopToSsh] = await Promise.all([
      lab.tcp(dev.plug.ns, CLOUD, 80),
      lab.tcp(dev.plug.ns, CLOUD6, 80),
      lab.tcp(dev.plug.ns, OTHER, 80),
      lab.tcp(dev.plug.ns, OTHER6, 80),
      lab.tcp(dev.controller.ns, dev.plug.ip4, 8080),
      lab.tcp(dev.controller.ns, dev.plug.ip6, 8080),
      lab.tcp(dev.laptop.ns, dev.plug.ip4, 8080),
      lab.tcp(dev.plug.ns, ssh.host, ssh.port),
      lab.tcp(dev.laptop.ns, ssh.host, ssh.port),
    ]);
    expect(cloud).toBe(`hello ${CLOUD}`);
    expect(cloud6).toBe(`hello ${CLOUD6}`);
    expect(other).toBeNull();
    expect(other6).toBeNull();
    expect(ctlToPlug).toBe(`hello ${dev.plug.ip4}`);
    expect(ctlToPlug6).toBe(`hello ${dev.plug.ip6}`);
    expect(laptopToPlug).toBeNull();
    expect(plugToSsh).toBeNull();
    expect(laptopToSsh).toMatch(/^SSH-2\.0-/);
    // The drops are counted where `nft list` shows them.
    const listing = lab.sh(lab.router, 'nft list table inet vigie');
    const camDrop = listing.split('\n').find((l) => l.includes('comment "quarantine Camera garden rm -rf: only its controllers"'));
    expect(camDrop).toMatch(/counter packets [1-9]\d* bytes/);
  });

  it('dry run over ssh: the differences between a new plan and what is loaded', async () => {
    const next = handPlan('blocked');
    const text = await dryRun(next, handPlanText(next), remote());
    expect(text).toContain(`Dry run on ssh://root@${ssh.host}:${ssh.port}: nothing was changed.`);
    expect(text).toContain('nft accepts the plan there');
    expect(text).toContain(`${MACS.camera} Camera garden rm -rf: quarantine → blocked`);
    expect(text).toMatch(/inet zone_blocked \(devices in the blocked zone\): \+1 −0\n {4}\+ 3c:ef:8c:5a:10:01/);
    // The address dnsmasq added is not in the new plan's text: the dry run says it goes.
    expect(text).toContain(`- ${CLOUD}`);
    expect(text).toContain('dnsmasq added at resolution time');
  });

  it('over ssh: the timer runs on the router and restores the plan loaded before, with what dnsmasq had added', async () => {
    const before = ruleset(true);
    const next = handPlan('blocked');
    const r = await applyOnRouter(handPlanText(next), remote(), 3);
    expect(r.previous).toEqual({ inet: 'present', bridge: 'present' });
    expect(lab.sh(lab.router, 'nft list set inet vigie zone_blocked')).toContain(MACS.camera);
    const s = await status(remote());
    expect(s.pending && s.timerAlive).toBe(true);
    await waitUntilSettled(remote(), 3);
    expect(ruleset(true)).toBe(before);
    expect(setElements(plugSet(4))).toEqual([CLOUD]);
  });

  it('over ssh: confirm keeps the new plan', async () => {
    const next = handPlan('blocked');
    await applyOnRouter(handPlanText(next), remote(), 30);
    await confirmPlan(remote());
    const s = await status(remote());
    expect(s.pending).toBe(false);
    expect(s.last?.event).toBe('confirmed');
    expect(lab.sh(lab.router, 'nft list set inet vigie zone_blocked')).toContain(MACS.camera);
  });

  it('a changed or unknown host key is refused and changes nothing', async () => {
    const before = ruleset(true);
    const changed = applyOnRouter(nftText, remote(ssh.wrongKnownHosts), 30);
    await expect(changed).rejects.toBeInstanceOf(InputError);
    await expect(changed).rejects.toThrow(/host key changed/);
    const empty = path.join(lab.dir, 'known_hosts.empty');
    fs.writeFileSync(empty, '');
    await expect(applyOnRouter(nftText, remote(empty), 30)).rejects.toThrow(/no pinned host key/);
    expect(fs.readFileSync(empty, 'utf8')).toBe('');
    expect(ruleset(true)).toBe(before);
    expect((await status(local())).pending).toBe(false);
  });

  it('a plan nft refuses changes nothing and says why', async () => {
    const before = ruleset(true);
    const bad = 'table inet vigie\ndelete table inet vigie\ntable inet vigie {\n\tset broken { type no_such_type; }\n}\n';
    await expect(applyOnRouter(bad, local(), 30)).rejects.toThrow(/nft refused the plan; nothing was changed: .*no_such_type/);
    expect(ruleset(true)).toBe(before);
    const s = await status(local());
    expect(s.pending).toBe(false);
    expect(s.last?.event).toBe('confirmed');
  });
});

if (missing !== null) {
  describe.skip(`vigie segment --apply on a router (skipped: ${missing})`, () => {
    it('runs as root with network namespaces', () => {});
  });
}

/**
 * The whole path through the CLI: tcpdump on br-lan records the devices, `vigie segment
 * capture.pcap --config … --format nft` builds the plan (the config maps 203.0.113.0/24 to CN),
 * `--apply`, `--status` and `--confirm` run on the router. Same lab, same checks of what the plan
 * stops and keeps.
 */
describe.skipIf(missing !== null || !haveCommands('tcpdump'))('vigie segment capture.pcap --apply through the CLI', () => {
  let lab: RouterLab;
  let dev: Record<keyof typeof MACS, LabDevice>;
  let capture: string;
  let config: string;
  let runDir: string;
  const ROOT = path.resolve(__dirname, '../..');

  /** `vigie segment …` on the router, as root there; never rejects. */
  const vigie = (args: string[]) => lab.run(lab.router, [process.execPath, path.join(ROOT, 'bin/vigie.js'), 'segment', ...args], 60_000);

  beforeAll(async () => {
    lab = new RouterLab('sgcli-');
    runDir = path.join(lab.dir, 'run');
    for (const a of [BROKER, SITE, SITE6, CLOUD, CLOUD6, OTHER, OTHER6, UPSTREAM_DNS]) lab.internetAddress(a);
    dev = {
      camera: lab.device('camera', MACS.camera, 11),
      laptop: lab.device('laptop', MACS.laptop, 12),
      plug: lab.device('plug', MACS.plug, 13),
      controller: lab.device('controller', MACS.controller, 14),
    };
    await Promise.all([
      lab.startServers(lab.internet, [80, 7]),
      lab.startServers(dev.plug.ns, [8080]),
      lab.startMosquitto(BROKER, 'cam', MQTT_PASSWORD),
      lab.startUpstreamDns(UPSTREAM_DNS, { 'cloud.plug.test': [CLOUD, CLOUD6], 'other.plug.test': [OTHER, OTHER6], 'site.test': [SITE, SITE6] }),
    ]);
    await lab.startRouterDns(UPSTREAM_DNS, '');
    config = path.join(lab.dir, 'vigie.yaml');
    // What the household told Vigie about its devices (their kinds: identifying them from their
    // packets is the inventory's job); the zones come from the policy, what each may still reach
    // from the capture.
    fs.writeFileSync(
      config,
      [
        'homeCountry: FR',
        'networks:',
        '  - { cidr: 203.0.113.0/24, country: CN, asn: 64500, org: "Example Cloud (test)" }',
        'devices:',
        `  "${MACS.camera}": { label: Camera, category: camera }`,
        `  "${MACS.plug}": { label: Plug, category: plug_or_light }`,
        `  "${MACS.laptop}": { label: Laptop, category: computer }`,
        `  "${MACS.controller}": { label: Home Assistant, category: computer }`,
        '',
      ].join('\n'),
    );
    capture = path.join(lab.dir, 'capture.pcap');
    await lab.startCapture(capture);
    for (let k = 0; k < 3; k++) {
      await Promise.all([
        mqttFrom(lab, dev.camera),
        lab.dig(dev.plug.ns, '192.168.60.1', 'cloud.plug.test', 'A').then(() => lab.tcp(dev.plug.ns, CLOUD, 80)),
        lab.tcp(dev.controller.ns, dev.plug.ip4, 8080),
        lab.dig(dev.laptop.ns, '192.168.60.1', 'site.test', 'A').then(() => lab.tcp(dev.laptop.ns, SITE, 80)),
      ]);
    }
    await lab.stopCapture();
  });

  afterAll(() => {
    lab?.destroy();
  });

  const ruleset = (): string => lab.sh(lab.router, 'nft -s list ruleset');
  const setElements = (name: string): string[] => {
    const doc = JSON.parse(lab.sh(lab.router, `nft -j list set inet vigie ${name}`)) as { nftables: { set?: { elem?: unknown[] } }[] };
    return (doc.nftables.find((x) => x.set)?.set?.elem ?? []).map(String);
  };
  const plugSet = (fam: 4 | 6): string => `d${MACS.plug.replace(/:/g, '')}_v${fam}`;

  it('builds the plan from the capture: zones advised by the policy, destinations and controller learnt', async () => {
    const r = await vigie([capture, '--config', config, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as SegmentationPlan;
    const byMac = new Map(plan.devices.map((d) => [d.mac, d]));
    const camera = byMac.get(MACS.camera)!;
    expect(camera).toMatchObject({ zone: 'quarantine', source: 'policy', rule: 'camera-alert' });
    expect(camera.reasons[0]).toMatch(new RegExp(`^Camera sends its MQTT password in cleartext to ${BROKER.replace(/\./g, '\\.')} \\(China\\), and it is a camera \\(critical alert\\)`));
    const plug = byMac.get(MACS.plug)!;
    expect(plug).toMatchObject({ zone: 'iot', source: 'policy', rule: 'iot-device' });
    expect(plug.allow.hosts.map((h) => h.name)).toEqual(['cloud.plug.test']);
    expect(plug.allow.ipv4).toEqual([CLOUD]);
    expect(plug.lan.find((p) => p.mac === MACS.controller)?.role).toBe('controller');
    expect(byMac.get(MACS.laptop)?.zone ?? 'trusted').toBe('trusted');
    expect(byMac.get(MACS.controller)?.zone ?? 'trusted').toBe('trusted');
    // The router's dnsmasq gets the plan's nftset lines (a restart: an empty cache, so lookups fill the sets).
    const d = await vigie([capture, '--config', config, '--format', 'dnsmasq']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain(`nftset=/cloud.plug.test/4#inet#vigie#${plugSet(4)},6#inet#vigie#${plugSet(6)}`);
    await lab.startRouterDns(UPSTREAM_DNS, d.stdout);
  });

  it('--apply loads it with a rollback timer, --status counts down, --confirm keeps it; the plan is enforced', async () => {
    const dry = await vigie([capture, '--config', config, '--dry-run', '--run-dir', runDir]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("Vigie's tables are not loaded: the whole plan is new.");
    const a = await vigie([capture, '--config', config, '--apply', '--rollback-seconds', '60', '--run-dir', runDir]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/rolls back by itself in 60 s unless confirmed/);
    const st = await vigie(['--status', '--run-dir', runDir]);
    expect(st.stdout).toMatch(/waits for confirmation; it rolls back by itself in (60|59|58) s/);

    // Only the AAAA lookup fills the IPv6 list: the capture saw the plug use IPv4 only.
    expect(setElements(plugSet(6))).toEqual([]);
    expect(await lab.dig(dev.plug.ns, OWN_RESOLVER, 'cloud.plug.test', 'AAAA')).toEqual([CLOUD6]);
    expect(setElements(plugSet(6))).toEqual([CLOUD6]);
    const [pub, bridge, site, cloud, cloud6, other, ctlToPlug, laptopToPlug] = await Promise.all([
      mqttFrom(lab, dev.camera),
      lab.ping(dev.camera.ns, dev.laptop.ip4),
      lab.tcp(dev.laptop.ns, SITE, 80),
      lab.tcp(dev.plug.ns, CLOUD, 80),
      lab.tcp(dev.plug.ns, CLOUD6, 80),
      lab.tcp(dev.plug.ns, OTHER, 80),
      lab.tcp(dev.controller.ns, dev.plug.ip4, 8080),
      lab.tcp(dev.laptop.ns, dev.plug.ip4, 8080),
    ]);
    expect(pub.code).not.toBe(0);
    expect(bridge).toBe(false);
    expect(site).toBe(`hello ${SITE}`);
    expect(cloud).toBe(`hello ${CLOUD}`);
    expect(cloud6).toBe(`hello ${CLOUD6}`);
    expect(other).toBeNull();
    expect(ctlToPlug).toBe(`hello ${dev.plug.ip4}`);
    expect(laptopToPlug).toBeNull();

    const c = await vigie(['--confirm', '--run-dir', runDir]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain('plan confirmed');
    expect((await vigie(['--status', '--run-dir', runDir])).stdout).toMatch(/nothing pending; last confirmed at .*Vigie's tables are loaded/);
  });

  it('unconfirmed, it rolls back to the plan confirmed before; a late --confirm says so in one line, exit 2', async () => {
    const before = ruleset();
    const dry = await vigie([capture, '--config', config, '--dry-run', '--run-dir', runDir]);
    expect(dry.stdout).toContain('Zones: no change.');
    const a = await vigie([capture, '--config', config, '--apply', '--rollback-seconds', '2', '--run-dir', runDir]);
    expect(a.code, a.stderr).toBe(0);
    const again = await vigie([capture, '--config', config, '--apply', '--rollback-seconds', '2', '--run-dir', runDir]);
    expect(again.code).toBe(2);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toContain('waits for confirmation');
    for (let t = 0; t < 40 && (await vigie(['--status', '--run-dir', runDir])).stdout.includes('waits for confirmation'); t++) await sleep(250);
    expect(ruleset()).toBe(before);
    const late = await vigie(['--confirm', '--run-dir', runDir]);
    expect(late.code).toBe(2);
    expect(late.stderr.trim().split('\n')).toHaveLength(1);
    expect(late.stderr).toMatch(/rolled back .*too late to confirm/);
  });
});

function mqttFrom(lab: RouterLab, d: LabDevice) {
  return lab.run(d.ns, ['timeout', '3', 'mosquitto_pub', '-h', BROKER, '-p', '1883', '-u', 'cam', '-P', MQTT_PASSWORD, '-t', 'cam/motion', '-m', 'on', '-q', '1']);
}

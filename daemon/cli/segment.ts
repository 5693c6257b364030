/**
 * `vigie segment`: a segmentation plan from a capture or a daemon's state folder, printed as
 * JSON, nftables, OpenWrt UCI or MUD files, and applied to a router only when asked, with an
 * automatic rollback unless confirmed (segment/apply.ts).
 */
import { type Command, InvalidArgumentError } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_CONFIG, withLanPrefixes } from '../analysis/config.js';
import { analyzeCapture } from '../analysis/analyze.js';
import { InputError } from '../capture/errors.js';
import { loadConfig } from '../config/load.js';
import type { SegmentationPlan } from '../model/plan.js';
import { buildPlan } from '../segment/plan.js';
import { inputFromReport, inputFromStore, type PlanContext } from '../segment/inputs.js';
import { renderDnsmasq, renderNft } from '../segment/nft.js';
import { renderUci } from '../segment/uci.js';
import { mudFileName, mudUrl, renderMud } from '../segment/mud.js';
import { readStoreReadOnly, StoreError } from '../store/store.js';
import { applyPlan, confirmPlan, dryRun, parseRemote, rollbackPlan, status, type TargetOptions } from '../segment/apply.js';
import { escapeControls } from '../util/text.js';
import { defaultStateDir } from './run.js';

const FORMATS = ['json', 'nft', 'dnsmasq', 'uci', 'mud'] as const;
type Format = (typeof FORMATS)[number];

interface SegmentFlags {
  stateDir?: string;
  config?: string;
  rules: string[];
  lan: string[];
  homeCountry?: string;
  device?: string;
  format: Format;
  out?: string;
  lanInterface: string[];
  protect: string[];
  iotNetwork?: boolean;
  mudUrl?: string;
  apply?: boolean;
  confirm?: boolean;
  rollback?: boolean;
  status?: boolean;
  dryRun?: boolean;
  rollbackSeconds?: number;
  remote?: string;
  identity?: string;
  knownHosts?: string;
  runDir?: string;
  dnsmasqPid?: string;
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

function mac(v: string): string {
  if (!/^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$/.test(v)) throw new InvalidArgumentError(`"${v}" is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  return v.toLowerCase().replace(/-/g, ':');
}

function format(v: string): Format {
  if (!(FORMATS as readonly string[]).includes(v)) throw new InvalidArgumentError(`--format: one of ${FORMATS.join(', ')}`);
  return v as Format;
}

/** The address this shell's ssh session comes from: its device is never restricted. */
function sshClientIp(env: NodeJS.ProcessEnv = process.env): string | null {
  const v = env.SSH_CONNECTION ?? env.SSH_CLIENT;
  return v ? (v.split(' ')[0] ?? null) : null;
}

/** Builds the plan the flags ask for (shared by printing and applying). */
export async function planFromFlags(capture: string | undefined, o: SegmentFlags): Promise<{ plan: SegmentationPlan; rollbackSeconds: number }> {
  if (capture && o.stateDir) throw new InputError('--state-dir', 'give a capture or --state-dir, not both');
  let config = loadConfig(o.config, DEFAULT_CONFIG, o.rules, { homeCountry: o.homeCountry });
  try {
    config = withLanPrefixes(config, o.lan);
  } catch (e) {
    throw new InputError('--lan', (e as Error).message);
  }
  const ctx: PlanContext = { config, lanInterfaces: o.lanInterface, protect: o.protect, managerIp: sshClientIp(), only: o.device };
  let plan: SegmentationPlan;
  if (capture) {
    const report = await analyzeCapture(capture, { config, keepFlows: false });
    plan = buildPlan(inputFromReport(report, capture, ctx));
  } else {
    const dir = o.stateDir ?? defaultStateDir();
    let data;
    try {
      data = readStoreReadOnly(dir);
    } catch (e) {
      if (e instanceof StoreError) throw new InputError('--state-dir', e.message);
      throw e;
    }
    plan = buildPlan(inputFromStore(data, dir, ctx));
  }
  if (o.device && plan.devices.length === 0) throw new InputError('--device', `no device ${o.device} in ${capture ?? o.stateDir ?? defaultStateDir()}`);
  return { plan, rollbackSeconds: config.segment?.rollbackSeconds ?? 60 };
}

function writeFile(dir: string, name: string, text: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** Prints (or writes under --out) the plan in one format. */
export function emitPlan(plan: SegmentationPlan, o: Pick<SegmentFlags, 'format' | 'out' | 'iotNetwork' | 'mudUrl' | 'device'>, print: (s: string) => void): void {
  switch (o.format) {
    case 'json': {
      const text = JSON.stringify(plan, null, 2) + '\n';
      if (o.out) print(`${writeFile(o.out, 'plan.json', text)}\n`);
      else print(text);
      return;
    }
    case 'nft': {
      const text = renderNft(plan);
      if (o.out) {
        print(`${writeFile(o.out, 'vigie.nft', text)}\n`);
        print(`${writeFile(o.out, 'vigie-dnsmasq.conf', renderDnsmasq(plan))}\n`);
      } else print(text);
      return;
    }
    case 'dnsmasq': {
      const text = renderDnsmasq(plan);
      if (o.out) print(`${writeFile(o.out, 'vigie-dnsmasq.conf', text)}\n`);
      else print(text);
      return;
    }
    case 'uci': {
      const u = renderUci(plan, { iotNetworkRecipe: o.iotNetwork === true });
      if (o.out) {
        print(`${writeFile(o.out, 'firewall.vigie', u.firewall)}\n`);
        print(`${writeFile(o.out, 'dhcp.vigie', u.dhcp)}\n`);
        if (u.recipe) print(`${writeFile(o.out, 'iot-network.recipe', u.recipe)}\n`);
      } else {
        print(`# ---- merge into /etc/config/firewall ----\n${u.firewall}\n# ---- merge into /etc/config/dhcp ----\n${u.dhcp}`);
        if (u.recipe) print(`\n# ---- optional: a separate iot network (adapt, then merge) ----\n${u.recipe}`);
      }
      for (const n of u.notes) process.stderr.write(`vigie: note: ${n}\n`);
      return;
    }
    case 'mud': {
      const devices = plan.devices.filter((d) => d.zone !== 'trusted');
      if (o.out) {
        for (const d of devices) {
          const mud = renderMud(plan, d, { mudUrlBase: o.mudUrl });
          if (mud) print(`${writeFile(o.out, mudFileName(d.mac), JSON.stringify(mud, null, 2) + '\n')}\n`);
        }
        return;
      }
      if (!o.device) throw new InputError('--format mud', 'one MUD file per device: give --device MAC to print one, or --out DIR to write them all');
      const d = plan.devices[0];
      const mud = renderMud(plan, d, { mudUrlBase: o.mudUrl });
      if (!mud) throw new InputError('--device', `${d.name} is in the trusted zone: a MUD file describes a restricted device`);
      print(JSON.stringify(mud, null, 2) + '\n');
      return;
    }
  }
}

export function segmentCommand(program: Command): void {
  program
    .command('segment')
    .description('Plan the segmentation of the home network from a capture or the daemon\'s state, and apply it safely')
    .argument('[capture]', 'capture file (pcap or pcapng) to learn from; or use --state-dir')
    .option('--state-dir <dir>', 'the daemon\'s state folder (its learnt profiles, devices and alerts)')
    .option('--config <file>', 'configuration file (YAML or UCI): zones chosen per device, segment settings')
    .option('--rules <dir>', 'an extra rules folder (zones/ inside for zone policies), repeatable', collect, [])
    .option('--lan <cidr>', 'a prefix that is part of the LAN besides the private ranges (repeatable)', collect, [])
    .option('--home-country <cc>', 'the household\'s country (ISO code)')
    .option('--device <mac>', 'only this device', mac)
    .option('--format <format>', `output: ${FORMATS.join(', ')}`, format, 'json' as Format)
    .option('--out <dir>', 'write files into this folder (MUD: one <mac>.mud.json per restricted device)')
    .option('--lan-interface <if>', 'LAN interface the rules apply to (repeatable; default br-lan)', collect, [])
    .option('--protect <mac>', 'a device never restricted (repeatable); the ssh client\'s own device always is', (v: string, p: string[]) => [...p, mac(v)], [] as string[])
    .option('--iot-network', 'with --format uci: add a recipe for a separate iot network, SSID and zone')
    .option('--mud-url <url>', 'base URL the MUD files will be served from (https, RFC 8520 §5)', (v: string) => {
      try {
        mudUrl('02:00:00:00:00:00', v);
      } catch (e) {
        throw new InvalidArgumentError(`--mud-url: ${(e as Error).message}`);
      }
      return v;
    }, 'https://vigie.home.arpa/mud/')
    .option('--apply', 'load the nft plan (on this machine, or --remote); it rolls back by itself unless confirmed')
    .option('--dry-run', 'with --apply or alone: show what loading the plan would change, change nothing')
    .option('--confirm', 'keep the plan applied last (no capture needed)')
    .option('--rollback', 'undo the plan applied last now, without waiting for its timer')
    .option('--status', 'is a plan waiting for confirmation, and how long is left')
    .option('--rollback-seconds <n>', 'seconds before an applied plan rolls back unless confirmed (default 60, or segment.rollbackSeconds)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 86400) throw new InvalidArgumentError('--rollback-seconds: a whole number of seconds from 1 to 86400');
      return n;
    })
    .option('--remote <url>', 'apply on another Linux router over ssh: ssh://root@192.168.1.1[:22] (key authentication, pinned host key)')
    .option('--identity <file>', 'with --remote: the ssh private key')
    .option('--known-hosts <file>', 'with --remote: the known_hosts file holding the router\'s pinned key (default: ssh\'s own)')
    .option('--dnsmasq-pid <file>', 'dnsmasq\'s pid file on the target: it gets SIGHUP after a load or rollback, so that its cache empties and the next lookups fill the allow-lists (OpenWrt: /var/run/dnsmasq/dnsmasq.cfg01411c.pid)')
    .option('--run-dir <dir>', 'where the backup and rollback timer live on the target (default /run/vigie/segment here, /tmp/vigie-segment on a router)')
    .action(async (capture: string | undefined, o: SegmentFlags) => {
      const actions = [o.apply, o.confirm, o.rollback, o.status].filter(Boolean).length;
      if (actions > 1) throw new InputError('vigie segment', '--apply, --confirm, --rollback and --status are separate steps: give one');
      const target: TargetOptions = { ...(o.remote ? { remote: parseRemote(o.remote, { identityFile: o.identity, knownHostsFile: o.knownHosts }) } : {}), ...(o.runDir ? { runDir: o.runDir } : {}), ...(o.dnsmasqPid ? { dnsmasqPidFile: o.dnsmasqPid } : {}) };
      if (o.confirm || o.rollback || o.status) {
        if (capture || o.stateDir) throw new InputError(o.confirm ? '--confirm' : o.rollback ? '--rollback' : '--status', 'acts on the plan applied last: give no capture or --state-dir');
        if (o.status) {
          const s = await status(target);
          process.stdout.write(`${s.message}\n`);
          return;
        }
        const r = o.confirm ? await confirmPlan(target) : await rollbackPlan(target);
        process.stdout.write(`${r.message}\n`);
        return;
      }
      if (!capture && !o.stateDir && !fs.existsSync(path.join(defaultStateDir(), 'store.json'))) throw new InputError('vigie segment', 'give a capture file or --state-dir DIR');
      if (o.apply || o.dryRun) {
        if (o.format !== 'json' && o.format !== 'nft') throw new InputError('--format', 'what is applied is the nft plan: leave --format out with --apply or --dry-run');
        if (o.device) throw new InputError('--device', 'a plan is applied whole: leave --device out with --apply');
      }
      const { plan, rollbackSeconds } = await planFromFlags(capture, o);
      if (o.dryRun) {
        process.stdout.write(await dryRun(plan, renderNft(plan), target));
        return;
      }
      if (o.apply) {
        const r = await applyPlan(renderNft(plan), { ...target, rollbackSeconds: o.rollbackSeconds ?? rollbackSeconds });
        const restricted = plan.devices.filter((d) => d.zone !== 'trusted');
        process.stdout.write(`${restricted.length} of ${plan.devices.length} devices restricted (${restricted.map((d) => `${escapeControls(d.name)}: ${d.zone}`).join(', ') || 'none'}).\n${r.message}\n`);
        return;
      }
      emitPlan(plan, o, (s) => process.stdout.write(s));
    });
}

/** `vigie run` (the daemon) and `vigie passwd` (its administrator password). */
import { type Command, InvalidArgumentError } from 'commander';
import fs from 'node:fs';
import readline from 'node:readline';
import { DEFAULT_CONFIG } from '../analysis/config.js';
import { InputError } from '../capture/errors.js';
import { readConfigFile } from '../config/load.js';
import type { Daemon } from '../run/daemon.js';
// The daemon (server, store, exports) is imported when `run` or `passwd` runs, not for every
// command: `vigie analyze` and `segment` start about 0.3 s sooner without it.

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('--port must be 0 to 65535');
  return n;
}

function seconds(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number of seconds`);
    return n;
  };
}

function speed(v: string): number {
  if (v === 'max') return 0;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('--speed must be a factor (1 = as recorded) or max');
  return n;
}

function tableSize(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 16 || n > 10_000_000) throw new InvalidArgumentError(`${name} must be a whole number from 16 to 10000000`);
    return n;
  };
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** systemd gives the folder in $STATE_DIRECTORY (StateDirectory=); elsewhere /var/lib/vigie. */
export function defaultStateDir(): string {
  return process.env.STATE_DIRECTORY?.split(':')[0] ?? '/var/lib/vigie';
}

interface RunFlags {
  interface?: string;
  read?: string;
  warmUp: boolean;
  speed: number;
  filter: string;
  capture: 'control' | 'all';
  bufferSize?: number;
  stateDir: string;
  listen?: string;
  port: number;
  config?: string;
  rules: string[];
  allowedHosts: string[];
  maxFlows?: number;
  maxDevices?: number;
  homeCountry?: string;
  commitInterval: number;
  tlsCert?: string;
  tlsKey?: string;
  eventLog?: string;
  eventLogSize: number;
  events?: string;
  syslog?: string;
  webhook?: string;
  haMqtt?: string;
  haCa?: string;
  haPrefix: string;
  haPasswordFile?: string;
  ui?: string;
  allowApply?: boolean;
}

export function runCommand(program: Command): void {
  program
    .command('run')
    .description('Run the monitor: capture live (or replay a file), judge, keep state, serve the dashboard and API')
    .option('-i, --interface <if>', 'interface to watch (default: br-lan, else the interface of the default route)')
    .option('--read <file>', 'replay a capture file through the live pipeline instead, then keep serving')
    .option('--speed <factor>', 'replay pace: 1 as recorded, 10 ten times faster, max as fast as possible', speed, 1)
    .option('--capture <mode>', 'control: the kernel keeps bulk TCP segments out, volumes come from sequence numbers; all: every packet', (v: string) => {
      if (v !== 'control' && v !== 'all') throw new InvalidArgumentError('--capture is control or all');
      return v;
    }, 'control')
    .option('--filter <bpf>', 'your own BPF filter (pcap-filter(7)) on top, e.g. "not host 192.168.1.5"', '')
    // 8 MiB with the control filter held 1,500 TLS handshakes a second at 1 Gbit/s without a drop
    // (4 MiB lost 6,355 packets); every packet (`all`) needs 16 (npm run bench:live).
    .option('--buffer-size <MiB>', 'kernel capture ring size (default 8, 16 with --capture all)', (v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 1 || n > 1024) throw new InvalidArgumentError('--buffer-size is 1 to 1024 MiB');
      return n;
    })
    // The tables' bounds, as `vigie analyze` takes them: a router with little memory sets them
    // lower; a flood fills a table and then evicts (counted in /metrics).
    .option('--max-flows <n>', `flows tracked at once; past it the least recently active is evicted (default ${DEFAULT_CONFIG.maxFlows})`, tableSize('--max-flows'))
    .option('--max-devices <n>', `devices kept in the live table; past it the least recently seen is forgotten (default ${DEFAULT_CONFIG.maxDevices})`, tableSize('--max-devices'))
    .option('--state-dir <dir>', 'where the store and the password live', defaultStateDir())
    .option('--listen <addr>', 'address of the dashboard and API (default: the watched interface\'s own address, never the WAN)')
    .option('--port <n>', 'port of the dashboard and API', port, 8090)
    .option('--config <file>', 'configuration file (YAML, or OpenWrt UCI /etc/config/vigie)')
    .option('--rules <dir>', 'an extra rules folder, repeatable', collect, [])
    .option('--home-country <cc>', 'the household\'s country (ISO code): servers elsewhere count as abroad')
    .option('--commit-interval <s>', 'seconds between store writes (long on flash: the live copy is in memory)', seconds('--commit-interval'), 60)
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
    .option('--tls-key <file>', 'and this private key (PEM)')
    .option('--event-log <file>', 'append alerts and new devices as JSON lines (rotated)')
    .option('--event-log-size <bytes>', 'rotate the event log past this size', (v: string) => {
      // Number('abc') is NaN and Number('') is 0: either would silently disable or break rotation.
      const n = /^\d+$/.test(v) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('--event-log-size must be a positive whole number of bytes');
      return n;
    }, 10 * 1024 * 1024)
    .option('--events <file>', 'append every protocol event as a JSON line (docs/events.md), as analyze --events does')
    .option('--syslog <host[:port]>', 'send alerts to a remote syslog collector (RFC 5424 over UDP)')
    .option('--webhook <url>', 'POST each new alert as JSON to this URL')
    .option('--ha-mqtt <url>', 'Home Assistant MQTT discovery: mqtts://user@broker:8883 (password in VIGIE_HA_PASSWORD)')
    .option('--ha-ca <file>', 'CA certificate (PEM) of that broker, if self-signed')
    .option('--ha-prefix <prefix>', 'Home Assistant discovery prefix', 'homeassistant')
    .option('--ui <dir>', 'the built dashboard to serve (default: ui/dist of the package)')
    .option('--allowed-host <name>', 'one more name or address the dashboard is reached by (the Host check against DNS rebinding accepts the listen address, localhost, this machine\'s names and addresses); repeatable', collect, [])
    .option('--allow-apply', 'let the dashboard apply segmentation plans to this router\'s nftables (needs CAP_NET_ADMIN; each apply rolls back by itself unless confirmed)')
    .option('--no-warm-up', 'open the capture at once, without first replaying the built-in synthetic home through a throwaway engine (about a second of CPU that spares the first minutes of traffic V8\'s compiler)')
    .action(async (o: RunFlags, cmd: Command) => {
      // The config file's `run:` settings (or UCI options) apply where no flag was given.
      if (o.config) {
        const run = readConfigFile(o.config).run ?? {};
        const given = (k: string) => cmd.getOptionValueSource(k) === 'cli' || cmd.getOptionValueSource(k) === 'env';
        const flags = o as unknown as Record<string, unknown>;
        for (const [k, v] of Object.entries(run)) if (v !== undefined && !given(k)) flags[k] = v;
      }
      if (o.interface && o.read) throw new InputError('--read', 'cannot be combined with --interface: replay a file or watch an interface');
      if (!!o.tlsCert !== !!o.tlsKey) throw new InputError('--tls-cert', 'give both --tls-cert and --tls-key');
      if (o.read && !fs.existsSync(o.read)) throw new InputError(o.read, 'no such file');
      let homeAssistant = null;
      if (o.haMqtt) {
        let url: URL;
        try {
          url = new URL(o.haMqtt);
        } catch {
          throw new InputError('--ha-mqtt', `"${o.haMqtt}" is not a URL (mqtts://user@host:8883)`);
        }
        // A password on the command line is visible to every user of the machine (ps).
        if (url.password) throw new InputError('--ha-mqtt', 'put the password in VIGIE_HA_PASSWORD (or haPasswordFile in the config), not in the URL');
        const readFile = (f: string, what: string) => {
          try {
            return fs.readFileSync(f, 'utf8');
          } catch (e) {
            throw new InputError(f, `${what}: ${(e as Error).message}`);
          }
        };
        const password = process.env.VIGIE_HA_PASSWORD ?? (o.haPasswordFile ? readFile(o.haPasswordFile, 'Home Assistant password').replace(/\r?\n$/, '') : undefined);
        // Read once: child processes (nft, ssh) must not inherit it (issue 16, finding 15).
        delete process.env.VIGIE_HA_PASSWORD;
        homeAssistant = { url: o.haMqtt, username: url.username ? decodeURIComponent(url.username) : undefined, password, ca: o.haCa ? readFile(o.haCa, 'CA certificate') : undefined, prefix: o.haPrefix };
      }
      const [{ Daemon: DaemonClass }, { StoreError }] = await Promise.all([import('../run/daemon.js'), import('../store/store.js')]);
      let daemon: Daemon;
      try {
        daemon = await DaemonClass.start({
          interface: o.interface,
          read: o.read,
          warmUp: o.warmUp,
          speed: o.speed,
          filter: o.filter,
          capture: o.capture,
          bufferSize: (o.bufferSize ?? (o.capture === 'all' ? 16 : 8)) * 1024 * 1024,
          stateDir: o.stateDir,
          listen: o.listen,
          port: o.port,
          config: o.config,
          rules: o.rules,
          allowedHosts: o.allowedHosts,
          maxFlows: o.maxFlows,
          maxDevices: o.maxDevices,
          homeCountry: o.homeCountry,
          commitInterval: o.commitInterval,
          tls: o.tlsCert && o.tlsKey ? { cert: o.tlsCert, key: o.tlsKey } : null,
          uiDir: o.ui,
          eventLog: o.eventLog,
          eventLogBytes: o.eventLogSize,
          events: o.events,
          syslog: o.syslog,
          webhook: o.webhook,
          homeAssistant,
          allowApply: o.allowApply === true,
        });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EADDRINUSE') throw new InputError('--port', `${o.port} is already in use`);
        if (err.code === 'EADDRNOTAVAIL') throw new InputError('--listen', `${o.listen} is not an address of this machine`);
        if (err.code === 'EACCES' && err.syscall === 'listen') throw new InputError('--port', `not allowed to listen on ${o.port}`);
        if (e instanceof StoreError) throw new InputError('store', err.message);
        throw e;
      }
      await new Promise<void>((resolve) => {
        const stop = (sig: string) => {
          process.stderr.write(`vigie: ${sig}: writing the store and stopping\n`);
          daemon.stop().then(resolve, resolve);
          // Whatever is still open (a half-closed client socket) must not keep a stopped daemon.
          setTimeout(() => process.exit(0), 5000).unref();
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
        process.on('SIGHUP', () => daemon.reload());
      });
      process.exit(0);
    });
}

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const text = fs.readFileSync(0, 'utf8');
    return text.split(/\r?\n/)[0];
  }
  const ask = (q: string) =>
    new Promise<string>((resolve) => {
      const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
      // No echo: the prompt is written once, the characters typed are not.
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
        if (s.includes(q)) process.stderr.write(q);
      };
      rl.question(q, (a) => {
        rl.close();
        process.stderr.write('\n');
        resolve(a);
      });
    });
  const a = await ask('New password: ');
  const b = await ask('Again: ');
  if (a !== b) throw new InputError('passwd', 'the two passwords differ');
  return a;
}

export function passwdCommand(program: Command): void {
  program
    .command('passwd')
    .description('Set the dashboard\'s administrator password (from the terminal, or the first line of standard input)')
    .option('--state-dir <dir>', 'the daemon\'s state folder', defaultStateDir())
    .action(async (o: { stateDir: string }) => {
      const pw = await readPassword();
      const { setPassword } = await import('../server/auth.js');
      try {
        setPassword(o.stateDir, pw);
      } catch (e) {
        throw new InputError('passwd', (e as Error).message);
      }
      process.stdout.write(`password changed in ${o.stateDir}; a running daemon ends its sessions at the next request\n`);
    });
}

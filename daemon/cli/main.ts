/**
 * The `vigie` command line. Errors the user can act on are printed as one line naming the input
 * and the reason, with exit code 2; anything else is a bug and keeps its stack.
 */
import { Command, InvalidArgumentError } from 'commander';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DEFAULT_CONFIG, type EngineConfig, withLanPrefixes } from '../analysis/config.js';
import { analyzeCapture, analyzeCaptureToJson } from '../analysis/analyze.js';
import { InputError } from '../capture/errors.js';
import { loadConfig } from '../config/load.js';
import { loadDeviceRules } from '../devices/rules.js';
import { BUILTIN_RULES, formatRuleError, loadCloudPlatforms, RuleLoadError } from '../rules/load.js';
import { loadAlertRules } from '../verdicts/rules.js';
import { loadZonePolicy } from '../segment/policy.js';
import { LineWriter, writeReportJson } from '../report/json-output.js';
import type { FlowSpill } from '../analysis/flow-spill.js';
import { renderSummary } from '../report/summary.js';
import { escapeControls } from '../util/text.js';
import { progressBar } from './progress.js';
import { runCommand, passwdCommand } from './run.js';
import { segmentCommand } from './segment.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive whole number`);
    return n;
  };
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('vigie')
    .description('Home-router network monitor: which devices leak what, to whom, and in which country.')
    .version(pkg.version)
    // Set before the subcommands are added: they copy these settings when created.
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('analyze')
    .description('Analyse a capture file (pcap or pcapng), or `-` for standard input')
    .argument('<capture>', 'capture file, or - to read standard input (tcpdump -w - | vigie analyze -)')
    .option('--json', 'print the report as one JSON document (schema: daemon/report/analysis.schema.json)')
    .option('--events', 'print one JSON line per protocol event instead (docs/events.md)')
    .option('--config <file>', 'configuration file (YAML): LAN prefixes, device labels and categories, rules folders')
    .option('--rules <dir>', 'an extra rules folder (with devices/ inside), repeatable', collect, [])
    .option('--lan <cidr>', 'a prefix that is part of the LAN besides the private ranges (repeatable)', collect, [])
    .option('--home-country <cc>', 'the household\'s country (ISO code, e.g. FR): servers elsewhere count as abroad')
    .option('--max-flows <n>', 'flow table size', positiveInt('--max-flows'), DEFAULT_CONFIG.maxFlows)
    .option('--max-devices <n>', 'device table size', positiveInt('--max-devices'), DEFAULT_CONFIG.maxDevices)
    .option('--stream-depth <bytes>', 'bytes of each TCP direction reassembled', positiveInt('--stream-depth'), DEFAULT_CONFIG.streamDepth)
    .option('--top <n>', 'flows listed in the summary', positiveInt('--top'), 10)
    .option('--community-id-seed <n>', 'seed of the Community ID hash in events', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('--community-id-seed must be 0 to 65535');
      return n;
    }, 0)
    .action(async (capture: string, o: { json?: boolean; events?: boolean; config?: string; rules: string[]; lan: string[]; homeCountry?: string; maxFlows: number; maxDevices: number; streamDepth: number; top: number; communityIdSeed: number }) => {
      let config: EngineConfig = loadConfig(o.config, { ...DEFAULT_CONFIG, maxFlows: o.maxFlows, maxDevices: o.maxDevices, streamDepth: o.streamDepth, communityIdSeed: o.communityIdSeed }, o.rules, { homeCountry: o.homeCountry });
      try {
        config = withLanPrefixes(config, o.lan);
      } catch (e) {
        throw new InputError('--lan', (e as Error).message);
      }
      if (o.json && o.events) throw new InputError('--events', 'cannot be combined with --json: choose one output');
      const bar = process.stderr.isTTY && capture !== '-' ? progressBar(process.stderr, 'analysing') : null;
      const lines = o.events ? new LineWriter(1) : null;
      const opts = {
        config,
        events: lines ? (ev: object) => lines.write(JSON.stringify(ev)) : undefined,
        onProgress: bar ? (d: number, t: number) => bar.update(d, t) : undefined,
      };
      let flowJson: FlowSpill | undefined;
      let report;
      if (o.json) ({ report, flowJson } = await analyzeCaptureToJson(capture, opts));
      else report = await analyzeCapture(capture, opts);
      bar?.clear();
      if (report.capture.cut) {
        const c = report.capture.cut;
        process.stderr.write(escapeControls(`vigie: warning: ${capture}: cut at byte ${c.offset} after packet ${c.afterPacket}: ${c.reason}; analysed what came before`) + '\n');
      }
      if (lines) lines.flush();
      else if (o.json) {
        try {
          writeReportJson(report, 1, flowJson?.texts());
        } finally {
          flowJson?.close();
        }
      }
      else process.stdout.write(renderSummary(report, o.top));
    });
  runCommand(program);
  segmentCommand(program);
  passwdCommand(program);
  const rules = program.command('rules').description('Work with rule files');
  rules
    .command('check')
    .description('Check rule files against their schema: prints file:line: field: reason for each error')
    .argument('[dir]', 'rules folder (with devices/, clouds/, alerts/ inside)', BUILTIN_RULES)
    .action((dir: string) => {
      const errors: string[] = [];
      let summary = '';
      for (const [what, load] of [
        ['device rules', () => {
          // A household folder may name the built-in families: they are read first.
          const own = path.resolve(dir);
          const builtin = own === path.resolve(BUILTIN_RULES);
          const k = loadDeviceRules(builtin ? [dir] : [BUILTIN_RULES, dir]);
          const mine = (f: string) => builtin || path.resolve(f).startsWith(own + path.sep);
          return `${k.rules.filter((r) => mine(r.file)).length} device rules, ${[...k.families.values()].filter((f) => mine(f.file)).length} families, ${k.modules.length} module makers`;
        }],
        ['cloud platforms', () => loadCloudPlatforms([dir]).length],
        ['alert rules', () => loadAlertRules([dir]).length],
        ['zone rules', () => loadZonePolicy([dir]).length],
      ] as const) {
        try {
          const n = load();
          summary += `${summary ? ', ' : ''}${typeof n === 'string' ? n : `${n} ${what}`}`;
        } catch (e) {
          if (!(e instanceof RuleLoadError)) throw e;
          // One line per error, whatever a file's text put in its reason.
          errors.push(...e.errors.map((x) => escapeControls(formatRuleError(x))));
        }
      }
      if (errors.length > 0) {
        process.stdout.write(errors.join('\n') + '\n');
        process.exitCode = 1;
      } else process.stdout.write(`${dir}: ${summary}, all valid\n`);
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof InputError) {
      // Names in the message come from files and the network: one escaped line each, no forged ones.
      const head = `${e.source === '-' ? 'standard input' : e.source}: ${e.reason}`;
      process.stderr.write([head, ...e.details].map((l, i) => (i === 0 ? 'vigie: ' : '') + escapeControls(l)).join('\n') + '\n');
      return 2;
    }
    const ce = e as { code?: string; exitCode?: number };
    if (typeof ce.code === 'string' && ce.code.startsWith('commander.')) {
      // Help and version exit 0; usage errors were already printed by commander.
      return ce.exitCode === 0 ? 0 : 2;
    }
    throw e;
  }
}

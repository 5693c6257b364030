/**
 * `vigie segment --apply`, `--confirm`, `--status`, `--rollback` and `--dry-run`, on this machine
 * or on a router over ssh (remote.ts). The work is done by one shell script run on the target
 * (rollback-script.ts): it backs up Vigie's tables, arms a rollback timer that lives on the
 * target, then loads the plan; the timer restores exactly the previous state (deletes Vigie's
 * tables if they were absent, reloads them otherwise) unless a confirmation arrives in time.
 *
 * A second apply while one waits for confirmation is refused: its backup would be the
 * unconfirmed plan, and a rollback would then keep a change nobody confirmed. Confirm (or roll
 * back) first.
 */
import { InputError } from '../capture/errors.js';
import type { SegmentationPlan } from '../model/plan.js';
import { diffTables, type LiveTables, parseNftJson } from './nft-diff.js';
import { buildNftModel } from './nft-model.js';
import { describeTarget, runScript, type ScriptRun, type Target } from './remote.js';
import { SCRIPT_EXIT, type ScriptAction, type ScriptParams, segmentScript } from './rollback-script.js';

export { parseRemote, type RemoteTarget } from './remote.js';

export const DEFAULT_RUN_DIR = { local: '/run/vigie/segment', remote: '/tmp/vigie-segment' } as const;
export const DEFAULT_ROLLBACK_SECONDS = 60;
const MAX_ROLLBACK_SECONDS = 24 * 3600;
const MAX_NFT_BYTES = 16 * 1024 * 1024;

export interface TargetOptions extends Target {
  /** Where the pending marker, backup and timer live on the target (default /run/vigie/segment here, /tmp/vigie-segment on a router). */
  runDir?: string;
  /** dnsmasq's pid file on the target: SIGHUP after a load or rollback so its cache refills the sets. */
  dnsmasqPidFile?: string;
  /** How long to wait for the target's answer (default 120 s). */
  timeoutMs?: number;
}

export interface ApplyOptions extends TargetOptions {
  rollbackSeconds: number;
}

export type TableState = 'present' | 'absent' | 'unknown';

export interface ApplyResult {
  target: string;
  /** Vigie's tables before the load: what the rollback restores. */
  previous: { inet: TableState; bridge: TableState };
  /** Epoch seconds (the target's clock) of the automatic rollback. */
  deadline: number;
  rollbackSeconds: number;
  message: string;
}

export interface ApplyStatus {
  target: string;
  pending: boolean;
  /** Seconds before the automatic rollback (0 when nothing is pending). */
  secondsLeft: number;
  /** pending but its timer is gone (the target rebooted without clearing the run directory, or it was killed). */
  timerAlive: boolean | null;
  last: { event: 'confirmed' | 'rolled-back' | 'rollback-failed'; at: number } | null;
  tables: { inet: TableState; bridge: TableState };
  /** nft's message when the last rollback failed. */
  messages: string[];
  message: string;
}

interface Answer {
  runDir?: string;
  fields: Record<string, string>;
  nft: string[];
  run: ScriptRun;
}

function runDirOf(o: TargetOptions): string {
  const dir = o.runDir ?? (o.remote ? DEFAULT_RUN_DIR.remote : DEFAULT_RUN_DIR.local);
  if (!dir.startsWith('/') || /[\n\0]/.test(dir) || dir.split('/').includes('..')) throw new InputError('--run-dir', `${JSON.stringify(dir)}: an absolute directory on the target is needed`);
  return dir;
}

function parseAnswer(run: ScriptRun): Answer {
  const fields: Record<string, string> = {};
  const nft: string[] = [];
  for (const line of run.stdout.split('\n')) {
    if (line.startsWith('vigie-nft: ')) nft.push(line.slice('vigie-nft: '.length));
    else if (line.startsWith('vigie: ') && !line.startsWith('vigie: begin=') && !line.startsWith('vigie: end=')) {
      for (const kv of line.slice('vigie: '.length).split(' ')) {
        const i = kv.indexOf('=');
        if (i > 0) fields[kv.slice(0, i)] = kv.slice(i + 1);
        else if (kv) fields[kv] = '';
      }
    }
  }
  return { fields, nft, run };
}

async function run(action: ScriptAction, o: TargetOptions, params: Omit<ScriptParams, 'runDir' | 'dnsmasqPidFile'> = {}): Promise<Answer> {
  const runDir = runDirOf(o);
  const script = segmentScript(action, { ...params, runDir, dnsmasqPidFile: o.dnsmasqPidFile });
  return { ...parseAnswer(await runScript(script, o, o.timeoutMs)), runDir };
}

/** A failure the script reported, as one line a user can act on. */
function scriptError(a: Answer, label: string, action: string, runDir: string): InputError {
  const f = a.fields;
  const nft = a.nft.map((l) => l.trim()).filter(Boolean);
  const said = nft.length ? `: ${nft.slice(0, 6).join(' | ')}` : '';
  switch (f.error) {
    case 'pending':
      return new InputError(label, `a plan applied earlier waits for confirmation (it rolls back by itself in ${f.left} s): confirm it with --confirm or undo it with --rollback before applying another`);
    case 'stale':
      return new InputError(label, 'a plan applied earlier was never confirmed and its rollback timer is gone (was the router restarted?): keep it with --confirm or undo it with --rollback, then apply again');
    case 'busy':
      return new InputError(label, 'another apply, confirm or rollback is running there: try again in a moment');
    case 'no-nft':
      return new InputError(label, 'nft is not installed there (OpenWrt 22.03 and later have it: opkg install nftables)');
    case 'rundir':
      return new InputError(label, `cannot write the run directory ${runDir} there (running as root?)`);
    case 'load':
      return new InputError(label, `nft refused the plan; nothing was changed${said}`);
    case 'backup':
      return new InputError(label, `cannot back up Vigie's current tables, so no rollback would be possible; nothing was changed${said}`);
    case 'rollback-failed':
      return new InputError(label, `the rollback failed: the plan is still loaded${said}`);
    case 'not-pending': {
      const when = Number(f.at) > 0 ? ` at ${new Date(Number(f.at) * 1000).toISOString()}` : '';
      if (f.last === 'rolled-back') return new InputError(label, `nothing to ${action}: the plan was rolled back${when}, too late to confirm it; apply it again`);
      if (f.last === 'confirmed') return new InputError(label, `nothing to ${action}: the plan applied last was already confirmed${when}`);
      if (f.last === 'rollback-failed') return new InputError(label, `nothing to ${action}: the automatic rollback failed${when}; see --status`);
      return new InputError(label, `nothing to ${action}: no plan was applied with --apply`);
    }
    case 'list':
      return new InputError(label, `nft cannot list the tables there${said}`);
    default: {
      const err = a.run.stderr.trim().split('\n').filter(Boolean).pop();
      return new InputError(label, `the ${action} script failed (exit ${a.run.code})${err ? `: ${err}` : ''}${said}`);
    }
  }
}

function tableState(v: string | undefined): TableState {
  return v === 'present' || v === 'absent' ? v : 'unknown';
}

/**
 * Refuses nft text that would touch anything but Vigie's tables: the rollback restores only
 * those, so a change elsewhere could not be undone. A guard on the commands' shape (nft(8),
 * "Tables", "Chains", "Rules", "Sets"), not a parser: includes and ruleset-wide commands are
 * refused outright.
 */
export function checkOwnTablesOnly(text: string): void {
  const fail = (line: number, why: string): never => {
    throw new InputError('plan', `line ${line}: ${why}`);
  };
  if (typeof text !== 'string' || text.trim() === '') throw new InputError('plan', 'the nft text is empty');
  if (Buffer.byteLength(text) > MAX_NFT_BYTES) throw new InputError('plan', `the nft text is over ${MAX_NFT_BYTES >> 20} MiB`);
  const families = new Set(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);
  const verbs = new Set(['add', 'create', 'insert', 'replace', 'delete', 'destroy', 'flush', 'reset', 'list', 'rename']);
  const objects = new Set(['table', 'chain', 'rule', 'set', 'map', 'element', 'flowtable', 'counter', 'quota', 'limit', 'ct', 'secmark', 'synproxy']);
  let depth = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/"[^"]*"/g, '""').replace(/#.*$/, '').trim();
    if (depth === 0 && line !== '') {
      const words = line.split(/[\s;{]+/).filter(Boolean);
      if (words[0] === 'include') fail(i + 1, 'include is not allowed: what it loads could not be rolled back');
      let w = words;
      if (verbs.has(w[0])) {
        if (w[1] === 'ruleset') fail(i + 1, `${w[0]} ruleset would touch other tables than Vigie's`);
        w = w.slice(1);
      }
      if (objects.has(w[0]) || w[0] === 'table') {
        const at = families.has(w[1]) ? 2 : 1;
        if (w[at] !== 'vigie') fail(i + 1, `only Vigie's tables (inet vigie, bridge vigie) may be changed, not ${w.slice(1, at + 1).join(' ')}`);
      } else if (!words[0].startsWith('}')) fail(i + 1, `unexpected ${JSON.stringify(words[0])} outside a table`);
    }
    for (const c of line) depth += c === '{' ? 1 : c === '}' ? -1 : 0;
  });
}

/** Loads the plan with a rollback timer on the target. */
export async function applyPlan(nftText: string, opts: ApplyOptions): Promise<ApplyResult> {
  const label = describeTarget(opts);
  const secs = opts.rollbackSeconds;
  if (!Number.isInteger(secs) || secs < 1 || secs > MAX_ROLLBACK_SECONDS) throw new InputError('--rollback-seconds', `${JSON.stringify(secs)}: a whole number of seconds between 1 and ${MAX_ROLLBACK_SECONDS}`);
  checkOwnTablesOnly(nftText);
  const a = await run('apply', opts, { rollbackSeconds: secs, nftText });
  if (a.run.code !== SCRIPT_EXIT.ok || !('applied' in a.fields)) throw scriptError(a, label, 'apply', a.runDir ?? '');
  const previous = { inet: tableState(a.fields.inet), bridge: tableState(a.fields.bridge) };
  const how = opts.remote ? ` --remote ${label}` : '';
  return {
    target: label,
    previous,
    deadline: Number(a.fields.deadline),
    rollbackSeconds: secs,
    message: `plan loaded on ${label}; it rolls back by itself in ${secs} s unless confirmed: vigie segment --confirm${how}`,
  };
}

/** Keeps the pending plan: removes the marker and stops the timer. */
export async function confirmPlan(opts: TargetOptions = {}): Promise<{ target: string; message: string }> {
  const label = describeTarget(opts);
  const a = await run('confirm', opts);
  if (a.run.code !== SCRIPT_EXIT.ok || !('confirmed' in a.fields)) throw scriptError(a, label, 'confirm', a.runDir ?? '');
  return { target: label, message: `plan confirmed on ${label}: it stays` };
}

/** Restores the previous state now, without waiting for the timer. */
export async function rollbackPlan(opts: TargetOptions = {}): Promise<{ target: string; message: string }> {
  const label = describeTarget(opts);
  const a = await run('rollback', opts);
  if (a.run.code !== SCRIPT_EXIT.ok || !('rolled-back' in a.fields)) throw scriptError(a, label, 'roll back', a.runDir ?? '');
  return { target: label, message: `plan rolled back on ${label}: Vigie's tables are as they were before --apply` };
}

export async function status(opts: TargetOptions = {}): Promise<ApplyStatus> {
  const label = describeTarget(opts);
  const a = await run('status', opts);
  const f = a.fields;
  if (a.run.code !== SCRIPT_EXIT.ok || !('pending' in f)) throw scriptError(a, label, 'status', a.runDir ?? '');
  const pending = f.pending === '1';
  const events = ['confirmed', 'rolled-back', 'rollback-failed'] as const;
  const lastEvent = events.find((e) => e === f.last) ?? null;
  const tables = { inet: tableState(f.inet), bridge: tableState(f.bridge) };
  const secondsLeft = pending ? Number(f.left) : 0;
  const timerAlive = pending ? f.timer === 'alive' : null;
  const last = lastEvent ? { event: lastEvent, at: Number(f.at) } : null;
  const loaded = tables.inet === 'present' || tables.bridge === 'present' ? 'Vigie\'s tables are loaded' : tables.inet === 'unknown' ? 'nft could not tell what is loaded' : 'Vigie\'s tables are not loaded';
  let message: string;
  if (pending && timerAlive) message = `${label}: a plan waits for confirmation; it rolls back by itself in ${secondsLeft} s. ${loaded}.`;
  else if (pending) message = `${label}: a plan was never confirmed and its rollback timer is gone: --confirm keeps it, --rollback undoes it. ${loaded}.`;
  else if (last) message = `${label}: nothing pending; last ${last.event} at ${new Date(last.at * 1000).toISOString()}. ${loaded}.`;
  else message = `${label}: nothing pending. ${loaded}.`;
  return { target: label, pending, secondsLeft, timerAlive, last, tables, messages: a.nft, message };
}

/** The tables as loaded on the target (null when absent), and what `nft -c` says of the plan there. */
export async function readLoaded(nftText: string, opts: TargetOptions = {}): Promise<{ live: LiveTables; check: { ok: boolean; messages: string[] } }> {
  const label = describeTarget(opts);
  const a = await run('show', opts, { nftText });
  if (a.run.code !== SCRIPT_EXIT.ok || !('check' in a.fields)) throw scriptError(a, label, 'dry run', a.runDir ?? '');
  const live: LiveTables = { inet: null, bridge: null };
  for (const f of ['inet', 'bridge'] as const) {
    const m = new RegExp(`^vigie: begin=${f}\\n([\\s\\S]*?)\\nvigie: end=${f}$`, 'm').exec(a.run.stdout);
    if (m) live[f] = parseNftJson(m[1].trim(), f);
  }
  return { live, check: { ok: a.fields.check === 'ok', messages: a.nft } };
}

/** What applying the plan would change on the target: nothing is changed. */
export async function dryRun(plan: SegmentationPlan, nftText: string, opts: TargetOptions = {}): Promise<string> {
  const label = describeTarget(opts);
  const model = buildNftModel(plan);
  checkOwnTablesOnly(nftText);
  const { live, check } = await readLoaded(nftText, opts);
  const names = new Map(plan.devices.map((d) => [d.mac.toLowerCase(), model.devices.find((m) => m.mac === d.mac.toLowerCase())?.label ?? d.mac]));
  const lines = [`Dry run on ${label}: nothing was changed.`];
  lines.push(check.ok ? 'nft accepts the plan there (nft -c).' : `nft refuses the plan there: ${check.messages.map((l) => l.trim()).filter(Boolean).slice(0, 6).join(' | ')}`);
  lines.push(...diffTables(model, live, names));
  return lines.join('\n') + '\n';
}

export { describeTarget };

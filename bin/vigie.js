#!/usr/bin/env node
// Runs the compiled CLI. `npm install` builds dist/ (the `prepare` script); routers run plain Node.
//
// The daemon's V8 flags (node-flags.js) can only be given at start-up: the CLI starts itself once
// more with them unless Node already has them (NODE_OPTIONS, or a service manager that passes
// them, as the systemd unit and the OpenWrt init script do).
//
// Wrapper and child share an IPC channel: when the wrapper goes (even by SIGKILL, which it cannot
// forward) the channel closes and the child stops as on SIGTERM, so no daemon is left holding the
// port. The same channel carries the secrets the child needs from the environment, so that they
// are not in the child's /proc/PID/environ for its whole life.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS, OFFLINE_COMMANDS, OFFLINE_FLAGS } from './node-flags.js';

const entry = new URL('../dist/cli/index.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('vigie: dist/ is missing: run `npm run build` in the vigie folder first\n');
  process.exit(2);
}
/** Environment variables that hold secrets: handed to the child over the channel instead. */
const SECRETS = ['VIGIE_ADMIN_PASSWORD', 'VIGIE_HA_PASSWORD'];
/** Marks the child of this wrapper (with the channel), for the child to find it. */
const MARK = 'VIGIE_WRAPPED';
/** After the wrapper is gone, the graceful stop gets this long before the child exits anyway. */
const STOP_GRACE_MS = 5000;

const flagged = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => a.startsWith('--max-semi-space-size'));
if (process.env[MARK] && process.send) {
  delete process.env[MARK];
  // The channel must not keep a finished command (`vigie analyze`) alive.
  process.channel?.unref();
  process.once('disconnect', () => {
    // The same path as SIGTERM (`vigie run` writes the store and stops; other commands just end),
    // and an exit for good if that stop hangs.
    setTimeout(() => process.exit(1), STOP_GRACE_MS).unref();
    process.kill(process.pid, 'SIGTERM');
  });
  const secrets = await new Promise((resolve) => {
    process.once('message', resolve);
    process.once('disconnect', () => resolve({}));
  });
  for (const k of SECRETS) if (typeof secrets?.[k] === 'string') process.env[k] = secrets[k];
  await import(entry.href);
} else if (flagged || process.env.VIGIE_NO_REEXEC) {
  await import(entry.href);
} else {
  const secrets = {};
  const env = { ...process.env, [MARK]: '1' };
  for (const k of SECRETS) {
    if (env[k] === undefined) continue;
    secrets[k] = env[k];
    delete env[k];
  }
  const offline = OFFLINE_COMMANDS.has(process.argv[2]) ? OFFLINE_FLAGS : [];
  const child = spawn(process.execPath, [...NODE_FLAGS, ...offline, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], env });
  child.on('error', (e) => {
    process.stderr.write(`vigie: cannot start ${process.execPath}: ${e.message}\n`);
    process.exit(2);
  });
  child.send(secrets);
  const forward = (sig) => child.kill(sig);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, forward);
  child.on('exit', (code, signal) => {
    if (signal) {
      // Ended by a signal: end the same way (without the handler above, which would keep us).
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}

#!/usr/bin/env node
// Runs the compiled CLI. `npm install` builds dist/ (the `prepare` script); routers run plain Node.
//
// The daemon's V8 flags (node-flags.js) can only be given at start-up: the CLI starts itself once
// more with them unless Node already has them (NODE_OPTIONS, or a service manager that passes
// them, as the systemd unit and the OpenWrt init script do).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from './node-flags.js';

const entry = new URL('../dist/cli/index.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('vigie: dist/ is missing: run `npm run build` in the vigie folder first\n');
  process.exit(2);
}
const flagged = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => a.startsWith('--max-semi-space-size'));
if (flagged || process.env.VIGIE_NO_REEXEC) {
  await import(entry.href);
} else {
  const child = spawn(process.execPath, [...NODE_FLAGS, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}

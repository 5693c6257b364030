#!/usr/bin/env node
// Runs the compiled CLI. `npm install` builds dist/ (the `prepare` script); routers run plain Node.
//
// V8's default young generation (16 MiB semi-spaces) costs a router about 40 MB of RSS and makes
// this workload slower, not faster (measured by `npm run bench`). The flag can only be given at
// start-up, so the CLI starts itself once more with it unless Node already has one (NODE_OPTIONS,
// or a service manager that passes it, as the OpenWrt init script does).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/index.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('vigie: dist/ is missing: run `npm run build` in the vigie folder first\n');
  process.exit(2);
}
const flagged = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => a.startsWith('--max-semi-space-size'));
if (flagged || process.env.VIGIE_NO_REEXEC) {
  await import(entry.href);
} else {
  const child = spawn(process.execPath, ['--max-semi-space-size=2', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}

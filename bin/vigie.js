#!/usr/bin/env node
// Runs the compiled CLI. `npm install` builds dist/ (the `prepare` script); routers run plain Node.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/index.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('vigie: dist/ is missing: run `npm run build` in the vigie folder first\n');
  process.exit(2);
}
await import(entry.href);

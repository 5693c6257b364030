/** Runs the built `vigie` binary as a user would. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './corpus.js';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function vigie(args: string[], input?: Buffer | string): CliResult {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/vigie.js'), ...args], {
    input,
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

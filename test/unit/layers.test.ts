/**
 * The layer check (.dependency-cruiser.cjs, `npm run check:layers`) on a small tree made for
 * the test: it must fail on each kind of import that runs against the pipeline, and pass on
 * one that runs with it. The real tree is checked by CI itself (.ci/test.sh).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');

let dir: string;

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

function write(rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), text);
}

/** The violations found in the tree as it is now, from the test's ./daemon and ./ui/src. */
function cruise(): Violation[] {
  let out: string;
  try {
    out = execFileSync(process.execPath, [CLI, 'daemon', 'ui/src', '--config', CONFIG, '--output-type', 'json'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    // Exit code = number of errors; the JSON is on stdout all the same.
    out = (e as { stdout: string }).stdout;
  }
  return (JSON.parse(out) as { summary: { violations: Violation[] } }).summary.violations;
}

function names(v: Violation[]): string[] {
  return v.map((x) => `${x.rule.name}: ${x.from} → ${x.to}`).sort();
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-layers-'));
  write('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['daemon/**/*.ts', 'ui/src/**/*.ts'] }));
  // A tree that keeps the rules: every import runs down the pipeline.
  write('daemon/model/alert.ts', 'export interface Alert { id: string }\n');
  write('daemon/protocols/registry.ts', "export interface FlowFacts { dns?: { q: string } }\nexport const PROTOCOLS = ['dns'];\n");
  write('daemon/model/flow.ts', "import type { FlowFacts } from '../protocols/registry.js';\nexport interface FlowRecord { protocol: FlowFacts | null }\n");
  write('daemon/flows/table.ts', "import type { FlowRecord } from '../model/flow.js';\nexport const flows: FlowRecord[] = [];\n");
  write('daemon/verdicts/alert.ts', "import type { Alert } from '../model/alert.js';\nimport { flows } from '../flows/table.js';\nexport const alerts: Alert[] = flows.map(() => ({ id: '' }));\n");
  write('daemon/analysis/engine.ts', "import { alerts } from '../verdicts/alert.js';\nexport const run = () => alerts;\n");
  write('daemon/run/daemon.ts', "import { run } from '../analysis/engine.js';\nexport class Daemon { go = run; }\n");
  write('ui/src/lib/types.ts', "export type { Alert } from '../../../daemon/model/alert.js';\n");
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('layer check', () => {
  it('passes a tree whose imports run down the pipeline (model taking the protocols\' facts as a type)', () => {
    expect(names(cruise())).toEqual([]);
  });

  it('fails a stage that imports a later stage, or its orchestrator', () => {
    write('daemon/flows/bad.ts', "import { alerts } from '../verdicts/alert.js';\nimport type { Daemon } from '../run/daemon.js';\nexport const x: [unknown, Daemon | null] = [alerts, null];\n");
    try {
      expect(names(cruise())).toEqual([
        'flows-imports-a-later-stage: daemon/flows/bad.ts → daemon/verdicts/alert.ts',
        'flows-imports-its-orchestrator: daemon/flows/bad.ts → daemon/run/daemon.ts',
      ]);
    } finally {
      fs.rmSync(path.join(dir, 'daemon/flows/bad.ts'));
    }
  });

  it('fails an import cycle, even one made of type imports', () => {
    write('daemon/run/daemon.ts', "import { run } from '../analysis/engine.js';\nimport type { Api } from '../server/api.js';\nexport class Daemon { go = run; api: Api | null = null; }\n");
    write('daemon/server/api.ts', "import type { Daemon } from '../run/daemon.js';\nexport interface Api { daemon: Daemon }\n");
    try {
      const v = names(cruise());
      expect(v).toContain('server-imports-its-orchestrator: daemon/server/api.ts → daemon/run/daemon.ts');
      expect(v.some((x) => x.startsWith('no-circular: '))).toBe(true);
    } finally {
      write('daemon/run/daemon.ts', "import { run } from '../analysis/engine.js';\nexport class Daemon { go = run; }\n");
      fs.rmSync(path.join(dir, 'daemon/server'), { recursive: true });
    }
  });

  it('fails a model that imports code: a stage, the registry\'s values or a Node module', () => {
    write('daemon/model/bad.ts', "import { PROTOCOLS } from '../protocols/registry.js';\nimport { flows } from '../flows/table.js';\nimport fs from 'node:fs';\nexport const y = [PROTOCOLS, flows, fs];\n");
    try {
      expect(names(cruise())).toEqual([
        'model-imports-outside-model: daemon/model/bad.ts → daemon/flows/table.ts',
        'model-imports-outside-model: daemon/model/bad.ts → fs',
        'model-takes-protocol-facts-as-types-only: daemon/model/bad.ts → daemon/protocols/registry.ts',
      ]);
    } finally {
      fs.rmSync(path.join(dir, 'daemon/model/bad.ts'));
    }
  });

  it('fails a dashboard that imports daemon code rather than the model', () => {
    write('ui/src/lib/bad.ts', "import { alerts } from '../../../daemon/verdicts/alert.js';\nexport const z = alerts;\n");
    try {
      expect(names(cruise())).toEqual(['dashboard-imports-the-daemon: ui/src/lib/bad.ts → daemon/verdicts/alert.ts']);
    } finally {
      fs.rmSync(path.join(dir, 'ui/src/lib/bad.ts'));
    }
  });
});

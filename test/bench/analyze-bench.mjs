// `npm run bench`: packets per second and peak RSS of `vigie analyze --json` beside ndpiReader
// (nDPI 4.2, Debian libndpi-bin) and tshark (4.0, full dissection with a conversation tap) on the
// same generated home capture, in the same run. Wall time includes each tool's start-up, as a
// user would experience it. Each tool runs RUNS times; the median time and the largest RSS count.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './home-capture.mjs';
import { generateChurn } from './churn-capture.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const outDir = path.join(here, 'out');
const runs = Number(process.env.RUNS ?? 5);
// Two shapes: `home` (50 devices, long TLS and video flows: the work is in bytes) and `churn`
// (60 devices, 22k short cleartext flows to 25 destinations each, alerts that repeat: the work is
// in flows that end). SHAPES=home or SHAPES=churn runs one.
const SHAPES = [
  { name: 'home', file: 'home.pcap', version: '1', generate },
  { name: 'churn', file: 'churn.pcap', version: '1', generate: generateChurn },
].filter((s) => (process.env.SHAPES ?? 'home,churn').split(',').includes(s.name));

fs.mkdirSync(outDir, { recursive: true });
function prepare(shape) {
  const capture = path.join(outDir, shape.file);
  const metaPath = path.join(outDir, `${shape.name}.meta.json`);
  let meta = fs.existsSync(metaPath) ? JSON.parse(fs.readFileSync(metaPath, 'utf8')) : null;
  if (!meta || meta.version !== shape.version || !fs.existsSync(capture)) {
    process.stderr.write(`generating the ${shape.name} benchmark capture...\n`);
    meta = { version: shape.version, ...shape.generate(capture) };
    fs.writeFileSync(metaPath, JSON.stringify(meta));
  }
  return { capture, meta };
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
if (!have('/usr/bin/time')) throw new Error('needs GNU time (apt-get install time)');

const toolsFor = (capture) => [
  { name: 'vigie analyze --json', cmd: [process.execPath, path.join(root, 'bin/vigie.js'), 'analyze', '--json', capture] },
  { name: 'ndpiReader', cmd: ['ndpiReader', '-i', capture, '-q'], need: 'ndpiReader' },
  { name: 'tshark -z conv,tcp', cmd: ['tshark', '-n', '-r', capture, '-q', '-z', 'conv,tcp'], need: 'tshark' },
];

function measure(cmd) {
  const timeFile = path.join(os.tmpdir(), `vigie-bench-${process.pid}.time`);
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', timeFile, ...cmd], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  const [secs, kb] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  fs.rmSync(timeFile, { force: true });
  return { secs, rssMB: kb / 1024 };
}

function bench(shape) {
const { capture, meta } = prepare(shape);
const present = toolsFor(capture).filter((t) => {
  if (t.need && !have(t.need)) process.stderr.write(`skipping ${t.name}: ${t.need} is not installed\n`);
  return !t.need || have(t.need);
});
// Round robin, so that a shared machine's slow moments fall on every tool alike.
const samples = new Map(present.map((t) => [t, []]));
for (let i = 0; i < runs; i++) for (const t of present) samples.get(t).push(measure(t.cmd));
const results = present.map((t) => {
  const s = samples.get(t);
  const secs = s.map((x) => x.secs).sort((a, b) => a - b)[Math.floor(s.length / 2)];
  return { tool: t.name, secs, pps: meta.packets / secs, rssMB: Math.max(...s.map((x) => x.rssMB)) };
});

const vigie = results[0];
const lines = [
  `${shape.name}:`,
  `capture: ${meta.packets.toLocaleString('en-US')} packets, ${meta.flows.toLocaleString('en-US')} flows, ${meta.devices} devices, ${(fs.statSync(capture).size / 1e6).toFixed(0)} MB (${capture})`,
  '',
  'tool                   seconds   packets/s   peak RSS   vigie speed ratio',
];
for (const r of results) {
  lines.push(
    `${r.tool.padEnd(22)} ${r.secs.toFixed(2).padStart(7)} ${Math.round(r.pps).toLocaleString('en-US').padStart(11)} ${r.rssMB.toFixed(0).padStart(7)} MB   ${r === vigie ? '' : `${(vigie.pps / r.pps).toFixed(2)}x`}`,
  );
}
const ndpi = results.find((r) => r.tool === 'ndpiReader');
lines.push('');
lines.push(`target: at least ndpiReader's packet rate: ${ndpi ? (vigie.pps >= ndpi.pps ? 'met' : 'MISSED') : 'not measured'}`);
lines.push(`target: peak RSS under 150 MB: ${vigie.rssMB < 150 ? 'met' : 'MISSED'} (${vigie.rssMB.toFixed(0)} MB)`);
process.stdout.write(lines.join('\n') + '\n\n');
return { shape: shape.name, capture: meta, results };
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
process.stdout.write(`machine: ${cpu}, ${os.cpus().length} cores, node ${process.version}, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; median of ${runs} runs\n\n`);
const all = SHAPES.map(bench);
process.stdout.write(`load at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
fs.writeFileSync(path.join(outDir, 'analyze-results.json'), JSON.stringify({ when: new Date().toISOString(), runs, shapes: all }, null, 2));

// Puts a soak run into the docs: `node test/soak/report.mjs <run.json> [run.csv]` (the CSV
// defaults to the one the summary names). Writes docs/soak/soak.svg (the curve), copies the CSV
// and the summary to docs/soak/soak.csv and docs/soak/summary.json, and replaces the results
// section of docs/soak.md (between the soak-results markers) with the figures table.
// The summary is recomputed from the CSV (the same code as soak.mjs), so that a run stopped
// without its last summary still gets correct figures.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCsv, summarize } from './stats.mjs';
import { svg } from './plot.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [jsonArg, csvArg] = process.argv.slice(2);
if (!jsonArg) throw new Error('usage: node test/soak/report.mjs <run.json> [run.csv]');
const saved = JSON.parse(fs.readFileSync(jsonArg, 'utf8'));
const csvPath = csvArg ?? path.resolve(root, saved.csv);
const csv = fs.readFileSync(csvPath, 'utf8');
const rows = parseCsv(csv);
const keep = ['started', 'ended', 'endReason', 'requestedDurationS', 'intervalS', 'csv', 'daemon', 'machine', 'node', 'traffic', 'daemonExit', 'replays'];
const s = summarize(rows, Object.fromEntries(keep.filter((k) => k in saved).map((k) => [k, saved[k]])));

const docs = path.join(root, 'docs');
const dir = path.join(docs, 'soak');
fs.mkdirSync(dir, { recursive: true });
const title = `vigie run, ${s.durationH} h of replayed home traffic (${s.traffic?.devices ?? '?'} devices, ~${s.traffic?.mbps ?? '?'} Mbit/s), ${s.started?.slice(0, 10) ?? ''}`;
fs.writeFileSync(path.join(dir, 'soak.svg'), svg(rows, title));
fs.writeFileSync(path.join(dir, 'soak.csv'), csv);
fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(s, null, 2) + '\n');

const done = (s.replays?.last ?? []).filter((l) => l.code === 0 && l.mbps);
const measured = done.length ? `${(done.reduce((a, l) => a + l.mbps, 0) / done.length).toFixed(1)} Mbit/s, ${Math.round(done.reduce((a, l) => a + l.pps, 0) / done.length)} packets/s, ${(done.reduce((a, l) => a + l.seconds, 0) / done.length).toFixed(0)} s a loop over the last ${done.length} loops` : null;
const decodedPps = s.packetsEnd && s.durationS ? Math.round(s.packetsEnd / s.durationS) : null;
const f = (v, unit = '') => (v === null || v === undefined ? '–' : `${v}${unit}`);
const r = s.rssMB ?? {};
const h = s.heapUsedMB ?? {};
const table = [
  `Run of ${s.started ?? '?'} → ${s.ended ?? rows[rows.length - 1]?.time ?? '?'} (${f(s.durationH, ' h')}, ${s.samples} samples every ${f(s.intervalS, ' s')}; ${s.endReason ?? ''}), ${s.machine ?? ''}, Node ${s.node ?? ''}.`,
  `Traffic: ${s.traffic?.devices} devices, ${s.traffic?.tlsConnectionsPerSecond} TLS connections/s and ${s.traffic?.mbps} Mbit/s in the capture, a ${s.traffic?.loopSeconds} s capture replayed ${f(s.replayLoops)} times${measured ? ` (tcpreplay measured ${measured})` : ''}; ${f(s.packetsEnd)} packets decoded by the daemon (${f(decodedPps)} a second), ${f(s.droppedEnd)} dropped by the kernel.`,
  '',
  '| figure | value |',
  '|---|---|',
  `| **verdict** | **${s.verdict}** (slope < ${s.thresholds?.slopeMBPerHour} MB/h over the last 75 %, and the median RSS of the last 10 min within ${s.thresholds?.driftPct} % of that of 10-20 min) |`,
  `| RSS at start (first sample) | ${f(r.start, ' MB')} |`,
  `| RSS at 10 min (after warm-up) | ${f(r.at10min, ' MB')} |`,
  `| RSS at the end | ${f(r.end, ' MB')} |`,
  `| RSS min / max | ${f(r.min, ' MB')} / ${f(r.max, ' MB')} |`,
  `| RSS slope, linear fit over the last 75 % | ${f(r.slopeMBPerHourLast75, ' MB/h')} |`,
  `| RSS median 10-20 min / median of the last 10 min | ${f(r.median10to20min, ' MB')} / ${f(r.medianLast10min, ' MB')} |`,
  `| RSS drift: last 10 min against 10-20 min (medians) | ${f(r.driftSinceWarmupPct, ' %')} |`,
  `| V8 heap used at 10 min / end | ${f(h.at10min, ' MB')} / ${f(h.end, ' MB')} |`,
  `| V8 heap used min / max | ${f(h.min, ' MB')} / ${f(h.max, ' MB')} |`,
  `| V8 heap used slope, last 75 % | ${f(h.slopeMBPerHourLast75, ' MB/h')} |`,
  `| active handles start / 10 min / end (max) | ${f(s.handles?.start)} / ${f(s.handles?.at10min)} / ${f(s.handles?.end)} (${f(s.handles?.max)}) |`,
  `| open fds start / 10 min / end (max) | ${f(s.fds?.start)} / ${f(s.fds?.at10min)} / ${f(s.fds?.end)} (${f(s.fds?.max)}) |`,
  `| CPU, mean / max over ${f(s.intervalS, ' s')} intervals (% of one core) | ${f(s.cpuPct?.mean, ' %')} / ${f(s.cpuPct?.max, ' %')} |`,
  `| flows / devices live at the end | ${f(s.flowsEnd)} / ${f(s.devicesEnd)} |`,
  `| open alerts at the end | ${f(s.alertsOpenEnd)} |`,
  '',
  '![RSS, V8 heap, CPU, fds and handles over the run](soak/soak.svg)',
  '',
  'Samples: [soak/soak.csv](soak/soak.csv); summary: [soak/summary.json](soak/summary.json).',
].join('\n');

const md = path.join(docs, 'soak.md');
const text = fs.readFileSync(md, 'utf8');
const START = '<!-- soak-results:start -->';
const END = '<!-- soak-results:end -->';
const a = text.indexOf(START);
const b = text.indexOf(END);
if (a < 0 || b < a) throw new Error(`docs/soak.md has no ${START} … ${END} section`);
fs.writeFileSync(md, `${text.slice(0, a + START.length)}\n${table}\n${text.slice(b)}`);
process.stdout.write(`${table}\n\nwrote docs/soak.md, docs/soak/soak.svg, docs/soak/soak.csv, docs/soak/summary.json\n`);

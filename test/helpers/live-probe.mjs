// Captures on an interface with the compiled engine for a few seconds and prints what it saw as
// JSON. Runs inside a test namespace: `ip netns exec NS node live-probe.mjs IFACE SECONDS FILTER`.
import { LiveCapture } from '../../dist/capture/live.js';
import { Engine } from '../../dist/analysis/engine.js';
import { DEFAULT_CONFIG } from '../../dist/analysis/config.js';

const [iface, seconds, filter] = process.argv.slice(2);
const flows = [];
const engine = new Engine(DEFAULT_CONFIG, { flowEnded: (f) => flows.push(f) });
const cap = new LiveCapture(iface, engine, { filter: filter ?? '' });
process.stdout.write('ready\n');
setTimeout(() => {
  const stats = cap.stats();
  cap.close();
  engine.finish();
  process.stdout.write(JSON.stringify({ linkType: cap.linkType, stats, decoded: engine.decoder.stats, flows }) + '\n');
  process.exit(0);
}, Number(seconds) * 1000);

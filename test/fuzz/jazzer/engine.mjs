/**
 * The whole engine (decode, flows, TCP reassembly, protocols, devices) on a run of frames, as
 * parsers.test.ts does with fast-check. Input: byte 0 picks the link type (common.mjs LINKS),
 * then frames as records (common.mjs; the direction bit is ignored). Events and flow records
 * must serialise; any exception is a crash.
 */
import { DEFAULT_CONFIG } from '../../../dist/analysis/config.js';
import { Engine } from '../../../dist/analysis/engine.js';
import { LINKS, records } from './common.mjs';

const CONFIG = { ...DEFAULT_CONFIG, maxFlows: 64, maxDevices: 16 };
const hooks = { events: (e) => void JSON.stringify(e), flowEnded: (r) => void JSON.stringify(r) };

export function fuzz(data) {
  if (data.length < 1) return;
  const link = LINKS[data[0] % LINKS.length];
  const engine = new Engine(CONFIG, hooks);
  let n = 0;
  for (const r of records(data, 1)) {
    // Now and then a frame the snap length cut (wire length beyond the captured bytes).
    engine.packet(link, r.buf, r.off, r.len, r.len + (n % 3 === 2 ? 4 : 0), 1_700_000_000 + n * 0.25);
    n++;
  }
  engine.finish();
}

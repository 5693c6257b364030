/**
 * The daemon's warm-up: before its live capture opens, a synthetic home (dist/warmup.pcap, made
 * at build time by test/bench/warmup-capture.mjs: DHCP, DNS, TLS handshakes, MQTT with
 * credentials, HTTP, video; no captured traffic) goes through a throwaway engine with the same
 * rules and verdicts. V8 compiles a function once it is hot: without this, the first seconds of
 * a busy LAN are also when fifty functions are compiled, which doubles the CPU and makes the
 * kernel drop packets (issue 15, start-up). The code and type feedback it leaves are shared
 * with the real engine; its devices, flows and alerts are dropped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineConfig } from '../analysis/config.js';
import { Engine } from '../analysis/engine.js';
import { readCapture } from '../capture/reader.js';
import { offlineProfiles } from '../analysis/analyze.js';
import { emptyStore } from '../store/store.js';
import { flowSides, recordFlow } from '../store/traffic.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/warmup.pcap, written by the build; sources (tests) read the built copy too, as geo.ts does. */
export const WARMUP_CAPTURE = path.basename(path.dirname(here)) === 'dist' ? path.resolve(here, '../warmup.pcap') : path.resolve(here, '../../dist/warmup.pcap');

export interface WarmUp {
  packets: number;
  flows: number;
  /** Wall and CPU (main thread and V8's helpers) milliseconds. */
  ms: number;
  cpuMs: number;
}

/** Null when the build made no warm-up capture (a checkout built without test/bench). */
export async function warmUp(config: EngineConfig, file = WARMUP_CAPTURE, rounds = 1): Promise<WarmUp | null> {
  if (!fs.existsSync(file)) return null;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const geo = config.verdicts?.geo;
  const book = offlineProfiles(config);
  // The store's traffic of each ended flow, in a document nobody keeps.
  const data = emptyStore();
  let flows = 0;
  let packets = 0;
  for (let i = 0; i < rounds; i++) {
    // Judged as the daemon judges (at each message), whatever the offline default.
    const engine = new Engine({ ...config, judgeRunning: true }, {
      flowEnded: (r) => {
        flows++;
        book.add(r);
        // The daemon keeps each ended flow's text for the API, and its traffic in the store.
        JSON.stringify(r);
        if (r.device) recordFlow(data, r.device, r, r.internet && geo ? geo.lookup(flowSides(r).remote.ip) : { country: null, org: null }, true);
      },
    });
    await readCapture(file, engine);
    engine.finish();
    packets += engine.decoder.stats.packets;
  }
  const c = process.cpuUsage(c0);
  return { packets, flows, ms: Math.round(performance.now() - t0), cpuMs: Math.round((c.user + c.system) / 1000) };
}

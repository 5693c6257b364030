/**
 * Offline, a flow is judged once, at its end (EngineConfig.judgeRunning false), where the daemon
 * judges it at each of its first protocol messages and once a second after. The report must not
 * depend on it: same alerts (count, first and last seen, severity, reasons, texts, evidence),
 * same devices. Checked on the benchmark's two generators at small size (one of thousands of
 * repeating alerts from short cleartext flows, one of long TLS and MQTT sessions) and on every
 * capture of the corpus.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../daemon/analysis/analyze.js';
import { DEFAULT_CONFIG } from '../../daemon/analysis/config.js';
import { loadConfig } from '../../daemon/config/load.js';
import { CORPUS, CORPUS_PRESENT, NO_CORPUS_TITLE } from '../helpers/corpus.js';
// @ts-expect-error plain JavaScript module without types
import { generate } from '../bench/home-capture.mjs';
// @ts-expect-error plain JavaScript module without types
import { generateChurn } from '../bench/churn-capture.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-judge-once-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const config = loadConfig(undefined, { ...DEFAULT_CONFIG }, [], { homeCountry: 'FR' });

async function both(file: string) {
  const eager = await analyzeCapture(file, { config: { ...config, judgeRunning: true } });
  const once = await analyzeCapture(file, { config: { ...config, judgeRunning: false } });
  return { eager, once };
}

describe('offline judgement once per flow', () => {
  it('gives the same alerts and devices on many short flows whose alerts repeat', async () => {
    const file = path.join(dir, 'churn.pcap');
    generateChurn(file, { devices: 12, flows: 3000, destinations: 8, duration: 120 });
    const { eager, once } = await both(file);
    expect(eager.alerts.length).toBeGreaterThan(50);
    // Flows ended out of the order they began, and ticks judged flows after their last packet:
    // both must not show in first and last seen.
    expect(once.alerts).toEqual(eager.alerts);
    expect(once.devices).toEqual(eager.devices);
    expect(eager.alerts.some((a) => a.count > 1)).toBe(true);
  });

  it('gives the same alerts and devices on long TLS, MQTT and video sessions', async () => {
    const file = path.join(dir, 'home.pcap');
    generate(file, { devices: 20, tlsFlows: 200, bulkPackets: 2000, duration: 120 });
    const { eager, once } = await both(file);
    expect(eager.alerts.length).toBeGreaterThan(0);
    expect(once.alerts).toEqual(eager.alerts);
    expect(once.devices).toEqual(eager.devices);
  });

  it.skipIf(!CORPUS_PRESENT)(`gives the same report on every capture of the corpus${CORPUS_PRESENT ? '' : ` (${NO_CORPUS_TITLE})`}`, async () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.(pcap|pcapng|cap)$/.test(e.name)) files.push(p);
      }
    };
    walk(CORPUS);
    expect(files.length).toBeGreaterThan(20);
    let alerts = 0;
    for (const f of files) {
      const { eager, once } = await both(f);
      alerts += eager.alerts.length;
      expect(JSON.stringify(once.alerts), f).toBe(JSON.stringify(eager.alerts));
      expect(JSON.stringify(once.devices), f).toBe(JSON.stringify(eager.devices));
    }
    expect(alerts).toBeGreaterThan(0);
  }, 300_000);
});

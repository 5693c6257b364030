/**
 * The daemon's warm-up (daemon/run/warm-up.ts): the synthetic home the build writes
 * (dist/warmup.pcap) is traffic tshark dissects cleanly, the throwaway engine reads all of it as
 * the daemon would (its flows end, its camera's cleartext MQTT is judged), and a build without
 * the file starts without a warm-up rather than failing.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../daemon/analysis/config.js';
import { loadConfig } from '../../daemon/config/load.js';
import { WARMUP_CAPTURE, warmUp } from '../../daemon/run/warm-up.js';
import { haveTool, tsharkFields } from '../helpers/tshark.js';

describe('warm-up before the live capture', () => {
  const config = loadConfig(undefined, { ...DEFAULT_CONFIG }, [], {});

  it.skipIf(!haveTool('tshark'))('replays the built synthetic home: every packet, clean for tshark', async () => {
    const rows = tsharkFields(WARMUP_CAPTURE, ['frame.protocols', 'mqtt.msgtype', '_ws.malformed']);
    expect(rows.filter((r) => r[2] !== '' || r[0].includes('_ws.malformed'))).toEqual([]);
    expect(rows.some((r) => r[1].split(',').includes('1'))).toBe(true); // MQTT CONNECTs
    const w = await warmUp(config, WARMUP_CAPTURE, 2);
    expect(w).not.toBeNull();
    expect(w!.packets).toBe(2 * rows.length);
    expect(w!.flows).toBeGreaterThan(2 * 300);
    expect(w!.cpuMs).toBeGreaterThan(0);
  });

  it('is skipped when the build made no warm-up capture', async () => {
    expect(await warmUp(config, path.join(path.dirname(WARMUP_CAPTURE), 'no-such-warmup.pcap'))).toBeNull();
  });
});

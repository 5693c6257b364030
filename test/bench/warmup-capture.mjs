// Writes dist/warmup.pcap at build time (npm run build): the synthetic home that `vigie run`
// replays through a throwaway engine before its live capture opens (daemon/run/warm-up.ts), from
// the benchmark's own generator. Small: a few hundred TLS handshakes and MQTT sessions of 24
// devices, some bulk, 3 MB; generated, no captured traffic.
import path from 'node:path';
import { generate } from './home-capture.mjs';

const out = process.argv[2] ?? 'dist/warmup.pcap';
const meta = generate(path.resolve(out), { devices: 24, tlsFlows: 300, bulkPackets: 40, duration: 10, seed: 20261203 });
process.stdout.write(`warm-up capture: ${meta.packets} packets -> ${out}\n`);

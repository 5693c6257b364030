/**
 * Every dissector, fed mutated corpus payloads and random bytes, through the entry points the
 * engine uses: no exception escapes, every event serialises. Split into arbitrary chunks for the
 * stream parsers, so that messages cross segment boundaries anywhere. The whole engine gets
 * mutated corpus frames. FUZZ_RUNS sets the count (`npm run fuzz`: 100,000 per parser).
 */
import fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { Engine } from '../../daemon/analysis/engine.js';
import { DEFAULT_CONFIG } from '../../daemon/analysis/config.js';
import { DhcpFlow } from '../../daemon/protocols/dhcp/state.js';
import { DnsFlow } from '../../daemon/protocols/dns/state.js';
import { HttpSession } from '../../daemon/protocols/http/state.js';
import { MqttSession } from '../../daemon/protocols/mqtt/state.js';
import { LoginSession } from '../../daemon/protocols/login/state.js';
import type { DatagramParser, StreamParser } from '../../daemon/protocols/parser-types.js';
import { ppppFlow } from '../../daemon/protocols/pppp/state.js';
import { QuicFlow } from '../../daemon/protocols/quic/detect.js';
import { RtpFlow } from '../../daemon/protocols/rtp/state.js';
import { RtspSession } from '../../daemon/protocols/rtsp/state.js';
import { SsdpFlow } from '../../daemon/protocols/ssdp/state.js';
import { StunFlow } from '../../daemon/protocols/stun/state.js';
import { TlsSession } from '../../daemon/protocols/tls/state.js';
import { TuyaFlow } from '../../daemon/protocols/tuya/state.js';
import { corpusSeeds, FakeContext, inputs, pick, RUNS, type Seeds } from './harness.js';

let seeds: Seeds;
beforeAll(async () => {
  seeds = await corpusSeeds();
}, 120_000);

const TIMEOUT = Math.max(60_000, RUNS * 5);

function streamProperty(make: (ctx: FakeContext) => StreamParser, ports: number[]) {
  const chunks = fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 6 });
  fc.assert(
    fc.property(inputs(pick(seeds.tcp, ports)), chunks, fc.boolean(), (data, cuts, gap) => {
      const p = make(new FakeContext());
      let off = 0;
      for (let i = 0; off < data.length; i++) {
        const n = Math.min(cuts[i % cuts.length], data.length - off);
        p.data(i % 3 === 2 ? 1 : 0, data, off, n);
        if (gap && i === 1) p.gap(0, 10);
        off += n;
      }
      JSON.stringify(p.facts());
    }),
    { numRuns: RUNS },
  );
}

function datagramProperty(make: (ctx: FakeContext) => DatagramParser, ports: number[]) {
  fc.assert(
    fc.property(fc.array(inputs(pick(seeds.udp, ports)), { minLength: 1, maxLength: 4 }), (datagrams) => {
      const p = make(new FakeContext(40000, ports[0] ?? 9));
      datagrams.forEach((d, i) => p.datagram(i & 1, d, 0, d.length));
      JSON.stringify(p.facts());
    }),
    { numRuns: RUNS },
  );
}

describe('fuzzing the dissectors', () => {
  it('MQTT', () => streamProperty((c) => new MqttSession(c), [1883, 17501]), TIMEOUT);
  it('TLS', () => streamProperty((c) => new TlsSession(c), [443, 4433]), TIMEOUT);
  it('HTTP and WebSocket', () => streamProperty((c) => new HttpSession(c), [80, 8000]), TIMEOUT);
  it('RTSP', () => streamProperty((c) => new RtspSession(c), [8554]), TIMEOUT);
  it('FTP, POP3, IMAP, SMTP and Telnet logins', () => {
    for (const p of ['ftp', 'pop3', 'imap', 'smtp', 'telnet'] as const) streamProperty((c) => new LoginSession(c, p), [21, 110, 143, 25, 23]);
  }, TIMEOUT);
  it('DNS over TCP', () => streamProperty((c) => DnsFlow.overTcp(c, c), [53, 1053]), TIMEOUT);
  it('DNS', () => datagramProperty((c) => new DnsFlow(c, 'dns', c), [53]), TIMEOUT);
  it('mDNS', () => datagramProperty((c) => new DnsFlow(c, 'mdns', null), [5353]), TIMEOUT);
  it('DHCP', () => datagramProperty((c) => new DhcpFlow(c, 'dhcp', c), [67, 68]), TIMEOUT);
  it('DHCPv6', () => datagramProperty((c) => new DhcpFlow(c, 'dhcpv6', null), [546, 547]), TIMEOUT);
  it('SSDP', () => datagramProperty((c) => new SsdpFlow(c), [1900, 32412]), TIMEOUT);
  it('STUN, Tuya, PPPP, QUIC', () => {
    datagramProperty((c) => new StunFlow(c), [3478]);
    datagramProperty((c) => new TuyaFlow(c), [6667, 6666]);
    datagramProperty((c) => new ppppFlow(c), [32100]);
    datagramProperty((c) => new QuicFlow(c), [443]);
  }, TIMEOUT);
  it('RTP and RTCP', () => datagramProperty((c) => new RtpFlow(c, null), [4376, 5000, 6000, 8000]), TIMEOUT);

  it('the whole engine, on mutated frames of every link type', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: seeds.frames.length - 1 }), inputs([Buffer.alloc(0)]), fc.boolean()), { minLength: 1, maxLength: 20 }), (picks) => {
        const engine = new Engine({ ...DEFAULT_CONFIG, maxFlows: 64, maxDevices: 16 }, { events: (e) => void JSON.stringify(e), flowEnded: (r) => void JSON.stringify(r) });
        picks.forEach(([i, noise, mutate], n) => {
          const f = seeds.frames[i];
          let data = f.data;
          if (mutate && noise.length > 0) {
            data = Buffer.from(data);
            for (let k = 0; k < noise.length && k < 8; k++) data[(noise[k] * 7 + k) % data.length] = noise[noise.length - 1 - k];
          }
          engine.packet(f.link, data, 0, data.length, data.length + (n % 3 === 0 ? 0 : 4), 1_700_000_000 + n);
        });
        engine.finish();
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);
});

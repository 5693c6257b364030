/**
 * TCP reassembly against tshark's "Follow TCP Stream" on every corpus capture that carries TCP
 * payload: for each stream and direction, the first 16 KiB we hand to the protocol stage must be
 * exactly the first 16 KiB tshark reassembles (retransmissions, out-of-order segments, overlaps,
 * mid-stream starts and ClientHellos split over many segments included).
 */
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../daemon/capture/reader.js';
import { DEFAULT_CONFIG } from '../../daemon/analysis/config.js';
import { Engine } from '../../daemon/analysis/engine.js';
import type { FlowRecord } from '../../daemon/report/types.js';
import { casePath, corpusCases } from '../helpers/corpus.js';
import { haveTool, tsharkFields, tsharkFollow } from '../helpers/tshark.js';

const DEPTH = 16 * 1024;
const tcpCases = corpusCases().filter((c) => /TCP|TLS|HTTP|MQTT|RTSP/.test(c.protocols));

async function ourStreams(file: string) {
  const data = new Map<number, [Buffer[], Buffer[]]>();
  const gaps = new Map<number, [number[], number[]]>();
  const flows: FlowRecord[] = [];
  // No idle timeout: tshark does not split conversations by time either.
  const engine: Engine = new Engine(
    { ...DEFAULT_CONFIG, streamDepth: DEPTH, timeouts: { closed: 1e9, transitory: 1e9, datagram: 1e9, established: 1e9 } },
    {
      stream: {
        data(slot, dir, buf, off, len) {
          const id = engine.flows.serial[slot];
          let d = data.get(id);
          if (!d) data.set(id, (d = [[], []]));
          d[dir].push(Buffer.from(buf.subarray(off, off + len)));
        },
        gap(slot, dir, len) {
          const id = engine.flows.serial[slot];
          let g = gaps.get(id);
          if (!g) gaps.set(id, (g = [[], []]));
          g[dir].push(len);
        },
      },
      flowEnded: (r) => flows.push(r),
      noDissectors: true,
    },
  );
  await readCapture(file, engine);
  engine.finish();
  return { flows, data, gaps };
}

function hostPort(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

describe.skipIf(!haveTool('tshark'))('TCP reassembly matches tshark Follow TCP Stream', () => {
  it('covers the TCP cases of the corpus', () => {
    expect(tcpCases.length).toBeGreaterThan(50);
  });
  for (const c of tcpCases) {
    it(c.case, async () => {
      const file = casePath(c);
      const { flows, data, gaps } = await ourStreams(file);
      const streams = new Set(tsharkFields(file, ['tcp.stream']).map((r) => r[0]).filter((s) => s !== ''));
      let compared = 0;
      for (const s of streams) {
        const t = tsharkFollow(file, Number(s));
        if (t.data0.length + t.data1.length === 0) continue;
        const f = flows.find(
          (x) =>
            x.proto === 'tcp' &&
            ((t.node0.endsWith(hostPort(x.orig.ip, x.orig.port)) && t.node1.endsWith(hostPort(x.resp.ip, x.resp.port))) ||
              (t.node0.endsWith(hostPort(x.resp.ip, x.resp.port)) && t.node1.endsWith(hostPort(x.orig.ip, x.orig.port)))),
        );
        expect(f, `stream ${s} ${t.node0} -> ${t.node1}`).toBeDefined();
        if (!f) continue;
        const node0IsOrig = t.node0.endsWith(hostPort(f.orig.ip, f.orig.port));
        const ours = data.get(f.id) ?? [[], []];
        const mine0 = Buffer.concat(ours[node0IsOrig ? 0 : 1]);
        const mine1 = Buffer.concat(ours[node0IsOrig ? 1 : 0]);
        expect(mine0.toString('hex'), `stream ${s} node 0`).toBe(t.data0.subarray(0, DEPTH).toString('hex'));
        expect(mine1.toString('hex'), `stream ${s} node 1`).toBe(t.data1.subarray(0, DEPTH).toString('hex'));
        const g = gaps.get(f.id) ?? [[], []];
        if (t.data0.length <= DEPTH) expect(g[node0IsOrig ? 0 : 1], `stream ${s} node 0 gaps`).toEqual(t.gaps0);
        if (t.data1.length <= DEPTH) expect(g[node0IsOrig ? 1 : 0], `stream ${s} node 1 gaps`).toEqual(t.gaps1);
        compared++;
      }
      expect(compared).toBeGreaterThan(0);
      // tshark follows every stream of the file one by one: rtsp-libvlc takes ~4.5 s alone.
    }, 30_000);
  }
});

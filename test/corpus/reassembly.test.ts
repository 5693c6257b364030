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
import { casePath, corpusCases, describeCorpus } from '../helpers/corpus.js';
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

describeCorpus.skipIf(!haveTool('tshark'))('TCP reassembly matches tshark Follow TCP Stream', () => {
  it('covers the TCP cases of the corpus', () => {
    expect(tcpCases.length).toBeGreaterThan(50);
  });
  for (const c of tcpCases) {
    it(c.case, async () => {
      const file = casePath(c);
      const { flows, data, gaps } = await ourStreams(file);
      const streams = new Set(tsharkFields(file, ['tcp.stream']).map((r) => r[0]).filter((s) => s !== ''));
      const followed = [...streams].map((s) => ({ s, t: tsharkFollow(file, Number(s)) }));
      const sameEnds = (x: FlowRecord, n0: string, n1: string) =>
        x.proto === 'tcp' &&
        ((n0.endsWith(hostPort(x.orig.ip, x.orig.port)) && n1.endsWith(hostPort(x.resp.ip, x.resp.port))) ||
          (n0.endsWith(hostPort(x.resp.ip, x.resp.port)) && n1.endsWith(hostPort(x.orig.ip, x.orig.port))));
      let compared = 0;
      for (const { s, t } of followed) {
        if (t.data0.length + t.data1.length === 0) continue;
        // Several connections on the same ports: ours in order against tshark's in order. A SYN
        // retried with the same ISN after a RST is one stream for tshark and two flows for us
        // (Zeek's connection reuse): then the stream is what our flows delivered, in order.
        const mineAll = flows.filter((x) => sameEnds(x, t.node0, t.node1)).sort((x, y) => x.id - y.id);
        const theirs = followed.filter((o) => (o.t.node0 === t.node0 && o.t.node1 === t.node1) || (o.t.node0 === t.node1 && o.t.node1 === t.node0));
        expect(mineAll.length, `stream ${s} ${t.node0} -> ${t.node1}`).toBeGreaterThan(0);
        const mine = mineAll.length === theirs.length ? [mineAll[theirs.findIndex((o) => o.s === s)]] : theirs.length === 1 ? mineAll : [];
        expect(mine.length, `stream ${s}: ${mineAll.length} flows of ours for ${theirs.length} streams`).toBeGreaterThan(0);
        const side = (x: FlowRecord, node0: boolean) => (t.node0.endsWith(hostPort(x.orig.ip, x.orig.port)) === node0 ? 0 : 1);
        const mine0 = Buffer.concat(mine.flatMap((x) => (data.get(x.id) ?? [[], []])[side(x, true)]));
        const mine1 = Buffer.concat(mine.flatMap((x) => (data.get(x.id) ?? [[], []])[side(x, false)]));
        expect(mine0.toString('hex'), `stream ${s} node 0`).toBe(t.data0.subarray(0, DEPTH).toString('hex'));
        expect(mine1.toString('hex'), `stream ${s} node 1`).toBe(t.data1.subarray(0, DEPTH).toString('hex'));
        const g0 = mine.flatMap((x) => (gaps.get(x.id) ?? [[], []])[side(x, true)]);
        const g1 = mine.flatMap((x) => (gaps.get(x.id) ?? [[], []])[side(x, false)]);
        if (t.data0.length <= DEPTH) expect(g0, `stream ${s} node 0 gaps`).toEqual(t.gaps0);
        if (t.data1.length <= DEPTH) expect(g1, `stream ${s} node 1 gaps`).toEqual(t.gaps1);
        compared++;
      }
      expect(compared).toBeGreaterThan(0);
      // tshark follows every stream of the file one by one: rtsp-libvlc takes ~4.5 s alone.
    }, 30_000);
  }
});

/**
 * Fuzzing harness shared by the CI fuzz tests and `npm run fuzz`: real payloads from the corpus
 * as seeds, mutated (bit flips, byte changes, insertions, deletions, truncation, splicing) or
 * replaced by random bytes, fed to each dissector through the same entry points the engine uses.
 */
import fc from 'fast-check';
import { readCapture } from '../../daemon/capture/reader.js';
import { Decoder } from '../../daemon/decode/decoder.js';
import { Decoded, Proto } from '../../daemon/decode/packet.js';
import type { FlowContext } from '../../daemon/protocols/parser-types.js';
import { casePath, corpusCases } from '../helpers/corpus.js';

export interface Seeds {
  tcp: Map<number, Buffer[]>;
  udp: Map<number, Buffer[]>;
  frames: { link: number; data: Buffer }[];
}

let cached: Seeds | null = null;

/** Payloads by server port, and whole frames, from every corpus capture. */
export async function corpusSeeds(): Promise<Seeds> {
  if (cached) return cached;
  const seeds: Seeds = { tcp: new Map(), udp: new Map(), frames: [] };
  for (const c of corpusCases()) {
    const d = new Decoder();
    await readCapture(casePath(c), {
      packet(link, buf, off, caplen, wirelen, ts) {
        if (seeds.frames.length < 4000) seeds.frames.push({ link, data: Buffer.from(buf.subarray(off, off + caplen)) });
        if (d.decode(link, buf, off, caplen, wirelen, ts) !== Decoded.Ip) return;
        const p = d.pkt;
        if (p.payloadLen === 0) return;
        const map = p.ipProto === Proto.Tcp ? seeds.tcp : p.ipProto === Proto.Udp ? seeds.udp : null;
        if (!map) return;
        const port = Math.min(p.srcPort, p.dstPort);
        const list = map.get(port) ?? [];
        if (list.length < 200) list.push(Buffer.from(p.buf.subarray(p.payloadOff, p.payloadOff + p.payloadLen)));
        map.set(port, list);
      },
    });
  }
  cached = seeds;
  return seeds;
}

export function pick(seeds: Map<number, Buffer[]>, ports: number[]): Buffer[] {
  return ports.flatMap((p) => seeds.get(p) ?? []);
}

const mutation = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('special' as const), at: fc.nat(), byte: fc.constantFrom(0x00, 0x7f, 0x80, 0xff, 0xc0, 0x3f) }),
);

function apply(seed: Buffer, muts: fc.Arbitrary<unknown> extends never ? never : { op: string; at: number; bit?: number; byte?: number; bytes?: Uint8Array; n?: number }[]): Buffer {
  let b = Buffer.from(seed);
  for (const m of muts) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    switch (m.op) {
      case 'flip':
        b[at] ^= 1 << m.bit!;
        break;
      case 'set':
      case 'special':
        b[at] = m.byte!;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes!), b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.n!)]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
    }
  }
  return b;
}

/** Inputs: a mutated seed, random bytes, or a seed cut into pieces. */
export function inputs(seeds: Buffer[]): fc.Arbitrary<Buffer> {
  const random = fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a));
  if (seeds.length === 0) return random;
  const mutated = fc.tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutation, { maxLength: 8 })).map(([i, m]) => apply(seeds[i], m));
  return fc.oneof({ weight: 4, arbitrary: mutated }, { weight: 1, arbitrary: random });
}

/** A flow context that records what the parser says and checks its calls. */
export class FakeContext implements FlowContext {
  events = 0;
  stopped = false;
  constructor(
    readonly origPort = 40000,
    readonly respPort = 1883,
  ) {}
  emit(type: string, fields: Record<string, unknown>): void {
    this.events++;
    // Events must be serialisable: the CLI writes them as JSON.
    JSON.stringify({ type, fields });
  }
  followAll(): void {}
  stop(): void {
    this.stopped = true;
  }
  ip(dir: number): string {
    return dir === 0 ? '192.168.1.20' : '198.51.100.7';
  }
  answered(): void {}
  expect(): void {}
  senderMac(): number {
    return -1;
  }
  expectedApp(): null {
    return null;
  }
  dhcpClient(): void {}
}

/** How many inputs per property: FUZZ_RUNS for the dedicated script, a smaller count in CI. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);

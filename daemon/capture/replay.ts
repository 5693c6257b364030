/**
 * `vigie run --read FILE`: a capture replayed through the live pipeline, at its recorded pace
 * (`--speed 1`), faster (`--speed 10`) or as fast as possible (`--speed 0`). Packets are
 * shifted in time so that the capture starts now (alerts and retention are about the present);
 * the pace comes from the recorded gaps. Memory stays bounded: the reader pauses after each
 * chunk until the packets of that chunk are due.
 */
import { readCapture, type CaptureReadResult } from './reader.js';
import type { PacketSink } from './sink.js';

interface Queued {
  link: number;
  data: Buffer;
  wirelen: number;
  ts: number;
}

export async function replay(file: string, sink: PacketSink, speed: number, now: () => number = () => Date.now() / 1000): Promise<CaptureReadResult> {
  let offset = NaN;
  let wallStart = NaN;
  // The pace counts on the monotonic clock: a wall clock stepped during a replay neither bursts
  // the rest of the capture nor stalls it for the length of the step.
  let monoStart = NaN;
  const mono = () => performance.now() / 1000;
  let first = NaN;
  const queue: Queued[] = [];
  const paced = speed > 0;
  const shifting: PacketSink = {
    packet(link, buf, off, caplen, wirelen, ts) {
      if (Number.isNaN(offset)) {
        wallStart = now();
        monoStart = mono();
        first = ts;
        offset = wallStart - ts;
      }
      if (!paced) {
        sink.packet(link, buf, off, caplen, wirelen, ts + offset);
        return;
      }
      // The reader reuses its buffer: a packet waiting for its time needs its own copy.
      queue.push({ link, data: Buffer.from(buf.subarray(off, off + caplen)), wirelen, ts });
    },
  };
  const sleep = (s: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, s * 1000)));
  const drain = async (): Promise<void> => {
    if (!paced) {
      // Let the server answer between chunks.
      await new Promise<void>((r) => setImmediate(r));
      return;
    }
    for (const q of queue) {
      const due = monoStart + (q.ts - first) / speed;
      const wait = due - mono();
      if (wait > 0.002) await sleep(wait);
      sink.packet(q.link, q.data, 0, q.data.length, q.wirelen, wallStart + (q.ts - first) / speed);
    }
    queue.length = 0;
  };
  const result = await readCapture(file, shifting, { chunkSize: 64 * 1024, afterChunk: drain });
  await drain();
  return result;
}

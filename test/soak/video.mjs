// The bulk part of the soak capture: the generator's ten cameras upload video and its six TVs
// stream it, each at a steady ~1.25 Mbit/s (segments of 1448 bytes, ACK flag only, an ACK every
// second segment, as real bulk TCP), in TLS connections of about a minute: each ends with FIN
// and the next starts on a new port, so the bulk flows too end and start. Same seed, same bytes.
// (The control traffic comes from test/bench/home-capture.mjs, whose own video flows are short
// here: bulkPackets 2000.)
import { Heap, PcapWriter, clientHello, mulberry32, play, writeIp } from '../bench/home-capture.mjs';

const ip4 = (a, b, c, d) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
const ROUTER_MAC = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x01];
const SEG = 1448;

/** Writes `duration` seconds of video flows to `path` (t0 as the generator's); returns the packet count. */
export function generateVideo(path, { duration = 300, mbitPerFlow = 1.25, connectionS = 60, seed = 7, t0 = 1_790_000_000 } = {}) {
  const rnd = mulberry32(seed);
  const w = new PcapWriter(path);
  const heap = new Heap();
  const gap = (SEG * 8) / (mbitPerFlow * 1e6);
  for (let i = 0; i < 16; i++) {
    const camera = i < 10; // the generator's devices 0-9 are cameras, 10-15 TVs
    const mac = camera ? [0x3c, 0xef, 0x8c, 0x20, 0, i] : [0x3c, 0x84, 0x6a, 0x20, 0, i];
    const dev = ip4(192, 168, 1, 10 + i);
    const server = ip4(203, 0, 113, 100 + i);
    let port = 50000 + i * 500;
    const connection = (start) => {
      const sport = port++;
      let cs = Math.floor(rnd() * 2 ** 32);
      let ss = Math.floor(rnd() * 2 ** 32);
      const end = Math.min(start + connectionS * (0.8 + 0.4 * rnd()), t0 + duration - 1);
      const hello = clientHello(camera ? 'upload.example-cam.cn' : 'video.example.tv', rnd);
      let phase = 0;
      let n = 0;
      const c2s = (t, flags, payload, fill = 0) => {
        writeIp(w, t, mac, ROUTER_MAC, dev, server, 6, sport, 443, payload, { seq: cs, ack: ss, flags, fill });
        cs = (cs + (payload ? payload.length : fill) + (flags & 0x03 ? 1 : 0)) >>> 0;
      };
      const s2c = (t, flags, payload, fill = 0) => {
        writeIp(w, t, ROUTER_MAC, mac, server, dev, 6, 443, sport, payload, { seq: ss, ack: cs, flags, fill });
        ss = (ss + (payload ? payload.length : fill) + (flags & 0x03 ? 1 : 0)) >>> 0;
      };
      heap.push({
        t: start,
        step: (t) => {
          switch (phase) {
            case 0:
              c2s(t, 0x02, null);
              phase++;
              return t + 0.02;
            case 1:
              s2c(t, 0x12, null);
              phase++;
              return t + 0.0005;
            case 2:
              c2s(t, 0x10, null);
              phase++;
              return t + 0.001;
            case 3:
              c2s(t, 0x18, hello);
              phase++;
              return t + 0.02;
            case 4:
              s2c(t, 0x18, null, 1400);
              phase++;
              return t + 0.02;
            case 5: // data, an ACK the other way every second segment
              if (n % 3 === 2) (camera ? s2c : c2s)(t, 0x10, null);
              else (camera ? c2s : s2c)(t, 0x10, null, SEG);
              n++;
              if (t >= end) phase++;
              return t + (gap / 1.5) * (0.5 + rnd());
            case 6:
              c2s(t, 0x11, null);
              phase++;
              return t + 0.01;
            case 7:
              s2c(t, 0x11, null);
              phase++;
              return t + 0.0005;
            default:
              c2s(t, 0x10, null);
              if (t + 2 < t0 + duration - 5) connection(t + 1 + rnd() * 3); // the next one shortly
              return -1;
          }
        },
      });
    };
    connection(t0 + 5 + i * 0.5);
  }
  play(heap);
  w.close();
  return { packets: w.packets };
}

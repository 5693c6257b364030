/**
 * The capture file readers: readCapture (daemon/capture/reader.ts, which picks pcap or pcapng by
 * the magic and drives the format's parser over its buffer) on standard input, the input cut in
 * chunks so that records cross chunk boundaries anywhere, and every packet through the decoder.
 * Input: byte 0 picks the chunk size (CHUNKS), then the file. Refusals (InputError: not a
 * capture, empty, cut inside a header) are expected; any other exception is a crash, and so is a
 * packet handed over outside its buffer or with more captured bytes than the wire had.
 */
import { InputError } from '../../../dist/capture/errors.js';
import { readCapture } from '../../../dist/capture/reader.js';
import { Decoder } from '../../../dist/decode/decoder.js';

/**
 * Open bugs the campaign steps over, so that it goes on looking for others instead of stopping
 * on the same one (campaign.mjs sets VIGIE_FUZZ_CAMPAIGN=1); the regression tests do not skip
 * them (test/fuzz/regressions.test.ts). Each is described in docs/fuzzing.md.
 */
const KNOWN = [
  // None open. The campaign of 2026-12-03 stepped over the 4 GiB snap length crash here until its
  // fix (daemon/capture/pcap-format.ts, MAX_RECORD).
];
const skipKnown = process.env.VIGIE_FUZZ_CAMPAIGN === '1';

const CHUNKS = [1 << 20, 1, 7, 16, 24, 100, 512, 4096];
const d = new Decoder();

const sink = {
  packet(link, buf, off, caplen, wirelen, ts) {
    if (off < 0 || caplen < 0 || off + caplen > buf.length) throw new Error(`packet [${off}, +${caplen}) outside its ${buf.length}-byte buffer`);
    if (typeof ts !== 'number') throw new Error(`timestamp ${ts} is not a number`);
    d.decode(link, buf, off, caplen, wirelen, ts);
  },
};

function* chunks(data, size) {
  for (let at = 1; at < data.length; at += size) yield data.subarray(at, Math.min(at + size, data.length));
}

export async function fuzz(data) {
  if (data.length < 1) return;
  const size = CHUNKS[data[0] % CHUNKS.length];
  try {
    const r = await readCapture('-', sink, { stdin: chunks(data, size) });
    JSON.stringify(r);
  } catch (e) {
    if (e instanceof InputError || (skipKnown && KNOWN.some((k) => k(e)))) return;
    throw e;
  }
}

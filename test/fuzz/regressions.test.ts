/**
 * What the coverage-guided campaign (`npm run fuzz`, docs/fuzzing.md) found: each crash or hang,
 * minimised, is kept in test/fuzz/regressions/<target>/<name>.bin and fed again through the same
 * entry point as the target that found it (test/fuzz/jazzer/<target>.mjs). Every saved input must
 * go through without an exception escaping, in bounded time; the tests below name what each one
 * found and check the behaviour that replaced the crash.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../daemon/capture/reader.js';
import { ROOT } from '../helpers/corpus.js';

const DIR = path.join(ROOT, 'test/fuzz/regressions');
/** A saved input must take less than this through its target (the campaign's hang limit is 5 s). */
const BOUND_MS = 2000;

type Target = { fuzz(data: Buffer): unknown };
async function target(name: string): Promise<Target> {
  return (await import(pathToFileURL(path.join(ROOT, 'test/fuzz/jazzer', `${name}.mjs`)).href)) as Target;
}

function saved(): { target: string; file: string }[] {
  if (!fs.existsSync(DIR)) return [];
  return fs
    .readdirSync(DIR)
    .filter((t) => fs.statSync(path.join(DIR, t)).isDirectory())
    .flatMap((t) =>
      fs
        .readdirSync(path.join(DIR, t))
        .filter((f) => f.endsWith('.bin'))
        .sort()
        .map((f) => ({ target: t, file: f })),
    );
}

describe('inputs the fuzzing campaign found go through their target', () => {
  it('every saved input has a target', () => {
    for (const s of saved()) expect(fs.existsSync(path.join(ROOT, 'test/fuzz/jazzer', `${s.target}.mjs`)), s.target).toBe(true);
  });
  for (const s of saved()) {
    it(`${s.target}/${s.file}: no exception, under ${BOUND_MS} ms`, async () => {
      const { fuzz } = await target(s.target);
      const data = fs.readFileSync(path.join(DIR, s.target, s.file));
      const t = performance.now();
      await fuzz(data);
      expect(performance.now() - t).toBeLessThan(BOUND_MS);
    });
  }
});

/**
 * capture, crash-0da34c70 (2026-12-03): a pcap header whose snap length is 0xffffffff, then a
 * record claiming 0xffffffff (or 256 MiB) captured bytes. The reader grows its buffer to what the
 * record claims (Driver.reserve, daemon/capture/reader.ts) because the format allows records up
 * to the snap length when it exceeds libpcap's 262144 (PcapParser.readHeader, pcap-format.ts):
 * past 4 GiB Buffer.allocUnsafe throws a RangeError, which escapes readCapture on standard input
 * and reads as "The value of "size" is out of range" from a file; below it, a 41-byte file makes
 * the reader allocate that much. libpcap clamps such a snap length to MAXIMUM_SNAPLEN and refuses
 * larger records (draft-ietf-opsawg-pcap §4: CapLen "MUST NOT be greater than SnapLen"): the record
 * should be a cut, "captured length ... exceeds the maximum", and nothing allocated for it.
 * Fixed in pcap-format.ts: the maximum is MAX_RECORD whatever the header claims.
 */
describe('capture: a record claiming gigabytes behind a 4 GiB snap length', () => {
  for (const name of ['pcap-snaplen-4g-record.bin', 'pcap-snaplen-256m-record.bin']) {
    it(`${name}: a cut at the record, on standard input and from a file`, async () => {
      const bytes = fs.readFileSync(path.join(DIR, 'capture', name)).subarray(1);
      const sink = { packet() {} };
      const piped = await readCapture('-', sink, { stdin: Readable.from([bytes]) });
      expect(piped.packets).toBe(0);
      expect(piped.cut?.reason).toMatch(/captured length \d+ exceeds the maximum/);
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-regression-'));
      try {
        const file = path.join(tmp, 'snaplen.pcap');
        fs.writeFileSync(file, bytes);
        const read = await readCapture(file, sink);
        expect(read.cut?.reason).toMatch(/captured length \d+ exceeds the maximum/);
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    });
  }
});

/**
 * Classic libpcap file format (draft-ietf-opsawg-pcap §4-5): a 24-byte file header, then records of
 * a 16-byte header and the captured bytes. The magic gives both the byte order and the timestamp
 * unit (0xA1B2C3D4 microseconds, 0xA1B23C4D nanoseconds). Alexey Kuznetzov's "modified" variant
 * (0xA1B2CD34) adds 8 bytes to every record header; we accept it because old Linux tools wrote it.
 */
import { InputError } from './errors.js';
import { linkTypeName, normaliseLinkType, supportedLinkTypes } from './linktype.js';
import type { PacketSink } from './sink.js';

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const MAGIC_MODIFIED = 0xa1b2cd34;
/**
 * The largest record read: libpcap's MAXIMUM_SNAPLEN, what its max_snaplen_for_dlt() gives for
 * every link type read here, whatever the file header's snap length claims (sf-pcap.c clamps
 * that snap length, and refuses a record larger than the maximum as an invalid capture length).
 * Trusting the header let a 41-byte file make the reader allocate 4 GiB (the fuzzing campaign's
 * capture crash, test/fuzz/regressions.test.ts).
 */
const MAX_RECORD = 262144;

export function isPcapMagic(magic: number): boolean {
  const swapped = swap32(magic);
  return [MAGIC_US, MAGIC_NS, MAGIC_MODIFIED].some((m) => m === magic || m === swapped);
}

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

export class PcapParser {
  readonly format = 'pcap' as const;
  linkTypes: number[] = [];
  /** Bytes the parser needs at the current position before it can progress. */
  needed = 24;
  packets = 0;
  corrupt: string | null = null;
  private headerDone = false;
  private le = true;
  private tsDiv = 1e6;
  private recHdr = 16;
  private maxRecord = MAX_RECORD;
  private link = 0;

  constructor(
    private readonly source: string,
    private readonly sink: PacketSink,
  ) {}

  /** Parses whole records in buf[off, end); returns the bytes consumed. */
  push(buf: Buffer, off: number, end: number): number {
    const start = off;
    if (!this.headerDone) {
      if (end - off < 24) return 0;
      this.readHeader(buf, off);
      off += 24;
      this.needed = this.recHdr;
    }
    const le = this.le;
    const recHdr = this.recHdr;
    const sink = this.sink;
    const link = this.link;
    while (end - off >= recHdr) {
      const sec = le ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
      const frac = le ? buf.readUInt32LE(off + 4) : buf.readUInt32BE(off + 4);
      const incl = le ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8);
      const orig = le ? buf.readUInt32LE(off + 12) : buf.readUInt32BE(off + 12);
      if (incl > this.maxRecord) {
        this.corrupt = `corrupt record header: captured length ${incl} exceeds the maximum ${this.maxRecord}`;
        this.needed = Infinity;
        return off - start;
      }
      if (end - off < recHdr + incl) {
        this.needed = recHdr + incl;
        return off - start;
      }
      this.packets++;
      sink.packet(link, buf, off + recHdr, incl, orig, sec + frac / this.tsDiv);
      off += recHdr + incl;
    }
    this.needed = recHdr;
    return off - start;
  }

  private readHeader(buf: Buffer, off: number): void {
    const magic = buf.readUInt32LE(off);
    this.le = magic === MAGIC_US || magic === MAGIC_NS || magic === MAGIC_MODIFIED;
    const m = this.le ? magic : buf.readUInt32BE(off);
    this.tsDiv = m === MAGIC_NS ? 1e9 : 1e6;
    this.recHdr = m === MAGIC_MODIFIED ? 24 : 16;
    // The upper bits of the link-type field carry FCS information (§4, LinkType and additional information).
    const network = (this.le ? buf.readUInt32LE(off + 20) : buf.readUInt32BE(off + 20)) & 0x0fffffff;
    const link = normaliseLinkType(network);
    if (link < 0) {
      throw new InputError(this.source, `unsupported link type ${network} (${linkTypeName(network)}); supported: ${supportedLinkTypes()}`);
    }
    this.link = link;
    this.linkTypes = [link];
    // The header's snap length (offset 16) does not raise the maximum (see MAX_RECORD).
    this.maxRecord = MAX_RECORD;
    this.headerDone = true;
  }
}

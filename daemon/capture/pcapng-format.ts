/**
 * pcapng (draft-ietf-opsawg-pcapng §4): a sequence of blocks, each `type, total length, body,
 * total length`. A Section Header Block sets the byte order (its byte-order magic) and resets the
 * interface list; Interface Description Blocks give each interface its link type and timestamp
 * resolution (if_tsresol, option 9) and offset (if_tsoffset, option 14). Packets come in Enhanced
 * (EPB, type 6), Simple (SPB, type 3, always interface 0) or obsolete Packet Blocks (type 2).
 * Every other block type is skipped, as the spec requires of readers.
 */
import { InputError } from './errors.js';
import { linkTypeName, normaliseLinkType, supportedLinkTypes } from './linktype.js';
import type { PacketSink } from './sink.js';

export const PCAPNG_SHB = 0x0a0d0d0a;
const BOM = 0x1a2b3c4d;
/** Larger blocks are not plausible packets: treat as corruption rather than buffering gigabytes. */
const MAX_BLOCK = 16 * 1024 * 1024;
/** ECMAScript's time range (±8.64e15 ms, §21.4.1.1), in seconds. */
const MAX_TS_SEC = 8.64e12;

interface Iface {
  link: number;
  snaplen: number;
  /** Timestamp units per second. */
  unitsPerSec: number;
  offsetSec: number;
}

export class PcapngParser {
  readonly format = 'pcapng' as const;
  linkTypes: number[] = [];
  needed = 12;
  packets = 0;
  corrupt: string | null = null;
  private le = true;
  private ifaces: Iface[] = [];
  private sawSection = false;
  private lastTs = 0;

  constructor(
    private readonly source: string,
    private readonly sink: PacketSink,
  ) {}

  push(buf: Buffer, off: number, end: number): number {
    const start = off;
    while (end - off >= 12) {
      let type = buf.readUInt32LE(off);
      if (type === PCAPNG_SHB) {
        // The byte order is only known from the byte-order magic inside this block.
        const bom = buf.readUInt32LE(off + 8);
        if (bom === BOM) this.le = true;
        else if (bom === 0x4d3c2b1a) this.le = false;
        else {
          this.corrupt = `bad byte-order magic 0x${bom.toString(16)} in section header`;
          break;
        }
      } else if (!this.sawSection) {
        this.corrupt = 'first block is not a section header';
        break;
      } else if (!this.le) {
        type = buf.readUInt32BE(off);
      }
      const le = this.le;
      const total = le ? buf.readUInt32LE(off + 4) : buf.readUInt32BE(off + 4);
      if (total < 12 || total % 4 !== 0 || total > MAX_BLOCK) {
        this.corrupt = `corrupt block header: block type 0x${type.toString(16)} with length ${total}`;
        break;
      }
      if (end - off < total) {
        this.needed = total;
        return off - start;
      }
      const trailer = le ? buf.readUInt32LE(off + total - 4) : buf.readUInt32BE(off + total - 4);
      if (trailer !== total) {
        this.corrupt = `corrupt block: leading length ${total} differs from trailing length ${trailer}`;
        break;
      }
      this.block(type, buf, off, total);
      off += total;
    }
    if (this.corrupt) this.needed = Infinity;
    else this.needed = 12;
    return off - start;
  }

  private u32(buf: Buffer, o: number): number {
    return this.le ? buf.readUInt32LE(o) : buf.readUInt32BE(o);
  }

  private u16(buf: Buffer, o: number): number {
    return this.le ? buf.readUInt16LE(o) : buf.readUInt16BE(o);
  }

  private block(type: number, buf: Buffer, off: number, total: number): void {
    const bodyEnd = off + total - 4;
    switch (type) {
      case PCAPNG_SHB:
        this.sawSection = true;
        this.ifaces = [];
        return;
      case 1:
        this.interfaceBlock(buf, off + 8, bodyEnd);
        return;
      case 6: // EPB (§4.3) and the obsolete Packet Block (Appendix A): same layout but the interface id width
      case 2: {
        if (total < 32) return this.setCorrupt('packet block too short');
        const ifid = type === 6 ? this.u32(buf, off + 8) : this.u16(buf, off + 8);
        const caplen = this.u32(buf, off + 20);
        const orig = this.u32(buf, off + 24);
        if (off + 28 + caplen > bodyEnd) return this.setCorrupt(`packet length ${caplen} exceeds its block`);
        this.emit(ifid, this.u32(buf, off + 12), this.u32(buf, off + 16), buf, off + 28, caplen, orig);
        return;
      }
      case 3: {
        if (total < 16) return this.setCorrupt('simple packet block too short');
        const orig = this.u32(buf, off + 8);
        const iface = this.ifaces[0];
        let caplen = Math.min(orig, bodyEnd - (off + 12));
        if (iface && iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
        // SPBs carry no timestamp (§4.4): they take the time of the packet before them.
        this.emitRaw(0, buf, off + 12, caplen, orig, this.lastTs);
        return;
      }
      default:
        return; // name resolution, statistics, custom and unknown blocks
    }
  }

  private setCorrupt(reason: string): void {
    this.corrupt = reason;
  }

  private emit(ifid: number, hi: number, lo: number, buf: Buffer, off: number, caplen: number, orig: number): void {
    const iface = this.ifaces[ifid];
    if (!iface) return this.setCorrupt(`packet refers to undeclared interface ${ifid}`);
    let ts = (hi * 4294967296 + lo) / iface.unitsPerSec + iface.offsetSec;
    // An if_tsresol of 0 or a corrupt 64-bit count can put the time past what a Date can hold;
    // such a time would later throw in toISOString, so the packet goes on as "no usable time"
    // (NaN), which the decoder counts as malformed. SPBs after it keep the last good time.
    if (!(Math.abs(ts) <= MAX_TS_SEC)) ts = NaN;
    else this.lastTs = ts;
    this.emitRaw(ifid, buf, off, caplen, orig, ts);
  }

  private emitRaw(ifid: number, buf: Buffer, off: number, caplen: number, orig: number, ts: number): void {
    const iface = this.ifaces[ifid];
    if (!iface) return this.setCorrupt(`packet refers to undeclared interface ${ifid}`);
    this.packets++;
    this.sink.packet(iface.link, buf, off, caplen, orig, ts);
  }

  private interfaceBlock(buf: Buffer, off: number, end: number): void {
    const raw = this.u16(buf, off);
    const link = normaliseLinkType(raw);
    if (link < 0) {
      throw new InputError(
        this.source,
        `unsupported link type ${raw} (${linkTypeName(raw)}) on interface ${this.ifaces.length}; supported: ${supportedLinkTypes()}`,
      );
    }
    const iface: Iface = { link, snaplen: this.u32(buf, off + 4), unitsPerSec: 1e6, offsetSec: 0 };
    // Options (§3.5): code, length, value padded to 32 bits; opt_endofopt (0) ends the list.
    let o = off + 8;
    while (o + 4 <= end) {
      const code = this.u16(buf, o);
      const len = this.u16(buf, o + 2);
      if (code === 0 || o + 4 + len > end) break;
      if (code === 9 && len >= 1) {
        const r = buf[o + 4];
        iface.unitsPerSec = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
      } else if (code === 14 && len >= 8) {
        const v = this.le ? buf.readBigInt64LE(o + 4) : buf.readBigInt64BE(o + 4);
        iface.offsetSec = Number(v);
      }
      o += 4 + ((len + 3) & ~3);
    }
    this.ifaces.push(iface);
    if (!this.linkTypes.includes(link)) this.linkTypes.push(link);
  }
}

/**
 * Writes capture files in the variants that the usual tools (editcap, tcpdump) do not produce on
 * this machine: big-endian pcap and pcapng, Simple Packet Blocks, odd timestamp resolutions. Tests
 * check every file written here with tshark before trusting it.
 */
export interface RawPacket {
  data: Buffer;
  ts: number; // seconds
  origLen?: number;
  iface?: number;
}

/** Re-encodes a little-endian classic pcap (microsecond) file as big-endian. */
export function pcapToBigEndian(le: Buffer): Buffer {
  const out = Buffer.from(le);
  out.writeUInt32BE(le.readUInt32LE(0), 0);
  out.writeUInt16BE(le.readUInt16LE(4), 4);
  out.writeUInt16BE(le.readUInt16LE(6), 6);
  for (let o = 8; o < 24; o += 4) out.writeUInt32BE(le.readUInt32LE(o), o);
  let off = 24;
  while (off + 16 <= le.length) {
    const incl = le.readUInt32LE(off + 8);
    for (let o = off; o < off + 16; o += 4) out.writeUInt32BE(le.readUInt32LE(o), o);
    off += 16 + incl;
  }
  return out;
}

export interface PcapngInterface {
  linkType: number;
  snaplen?: number;
  /** if_tsresol byte (§4.2): 6 = microseconds, 9 = nanoseconds, 0x80|n = 2^-n. */
  tsresol?: number;
}

/** A pcapng file with the given interfaces; packets as EPBs, or SPBs when `simple` is set. */
export function writePcapng(ifaces: PcapngInterface[], packets: RawPacket[], opts: { bigEndian?: boolean; simple?: boolean } = {}): Buffer {
  const be = opts.bigEndian ?? false;
  const blocks: Buffer[] = [];
  const u32 = (b: Buffer, v: number, o: number) => (be ? b.writeUInt32BE(v >>> 0, o) : b.writeUInt32LE(v >>> 0, o));
  const u16 = (b: Buffer, v: number, o: number) => (be ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  const block = (type: number, body: Buffer) => {
    const padded = (body.length + 3) & ~3;
    const b = Buffer.alloc(12 + padded);
    u32(b, type, 0);
    u32(b, b.length, 4);
    body.copy(b, 8);
    u32(b, b.length, b.length - 4);
    blocks.push(b);
  };
  const shb = Buffer.alloc(16);
  u32(shb, 0x1a2b3c4d, 0);
  u16(shb, 1, 4);
  u16(shb, 0, 6);
  shb.writeInt32LE(-1, 8);
  shb.writeInt32LE(-1, 12);
  block(0x0a0d0d0a, shb);
  for (const i of ifaces) {
    const body = Buffer.alloc(8 + (i.tsresol !== undefined ? 8 : 0) + 4);
    u16(body, i.linkType, 0);
    u32(body, i.snaplen ?? 0, 4);
    let o = 8;
    if (i.tsresol !== undefined) {
      u16(body, 9, o);
      u16(body, 1, o + 2);
      body[o + 4] = i.tsresol;
      o += 8;
    }
    u16(body, 0, o); // opt_endofopt
    block(1, body);
  }
  for (const p of packets) {
    const orig = p.origLen ?? p.data.length;
    if (opts.simple) {
      const body = Buffer.alloc(4 + p.data.length);
      u32(body, orig, 0);
      p.data.copy(body, 4);
      block(3, body);
      continue;
    }
    const iface = ifaces[p.iface ?? 0];
    const r = iface.tsresol ?? 6;
    const units = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
    const t = BigInt(Math.round(p.ts * 1e6)) * BigInt(Math.round(units)) / 1000000n;
    const body = Buffer.alloc(20 + p.data.length);
    u32(body, p.iface ?? 0, 0);
    u32(body, Number(t >> 32n), 4);
    u32(body, Number(t & 0xffffffffn), 8);
    u32(body, p.data.length, 12);
    u32(body, orig, 16);
    p.data.copy(body, 20);
    block(6, body);
  }
  return Buffer.concat(blocks);
}

/** Reads the packets of a little-endian microsecond pcap (as editcap writes them). */
export function readPcapPackets(le: Buffer): RawPacket[] {
  const out: RawPacket[] = [];
  let off = 24;
  while (off + 16 <= le.length) {
    const sec = le.readUInt32LE(off);
    const usec = le.readUInt32LE(off + 4);
    const incl = le.readUInt32LE(off + 8);
    const orig = le.readUInt32LE(off + 12);
    out.push({ data: le.subarray(off + 16, off + 16 + incl), ts: sec + usec / 1e6, origLen: orig });
    off += 16 + incl;
  }
  return out;
}

/**
 * Reads a capture file or standard input, recognises its format by its magic bytes (never by the
 * file name) and streams its packets to a sink. Chunks are parsed in place; only the tail of a
 * chunk that holds an incomplete record is moved to the front of the buffer before the next read.
 */
import fs from 'node:fs';
import { InputError } from './errors.js';
import { isPcapMagic, PcapParser } from './pcap-format.js';
import { PCAPNG_SHB, PcapngParser } from './pcapng-format.js';
import type { CaptureCut, CaptureFormat, PacketSink } from './sink.js';

const CHUNK = 1 << 20;

export interface ReadOptions {
  /** Called after each chunk with bytes read so far and the total, when the size is known. */
  onProgress?: (done: number, total: number) => void;
  /** Where to read standard input from, for `-` (tests pass a stream). */
  stdin?: NodeJS.ReadableStream;
  /** Awaited after each chunk of a file: the daemon paces a replay and keeps serving meanwhile. */
  afterChunk?: () => Promise<void>;
  /** Bytes read at a time (the daemon reads smaller chunks to keep its pace smooth). */
  chunkSize?: number;
}

export interface CaptureReadResult {
  source: string;
  format: CaptureFormat;
  linkTypes: number[];
  packets: number;
  bytesRead: number;
  cut: CaptureCut | null;
}

type Parser = PcapParser | PcapngParser;

function makeParser(source: string, head: Buffer, sink: PacketSink): Parser {
  const magic = head.readUInt32LE(0);
  if (magic === PCAPNG_SHB) return new PcapngParser(source, sink);
  if (isPcapMagic(magic)) return new PcapParser(source, sink);
  const shown = head.subarray(0, Math.min(4, head.length)).toString('hex');
  throw new InputError(source, `not a pcap or pcapng capture (starts with 0x${shown})`);
}

/** Incremental driver: owns the buffer, hands contiguous regions to the parser. */
class Driver {
  private buf = Buffer.allocUnsafe(2 * CHUNK);
  private start = 0;
  private end = 0;
  private consumedBefore = 0; // input offset of buf[0]
  parser: Parser | null = null;

  constructor(
    private readonly source: string,
    private readonly sink: PacketSink,
  ) {}

  /** Room to write at least `min` bytes at `end`; compacts and grows as needed. */
  reserve(min: number): void {
    if (this.buf.length - this.end >= min) return;
    const live = this.end - this.start;
    if (this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.end);
      this.consumedBefore += this.start;
      this.start = 0;
      this.end = live;
    }
    if (this.buf.length - this.end < min) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, live + min));
      this.buf.copy(bigger, 0, 0, live);
      this.buf = bigger;
    }
  }

  get writeBuffer(): Buffer {
    return this.buf;
  }
  get writeOffset(): number {
    return this.end;
  }

  /** Accepts `n` bytes just written at writeOffset, and parses what it can. */
  commit(n: number): void {
    this.end += n;
    if (!this.parser) {
      if (this.end - this.start < 4) return;
      this.parser = makeParser(this.source, this.buf.subarray(this.start, this.end), this.sink);
    }
    const p = this.parser;
    if (p.corrupt) return;
    this.start += p.push(this.buf, this.start, this.end);
    // A record larger than the buffer: make room for it on the next read.
    if (p.needed !== Infinity && p.needed > this.buf.length - this.start) this.reserve(p.needed);
  }

  /** Input offset of the first unparsed byte. */
  get position(): number {
    return this.consumedBefore + this.start;
  }
  get pending(): number {
    return this.end - this.start;
  }

  finish(bytesRead: number): CaptureReadResult {
    if (bytesRead === 0) {
      throw new InputError(this.source, this.source === '-' ? 'empty input: no capture data arrived' : 'empty file');
    }
    const p = this.parser;
    if (!p) throw new InputError(this.source, `not a pcap or pcapng capture (only ${bytesRead} bytes)`);
    if (p.format === 'pcap' && p.linkTypes.length === 0) {
      throw new InputError(this.source, `file ends inside the 24-byte pcap header (${bytesRead} bytes)`);
    }
    if (p.format === 'pcapng' && p.linkTypes.length === 0 && p.packets === 0 && !p.corrupt) {
      if (this.pending > 0) throw new InputError(this.source, 'file ends inside the first pcapng block');
      throw new InputError(this.source, 'pcapng file declares no interface');
    }
    let cut: CaptureCut | null = null;
    if (p.corrupt) {
      cut = { offset: this.position, afterPacket: p.packets, reason: p.corrupt };
    } else if (this.pending > 0) {
      cut = {
        offset: this.position,
        afterPacket: p.packets,
        reason: `input ends inside a record (${this.pending} of ${p.needed} bytes present)`,
      };
    }
    return { source: this.source, format: p.format, linkTypes: p.linkTypes, packets: p.packets, bytesRead, cut };
  }
}

function openError(source: string, err: NodeJS.ErrnoException): InputError {
  switch (err.code) {
    case 'ENOENT':
      return new InputError(source, 'no such file');
    case 'EACCES':
    case 'EPERM':
      return new InputError(source, 'permission denied');
    case 'EISDIR':
      return new InputError(source, 'is a directory, not a capture file');
    default:
      return new InputError(source, err.message);
  }
}

export async function readCapture(source: string, sink: PacketSink, opts: ReadOptions = {}): Promise<CaptureReadResult> {
  const driver = new Driver(source, sink);
  let bytesRead = 0;
  if (source === '-') {
    const input = opts.stdin ?? process.stdin;
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      driver.reserve(b.length);
      b.copy(driver.writeBuffer, driver.writeOffset);
      bytesRead += b.length;
      driver.commit(b.length);
      if (driver.parser?.corrupt) break;
    }
    return driver.finish(bytesRead);
  }
  let fd: number;
  let size = 0;
  try {
    fd = fs.openSync(source, 'r');
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) {
      fs.closeSync(fd);
      throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    }
    size = st.isFile() ? st.size : 0;
  } catch (err) {
    throw openError(source, err as NodeJS.ErrnoException);
  }
  try {
    const chunk = opts.chunkSize ?? CHUNK;
    for (;;) {
      driver.reserve(chunk);
      const n = fs.readSync(fd, driver.writeBuffer, driver.writeOffset, chunk, null);
      if (n === 0) break;
      bytesRead += n;
      driver.commit(n);
      opts.onProgress?.(bytesRead, size);
      if (driver.parser?.corrupt) break;
      if (opts.afterChunk) await opts.afterChunk();
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw openError(source, err as NodeJS.ErrnoException);
  } finally {
    fs.closeSync(fd);
  }
  return driver.finish(bytesRead);
}

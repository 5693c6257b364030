/**
 * Live capture from a network interface through libpcap (the `pcap` npm binding), with a kernel
 * BPF filter so that traffic the later stages do not need never reaches JavaScript.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { InputError } from './errors.js';
import { linkTypeFromPcapBinding } from './linktype.js';
import type { PacketSink } from './sink.js';

interface PcapPacket {
  buf: Buffer;
  header: Buffer;
  link_type: string;
}

interface PcapSession {
  link_type: string;
  /** The binding's native session: `dispatch` reads what is ready, < 0 on an error. */
  session: { read_callback: () => void; dispatch(buf: Buffer, header: Buffer): number };
  buf: Buffer;
  header: Buffer;
  on(event: 'packet', cb: (p: PcapPacket) => void): void;
  close(): void;
  stats(): { ps_recv: number; ps_drop: number; ps_ifdrop: number };
}

interface PcapModule {
  createSession(device: string, opts: { filter?: string; buffer_size?: number; snap_length?: number; buffer_timeout?: number; promiscuous?: boolean }): PcapSession;
  findalldevs(): { name: string; addresses: { addr: string; netmask?: string }[] }[];
  lib_version: string;
}

let cached: PcapModule | null = null;

/** Loads the libpcap binding lazily: `vigie analyze` works where it was never built. */
export function pcapBinding(): PcapModule {
  if (!cached) {
    try {
      cached = createRequire(import.meta.url)('pcap') as PcapModule;
    } catch (e) {
      throw new InputError('pcap', `the libpcap binding is not available (${(e as Error).message.split('\n')[0]}); install libpcap-dev and run npm rebuild pcap`);
    }
  }
  return cached;
}

export interface LiveOptions {
  /** BPF filter expression (pcap-filter(7)); empty: everything. */
  filter?: string;
  /** Bytes kept of each packet. */
  snapLength?: number;
  /** Kernel ring buffer size in bytes. */
  bufferSize?: number;
  promiscuous?: boolean;
  /**
   * libpcap reported an error while reading (the interface went down or disappeared): the
   * session is closed; the caller decides when to open a new one. Without this callback the
   * binding would ignore the error and poll a dead socket.
   */
  onError?: (message: string) => void;
}

export interface LiveStats {
  received: number;
  dropped: number;
  interfaceDropped: number;
}

export class LiveCapture {
  private session: PcapSession | null = null;
  /** The counters at close, kept for whoever adds them up. */
  private final: LiveStats = { received: 0, dropped: 0, interfaceDropped: 0 };
  readonly linkType: number;
  private readonly le = os.endianness() === 'LE';

  constructor(
    readonly iface: string,
    sink: PacketSink,
    opts: LiveOptions = {},
  ) {
    const pcap = pcapBinding();
    let session: PcapSession;
    try {
      session = pcap.createSession(iface, {
        filter: opts.filter ?? '',
        snap_length: opts.snapLength ?? 65535,
        buffer_size: opts.bufferSize ?? 4 * 1024 * 1024,
        // Deliver within 100 ms even on a quiet network: alerts must be timely.
        buffer_timeout: 100,
        promiscuous: opts.promiscuous ?? true,
      });
    } catch (e) {
      throw new InputError(iface, (e as Error).message);
    }
    const link = linkTypeFromPcapBinding(session.link_type);
    if (link < 0) {
      session.close();
      throw new InputError(iface, `unsupported link type ${session.link_type}`);
    }
    this.linkType = link;
    this.session = session;
    const le = this.le;
    // The binding copies libpcap's pcap_pkthdr fields into `header` in host byte order.
    session.on('packet', (p) => {
      const h = p.header;
      const sec = le ? h.readUInt32LE(0) : h.readUInt32BE(0);
      const usec = le ? h.readUInt32LE(4) : h.readUInt32BE(4);
      const caplen = Math.min(le ? h.readUInt32LE(8) : h.readUInt32BE(8), p.buf.length);
      const len = le ? h.readUInt32LE(12) : h.readUInt32BE(12);
      sink.packet(link, p.buf, 0, caplen, len, sec + usec / 1e6);
    });
    // The binding's read callback drops pcap_dispatch's error return (-1): check it here.
    const native = session.session;
    native.read_callback = () => {
      if (!this.session) return;
      const n = native.dispatch(session.buf, session.header);
      if (n < 0 && this.session) {
        this.close();
        opts.onError?.(`capture stopped (libpcap error ${n})`);
      }
    };
  }

  stats(): LiveStats {
    if (!this.session) return this.final;
    const s = this.session.stats();
    return { received: s.ps_recv, dropped: s.ps_drop, interfaceDropped: s.ps_ifdrop };
  }

  close(): void {
    const s = this.session;
    if (!s) return;
    try {
      this.final = this.stats();
    } catch {
      // The socket is gone: its counters with it.
    }
    this.session = null;
    s.close();
  }

  get open(): boolean {
    return this.session !== null;
  }
}

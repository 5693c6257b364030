/**
 * Keeps a live capture open for months: the capture is closed and opened again as soon as the
 * interface is up when libpcap reports an error, when the interface was replaced (a new
 * ifindex: the bridge was rebuilt, a `wifi` restart), when it was seen down (a packet socket
 * may stay silent after a down/up: seen with libpcap 1.10 on a bridge), or when the kernel
 * counts packets on the interface while the capture receives none for a few seconds (whatever
 * the cause). Statistics add up across reopenings.
 */
import fs from 'node:fs';
import { LiveCapture, type LiveOptions } from './live.js';
import type { PacketSink } from './sink.js';

export interface CaptureStatus {
  interface: string;
  open: boolean;
  since: string | null;
  reopened: number;
  lastError: string | null;
  received: number;
  dropped: number;
  interfaceDropped: number;
}

/** Packets the kernel counted on the interface, both ways (/sys/class/net/IF/statistics). */
function kernelPackets(iface: string): number | null {
  try {
    const rx = Number(fs.readFileSync(`/sys/class/net/${iface}/statistics/rx_packets`, 'utf8'));
    const tx = Number(fs.readFileSync(`/sys/class/net/${iface}/statistics/tx_packets`, 'utf8'));
    return rx + tx;
  } catch {
    return null;
  }
}

/** Seconds of silence, while the interface counts at least STALL_PACKETS, before a reopen. */
const STALL_SECONDS = 3;
const STALL_PACKETS = 20;

function ifindex(iface: string): number | null {
  try {
    return Number(fs.readFileSync(`/sys/class/net/${iface}/ifindex`, 'utf8').trim());
  } catch {
    return null;
  }
}

/** IFF_UP (bit 0 of the interface flags, netdevice(7)). */
function isUp(iface: string): boolean {
  try {
    return (Number(fs.readFileSync(`/sys/class/net/${iface}/flags`, 'utf8').trim()) & 1) === 1;
  } catch {
    return false;
  }
}

export class CaptureSupervisor {
  private capture: LiveCapture | null = null;
  private index: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private since: string | null = null;
  private reopened = 0;
  private lastError: string | null = null;
  private base = { received: 0, dropped: 0, interfaceDropped: 0 };
  private seenDown = false;
  /** Kernel and capture counts at the start of the current silence window. */
  private window: { kernel: number; received: number; at: number } | null = null;
  linkType = -1;

  constructor(
    readonly iface: string,
    private readonly sink: PacketSink,
    private readonly opts: LiveOptions & { userFilter?: boolean },
    private readonly log: (msg: string) => void,
  ) {}

  /** Opens the capture now (throws if it cannot: a wrong name must be said at start). */
  start(): void {
    this.openNow();
    this.schedule();
  }

  /**
   * Looks every second while capturing, four times a second while the capture is closed: the
   * packets of a device reconnecting right after a bridge rebuild (its MQTT CONNECT) come within
   * the first second.
   */
  private schedule(): void {
    this.timer = setTimeout(() => {
      this.watch();
      if (this.timer) this.schedule();
    }, this.capture?.open ? 1000 : 250);
    this.timer.unref();
  }

  private openNow(): void {
    const idx = ifindex(this.iface);
    const { userFilter: _u, ...live } = this.opts;
    void _u;
    this.capture = new LiveCapture(this.iface, this.sink, {
      ...live,
      onError: (m) => {
        this.lastError = m;
        this.log(`capture on ${this.iface}: ${m}; reopening when the interface is back`);
        this.retire();
      },
    });
    this.linkType = this.capture.linkType;
    this.index = idx;
    this.since = new Date().toISOString();
    this.seenDown = false;
    this.window = null;
  }

  /** Keeps the figures of a capture that ends. */
  private retire(): void {
    const c = this.capture;
    if (!c) return;
    c.close();
    try {
      const s = c.stats();
      this.base.received += s.received;
      this.base.dropped += s.dropped;
      this.base.interfaceDropped += s.interfaceDropped;
    } catch {
      // A closed session has no statistics left.
    }
    this.capture = null;
  }

  private watch(): void {
    const idx = ifindex(this.iface);
    const up = idx !== null && isUp(this.iface);
    if (!up) this.seenDown = true;
    if (this.capture?.open && idx !== null && idx === this.index) {
      if (up && this.seenDown) {
        this.lastError = 'interface went down and up';
      } else if (up && this.stalled()) {
        this.lastError = 'no packet captured while the interface carried traffic';
      } else return;
      this.log(`capture on ${this.iface}: ${this.lastError}; reopening`);
      this.retire();
    }
    if (this.capture?.open) {
      this.lastError = idx === null ? 'interface disappeared' : 'interface was replaced';
      this.log(`capture on ${this.iface}: ${this.lastError}; reopening when it is back`);
      this.retire();
    } else if (this.capture) this.retire();
    if (idx === null || !isUp(this.iface)) return;
    try {
      this.openNow();
      this.reopened++;
      this.log(`capture on ${this.iface}: reopened`);
    } catch (e) {
      this.lastError = (e as Error).message;
    }
  }

  /** The kernel saw traffic on the interface for a while and the capture none of it. */
  private stalled(): boolean {
    // (The control filter passes every non-TCP packet and every SYN, FIN, PSH: with traffic on
    // the interface, a silent capture is a stalled one.)
    if (this.opts.userFilter) return false; // the user's filter may rightly pass nothing
    const kernel = kernelPackets(this.iface);
    if (kernel === null) return false;
    let received: number;
    try {
      received = this.capture!.stats().received;
    } catch {
      return false;
    }
    const now = Date.now();
    const w = this.window;
    if (!w || received !== w.received) {
      this.window = { kernel, received, at: now };
      return false;
    }
    return now - w.at >= STALL_SECONDS * 1000 && kernel - w.kernel >= STALL_PACKETS;
  }

  status(): CaptureStatus {
    let live = { received: 0, dropped: 0, interfaceDropped: 0 };
    if (this.capture?.open) {
      try {
        live = this.capture.stats();
      } catch {
        // Going down right now: counted at the next reopening.
      }
    }
    return {
      interface: this.iface,
      open: !!this.capture?.open,
      since: this.since,
      reopened: this.reopened,
      lastError: this.lastError,
      received: this.base.received + live.received,
      dropped: this.base.dropped + live.dropped,
      interfaceDropped: this.base.interfaceDropped + live.interfaceDropped,
    };
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.retire();
  }
}

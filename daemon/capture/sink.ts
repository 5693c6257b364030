/**
 * Where a capture source delivers packets. The buffer is only valid during the call: the reader
 * reuses it for the next chunk, so anything kept beyond the call must be copied.
 */
export interface PacketSink {
  /** `ts` is in seconds; NaN when the capture's timestamp cannot be represented (counted as malformed). */
  packet(linkType: number, buf: Buffer, off: number, caplen: number, wirelen: number, ts: number): void;
}

/** Where a file reader stopped early, and why. */
export interface CaptureCut {
  /** Byte offset in the input where the unreadable part starts. */
  offset: number;
  /** Packets read before the cut. */
  afterPacket: number;
  reason: string;
}

export type CaptureFormat = 'pcap' | 'pcapng';

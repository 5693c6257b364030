/**
 * Big-endian reads for the per-packet decoders. Buffer#readUInt16BE and kin check their offset
 * argument on every call (a validator call each time, several per packet); the decoders check
 * the lengths once, before reading, so these read the bytes directly.
 */

export function u16(buf: Buffer, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

export function u32(buf: Buffer, off: number): number {
  return buf[off] * 0x1000000 + ((buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]);
}

/** Six bytes (a MAC address) as one number below 2^48. */
export function u48(buf: Buffer, off: number): number {
  return ((buf[off] << 8) | buf[off + 1]) * 0x100000000 + u32(buf, off + 2);
}

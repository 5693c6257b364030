/**
 * The CS2 Network "PPPP" peer-to-peer protocol of many cheap cameras (iLnkP2P and relatives):
 * UDP messages `F1 type length(16) payload`, to lookup servers on ports 32100/32108 and then
 * directly or through relays. Message types and the device id layout (8-byte prefix, 32-bit
 * serial, 8-byte check code, as in "BATD156362WONJM") follow the public reverse engineering of
 * Paul Marrapese (iot/p2p pppp.fdesc) and DavidVentura/cam-reverse.
 */
import type { DatagramParser, FlowContext } from '../parser-types.js';

export const PPPP_TYPES: Record<number, string> = {
  0x00: 'HELLO',
  0x01: 'HELLO_ACK',
  0x02: 'HELLO_TO',
  0x03: 'HELLO_TO_ACK',
  0x10: 'DEV_LGN',
  0x11: 'DEV_LGN_ACK',
  0x12: 'DEV_LGN_CRC',
  0x13: 'DEV_LGN_ACK_CRC',
  0x20: 'P2P_REQ',
  0x21: 'P2P_REQ_ACK',
  0x24: 'LAN_SEARCH',
  0x30: 'LST_REQ',
  0x31: 'LST_REQ_ACK',
  0x40: 'PUNCH_TO',
  0x41: 'PUNCH_PKT',
  0x42: 'P2P_RDY',
  0x43: 'P2P_RDY_ACK',
  0x60: 'RS_LGN',
  0x61: 'RS_LGN_ACK',
  0x67: 'RLY_HELLO',
  0x68: 'RLY_HELLO_ACK',
  0x80: 'RLY_PORT',
  0x81: 'RLY_PORT_ACK',
  0x83: 'RLY_REQ',
  0x84: 'RLY_REQ_ACK',
  0xd0: 'DRW',
  0xd1: 'DRW_ACK',
  0xe0: 'ALIVE',
  0xe1: 'ALIVE_ACK',
  0xf0: 'CLOSE',
};

export function looksLikePppp(b: Buffer, off: number, len: number): boolean {
  return len >= 4 && b[off] === 0xf1 && b[off + 1] in PPPP_TYPES && b.readUInt16BE(off + 2) === len - 4;
}

/** The device id carried by PUNCH_PKT, P2P_RDY, DEV_LGN and P2P_REQ (first 20 payload bytes). */
export function ppppDeviceId(b: Buffer, off: number, len: number): string | null {
  const t = b[off + 1];
  if (![0x10, 0x12, 0x20, 0x41, 0x42].includes(t) || len < 24) return null;
  const prefix = b.toString('latin1', off + 4, off + 12).replace(/\0+$/, '');
  const serial = b.readUInt32BE(off + 12);
  const check = b.toString('latin1', off + 16, off + 24).replace(/\0+$/, '');
  if (!/^[A-Z]{1,8}$/.test(prefix) || !/^[A-Z]{0,8}$/.test(check)) return null;
  return `${prefix}${serial}${check}`;
}

export interface PpppFacts {
  messages: number;
  /** Message types seen (MSG_HELLO, MSG_P2P_REQ...). */
  types: string[];
  /** Device ids (PREFIX-serial-CHECK) the messages named: the camera's P2P identity. */
  deviceIds: string[];
}

export class ppppFlow implements DatagramParser {
  readonly app = 'cs2-p2p';
  readonly encrypted = false;
  readonly f: PpppFacts = { messages: 0, types: [], deviceIds: [] };

  constructor(private readonly ctx: FlowContext) {}

  datagram(dir: number, b: Buffer, off: number, len: number): void {
    if (!looksLikePppp(b, off, len)) return;
    this.f.messages++;
    const type = PPPP_TYPES[b[off + 1]];
    if (!this.f.types.includes(type)) this.f.types.push(type);
    const id = ppppDeviceId(b, off, len);
    if (id && !this.f.deviceIds.includes(id)) this.f.deviceIds.push(id);
    if (this.f.messages <= 8 || id) this.ctx.emit('pppp', { type, length: len - 4, deviceId: id }, dir);
  }

  facts(): { pppp: PpppFacts } {
    return { pppp: this.f };
  }
}

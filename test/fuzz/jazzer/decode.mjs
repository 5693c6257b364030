/**
 * The frame decoder (daemon/decode). Input: byte 0 picks the link type (common.mjs LINKS), byte 1
 * how many bytes the wire had beyond the captured ones (a snap length cut), then the frame. Any
 * exception is a crash; so is a decoded packet whose payload lies outside the captured bytes, or
 * whose IP datagram starts outside them or ends past the wire length.
 */
import { formatAddr, formatMac } from '../../../dist/decode/address.js';
import { Decoder } from '../../../dist/decode/decoder.js';
import { LINKS } from './common.mjs';

const d = new Decoder();
/** Decoded.Ip (daemon/decode/packet.ts). */
const IP = 0;

export function fuzz(data) {
  if (data.length < 2) return;
  const link = LINKS[data[0] % LINKS.length];
  const caplen = data.length - 2;
  const r = d.decode(link, data, 2, caplen, caplen + data[1], 1_700_000_000.5);
  const p = d.pkt;
  if (r !== IP) return;
  const end = 2 + caplen;
  // The IP end may lie past the captured bytes (a snap length cut: Packet.ipEnd), never past the wire's.
  const wireEnd = end + data[1];
  if (p.payloadLen < 0 || (p.payloadLen > 0 && (p.payloadOff < 2 || p.payloadOff + p.payloadLen > end))) throw new Error(`payload [${p.payloadOff}, +${p.payloadLen}) outside the frame [2, ${end})`);
  if (p.ipEnd > wireEnd || p.l3Off < 2 || p.l3Off >= end) throw new Error(`IP header or end outside the frame (l3Off ${p.l3Off}, ipEnd ${p.ipEnd}, frame end ${end}, wire end ${wireEnd})`);
  formatAddr(p.src0, p.src1, p.src2, p.src3);
  formatAddr(p.dst0, p.dst1, p.dst2, p.dst3);
  if (p.srcMac >= 0) formatMac(p.srcMac);
}

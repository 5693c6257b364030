/** Decoded packets built field by field, for flow-table and reassembly tests. */
import { parseAddr } from '../../daemon/decode/address.js';
import { Packet, Proto } from '../../daemon/decode/packet.js';

export interface PacketSpec {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  proto?: number;
  flags?: number;
  seq?: number;
  ts?: number;
  len?: number;
  payloadLen?: number;
  vlan?: number;
  srcMac?: number;
  dstMac?: number;
}

export function packet(spec: PacketSpec, into = new Packet()): Packet {
  const s = parseAddr(spec.src);
  const d = parseAddr(spec.dst);
  into.reset(Buffer.alloc(0), 0, 0, spec.len ?? 60, spec.ts ?? 0, 1);
  into.ipVersion = spec.src.includes(':') ? 6 : 4;
  [into.src0, into.src1, into.src2, into.src3] = s;
  [into.dst0, into.dst1, into.dst2, into.dst3] = d;
  into.ipProto = spec.proto ?? Proto.Tcp;
  into.srcPort = spec.sport ?? 0;
  into.dstPort = spec.dport ?? 0;
  into.tcpFlags = spec.flags ?? 0;
  into.seq = spec.seq ?? 0;
  into.payloadLen = spec.payloadLen ?? 0;
  into.srcMac = spec.srcMac ?? -1;
  into.dstMac = spec.dstMac ?? -1;
  if (spec.vlan !== undefined) {
    into.vlanCount = 1;
    into.vlanOuter = spec.vlan;
  }
  return into;
}

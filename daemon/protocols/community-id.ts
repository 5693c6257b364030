/**
 * Community ID flow hashing, version 1 (Corelight community-id-spec), as Zeek and Suricata compute
 * it: base64(SHA-1(seed ‖ saddr ‖ daddr ‖ proto ‖ 0 ‖ sport ‖ dport)), endpoints ordered so the
 * smaller (address, port) comes first, ICMP type/code mapped to ports with request/reply pairs
 * made equal.
 */
import { createHash } from 'node:crypto';

// ICMPv4 (type -> counterpart) and ICMPv6 one-way/two-way mappings from the spec.
const ICMP4: Record<number, number> = { 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17 };
const ICMP6: Record<number, number> = { 128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135, 130: 131, 131: 130, 144: 145, 145: 144 };

function addrBytes(ip: string): Buffer {
  if (!ip.includes(':')) return Buffer.from(ip.split('.').map(Number));
  const words = expandV6(ip);
  const b = Buffer.alloc(16);
  words.forEach((w, i) => b.writeUInt16BE(w, i * 2));
  return b;
}

function expandV6(ip: string): number[] {
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = ip.includes('::') ? 8 - h.length - t.length : 0;
  return [...h, ...Array(fill).fill('0'), ...t].map((x) => parseInt(x, 16));
}

export function communityId(proto: number, srcIp: string, dstIp: string, sport: number, dport: number, seed = 0): string {
  let sa = addrBytes(srcIp);
  let da = addrBytes(dstIp);
  let sp = sport;
  let dp = dport;
  let oneWay = false;
  if (proto === 1 || proto === 58) {
    // For ICMP the "ports" are the type and code (sport = type, dport = code on input).
    const map = proto === 1 ? ICMP4 : ICMP6;
    const type = sport;
    if (type in map) dp = map[type];
    else {
      oneWay = true;
      dp = dport;
    }
    sp = type;
  }
  const cmp = Buffer.compare(sa, da);
  if (!oneWay && (cmp > 0 || (cmp === 0 && sp > dp))) {
    [sa, da] = [da, sa];
    [sp, dp] = [dp, sp];
  }
  const h = createHash('sha1');
  const seedBuf = Buffer.alloc(2);
  seedBuf.writeUInt16BE(seed);
  const tail = Buffer.alloc(6);
  tail[0] = proto;
  tail[1] = 0;
  const hasPorts = proto === 6 || proto === 17 || proto === 132 || proto === 1 || proto === 58;
  h.update(seedBuf).update(sa).update(da);
  if (hasPorts) {
    tail.writeUInt16BE(sp, 2);
    tail.writeUInt16BE(dp, 4);
    h.update(tail);
  } else h.update(tail.subarray(0, 2));
  return `1:${h.digest('base64')}`;
}

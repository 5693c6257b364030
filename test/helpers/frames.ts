/** Decodes every frame of a capture with our decoder and keeps what the tests compare. */
import { readCapture } from '../../daemon/capture/reader.js';
import { formatAddr } from '../../daemon/decode/address.js';
import { Decoder } from '../../daemon/decode/decoder.js';
import { Decoded, Fragment } from '../../daemon/decode/packet.js';

export interface FrameView {
  result: Decoded;
  vlans: number[];
  ipVersion: number;
  src: string;
  dst: string;
  proto: number;
  srcPort: number;
  dstPort: number;
  fragment: Fragment;
  malformedReason: string;
}

export async function decodeFrames(file: string): Promise<{ frames: FrameView[]; decoder: Decoder; linkTypes: number[] }> {
  const decoder = new Decoder();
  const frames: FrameView[] = [];
  const read = await readCapture(file, {
    packet(link, buf, off, caplen, wirelen, ts) {
      const result = decoder.decode(link, buf, off, caplen, wirelen, ts);
      const p = decoder.pkt;
      const vlans: number[] = [];
      if (p.vlanCount > 0) vlans.push(p.vlanOuter);
      if (p.vlanCount > 1) vlans.push(p.vlanInner);
      frames.push({
        result,
        vlans,
        ipVersion: p.ipVersion,
        src: p.ipVersion ? formatAddr(p.src0, p.src1, p.src2, p.src3) : '',
        dst: p.ipVersion ? formatAddr(p.dst0, p.dst1, p.dst2, p.dst3) : '',
        proto: p.ipProto,
        srcPort: p.srcPort,
        dstPort: p.dstPort,
        fragment: p.fragment,
        malformedReason: p.malformedReason,
      });
    },
  });
  return { frames, decoder, linkTypes: read.linkTypes };
}

/**
 * Every capture of the shared corpus, decoded frame by frame and compared with tshark on the same
 * file: packet counts and encapsulation against the stored tshark.txt, and per frame the VLAN
 * tags, IP version, addresses and transport ports against a live `tshark -T fields` run.
 * IP reassembly is switched off in tshark so that both sides look at single frames.
 */
import { describe, expect, it } from 'vitest';
import { linkTypeName } from '../../daemon/capture/linktype.js';
import { Decoded, Fragment } from '../../daemon/decode/packet.js';
import { casePath, corpusCases, describeCorpus, ENCAPSULATION, readTsharkTxt } from '../helpers/corpus.js';
import { decodeFrames } from '../helpers/frames.js';
import { haveTool, tsharkFields } from '../helpers/tshark.js';

const FIELDS = ['frame.protocols', 'vlan.id', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport', 'ip.flags.mf', 'ip.frag_offset', 'ipv6.fraghdr.offset', 'ipv6.fraghdr.more'];
const IPV6_EXT = new Set(['ipv6.hopopts', 'ipv6.routing', 'ipv6.dstopts', 'ipv6.fraghdr', 'ah']);

const cases = corpusCases();
const tshark = haveTool('tshark');

describeCorpus('decoding the shared corpus', () => {
  it('has the 90 cases INDEX.md lists', () => {
    expect(cases.length).toBe(90);
  });

  for (const c of cases) {
    it(`${c.case}: counts, link type and VLANs match tshark.txt`, async () => {
      const oracle = readTsharkTxt(c.case);
      const { frames, linkTypes } = await decodeFrames(casePath(c));
      expect(frames.length).toBe(oracle.packets);
      expect(linkTypes.map(linkTypeName)).toEqual([ENCAPSULATION[oracle.encapsulation]]);
      if (oracle.vlans.size > 0) {
        const ours = new Map<string, number>();
        for (const f of frames) {
          const k = f.vlans.join(',');
          ours.set(k, (ours.get(k) ?? 0) + 1);
        }
        expect(ours).toEqual(oracle.vlans);
      }
    });

    it.skipIf(!tshark)(`${c.case}: every frame's addresses and ports match tshark`, async () => {
      const { frames } = await decodeFrames(casePath(c));
      const rows = tsharkFields(casePath(c), FIELDS, ['-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE']);
      expect(rows.length).toBe(frames.length);
      let compared = 0;
      rows.forEach((row, i) => {
        const [protocols, vlan, ip4s, ip4d, ip6s, ip6d, tsp, tdp, usp, udp, mf, foff, f6off, f6more] = row;
        const f = frames[i];
        const where = `frame ${i + 1} (${protocols})`;
        expect(f.vlans.join(','), where).toBe(vlan);
        const layers = protocols.split(':');
        const ipAt = layers.findIndex((l) => l === 'ip' || l === 'ipv6');
        if (ipAt < 0) {
          expect(f.ipVersion, where).toBe(0);
          return;
        }
        // A frame tshark flags as malformed below IP may be one we count as malformed too.
        if (f.result === Decoded.Malformed) {
          expect(protocols, `${where}: we said malformed (${f.malformedReason})`).toMatch(/_ws\.malformed|_ws\.short/);
          return;
        }
        const v = layers[ipAt] === 'ip' ? 4 : 6;
        expect(f.ipVersion, where).toBe(v);
        expect(f.src, where).toBe(v === 4 ? ip4s.split(',')[0] : ip6s.split(',')[0]);
        expect(f.dst, where).toBe(v === 4 ? ip4d.split(',')[0] : ip6d.split(',')[0]);
        const tsharkFragment = v === 4 ? mf.split(',')[0] === '1' || Number(foff.split(',')[0] || 0) > 0 
          : // An atomic fragment (offset 0, M clear) is a whole packet (RFC 6946 §4).
            Number(f6off.split(',')[0] || 0) > 0 || f6more.split(',')[0] === '1';
        expect(f.fragment !== Fragment.None, `${where}: fragment`).toBe(tsharkFragment);
        if (tsharkFragment) return;
        let next = ipAt + 1;
        while (IPV6_EXT.has(layers[next])) next++;
        if (layers[next] === 'tcp') {
          expect([f.proto, f.srcPort, f.dstPort], where).toEqual([6, Number(tsp.split(',')[0]), Number(tdp.split(',')[0])]);
          compared++;
        } else if (layers[next] === 'udp') {
          expect([f.proto, f.srcPort, f.dstPort], where).toEqual([17, Number(usp.split(',')[0]), Number(udp.split(',')[0])]);
          compared++;
        }
      });
      if (/TCP|UDP/.test(c.protocols)) expect(compared).toBeGreaterThan(0);
    });
  }
});

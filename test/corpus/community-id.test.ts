/**
 * Community ID (v1) of our events against Suricata's expectations (suricata-verify
 * community-id-ipv6: TLS to Google over IPv6), and on ICMP/UDP against the values Zeek's
 * community-id plugin and the specification's own test vectors give.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { communityId } from '../../daemon/protocols/community-id.js';
import { CORPUS, casePath, describeCorpus } from '../helpers/corpus.js';
import { eventsOf } from '../helpers/events.js';

describeCorpus('Community ID', () => {
  it('matches suricata-verify/community-id-ipv6 on every TLS event', async () => {
    const yaml = fs.readFileSync(path.join(CORPUS, 'suricata-verify/community-id-ipv6/test.yaml'), 'utf8');
    const expected = [...yaml.matchAll(/community_id: (\S+)[\s\S]*?src_port: (\d+)[\s\S]*?tls\.sni: (\S+)/g)].map((m) => ({ id: m[1], port: Number(m[2]), sni: m[3] }));
    expect(expected.length).toBeGreaterThanOrEqual(2);
    const seed = Number(/community-id-seed: (\d+)/.exec(fs.readFileSync(path.join(CORPUS, 'suricata-verify/community-id-ipv6/suricata.yaml'), 'utf8'))![1]);
    expect(seed).toBe(7);
    const { events } = await eventsOf(casePath('suricata-verify/community-id-ipv6'), { communityIdSeed: seed });
    for (const e of expected) {
      const ev = events.find((x) => x.type === 'tls' && x.src.port === e.port);
      expect(ev, e.sni).toBeDefined();
      expect((ev!.tls as { sni: string }).sni).toBe(e.sni);
      expect(ev!.communityId).toBe(e.id);
    }
  });

  it('gives the specification baseline values (community-id-spec baseline, seed 0)', () => {
    // From the specification repository's baseline file (corelight/community-id-spec, baseline/baseline_deflt.json).
    expect(communityId(6, '128.232.110.120', '66.35.250.204', 34855, 80)).toBe('1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
    expect(communityId(6, '66.35.250.204', '128.232.110.120', 80, 34855)).toBe('1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
    expect(communityId(17, '192.168.1.52', '8.8.8.8', 54585, 53)).toBe('1:d/FP5EW3wiY1vCndhwleRRKHowQ=');
    expect(communityId(1, '192.168.0.89', '192.168.0.1', 8, 0)).toBe('1:X0snYXpgwiv9TZtqg64sgzUn6Dk=');
    expect(communityId(1, '192.168.0.1', '192.168.0.89', 0, 0)).toBe('1:X0snYXpgwiv9TZtqg64sgzUn6Dk=');
    expect(communityId(58, 'fe80::200:86ff:fe05:80da', 'fe80::260:97ff:fe07:69ea', 135, 0)).toBe('1:dGHyGvjMfljg6Bppwm3bg0LO8TY=');
  });
});

import net from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAddr, formatMac, parseAddr, parseMac } from '../../daemon/decode/address.js';
import { Locality, parseCidr } from '../../daemon/flows/locality.js';

describe('addresses', () => {
  it('formats IPv6 as RFC 5952 and round-trips through parse (checked against node:net)', () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const w = parseAddr(text);
        const out = formatAddr(...w);
        expect(net.isIPv6(out) || net.isIPv4(out)).toBe(true);
        expect(parseAddr(out)).toEqual(w);
        // node's SocketAddress normalises IPv6 text the same way (lower case, longest zero run),
        // except that it writes the deprecated IPv4-compatible ::a.b.c.d form, which RFC 5952 §5
        // keeps for mapped addresses only (and those we print as plain IPv4).
        const nodeText = new net.SocketAddress({ address: text, family: 'ipv6' }).address;
        if (!out.includes('.') && !nodeText.includes('.')) expect(out).toBe(nodeText);
      }),
      { numRuns: 2000 },
    );
    expect(formatAddr(...parseAddr('2001:db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1');
    expect(formatAddr(...parseAddr('192.0.2.33'))).toBe('192.0.2.33');
  });

  it('MACs', () => {
    expect(formatMac(parseMac('00:1A:2b:3c:4d:5e'))).toBe('00:1a:2b:3c:4d:5e');
    expect(formatMac(0xffffffffffff)).toBe('ff:ff:ff:ff:ff:ff');
  });

  it('tells local from internet addresses', () => {
    const l = new Locality([parseCidr('2a01:e0a:1::/48'), parseCidr('81.56.0.0/24')]);
    const local = ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', '100.127.255.254', '169.254.9.9', '127.0.0.1', '224.0.0.251', '239.255.255.250', '255.255.255.255', '0.0.0.0', 'fe80::1', 'fd00::1', 'ff02::fb', '::1', '2a01:e0a:1:5::9', '81.56.0.77'];
    const internet = ['8.8.8.8', '172.32.0.1', '100.128.0.1', '192.0.2.10', '198.51.100.1', '203.0.113.200', '2001:db8::1', '2a01:e0a:2::1', '81.56.1.1'];
    for (const a of local) expect(l.isLocal(...parseAddr(a)), a).toBe(true);
    for (const a of internet) expect(l.isLocal(...parseAddr(a)), a).toBe(false);
  });

  it('rejects bad prefixes', () => {
    expect(() => parseCidr('10.0.0.0/33')).toThrow(/prefix length/);
    expect(() => parseCidr('10.0.0/8')).toThrow(/IPv4/);
    expect(() => parseCidr('2001:db8::/129')).toThrow(/prefix length/);
  });
});

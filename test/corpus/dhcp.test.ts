/**
 * DHCP conformance: every DHCP message tshark lists in the corpus, with its type, transaction id,
 * addresses and the options users need (12 host name, 55 parameter request list in order, 60
 * vendor class, 50, 51, 52 overload into sname and file, 56, 15, 3, 6), on the same frame; and the
 * values Zeek's and Suricata's tests assert.
 *
 * Where the oracles part ways: suricata-verify/dhcp-eve-extended expects host name "nas1\u0000";
 * tshark shows "nas1". RFC 2132 §3.14 defines the option as the name, with no terminator, so we
 * drop trailing NULs and agree with tshark.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS, casePath, corpusCases, describeCorpus } from '../helpers/corpus.js';
import { eventsOf, oracleRows } from '../helpers/events.js';

const cases = corpusCases().filter((c) => fs.readFileSync(path.join(CORPUS, c.case, 'tshark.txt'), 'utf8').includes('## DHCP messages'));

describeCorpus('DHCP against tshark', () => {
  it('covers the DHCP captures of the corpus', () => {
    expect(cases.length).toBe(9);
  });

  for (const c of cases) {
    it(c.case, async () => {
      const rows = oracleRows(fs.readFileSync(path.join(CORPUS, c.case, 'tshark.txt'), 'utf8'), 'DHCP messages');
      const { events } = await eventsOf(casePath(c));
      const dhcp = events.filter((e) => e.type === 'dhcp');
      expect(dhcp.length).toBe(rows.length);
      for (const row of rows) {
        const ev = dhcp.find((e) => e.frame === row.frame);
        const where = `frame ${row.frame}`;
        expect(ev, where).toBeDefined();
        const d = ev!.dhcp as Record<string, unknown>;
        const f = row.fields;
        const check = (ours: unknown, key: string, map: (v: string) => unknown = (v) => v) => {
          if (f.has(key)) expect(ours, `${where} ${key}`).toEqual(map(f.get(key)!));
        };
        check(d.messageTypeCode, 'msgtype', Number);
        check(d.xid, 'xid', (v) => parseInt(v, 16));
        check(d.chaddr, 'chaddr');
        check(d.ciaddr, 'ciaddr');
        check(d.yiaddr, 'yiaddr');
        check(d.paramRequestList, 'opt55.params', (v) => v.split(',').map(Number));
        check(d.hostname, 'opt12.hostname');
        check(d.vendorClass, 'opt60.vendor_class');
        check(d.requestedIp, 'opt50.requested_ip');
        check(d.leaseTime, 'opt51.lease', Number);
        check(d.overload, 'opt52.overload', Number);
        check(d.message, 'opt56.message', (v) => v.split(',')[0]);
        check(d.domain, 'opt15.domain');
        check((d.routers as string[]).join(','), 'opt3.router', (v) => v.replace(/;/g, ','));
        check((d.dnsServers as string[]).join(','), 'opt6.dns', (v) => v.replace(/;/g, ','));
      }
    });
  }

  it('zeek dhcp-all-msg-types: the whole transaction (dhcp.log)', async () => {
    const { report } = await eventsOf(casePath('zeek/dhcp-all-msg-types'));
    const facts = report.flows.map((f) => (f.protocol as { dhcp?: Record<string, unknown> } | null)?.dhcp).filter(Boolean) as Record<string, unknown>[];
    const client = facts.find((x) => x.clientMac === '90:b1:1c:99:49:29' && x.hostname === 'btest.is.cool')!;
    expect(client).toBeDefined();
    expect(client.requestedIp).toBe('128.2.6.189');
    const types = new Set(facts.flatMap((x) => x.messageTypes as string[]));
    for (const t of ['DISCOVER', 'OFFER', 'REQUEST', 'NAK', 'ACK', 'DECLINE', 'RELEASE', 'INFORM']) expect(types.has(t), t).toBe(true);
    expect(facts.some((x) => x.assignedIp === '128.2.6.189')).toBe(true);
  });

  it('suricata dhcp-eve-extended-option-60: vendor class MSFT 5.0', async () => {
    const { events } = await eventsOf(casePath('suricata-verify/dhcp-eve-extended-option-60'));
    expect(events.some((e) => (e.dhcp as { vendorClass?: string } | undefined)?.vendorClass === 'MSFT 5.0')).toBe(true);
  });
});

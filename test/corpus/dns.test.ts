/**
 * DNS and mDNS conformance: every message tshark lists in the corpus (header fields and counts,
 * questions, record types and TTLs, A, AAAA, CNAME, PTR, TXT and SRV data) on the same frame,
 * over UDP, over TCP (one message of 16 KiB across segments), in QinQ + PPPoE, with a forward
 * compression pointer and with 1,500 over-long names (truncated and flagged, as Suricata expects).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS, casePath, corpusCases, describeCorpus } from '../helpers/corpus.js';
import { eventsOf, oracleRows } from '../helpers/events.js';

const sections = (text: string) => [...oracleRows(text, 'DNS messages'), ...oracleRows(text, 'mDNS messages')];
const cases = corpusCases().filter((c) => sections(fs.readFileSync(path.join(CORPUS, c.case, 'tshark.txt'), 'utf8')).length > 0);

/** A ';' list, possibly shortened by tshark to "a;b;...(+N more, T total)". */
function list(v: string | undefined): { items: string[]; total: number } | null {
  if (v === undefined) return null;
  const m = /^(.*);\.\.\.\(\+\d+ more, (\d+) total\)$/.exec(v);
  if (m) return { items: m[1].split(';'), total: Number(m[2]) };
  return { items: v.split(';'), total: v.split(';').length };
}

function expectList(ours: string[], theirs: string | undefined, what: string): void {
  const l = list(theirs);
  if (!l) return;
  expect(ours.length, `${what} count`).toBe(l.total);
  expect(ours.slice(0, l.items.length), what).toEqual(l.items);
}

interface Rec {
  name: string;
  type: string;
  ttl: number;
  data: string | string[] | null;
}

/**
 * Cases the oracles read as DNS only because they were told a port is DNS (tshark `-d`, Suricata
 * detection-ports), where Vigie, which takes ports as hints only, refuses the content off port 53:
 * what it must then say is that the flow is not DNS.
 */
const PORT_ONLY: Record<string, string> = {
  'suricata-verify/dns-truncated-rname': 'a query of 1,500 questions with names over 255 octets on TCP 1053: no resolver sends one (RFC 9619 allows one question)',
};

const TYPES: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41 };

describeCorpus('DNS and mDNS against tshark', () => {
  it('covers the DNS and mDNS captures of the corpus', () => {
    expect(cases.length).toBe(9);
  });

  for (const c of cases) {
    it(c.case, async () => {
      const rows = sections(fs.readFileSync(path.join(CORPUS, c.case, 'tshark.txt'), 'utf8'));
      const { events } = await eventsOf(casePath(c));
      const dns = events.filter((e) => e.type === 'dns' || e.type === 'mdns');
      if (PORT_ONLY[c.case]) {
        expect(dns, PORT_ONLY[c.case]).toEqual([]);
        return;
      }
      expect(dns.length, 'one event per message').toBe(rows.length);
      for (const row of rows) {
        const ev = dns.find((e) => e.frame === row.frame);
        const where = `frame ${row.frame}`;
        expect(ev, where).toBeDefined();
        const d = (ev!.dns ?? ev!.mdns) as Record<string, unknown> & { counts: Record<string, number>; questions: { name: string; type: string }[]; answers: Rec[]; authorities: Rec[]; additionals: Rec[] };
        const f = row.fields;
        expect(d.id, `${where} id`).toBe(parseInt(f.get('id')!, 16));
        expect(d.response ? '1' : '0', `${where} qr`).toBe(f.get('qr'));
        expect(String(d.opcode), `${where} opcode`).toBe(f.get('opcode'));
        if (f.has('rcode')) expect(String(d.rcode), `${where} rcode`).toBe(f.get('rcode'));
        expect([d.counts.questions, d.counts.answers, d.counts.authorities, d.counts.additionals].join(','), `${where} counts`).toBe([f.get('qd'), f.get('an'), f.get('ns'), f.get('ar')].join(','));
        const qnames = d.questions.map((q) => ((q as { nameTruncated?: boolean }).nameTruncated ? '<Name too long>' : q.name));
        expectList(qnames, f.get('qname'), `${where} qname`);
        expectList(
          d.questions.map((q) => String(TYPES[q.type] ?? Number(q.type.replace('TYPE', '')))),
          f.get('qtype'),
          `${where} qtype`,
        );
        // tshark lists every record's type (OPT included) and the TTLs of all but OPT.
        const all = [...d.answers, ...d.authorities, ...d.additionals];
        expectList(all.map((r) => String(TYPES[r.type] ?? Number(r.type.replace('TYPE', '')))), f.get('rr.type'), `${where} rr.type`);
        expectList(all.filter((r) => r.type !== 'OPT').map((r) => String(r.ttl)), f.get('rr.ttl'), `${where} rr.ttl`);
        for (const [key, type] of [
          ['A', 'A'],
          ['AAAA', 'AAAA'],
          ['CNAME', 'CNAME'],
          ['PTR', 'PTR'],
        ] as const) {
          if (f.has(key)) expect(all.filter((r) => r.type === type).map((r) => r.data), `${where} ${key}`).toEqual(f.get(key)!.split(';'));
        }
        if (f.has('TXT')) expect(all.filter((r) => r.type === 'TXT').flatMap((r) => r.data as string[]), `${where} TXT`).toEqual(f.get('TXT')!.split(';'));
        if (f.has('SRV.target')) {
          const srv = all.filter((r) => r.type === 'SRV').map((r) => (r.data as string).split(' '));
          expect(srv.map((x) => x[3]).join(';'), `${where} SRV target`).toBe(f.get('SRV.target'));
          expect(srv.map((x) => x[2]).join(';'), `${where} SRV port`).toBe(f.get('SRV.port'));
          expect(srv.map((x) => x[0]).join(';'), `${where} SRV priority`).toBe(f.get('SRV.prio'));
          expect(srv.map((x) => x[1]).join(';'), `${where} SRV weight`).toBe(f.get('SRV.weight'));
        }
      }
    });
  }

  it('names a flow after the name its device resolved (ndpi/dns-vlan has no later flow: checked on the bench capture)', async () => {
    const { generate } = await import('../bench/home-capture.mjs');
    const os = await import('node:os');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-dns-')), 'small.pcap');
    generate(file, { devices: 5, tlsFlows: 40, bulkPackets: 10, duration: 30 });
    const { report } = await eventsOf(file);
    const https = report.flows.filter((x) => x.resp.port === 443 && x.internet);
    expect(https.length).toBeGreaterThan(40);
    // Every HTTPS connection was preceded by its lookup: the hostname is the SNI.
    for (const x of https) expect(x.hostname, `flow ${x.id}`).toBe((x.protocol as { tls: { sni: string } }).tls.sni);
  });

  it('keeps mDNS service types, instance names and model TXT keys as facts', async () => {
    const { report } = await eventsOf(casePath('suricata-verify/mdns'));
    const m = report.flows.map((x) => (x.protocol as { mdns?: Record<string, string[]> } | null)?.mdns).find(Boolean)!;
    expect(m.services).toContain('_companion-link._tcp.local');
    expect(m.instances).toContain('John’s iMac._companion-link._tcp.local');
    expect(m.models).toContain('model=iMac17,1');
  });
});

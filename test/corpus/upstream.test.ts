/**
 * Our fields against the upstream projects' own expectations, beside tshark: nDPI's ndpiReader
 * output (Hostname/SNI, ALPN, JA3C, JA4, User-Agent, VLAN per flow), Zeek's logs (ssl, dhcp, dns,
 * mqtt, conn) and the values Suricata's test.yaml files assert (tls.sni, tls.version,
 * http.hostname, http.http_user_agent, http.url, http.http_method).
 *
 * Where they part ways with us, on purpose (the rest of the suite says why):
 * - ndpi/http-ua-split-two-pkts: nDPI reads the User-Agent from one packet and reports "Mozil";
 *   we reassemble and report the whole header (as tshark does).
 * - ndpi/tls-encrypted-sni: nDPI's JA4 says `d` without a server_name; FoxIO's spec says `i`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../daemon/report/types.js';
import { CORPUS, casePath, corpusCases, describeCorpus } from '../helpers/corpus.js';
import { eventsOf } from '../helpers/events.js';

const cases = corpusCases();
type Facts = Record<string, Record<string, unknown>>;
const facts = (f: FlowRecord) => (f.protocol ?? {}) as Facts;

function endpoints(f: FlowRecord): string[] {
  const e = (x: { ip: string; port: number }) => (x.ip.includes(':') ? `[${x.ip}]:${x.port}` : `${x.ip}:${x.port}`);
  return [e(f.orig), e(f.resp)].sort();
}

interface NdpiFlow {
  proto: string;
  ends: string[];
  fields: Map<string, string>;
}

function ndpiFlows(file: string): NdpiFlow[] {
  const out: NdpiFlow[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    // "<->" for flows seen both ways, "->" for one-way ones.
    const m = /^\s+\d+\s+(TCP|UDP) (\S+) <?-> (\S+) (.*)$/.exec(line);
    if (!m) continue;
    const fields = new Map<string, string>();
    for (const f of m[4].matchAll(/\[([^:\]]+): ([^\]]*)\]/g)) if (!fields.has(f[1])) fields.set(f[1], f[2]);
    out.push({ proto: m[1].toLowerCase(), ends: [m[2], m[3]].sort(), fields });
  }
  return out;
}

describeCorpus('against nDPI (ndpiReader output)', () => {
  for (const c of cases.filter((x) => x.case.startsWith('ndpi/'))) {
    it(c.case, async () => {
      const dir = path.join(CORPUS, c.case);
      const out = fs.readdirSync(dir).find((f) => f.startsWith('ndpiReader'))!;
      const theirs = ndpiFlows(path.join(dir, out));
      expect(theirs.length).toBeGreaterThan(0);
      const { report } = await eventsOf(casePath(c));
      for (const n of theirs) {
        const f = report.flows.find((x) => x.proto === n.proto && endpoints(x).join() === n.ends.join());
        expect(f, `${n.proto} ${n.ends.join(' <-> ')}`).toBeDefined();
        if (!f) continue;
        const p = facts(f);
        const where = `${c.case} ${n.ends.join(' <-> ')}`;
        if (n.fields.has('VLAN')) {
          expect(f.vlan[f.vlan.length - 1], `${where} VLAN`).toBe(Number(n.fields.get('VLAN')));
        }
        const host = n.fields.get('Hostname/SNI');
        if (host && p.tls) expect(p.tls.sni, `${where} SNI`).toBe(host);
        if (host && p.http) expect(p.http.host, `${where} Host`).toBe(host);
        if (host && p.dns) expect((p.dns.queries as string[])[0], `${where} DNS name`).toBe(host);
        const alpn = n.fields.get('(Advertised) ALPNs');
        if (alpn && p.tls) {
          expect((p.tls.alpn as string[]).join(';'), `${where} ALPN`).toBe(alpn);
        }
        const ja3 = n.fields.get('JA3C');
        if (ja3 && p.tls) {
          expect(p.tls.ja3, `${where} JA3`).toBe(ja3);
        }
        const ja4 = n.fields.get('JA4');
        if (ja4 && p.tls) {
          const ours = c.case === 'ndpi/tls-encrypted-sni' ? String(p.tls.ja4).replace(/^t13i/, 't13d') : p.tls.ja4;
          expect(ours, `${where} JA4`).toBe(ja4);
        }
        const ua = n.fields.get('User-Agent');
        if (ua && p.http && c.case !== 'ndpi/http-ua-split-two-pkts') {
          expect(p.http.userAgent, `${where} User-Agent`).toBe(ua);
        }
      }
    });
  }
});

function zeekLog(file: string): Record<string, string>[] {
  let lines = fs.readFileSync(file, 'utf8').split('\n');
  const header = lines.find((l) => l.startsWith('#fields'));
  let fields: string[];
  if (header) fields = header.split('\t').slice(1);
  else {
    // A zeek-cut extract: the first plain line names the columns.
    lines = lines.filter((l) => l && !l.startsWith('#'));
    fields = lines.shift()!.split('\t');
  }
  return lines.filter((l) => l && !l.startsWith('#')).map((l) => Object.fromEntries(l.split('\t').map((v, i) => [fields[i], v])));
}

const zeekVersion: Record<string, string> = { TLSv10: 'TLSv1.0', TLSv11: 'TLSv1.1', TLSv12: 'TLSv1.2', TLSv13: 'TLSv1.3' };

describeCorpus('against Zeek logs', () => {
  const log = (c: string, suffix: string) => {
    const dir = path.join(CORPUS, c, 'baseline');
    return zeekLog(path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith(suffix))!));
  };

  it('ssl.log: server_name and version', async () => {
    for (const c of ['zeek/ssl-basic-tls10-sni', 'zeek/ssl-tls12']) {
      const { report } = await eventsOf(casePath(c));
      for (const row of log(c, 'ssl.log')) {
        const f = report.flows.find((x) => x.orig.port === Number(row['id.orig_p']) && x.resp.ip === row['id.resp_h'])!;
        const tls = facts(f).tls;
        expect(tls.sni ?? '-', c).toBe(row.server_name);
        expect(tls.version, c).toBe(zeekVersion[row.version]);
      }
    }
  });

  it('dhcp.log: MAC, host name, addresses, message types', async () => {
    for (const [c, suffix] of [
      ['zeek/dhcp-all-msg-types', 'dhcp.log'],
      ['zeek/dhcp-discover-param-req-client-id', 'dhcp.log'],
      ['zeek/dhcp-inform', 'dhcp.log'],
    ]) {
      const { events } = await eventsOf(casePath(c));
      const dhcp = events.filter((e) => e.type === 'dhcp').map((e) => e.dhcp as Record<string, unknown>);
      for (const row of log(c, suffix)) {
        const ours = dhcp.filter((m) => m.chaddr === row.mac);
        expect(ours.length, `${c} ${row.mac}`).toBeGreaterThan(0);
        if (row.host_name !== '-') expect(ours.some((m) => m.hostname === row.host_name), `${c} host name`).toBe(true);
        if (row.assigned_addr !== '-') expect(ours.some((m) => m.yiaddr === row.assigned_addr || m.ciaddr === row.assigned_addr), `${c} assigned`).toBe(true);
        if (row.requested_addr !== '-') expect(ours.some((m) => m.requestedIp === row.requested_addr), `${c} requested`).toBe(true);
        for (const t of row.msg_types.split(',')) expect(ours.map((m) => m.messageType), `${c} ${t}`).toContain(t);
      }
    }
  });

  it('dns.log (mDNS without association): queries and answers', async () => {
    const c = 'zeek/mdns-no-assoc';
    const { events } = await eventsOf(casePath(c));
    const msgs = events.filter((e) => e.type === 'mdns').map((e) => e.mdns as { questions: { name: string; type: string }[]; answers: { name: string; data: string }[] });
    for (const row of log(c, 'dns.log')) {
      if (row.qtype_name !== '-') expect(msgs.some((m) => m.questions.some((q) => q.name === row.query && q.type === row.qtype_name)), row.query).toBe(true);
      if (row.answers !== '-') expect(msgs.some((m) => m.answers.some((a) => a.name === row.query && a.data === row.answers)), row.query).toBe(true);
    }
  });

  it('mqtt_connect, mqtt_subscribe and mqtt_publish logs', async () => {
    const c = 'zeek/mqtt';
    const { events } = await eventsOf(casePath(c));
    const mqtt = events.filter((e) => e.type === 'mqtt').map((e) => ({ port: Math.min(e.src.port, e.dst.port) === 1883 ? Math.max(e.src.port, e.dst.port) : 0, m: e.mqtt as Record<string, unknown> }));
    for (const row of log(c, 'mqtt_connect.log')) {
      const conn = mqtt.find((x) => x.port === Number(row['id.orig_p']) && x.m.type === 'CONNECT')!.m;
      expect([conn.protocolName, conn.protocolVersion, conn.clientId]).toEqual([row.proto_name, row.proto_version === '3.1' ? 3 : 4, row.client_id]);
      const ack = mqtt.find((x) => x.port === Number(row['id.orig_p']) && x.m.type === 'CONNACK')!.m;
      expect(ack.returnCode === 0 ? 'Connection Accepted' : 'refused').toBe(row.connect_status);
    }
    for (const row of log(c, 'mqtt_subscribe.log')) {
      const sub = mqtt.find((x) => x.port === Number(row['id.orig_p']) && x.m.type === 'SUBSCRIBE')!.m;
      expect((sub.topics as { filter: string }[]).map((t) => t.filter).join(',')).toBe(row.topics);
    }
    for (const row of log(c, '_mqtt_publish.log')) {
      expect(mqtt.some((x) => x.port === Number(row['id.orig_p']) && x.m.type === 'PUBLISH' && x.m.topic === row.topic), row.topic).toBe(true);
    }
  });

  it('conn.log: VLAN id 0 is a tag, not "no VLAN"', async () => {
    const c = 'zeek/vlan-0-http';
    const row = log(c, 'conn.log.cut')[0];
    const { report } = await eventsOf(casePath(c));
    expect(String(report.flows[0].vlan[0])).toBe(row.vlan);
  });
});

/** `key: value` expectations of a Suricata test.yaml (and of the tests in also/ that reuse the pcap). */
function suricataValues(caseName: string, key: string): string[] {
  const dir = path.join(CORPUS, caseName);
  const files = [path.join(dir, 'test.yaml')];
  const also = path.join(dir, 'also');
  if (fs.existsSync(also)) for (const d of fs.readdirSync(also)) files.push(path.join(also, d, 'test.yaml'));
  const out: string[] = [];
  for (const f of files.filter((x) => fs.existsSync(x))) {
    const text = fs.readFileSync(f, 'utf8');
    for (const m of text.matchAll(new RegExp(`^\\s+${key.replace('.', '\\.')}: (.+)$`, 'gm'))) out.push(m[1].trim().replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1'));
  }
  return out;
}

const suricataVersion: Record<string, string> = { 'TLS 1.3': 'TLSv1.3', 'TLS 1.2': 'TLSv1.2', 'TLS 1.1': 'TLSv1.1', 'TLS 1.0': 'TLSv1.0', 'TLS 1.3 draft-28': 'TLSv1.3-draft28' };

describeCorpus('against Suricata test.yaml values', () => {
  for (const c of cases.filter((x) => x.case.startsWith('suricata-verify/'))) {
    const keys = ['tls.sni', 'tls.version', 'http.hostname', 'http.http_user_agent', 'http.url', 'http.http_method'];
    const wanted = keys.map((k) => [k, suricataValues(c.case, k)] as const).filter(([, v]) => v.length > 0);
    if (wanted.length === 0) continue;
    it(c.case, async () => {
      const { events, report } = await eventsOf(casePath(c));
      const tls = report.flows.map((f) => facts(f).tls).filter(Boolean);
      const http = events.filter((e) => e.type === 'http').map((e) => e.http as Record<string, unknown>);
      for (const [key, values] of wanted) {
        for (const v of values) {
          switch (key) {
            case 'tls.sni':
              expect(tls.map((t) => t.sni), key).toContain(v);
              break;
            case 'tls.version':
              expect(tls.map((t) => t.version), key).toContain(suricataVersion[v] ?? v);
              break;
            case 'http.hostname':
              // Suricata strips the port and the IPv6 brackets from Host.
              expect(http.map((h) => String(h.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '[$1]')), key).toContain(v.startsWith('[') ? v : v);
              break;
            case 'http.http_user_agent':
              expect(http.map((h) => h.userAgent), key).toContain(v);
              break;
            case 'http.url':
              expect(http.map((h) => h.uri), key).toContain(v);
              break;
            case 'http.http_method':
              expect(http.map((h) => h.method), key).toContain(v);
              break;
          }
        }
      }
    });
  }
});

/**
 * TLS conformance: every ClientHello and ServerHello tshark lists in the corpus (SNI, ALPN, hello
 * version, supported_versions, JA3 and its string, JA3S and its string, cipher) on the same frame;
 * JA4 against nDPI's and Suricata's expectations (tshark 4.0 has no JA4).
 *
 * Where the oracles part ways: ndpi/tls-encrypted-sni carries ESNI and no server_name extension.
 * nDPI writes JA4 `t13d...`; the FoxIO specification says `d` only when the SNI extension is
 * present, so we write `t13i...` (the b and c parts agree).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS, casePath, corpusCases, describeCorpus } from '../helpers/corpus.js';
import { eventsOf, oracleRows } from '../helpers/events.js';

const cases = corpusCases().filter((c) => fs.readFileSync(path.join(CORPUS, c.case, 'tshark.txt'), 'utf8').includes('## TLS ClientHello'));
const hex4 = (v: string) => v.toLowerCase();

/** tshark.txt shortens long values to "prefix...(len N)" (oracleRows keeps it as "...(len:N)"). */
function expectCut(ours: string, theirs: string, what: string): void {
  const m = /^(.*)\.\.\.\(len:(\d+)\)$/.exec(theirs);
  if (!m) return void expect(ours, what).toBe(theirs);
  expect(ours.startsWith(m[1]), `${what}: ${ours} vs ${theirs}`).toBe(true);
  expect(ours.length, what).toBe(Number(m[2]));
}

function upstreamJa4(caseName: string): string[] {
  const dir = path.join(CORPUS, caseName);
  const out: string[] = [];
  for (const f of fs.readdirSync(dir)) {
    if (fs.statSync(path.join(dir, f)).isDirectory()) continue;
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    if (f.startsWith('ndpiReader')) {
      // One line per flow: keep TCP flows (QUIC's JA4 starts with q).
      for (const line of text.split('\n')) {
        const m = /\bTCP .*\[JA4: ([^\]]+)\]/.exec(line);
        if (m) out.push(m[1]);
      }
    }
    if (f === 'test.yaml') for (const m of text.matchAll(/\btls\.ja4: (\S+)/g)) out.push(m[1]);
  }
  return out.sort();
}

describeCorpus('TLS against tshark, nDPI and Suricata', () => {
  it('covers the TLS captures of the corpus', () => {
    expect(cases.length).toBe(16);
  });

  for (const c of cases) {
    it(c.case, async () => {
      const text = fs.readFileSync(path.join(CORPUS, c.case, 'tshark.txt'), 'utf8');
      const rows = oracleRows(text, 'TLS ClientHello / ServerHello');
      const { events } = await eventsOf(casePath(c));
      const tls = events.filter((e) => e.type === 'tls').map((e) => ({ frame: e.frame, t: e.tls as Record<string, unknown> }));
      for (const row of rows) {
        const kind = row.cols[0] === 'ClientHello' ? 'client_hello' : 'server_hello';
        const ev = tls.find((e) => e.frame === row.frame && e.t.handshake === kind);
        const where = `frame ${row.frame} ${row.cols[0]}`;
        expect(ev, where).toBeDefined();
        const t = ev!.t;
        const f = row.fields;
        if (kind === 'client_hello') {
          expect(t.sni, `${where} sni`).toBe(f.get('sni') ?? null);
          expect((t.alpn as string[]).join(';'), `${where} alpn`).toBe(f.get('alpn') ?? '');
          expect(t.ja3, `${where} ja3`).toBe(f.get('ja3'));
          expectCut(t.ja3String as string, f.get('ja3_full')!, `${where} ja3 string`);
          if (f.has('supported_versions')) {
            const ours = (t.supportedVersions as string[]).length;
            expect(ours, `${where} supported_versions`).toBe(f.get('supported_versions')!.split(';').length);
          }
        } else {
          expect(t.ja3s, `${where} ja3s`).toBe(f.get('ja3s'));
          expectCut(t.ja3sString as string, f.get('ja3s_full')!, `${where} ja3s string`);
          expect(`0x${(t.cipher as number).toString(16).padStart(4, '0')}`, `${where} cipher`).toBe(hex4(f.get('cipher')!));
        }
      }
      // No hello tshark does not see, either.
      expect(tls.length).toBe(rows.length);
      const theirs = upstreamJa4(c.case);
      if (theirs.length > 0) {
        let ours = tls.filter((e) => e.t.handshake === 'client_hello').map((e) => e.t.ja4 as string).sort();
        if (c.case === 'ndpi/tls-encrypted-sni') ours = ours.map((j) => j.replace(/^t13i/, 't13d'));
        // Suricata lists one value per distinct fingerprint.
        if (!theirs.some((j) => j.startsWith('t') && theirs.length < ours.length)) expect(ours).toEqual(theirs);
        else expect([...new Set(ours)]).toEqual([...new Set(theirs)]);
      }
    });
  }

  it('recognises ECH and reports the outer SNI (ndpi/tls-ech)', async () => {
    const { report } = await eventsOf(casePath('ndpi/tls-ech'));
    const t = (report.flows.find((f) => f.app === 'tls')!.protocol as { tls: Record<string, unknown> }).tls;
    expect([t.sni, t.ech, t.version]).toEqual(['performance.radar.cloudflare.com', true, 'TLSv1.3']);
  });

  it('recognises ESNI (ndpi/tls-encrypted-sni)', async () => {
    const { report } = await eventsOf(casePath('ndpi/tls-encrypted-sni'));
    const tls = report.flows.filter((f) => f.app === 'tls').map((f) => (f.protocol as { tls: Record<string, unknown> }).tls);
    expect(tls.length).toBe(3);
    expect(tls.every((t) => t.esni === true && t.sni === null)).toBe(true);
  });

  it('marks MQTT over TLS on 8883 as encrypted MQTT, broker named by SNI', async () => {
    // No public capture of MQTT over TLS exists (INDEX.md): the port of a TLS capture is rewritten.
    const { execFileSync } = await import('node:child_process');
    const os = await import('node:os');
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-tls-')), '8883.pcap');
    execFileSync('tcprewrite', ['--portmap=443:8883', `--infile=${casePath('ndpi/tls-443-safari')}`, `--outfile=${out}`]);
    const { report } = await eventsOf(out);
    const f = report.flows.find((x) => x.resp.port === 8883)!;
    expect([f.app, f.encrypted]).toEqual(['mqtt-tls', true]);
    expect((f.protocol as { tls: { sni: string; mqtt: boolean } }).tls).toMatchObject({ sni: 'www.ntop.org', mqtt: true });
  });
});

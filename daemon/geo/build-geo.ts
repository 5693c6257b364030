/**
 * Build step: compacts the shipped address data into range tables (see range-table.ts).
 * - Country: @ip-location-db/geo-whois-asn-country (CC0-1.0: GeoFeed, RIR whois and ASN data).
 * - AS number and organisation: @ip-location-db/asn (RouteViews and DB-IP IP to ASN Lite,
 *   CC BY 4.0: attribution in NOTICE and in the dashboard).
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { parseAddr } from '../decode/address.js';
import { OrgNames } from './org-names.js';
import { RangeTable } from './range-table.js';

interface Row {
  start: number[];
  end: number[];
  value: number;
}

/** The CSV's fields; organisation names may be quoted and contain commas. */
function fields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let j = i + 1;
      let s = '';
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) throw new Error(`unterminated quote: ${line}`);
        s += line.slice(j, q);
        if (line[q + 1] === '"') {
          s += '"';
          j = q + 2;
        } else {
          i = q + 2;
          break;
        }
      }
      out.push(s);
    } else {
      const c = line.indexOf(',', i);
      const e = c < 0 ? line.length : c;
      out.push(line.slice(i, e));
      i = e + 1;
    }
  }
  return out;
}

async function readRows(file: string, v6: boolean, value: (f: string[]) => number): Promise<Row[]> {
  const rows: Row[] = [];
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line) continue;
    const f = fields(line);
    const a = parseAddr(f[0]);
    const b = parseAddr(f[1]);
    rows.push(v6 ? { start: [a[0], a[1]], end: [b[0], b[1]], value: value(f) } : { start: [a[3]], end: [b[3]], value: value(f) });
  }
  rows.sort((x, y) => x.start[0] - y.start[0] || (x.start[1] ?? 0) - (y.start[1] ?? 0));
  return rows;
}

export const countryCode = (cc: string): number => (cc.charCodeAt(0) << 8) | cc.charCodeAt(1);

export async function buildGeo(countryDir: string, asnDir: string, out: string): Promise<Record<string, number>> {
  fs.mkdirSync(out, { recursive: true });
  const sizes: Record<string, number> = {};
  const write = (name: string, buf: Buffer) => {
    fs.writeFileSync(path.join(out, name), buf);
    sizes[name] = buf.length;
  };
  const cc = (f: string[]) => (/^[A-Z]{2}$/.test(f[2]) ? countryCode(f[2]) : 0);
  write('country-v4.bin', RangeTable.build(1, 2, await readRows(path.join(countryDir, 'geo-whois-asn-country-ipv4.csv'), false, cc)));
  write('country-v6.bin', RangeTable.build(2, 2, await readRows(path.join(countryDir, 'geo-whois-asn-country-ipv6.csv'), true, cc)));
  const names = new Map<number, string>();
  const asn = (f: string[]) => {
    const n = Number(f[2]);
    if (f[3] && !names.has(n)) names.set(n, f[3]);
    return n;
  };
  write('asn-v4.bin', RangeTable.build(1, 4, await readRows(path.join(asnDir, 'asn-ipv4.csv'), false, asn)));
  write('asn-v6.bin', RangeTable.build(2, 4, await readRows(path.join(asnDir, 'asn-ipv6.csv'), true, asn)));
  write('asn-names.bin', OrgNames.build(names));
  return sizes;
}

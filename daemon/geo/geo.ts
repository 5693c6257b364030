/**
 * Where an internet address is: country, AS number and organisation, from the data shipped with
 * the package (build-geo.ts), overridden by the user's `networks` (an ISP's own ranges, a lab's
 * test ranges). Lookups happen once per flow, not per packet, and are cached.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAddr } from '../decode/address.js';
import { inPrefix, parseCidr, type Prefix } from '../flows/locality.js';
import { PagedOrgNames, PagedRangeTable } from './paged.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/geo-data, written by the build; sources (tests) read the built copy too. */
export const GEO_DIR = path.basename(path.dirname(here)) === 'dist' || !fs.existsSync(path.resolve(here, '../../dist/geo-data')) ? path.resolve(here, '../geo-data') : path.resolve(here, '../../dist/geo-data');

/** A `networks` entry of the config file. */
export interface NetworkOverride {
  cidr: string;
  country?: string;
  asn?: number;
  org?: string;
  label?: string;
}

export interface GeoInfo {
  country: string | null;
  asn: number | null;
  org: string | null;
  /** The `label` of the matching `networks` entry. */
  label: string | null;
  /** `config` when a `networks` entry answered (any field), `data` when only shipped data did. */
  source: 'config' | 'data' | null;
}

interface Tables {
  c4: PagedRangeTable;
  c6: PagedRangeTable;
  a4: PagedRangeTable;
  a6: PagedRangeTable;
  names: PagedOrgNames;
}

const opened = new Map<string, Tables | null>();

/**
 * The shipped tables, opened once and read on demand (paged.ts: ~13 MB stay on disk); null when
 * the package was built without them.
 */
function tables(dir: string): Tables | null {
  const known = opened.get(dir);
  if (known !== undefined) return known;
  const files: { close(): void }[] = [];
  const keep = <T extends { close(): void }>(f: T): T => (files.push(f), f);
  const open = (f: string) => keep(PagedRangeTable.open(path.join(dir, f)));
  let t: Tables | null;
  try {
    t = {
      c4: open('country-v4.bin'),
      c6: open('country-v6.bin'),
      a4: open('asn-v4.bin'),
      a6: open('asn-v6.bin'),
      names: keep(PagedOrgNames.open(path.join(dir, 'asn-names.bin'))),
    };
  } catch (e) {
    for (const f of files) f.close();
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`address data in ${dir} is unreadable: ${(e as Error).message}`);
    t = null;
  }
  // Opened once per folder for the life of the process (engines and reloads share them).
  opened.set(dir, t);
  return t;
}

const code = (v: number): string | null => (v > 0 ? String.fromCharCode(v >> 8, v & 255) : null);

export class Geo {
  private readonly overrides: { prefix: Prefix; net: NetworkOverride }[];
  private readonly cache = new Map<string, GeoInfo>();
  private readonly data: Tables | null;

  constructor(networks: NetworkOverride[] = [], dir = GEO_DIR) {
    // Longest prefix first: the most specific entry wins.
    this.overrides = networks.map((net) => ({ prefix: parseCidr(net.cidr), net })).sort((a, b) => b.prefix.bits - a.prefix.bits);
    this.data = tables(dir);
  }

  /** Whether shipped data is present (a build without it still honours `networks`). */
  get hasData(): boolean {
    return this.data !== null;
  }

  lookup(ip: string): GeoInfo {
    let r = this.cache.get(ip);
    if (r) return r;
    r = this.compute(ip);
    if (this.cache.size >= 4096) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(ip, r);
    return r;
  }

  private compute(ip: string): GeoInfo {
    let w: number[];
    try {
      w = parseAddr(ip);
    } catch {
      return { country: null, asn: null, org: null, label: null, source: null };
    }
    let country: string | null = null;
    let asn: number | null = null;
    let org: string | null = null;
    let label: string | null = null;
    let source: GeoInfo['source'] = null;
    for (const { prefix, net } of this.overrides) {
      if (!inPrefix(prefix, w[0], w[1], w[2], w[3])) continue;
      source = 'config';
      country ??= net.country ?? null;
      asn ??= net.asn ?? null;
      org ??= net.org ?? null;
      label ??= net.label ?? null;
    }
    const t = this.data;
    // Special-purpose addresses (RFC 6890) are nobody's country, whatever the data says (the
    // shipped data has 192.168.0.0/16 in AU); documentation ranges get one only from `networks`.
    if (t && !isSpecialPurpose(w[0], w[1], w[2], w[3])) {
      const v4 = w[0] === 0 && w[1] === 0 && w[2] === 0xffff;
      if (country === null) {
        country = code(v4 ? t.c4.find(w[3]) : t.c6.find(w[0], w[1]));
        if (country) source ??= 'data';
      }
      if (asn === null) {
        const a = v4 ? t.a4.find(w[3]) : t.a6.find(w[0], w[1]);
        if (a > 0) {
          asn = a;
          source ??= 'data';
        }
      }
      if (org === null && asn !== null) org = t.names.get(asn);
    }
    return { country, asn, org, label, source };
  }
}

const SPECIAL = ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.0.2.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4', '::/127', 'ff00::/8', 'fc00::/7', 'fe80::/10', '2001:db8::/32'].map(parseCidr);

function isSpecialPurpose(w0: number, w1: number, w2: number, w3: number): boolean {
  return SPECIAL.some((p) => inPrefix(p, w0, w1, w2, w3));
}

/**
 * /etc/config/dhcp `config ipset` sections: dnsmasq adds the addresses of the allowed names to
 * the firewall sets when it resolves them. Needs dnsmasq-full (the default dnsmasq package is
 * built without nftset support).
 *
 * How OpenWrt's init script turns a section into dnsmasq options (package/network/services/
 * dnsmasq/files/dnsmasq.init, dnsmasq_ipset_add(); read in the copy carried by
 * ZeroWrt/ZeroWrt@87cbfb1908e2307f71f945b09ab655b35c6f6de2, the openwrt/openwrt copy in the
 * index predates nftset):
 * - every `list name` and `list domain` of the section go on ONE line,
 *   `nftset=/d1/d2/…/4#inet#fw4#set4,6#inet#fw4#set6`, plus an `ipset=/d1/d2/…/set4,set6` line;
 * - `option table` (default fw4) and `option table_family` (default inet) name the nft table;
 * - `option family` applies to every name of the section; without it the family comes from the
 *   set name (a final 4 or 6 after a non-digit, `[-_]4[-_]`, or a leading `4`/`6`), else from
 *   `nft list set`, which fails when fw4 has not loaded yet. So: no `option family`, and set
 *   names that end in `dst4` / `dst6`.
 */
import type { UciGroup } from './uci-model.js';
import { list, opt, section, type UciOut } from './uci-text.js';

/** dnsmasq reads config lines into a MAXDNAME (1025) buffer: 1023 characters and the newline. */
export const DNSMASQ_MAX_LINE = 1023;
export const NFT_TABLE = 'fw4';
export const NFT_TABLE_FAMILY = 'inet';

/** The set family the init script infers from a set name (null: it would ask nft at boot). */
export function familyFromSetName(name: string): '4' | '6' | null {
  const m = /^.*[^0-9]([46])$|^.*[-_]([46])[-_].*$|^([46])[^0-9].*$/.exec(name);
  return m ? ((m[1] ?? m[2] ?? m[3]) as '4' | '6') : null;
}

/** The two lines the init script writes for one section, as dnsmasq reads them. */
export function dnsmasqLines(domains: string[], sets: string[], family: '4' | '6' | null = null, table = NFT_TABLE, tableFamily = NFT_TABLE_FAMILY): { nftset: string; ipset: string } {
  const d = domains.map((x) => `/${x}`).join('');
  const nft = sets.map((s) => {
    const f = family ?? familyFromSetName(s);
    return `${f ? `${f}#` : ''}${tableFamily}#${table}#${s}`;
  });
  return { nftset: `nftset=${d}/${nft.join(',')}`, ipset: `ipset=${d}/${sets.join(',')}` };
}

/** Sections for one group: as few as the line limit allows, every name in exactly one. */
export function groupSections(g: UciGroup, comment: string[]): UciOut[] {
  const sets = [g.set4, g.set6];
  const chunks: string[][] = [];
  let cur: string[] = [];
  for (const name of g.domains) {
    const next = [...cur, name];
    if (cur.length > 0 && dnsmasqLines(next, sets).nftset.length > DNSMASQ_MAX_LINE) {
      chunks.push(cur);
      cur = [name];
    } else cur = next;
  }
  if (cur.length > 0) chunks.push(cur);
  return chunks.map((domains, i) => {
    const s = section('ipset', `vigie_g${g.index}_dns${i + 1}`, i === 0 ? comment : []);
    list(s, 'name', sets);
    list(s, 'domain', domains);
    opt(s, 'table', NFT_TABLE);
    opt(s, 'table_family', NFT_TABLE_FAMILY);
    return s;
  });
}

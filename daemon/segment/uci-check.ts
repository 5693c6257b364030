/**
 * Finds, in /etc/config/firewall and /etc/config/dhcp text, what firewall4 or dnsmasq would
 * silently get wrong. firewall4 prints such problems as `[!]` warnings, exits 0 and leaves the
 * section out (or, worse, keeps a rule that does less than it says); dnsmasq keeps one set list
 * per name and refuses to start on an over-long line. Rules from openwrt/firewall4
 * root/usr/share/ucode/fw4.uc (7ae5e14bbd7265cc67ec870c3bb0c8e197bb7ca9 and
 * 05c8c4eba13070a128be9d29ffba1f00fa6d84de: parse_options, parse_ipset, parse_rule,
 * parse_redirect, infer_family, map_setmatch) and dnsmasq.init dnsmasq_ipset_add (see
 * uci-dhcp.ts). Parsing reuses daemon/config/uci.ts.
 */
import { isIP } from 'node:net';
import { parseUci, type UciOption, type UciSection } from '../util/uci-syntax.js';
import { dnsName } from './names.js';
import { DNSMASQ_MAX_LINE, dnsmasqLines, familyFromSetName } from './uci-dhcp.js';

export { type UciSection } from '../util/uci-syntax.js';

/** The sections of a UCI file (throws UciError with a line number on bad syntax). */
export function parseUciFirewall(text: string): UciSection[] {
  return parseUci(text);
}

type Kind = 'opt' | 'list';
/** Options fw4 reads, per section type; `U` = "is not supported by fw4" (warned, ignored). */
const SPEC: Record<string, Record<string, Kind | 'U'>> = {
  ipset: {
    enabled: 'opt', reload_set: 'opt', counters: 'opt', comment: 'opt', name: 'opt', family: 'opt', storage: 'U', match: 'list',
    iprange: 'U', portrange: 'U', netmask: 'U', maxelem: 'opt', hashsize: 'U', timeout: 'opt', external: 'U', entry: 'list', loadfile: 'opt',
  },
  rule: {
    enabled: 'opt', name: 'opt', _name: 'U', family: 'opt', src: 'opt', dest: 'opt', device: 'opt', direction: 'opt', ipset: 'opt', helper: 'opt',
    set_helper: 'opt', proto: 'list', src_ip: 'list', src_mac: 'list', src_port: 'list', dest_ip: 'list', dest_port: 'list', icmp_type: 'list',
    extra: 'U', limit: 'opt', limit_burst: 'opt', utc_time: 'opt', start_date: 'opt', stop_date: 'opt', start_time: 'opt', stop_time: 'opt',
    weekdays: 'opt', monthdays: 'U', mark: 'opt', set_mark: 'opt', set_xmark: 'opt', dscp: 'opt', set_dscp: 'opt', counter: 'opt', log: 'opt',
    log_limit: 'opt', target: 'opt',
  },
  redirect: {
    enabled: 'opt', name: 'opt', _name: 'U', family: 'opt', src: 'opt', dest: 'opt', ipset: 'opt', helper: 'opt', proto: 'list', src_ip: 'opt',
    src_mac: 'list', src_port: 'opt', src_dip: 'opt', src_dport: 'opt', dest_ip: 'opt', dest_port: 'opt', extra: 'U', limit: 'opt', limit_burst: 'opt',
    utc_time: 'opt', start_date: 'opt', stop_date: 'opt', start_time: 'opt', stop_time: 'opt', weekdays: 'opt', monthdays: 'U', mark: 'opt',
    reflection: 'opt', reflection_src: 'opt', reflection_zone: 'list', counter: 'opt', log: 'opt', log_limit: 'opt', target: 'opt',
  },
  zone: {
    enabled: 'opt', name: 'opt', family: 'opt', network: 'list', device: 'list', subnet: 'list', input: 'opt', output: 'opt', forward: 'opt',
    masq: 'opt', masq_allow_invalid: 'opt', masq_src: 'list', masq_dest: 'list', masq6: 'opt', extra: 'U', extra_src: 'U', extra_dest: 'U',
    mtu_fix: 'opt', custom_chains: 'U', log: 'opt', log_limit: 'opt', auto_helper: 'opt', helper: 'list', counter: 'opt',
  },
  forwarding: { enabled: 'opt', name: 'opt', family: 'opt', src: 'opt', dest: 'opt' },
};
/** Read by fw4 but not checked option by option here. */
const OTHER_TYPES = new Set(['defaults', 'include', 'nat', 'helper']);

const RULE_NAME_MAX = 122; // nft comment "!fw4: NAME" ≤ 128 bytes (NFTNL_UDATA_COMMENT_MAXLEN)
const SET_NAME_MAX = 255; // NFT_NAME_MAXLEN 256, with the NUL
const IDENT = /^[a-zA-Z_.][a-zA-Z0-9/_.-]*$/; // fw4.uc parse_identifier (ipset names at 05c8c4eb)
const MAC = /^[0-9a-f]{1,2}([:-][0-9a-f]{1,2}){5}$/i; // fw4.uc parse_mac
const PORT = /^!?\s*\d{1,5}([-:]\d{1,5})?$/;
const TARGETS = ['accept', 'reject', 'drop', 'notrack', 'helper', 'mark', 'dscp', 'dnat', 'snat', 'masquerade'];

export interface CheckOptions {
  /** Zones that exist on the router besides those defined in the text (default lan, wan). */
  zones?: string[];
  /** Families the plan's devices use: a MAC set rule must exist for each (default both). */
  families?: (4 | 6)[];
}

interface SetInfo {
  name: string;
  family: 0 | 4 | 6 | null;
  types: string[];
  dirs: string[];
  entries: string[];
  loadfile: boolean;
  where: string;
}

function where(s: UciSection): string {
  const n = s.options.get('name')?.values[0];
  return `${s.type} ${s.name ?? `@${s.type}`}${n && n !== s.name ? ` (${n})` : ''} (line ${s.line})`;
}

function val(s: UciSection, key: string): string | undefined {
  return s.options.get(key)?.values[0];
}

/** fw4.uc to_array: a list's values, or an option's value split on blanks. */
function values(o: UciOption | undefined): string[] {
  if (!o) return [];
  return o.values.flatMap((v) => v.trim().split(/[ \t]+/)).filter((v) => v !== '');
}

/** fw4.uc parse_family: any/all/* → 0, "inet" or a 4 → 4, a 6 → 6, else invalid. */
export function fw4Family(v: string | undefined): 0 | 4 | 6 | null | 'invalid' {
  if (v === undefined) return null;
  if (v === 'any' || v === 'all' || v === '*') return 0;
  if (v === 'inet' || v.includes('4')) return 4;
  if (v.includes('6')) return 6;
  return 'invalid';
}

function checkOptions(s: UciSection, problems: string[]): void {
  const spec = SPEC[s.type];
  if (!spec) return;
  for (const o of s.options.values()) {
    if (o.name === 'type') continue;
    const k = spec[o.name];
    if (k === undefined) problems.push(`${where(s)}: unknown option '${o.name}' (fw4 warns "specifies unknown option" and ignores it)`);
    else if (k === 'U') problems.push(`${where(s)}: option '${o.name}' is not supported by fw4 (warned, ignored)`);
    else if (k === 'opt' && o.list) problems.push(`${where(s)}: '${o.name}' must be an option, not a list (fw4: "must not be a list", section left out)`);
  }
}

function parseSet(s: UciSection, problems: string[]): SetInfo | null {
  const w = where(s);
  const name = val(s, 'name');
  if (!name) {
    problems.push(`${w}: no option name (fw4: "option 'name' is mandatory", set left out)`);
    return null;
  }
  if (!IDENT.test(name)) problems.push(`${w}: set name "${name}" is not an fw4 identifier (letters, digits, _ . / -; not starting with a digit)`);
  if (Buffer.byteLength(name) > SET_NAME_MAX) problems.push(`${w}: set name is ${Buffer.byteLength(name)} bytes, nft allows ${SET_NAME_MAX}`);
  const famOpt = val(s, 'family');
  const f = fw4Family(famOpt);
  if (f === null) problems.push(`${w}: no option family: fw4 makes it IPv4 (parse_ipset default "4"), so rules using it match IPv4 only; say 'ipv4' or 'ipv6'`);
  else if (f === 0) problems.push(`${w}: family '${famOpt}': refused by fw4 (7ae5e14b: "must not specify family 'any'", set left out; later fw4 accepts it only for MAC sets); use one set per family`);
  else if (f === 'invalid') problems.push(`${w}: family '${famOpt}' is not a family (fw4: invalid value, set left out)`);
  else if (famOpt !== 'ipv4' && famOpt !== 'ipv6') problems.push(`${w}: family '${famOpt}' is read as IPv${f} by fw4 (any value containing a 4 is IPv4, "inet" too): write 'ipv${f}'`);
  const comment = val(s, 'comment');
  if (comment !== undefined && !['0', '1', 'on', 'off', 'true', 'false', 'yes', 'no'].includes(comment)) {
    problems.push(`${w}: option comment '${comment}': fw4 at 7ae5e14b reads it as a boolean, so the set is left out ("invalid value"); use a # comment`);
  }
  const dirs: string[] = [];
  const types: string[] = [];
  for (const m of values(s.options.get('match'))) {
    const mm = /^(src|dst|dest)_(.+)$/.exec(m);
    const t = ['ip', 'port', 'mac', 'net', 'set'].find((c) => c.startsWith((mm ? mm[2] : m).toLowerCase()));
    if (!t) {
      problems.push(`${w}: match '${m}' is not a set type (src_/dest_ + ip, port, mac, net)`);
      continue;
    }
    if (t === 'set') problems.push(`${w}: match type 'set' is not supported by fw4 (set left out)`);
    dirs.push(mm && mm[1] !== 'src' ? 'dst' : 'src');
    types.push(t);
  }
  if (types.length === 0) {
    problems.push(`${w}: no match: fw4 says "has no datatypes assigned" and leaves the set out`);
    return null;
  }
  types.forEach((t, i) => {
    if (t === 'mac' && dirs[i] === 'dst') problems.push(`${w}: a destination MAC set: every rule using it is left out (fw4 map_setmatch: "destination MAC address matching not supported")`);
  });
  const entries = values(s.options.get('entry'));
  const family = f === 4 || f === 6 || f === 0 ? f : null;
  for (const e of entries) {
    const parts = e.split(/\s+/);
    if (parts.length !== types.length) continue;
    parts.forEach((p, i) => {
      const t = types[i];
      if (t === 'mac' && !MAC.test(p)) problems.push(`${w}: entry '${p}' is not a MAC address (fw4: "ignoring invalid ipset entry")`);
      if (t === 'ip' || t === 'net') {
        const a = p.split('/')[0];
        const af = isIP(a);
        const setFam = family === 6 ? 6 : 4;
        if (af === 0) problems.push(`${w}: entry '${p}' is not an address (fw4: "ignoring invalid ipset entry")`);
        else if (af !== setFam) problems.push(`${w}: entry '${p}' is IPv${af} in an IPv${setFam} set (fw4: "ignoring invalid ipset entry")`);
      }
    });
  }
  return { name, family: family === 0 ? 0 : (f === null ? 4 : family), types, dirs, entries, loadfile: s.options.has('loadfile'), where: w };
}

function isAllProto(s: UciSection): boolean {
  const p = values(s.options.get('proto')).map((x) => x.toLowerCase());
  return p.length > 0 && p.every((x) => x === 'all' || x === 'any' || x === '*');
}

/** The parts of a rule that must be the same for its other-family twin. */
function signature(s: UciSection): string {
  const keep = [...s.options.values()].filter((o) => !['name', 'family', 'ipset', 'enabled'].includes(o.name)).map((o) => [o.name, [...o.values].sort()]);
  keep.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  return JSON.stringify(keep);
}

function checkZoneRef(s: UciSection, key: string, zones: Set<string>, problems: string[]): void {
  const z = val(s, key);
  if (z !== undefined && z !== '*' && !zones.has(z)) problems.push(`${where(s)}: ${key} '${z}' is not a zone defined here or on the router (fw4: invalid value, section left out)`);
}

function checkName(s: UciSection, problems: string[]): void {
  const n = val(s, 'name');
  if (n === undefined) return;
  if (Buffer.byteLength(n) > RULE_NAME_MAX) problems.push(`${where(s)}: name is ${Buffer.byteLength(n)} bytes: fw4 writes it into an nft comment ("!fw4: " + name) limited to 128 bytes, and nft then refuses the whole ruleset`);
  if (/["\\]/.test(n)) problems.push(`${where(s)}: name holds a quote or backslash, which fw4 copies into an nft string`);
}

function checkCommon(s: UciSection, problems: string[]): void {
  const t = val(s, 'target');
  if (t !== undefined && !TARGETS.some((c) => c.startsWith(t.toLowerCase()))) problems.push(`${where(s)}: target '${t}' is not an fw4 target`);
  for (const key of ['src_port', 'dest_port', 'src_dport']) for (const p of values(s.options.get(key))) if (!PORT.test(p)) problems.push(`${where(s)}: ${key} '${p}' is not a port or range`);
  for (const m of values(s.options.get('src_mac'))) if (!MAC.test(m.replace(/^!/, ''))) problems.push(`${where(s)}: src_mac '${m}' is not a MAC address`);
  for (const key of ['src_ip', 'dest_ip']) {
    for (const a of values(s.options.get(key))) {
      const v = a.replace(/^!/, '');
      // A bare word is a network name, resolved by fw4 from ubus (fw4.uc parse_subnet).
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v) && isIP(v.split('/')[0].split('-')[0]) === 0) problems.push(`${where(s)}: ${key} '${a}' is not an address, range or network name`);
    }
  }
  const f = fw4Family(val(s, 'family'));
  if (f === 'invalid') problems.push(`${where(s)}: family '${val(s, 'family')}' is not a family (section left out)`);
  const hasPorts = ['src_port', 'dest_port'].some((k) => s.options.has(k));
  if (hasPorts && isAllProto(s)) problems.push(`${where(s)}: ports with proto all are ignored (fw4 parse_rule reads them only for tcp and udp): the rule matches every port`);
}

function checkRule(s: UciSection, sets: Map<string, SetInfo>, problems: string[]): void {
  checkName(s, problems);
  checkCommon(s, problems);
  const ref = val(s, 'ipset');
  if (!ref) return;
  const setName = ref.replace(/^\s*!/, '').trim().split(/[ \t]/)[0];
  const set = sets.get(setName);
  if (!set) {
    problems.push(`${where(s)}: references unknown set '${setName}' (fw4: section left out)`);
    return;
  }
  if (!isAllProto(s)) {
    const target = (val(s, 'target') ?? '').toLowerCase();
    const leak = target.startsWith('drop') || target.startsWith('reject');
    problems.push(
      `${where(s)}: uses set ${setName} without proto 'all': proto defaults to tcp+udp (fw4 parse_rule "tcpudp")${leak ? ', so ICMP and every other protocol of these devices pass' : ''}`,
    );
  }
  const rf = fw4Family(val(s, 'family'));
  const sf = set.family;
  if (rf === null) problems.push(`${where(s)}: uses set ${setName} (IPv${sf === 6 ? 6 : 4}) without option family: fw4 restricts it to the set's family silently; state option family 'ipv${sf === 6 ? 6 : 4}'`);
  else if ((rf === 4 || rf === 6) && (sf === 4 || sf === 6) && rf !== sf) problems.push(`${where(s)}: family IPv${rf} but set ${setName} is IPv${sf}: fw4 skips it ("is restricted to IPv${rf} but referenced set match is IPv${sf} only")`);
  if (set.types.includes('mac') && set.dirs[set.types.indexOf('mac')] === 'dst') problems.push(`${where(s)}: set ${setName} matches a destination MAC: fw4 leaves the rule out`);
}

function checkRedirect(s: UciSection, problems: string[]): void {
  checkName(s, problems);
  checkCommon(s, problems);
  const target = (val(s, 'target') ?? 'dnat').toLowerCase();
  const src = val(s, 'src');
  if (target.startsWith('dnat')) {
    if (!src) problems.push(`${where(s)}: a DNAT without src zone (fw4: "has no source specified", left out)`);
    else if (src === '*') problems.push(`${where(s)}: a DNAT with src '*' (fw4: "must not have source '*' for dnat target", left out)`);
  }
  const hasAddr = ['src_ip', 'src_dip', 'dest_ip'].some((k) => s.options.has(k));
  if (!s.options.has('family') && !hasAddr) problems.push(`${where(s)}: no family and no address: fw4 makes the redirect IPv4 only ("treat unspecified family as IPv4"); write one per family`);
}

/** MAC set rules need a twin for the other family, or that family's traffic passes. */
function checkFamilyCoverage(rules: UciSection[], sets: Map<string, SetInfo>, families: (4 | 6)[], problems: string[]): void {
  const macRules = rules
    .map((r) => {
      const set = sets.get((val(r, 'ipset') ?? '').replace(/^\s*!/, '').trim().split(/[ \t]/)[0]);
      if (!set || !set.types.includes('mac') || set.loadfile) return null;
      const rf = fw4Family(val(r, 'family'));
      const f = rf === 4 || rf === 6 ? rf : set.family === 6 ? 6 : 4;
      return { r, set, f, sig: signature(r) };
    })
    .filter((x): x is NonNullable<typeof x> => x !== null);
  for (const a of macRules) {
    for (const other of families) {
      if (other === a.f) continue;
      const twin = macRules.some((b) => b.f === other && b.sig === a.sig && a.set.entries.every((e) => b.set.entries.some((x) => x.toLowerCase() === e.toLowerCase())));
      if (!twin) problems.push(`${where(a.r)}: matches the MACs of ${a.set.name} for IPv${a.f} only and no rule does the same for IPv${other}: the IPv${other} traffic of those devices passes`);
    }
  }
}

/** Every problem fw4 would warn about (and leave out) or silently get wrong, one line each. */
export function checkUciTraps(parsed: UciSection[], opts: CheckOptions = {}): string[] {
  const problems: string[] = [];
  const families = opts.families ?? [4, 6];
  const zones = new Set(opts.zones ?? ['lan', 'wan']);
  for (const s of parsed) if (s.type === 'zone' && val(s, 'name')) zones.add(val(s, 'name')!);

  const sectionNames = new Map<string, UciSection>();
  for (const s of parsed) {
    if (!SPEC[s.type] && !OTHER_TYPES.has(s.type)) problems.push(`${where(s)}: fw4 does not read '${s.type}' sections (ignored without a word)`);
    if (s.name) {
      const prev = sectionNames.get(s.name);
      if (prev) problems.push(`${where(s)}: section name '${s.name}' already used at line ${prev.line} (uci merges them into one section)`);
      else sectionNames.set(s.name, s);
    }
    checkOptions(s, problems);
  }

  const sets = new Map<string, SetInfo>();
  for (const s of parsed.filter((x) => x.type === 'ipset')) {
    const info = parseSet(s, problems);
    if (!info) continue;
    if (sets.has(info.name)) problems.push(`${info.where}: set name '${info.name}' already used by ${sets.get(info.name)!.where} (two nft sets of one name: the ruleset fails to load)`);
    else sets.set(info.name, info);
  }

  const ruleNames = new Map<string, UciSection>();
  const rules = parsed.filter((x) => x.type === 'rule');
  for (const s of [...rules, ...parsed.filter((x) => x.type === 'redirect')]) {
    const n = val(s, 'name');
    if (n) {
      const prev = ruleNames.get(n);
      if (prev) problems.push(`${where(s)}: rule name '${n}' already used by ${where(prev)}`);
      else ruleNames.set(n, s);
    }
    checkZoneRef(s, 'src', zones, problems);
    checkZoneRef(s, 'dest', zones, problems);
    if (s.type === 'rule') checkRule(s, sets, problems);
    else checkRedirect(s, problems);
  }
  for (const s of parsed.filter((x) => x.type === 'forwarding')) {
    checkZoneRef(s, 'src', zones, problems);
    checkZoneRef(s, 'dest', zones, problems);
  }
  checkFamilyCoverage(rules, sets, families, problems);
  return problems;
}

const DHCP_IPSET = new Set(['name', 'domain', 'table', 'table_family', 'family', 'instance']);

/**
 * /etc/config/dhcp `config ipset` sections: one set list per name, lines dnsmasq can read,
 * families the init script can tell, and (given the firewall sections) sets that exist with
 * that family and match destination addresses.
 */
export function checkDnsmasqTraps(dhcp: UciSection[], firewall?: UciSection[]): string[] {
  const problems: string[] = [];
  const fwSets = new Map<string, SetInfo>();
  if (firewall) for (const s of firewall.filter((x) => x.type === 'ipset')) {
    const info = parseSet(s, []);
    if (info) fwSets.set(info.name, info);
  }
  const owner = new Map<string, string>();
  for (const s of dhcp.filter((x) => x.type === 'ipset')) {
    const w = where(s);
    for (const o of s.options.values()) if (!DHCP_IPSET.has(o.name)) problems.push(`${w}: unknown option '${o.name}' for a dnsmasq ipset section`);
    const names = s.options.get('name')?.values ?? [];
    const domains = s.options.get('domain')?.values ?? [];
    if (names.length === 0 || domains.length === 0) {
      problems.push(`${w}: needs list name and list domain (the init script skips it otherwise)`);
      continue;
    }
    const table = val(s, 'table') ?? 'fw4';
    const tableFamily = val(s, 'table_family') ?? 'inet';
    const fo = val(s, 'family');
    let family: '4' | '6' | null = tableFamily === 'ip' ? '4' : tableFamily === 'ip6' ? '6' : null;
    if (!family && fo !== undefined) {
      if (fo !== '4' && fo !== '6') problems.push(`${w}: option family '${fo}': dnsmasq wants 4 or 6 here (it becomes "${fo}#inet#…" on the nftset line)`);
      else family = fo;
      const inferred = new Set(names.map(familyFromSetName));
      if (names.length > 1 && inferred.size > 1) problems.push(`${w}: option family '${fo}' applies to every name of the section, also the IPv${fo === '4' ? 6 : 4} one(s): one section per family, or no option family`);
    }
    for (const n of names) {
      const f = family ?? familyFromSetName(n);
      if (!f) problems.push(`${w}: the family of set ${n} cannot be told from its name (end it in 4 or 6): the init script asks nft at boot, before fw4 has made the set`);
      const fs = fwSets.get(n);
      if (firewall && table === 'fw4') {
        if (!fs) problems.push(`${w}: set ${n} is not defined in the firewall sections`);
        else {
          if (f && fs.family !== Number(f)) problems.push(`${w}: set ${n} gets IPv${f} answers but is an IPv${fs.family} set in the firewall (${fs.where})`);
          if (!(fs.types.length === 1 && fs.types[0] === 'ip' && fs.dirs[0] === 'dst')) problems.push(`${w}: set ${n} should match dest_ip alone to take resolved addresses`);
        }
      }
    }
    for (const d of domains) {
      const n = dnsName(d);
      if (!n) problems.push(`${w}: '${d}' is not a DNS name`);
      const key = (n ?? d).toLowerCase();
      const prev = owner.get(key);
      if (prev) problems.push(`${w}: '${d}' also in ${prev}: dnsmasq keeps one set list per name (the last line wins), so the other section's sets are never filled for it`);
      else owner.set(key, w);
    }
    const lines = dnsmasqLines(domains, names, family, table, tableFamily);
    for (const l of [lines.nftset, lines.ipset]) {
      if (l.length > DNSMASQ_MAX_LINE) problems.push(`${w}: makes a ${l.length}-character ${l.slice(0, l.indexOf('='))} line: dnsmasq reads at most ${DNSMASQ_MAX_LINE} (fgets into MAXDNAME) and refuses to start on the rest`);
    }
  }
  return problems;
}

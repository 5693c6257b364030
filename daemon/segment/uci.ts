/**
 * The segmentation plan as OpenWrt 24.10 configuration to review and merge: `config ipset` and
 * `config rule` / `config redirect` sections for /etc/config/firewall (firewall4), `config ipset`
 * sections for /etc/config/dhcp (dnsmasq-full fills the allow-lists from DNS answers), and on
 * request a recipe for a separate iot network. Every section and rule name starts with "vigie".
 *
 * firewall4 traps this output avoids (openwrt/firewall4, root/usr/share/ucode/fw4.uc, read at
 * 7ae5e14bbd7265cc67ec870c3bb0c8e197bb7ca9 and 05c8c4eba13070a128be9d29ffba1f00fa6d84de):
 * - a `config ipset` without `option family` is IPv4 (parse_ipset: `family: ["family", "4"]`),
 *   and a rule using a set inherits the set's family (infer_family), so a MAC set used alone only
 *   filters IPv4; `family any` is refused at 7ae5e14b ("must not specify family 'any'", the set is
 *   skipped). Hence one MAC set per family, each with an explicit family, used by one rule per
 *   family with the same `option family`.
 * - a rule's `proto` defaults to `tcpudp` (parse_rule), so a drop rule without `proto` lets ICMP
 *   and every other protocol through: every rule that uses a set says `proto 'all'`.
 * - problems are printed as `[!] …` warnings, fw4 still exits 0 and leaves the section out: the
 *   tests parse this output back and check it with checkUciTraps (uci-check.ts).
 * - a rule name becomes an nft comment, `comment "!fw4: NAME"` (templates/rule.uc at
 *   187405075911d408fa48e97ce343e76a2a30ef12), which nft limits to 128 bytes
 *   (NFTNL_UDATA_COMMENT_MAXLEN): names are ASCII and at most 122 bytes.
 *
 * What fw4 rules cannot do that the nft output does: firewall4 filters in the inet family, so it
 * sees only what the router routes or receives. Two devices on the same bridge (br-lan, or Wi-Fi
 * clients of one access point) talk without it: the LAN limits of quarantine, local-only, iot and
 * blocked need the nft output's bridge table or a separate network (the recipe).
 */
import type { SegmentationPlan } from '../model/plan.js';
import { asciiLabel, oneLine } from './names.js';
import { groupSections } from './uci-dhcp.js';
import { buildUciModel, deviceAddrSet, RESTRICTED, type Restricted, type UciModel, ZONE_KEY, zoneMacSet } from './uci-model.js';
import { renderIotRecipe } from './uci-recipe.js';
import { commentBlock, list, opt, section, type UciOut, writeSections } from './uci-text.js';

export interface UciOptions {
  /** Also write a recipe for a separate iot network, SSID and firewall zone. */
  iotNetworkRecipe?: boolean;
}

export interface UciRender {
  firewall: string;
  dhcp: string;
  recipe: string | null;
  notes: string[];
}

/** The fw4 rule name limit: 128 bytes of nft comment minus "!fw4: ". */
export const FW4_RULE_NAME_MAX = 122;

export const FW4_SOURCES = [
  'openwrt/firewall4 root/usr/share/ucode/fw4.uc @ 7ae5e14bbd7265cc67ec870c3bb0c8e197bb7ca9 and 05c8c4eba13070a128be9d29ffba1f00fa6d84de',
  'openwrt/firewall4 root/usr/share/firewall4/templates/rule.uc @ 187405075911d408fa48e97ce343e76a2a30ef12',
];

const FAMILIES = [4, 6] as const;
const fam = (f: 4 | 6): string => `ipv${f}`;

function ruleName(zone: string, what: string): string {
  return asciiLabel(`vigie ${zone}: ${what}`, FW4_RULE_NAME_MAX);
}

function rule(name: string, title: string, comments: string[] = []): UciOut {
  return opt(section('rule', name, comments), 'name', title);
}

function macSets(m: UciModel): UciOut[] {
  const out: UciOut[] = [];
  for (const z of RESTRICTED) {
    const devs = m.byZone[z];
    if (devs.length === 0) continue;
    for (const f of FAMILIES) {
      const s = section('ipset', zoneMacSet(z, f), f === 4 ? [`${z}: ${devs.length} device(s), by MAC; one set per family (a set without family is IPv4 only)`] : []);
      opt(s, 'name', zoneMacSet(z, f));
      opt(s, 'family', fam(f));
      list(s, 'match', ['src_mac']);
      list(s, 'entry', devs.map((d) => d.mac));
      out.push(s);
    }
  }
  return out;
}

/** iot: learnt addresses per device, and the DNS-filled sets per group of names. */
function iotSets(m: UciModel): UciOut[] {
  const out: UciOut[] = [];
  for (const d of m.byZone.iot) {
    for (const f of FAMILIES) {
      const addrs = f === 4 ? d.dest4 : d.dest6;
      if (addrs.length === 0) continue;
      const s = section('ipset', deviceAddrSet(d, f), [`iot ${oneLine(d.plan.name)} (${d.mac}): addresses it was seen using, IPv${f}`]);
      opt(s, 'name', deviceAddrSet(d, f));
      opt(s, 'family', fam(f));
      list(s, 'match', ['dest_ip']);
      list(s, 'entry', addrs);
      out.push(s);
    }
  }
  for (const g of m.groups) {
    for (const f of FAMILIES) {
      const name = f === 4 ? g.set4 : g.set6;
      const s = section('ipset', name, f === 4 ? [`names ${g.domains.slice(0, 3).join(', ')}${g.domains.length > 3 ? ` and ${g.domains.length - 3} more` : ''}: filled by dnsmasq (/etc/config/dhcp)`] : []);
      opt(s, 'name', name);
      opt(s, 'family', fam(f));
      list(s, 'match', ['dest_ip']);
      out.push(s);
    }
  }
  return out;
}

function iotRules(m: UciModel): UciOut[] {
  const iot = m.byZone.iot;
  if (iot.length === 0) return [];
  const out: UciOut[] = [];
  // Its own DNS-over-TLS/QUIC resolver would bypass dnsmasq, so its names would never reach the sets.
  const dot = rule('vigie_iot_no_dot', ruleName('iot', 'no DNS over TLS or QUIC (853)'), ['iot: first refuse encrypted DNS, then accept what each device was seen using, then drop the rest to the internet']);
  opt(dot, 'src', '*');
  opt(dot, 'dest', 'wan');
  list(dot, 'src_mac', iot.map((d) => d.mac));
  list(dot, 'proto', ['tcp', 'udp']);
  opt(dot, 'dest_port', '853');
  opt(dot, 'target', 'REJECT');
  out.push(dot);
  for (const d of iot) {
    for (const f of FAMILIES) {
      if ((f === 4 ? d.dest4 : d.dest6).length === 0) continue;
      const r = rule(`vigie_d_${d.id}_ok${f}`, ruleName('iot', `${d.label} learnt addresses IPv${f}`));
      opt(r, 'src', '*');
      opt(r, 'dest', 'wan');
      list(r, 'src_mac', [d.mac]);
      opt(r, 'ipset', deviceAddrSet(d, f));
      opt(r, 'family', fam(f));
      opt(r, 'proto', 'all');
      opt(r, 'target', 'ACCEPT');
      out.push(r);
    }
  }
  const byMac = new Map(iot.map((d) => [d.mac, d]));
  for (const g of m.groups) {
    const who = g.macs.map((mac) => byMac.get(mac)!.label);
    for (const f of FAMILIES) {
      const r = rule(`vigie_g${g.index}_ok${f}`, ruleName('iot', `names of group ${g.index} IPv${f} (${who.join(', ')})`));
      opt(r, 'src', '*');
      opt(r, 'dest', 'wan');
      list(r, 'src_mac', g.macs);
      opt(r, 'ipset', f === 4 ? g.set4 : g.set6);
      opt(r, 'family', fam(f));
      opt(r, 'proto', 'all');
      opt(r, 'target', 'ACCEPT');
      out.push(r);
    }
  }
  return out;
}

/** Routed traffic the zone loses: to the internet (iot, local-only) or anywhere (quarantine, blocked). */
function forwardDrops(m: UciModel): UciOut[] {
  const out: UciOut[] = [];
  const what: Record<Restricted, [dest: string, text: string]> = {
    iot: ['wan', 'rest of the internet'],
    'local-only': ['wan', 'no internet'],
    quarantine: ['*', 'no internet, nothing routed'],
    blocked: ['*', 'nothing routed'],
  };
  for (const z of RESTRICTED) {
    if (m.byZone[z].length === 0) continue;
    const [dest, text] = what[z];
    for (const f of FAMILIES) {
      const r = rule(`vigie_${ZONE_KEY[z]}_drop${f}`, ruleName(z, `${text} IPv${f}`));
      opt(r, 'src', '*');
      opt(r, 'dest', dest);
      opt(r, 'ipset', zoneMacSet(z, f));
      opt(r, 'family', fam(f));
      opt(r, 'proto', 'all');
      opt(r, 'target', 'DROP');
      out.push(r);
    }
  }
  return out;
}

/** Restricted devices reach the router for joining the network only (as the nft output's router_services). */
function routerRules(m: UciModel): UciOut[] {
  const joined = [...m.byZone.iot, ...m.byZone['local-only'], ...m.byZone.quarantine];
  const out: UciOut[] = [];
  if (joined.length > 0) {
    const macs = joined.map((d) => d.mac);
    const services: [name: string, what: string, protos: string[], ports: string | null, icmp: string[] | null, family: string | null][] = [
      ['vigie_router_dhcp', 'DHCP and DHCPv6 to the router', ['udp'], '67 547', null, null],
      ['vigie_router_dns', 'DNS to the router', ['tcp', 'udp'], '53', null, null],
      ['vigie_router_ntp', 'NTP to the router', ['udp'], '123', null, null],
      ['vigie_router_ping', 'ping the router', ['icmp'], null, ['echo-request'], null],
      ['vigie_router_nd', 'IPv6 router and neighbour discovery', ['icmp'], null, ['router-solicitation', 'neighbour-solicitation', 'neighbour-advertisement'], 'ipv6'],
    ];
    for (const [name, what, protos, ports, icmp, family] of services) {
      const r = rule(name, ruleName('restricted', what), name === 'vigie_router_dhcp' ? ['iot, local-only, quarantine: the router only for DHCP, DNS, NTP, ping and neighbour discovery'] : []);
      opt(r, 'src', '*');
      list(r, 'src_mac', macs);
      list(r, 'proto', protos);
      if (ports) opt(r, 'dest_port', ports);
      if (icmp) list(r, 'icmp_type', icmp);
      if (family) opt(r, 'family', family);
      opt(r, 'target', 'ACCEPT');
      out.push(r);
    }
  }
  for (const z of RESTRICTED) {
    if (m.byZone[z].length === 0) continue;
    for (const f of FAMILIES) {
      const r = rule(`vigie_${ZONE_KEY[z]}_router${f}`, ruleName(z, `${z === 'blocked' ? 'nothing' : 'nothing else'} to the router IPv${f}`));
      opt(r, 'src', '*');
      opt(r, 'ipset', zoneMacSet(z, f));
      opt(r, 'family', fam(f));
      opt(r, 'proto', 'all');
      opt(r, 'target', 'DROP');
      out.push(r);
    }
  }
  return out;
}

/**
 * New connections from the internet to a restricted device (port forwards, UPnP) by its current
 * addresses: fw4 cannot match a destination MAC ("destination MAC address matching not
 * supported", fw4.uc map_setmatch). Replies to what the device opened are accepted earlier by
 * fw4's `ct state established,related accept`.
 */
function inboundRules(m: UciModel): UciOut[] {
  const out: UciOut[] = [];
  for (const z of RESTRICTED) {
    const ips = m.byZone[z].flatMap((d) => d.ips);
    if (ips.length === 0) continue;
    const r = rule(`vigie_${ZONE_KEY[z]}_inbound`, ruleName(z, 'no connection from the internet (by current address)'));
    opt(r, 'src', 'wan');
    opt(r, 'dest', '*');
    list(r, 'dest_ip', ips);
    opt(r, 'proto', 'all');
    opt(r, 'target', 'DROP');
    out.push(r);
  }
  return out;
}

/**
 * DNS from restricted devices goes to the router's dnsmasq whatever server they ask. A DNAT
 * needs a source zone (fw4.uc parse_redirect: "must not have source '*' for dnat target"), and a
 * redirect without family is IPv4 only ("treat unspecified family as IPv4"): one per family.
 */
function dnsRedirects(m: UciModel): UciOut[] {
  const joined = [...m.byZone.iot, ...m.byZone['local-only'], ...m.byZone.quarantine];
  if (joined.length === 0) return [];
  return FAMILIES.map((f) => {
    const r = section('redirect', `vigie_dns${f}`, f === 4 ? ['DNS of iot, local-only and quarantine devices to the router, whatever server they ask (move src to the iot zone if you use the recipe)'] : []);
    opt(r, 'name', ruleName('restricted', `DNS to the router IPv${f}`));
    opt(r, 'src', 'lan');
    list(r, 'src_mac', joined.map((d) => d.mac));
    list(r, 'proto', ['tcp', 'udp']);
    opt(r, 'src_dport', '53');
    opt(r, 'family', fam(f));
    opt(r, 'target', 'DNAT');
    return r;
  });
}

function deviceComments(m: UciModel): string[] {
  const out: string[] = [];
  for (const z of RESTRICTED) {
    for (const d of m.byZone[z]) out.push(`${z.padEnd(10)} ${d.mac}  ${oneLine(d.plan.name, 60)}: ${oneLine(d.plan.reasons[0] ?? '', 160)}`);
  }
  return out;
}

function header(plan: SegmentationPlan, m: UciModel, file: string, extra: string[]): string {
  const counts = RESTRICTED.map((z) => `${z} ${m.byZone[z].length}`).join(', ');
  return commentBlock([
    `Vigie segmentation plan for OpenWrt 24.10: sections to merge into ${file}.`,
    `Generated ${plan.generated} by Vigie ${plan.vigie.version} from ${plan.source.kind} ${oneLine(plan.source.path, 120)}.`,
    `Restricted devices: ${counts}. Every section is named vigie_* (and every rule "vigie ...").`,
    ...extra,
  ]);
}

export function renderUci(plan: SegmentationPlan, opts: UciOptions = {}): UciRender {
  const m = buildUciModel(plan);
  const fwSections = [...macSets(m), ...iotSets(m), ...iotRules(m), ...forwardDrops(m), ...routerRules(m), ...inboundRules(m), ...dnsRedirects(m)];
  const dhcpSections = m.groups.flatMap((g) => groupSections(g, [`group ${g.index}: ${g.macs.map((mac) => m.devices.find((d) => d.mac === mac)!.label).join(', ')}`]));
  const needsFull = dhcpSections.length > 0;

  const firewall =
    header(plan, m, '/etc/config/firewall', [
      'Review, back up, append, check, reload (docs/segmentation-openwrt.md):',
      '  cp /etc/config/firewall /etc/config/firewall.before-vigie && cat firewall.vigie >> /etc/config/firewall',
      '  fw4 check && fw4 reload && /etc/init.d/dnsmasq restart',
      'fw4 reports problems as lines starting with [!] and still exits 0: each [!] line is a section it left out.',
      'This file was written to give none; if one appears, do not rely on the plan until it is gone.',
      needsFull ? 'The name-based allow-lists need dnsmasq-full (the dhcp part); the default dnsmasq ignores them.' : 'No name-based allow-list: the dhcp part is empty and plain dnsmasq is enough.',
      'What these rules cannot do: fw4 sees only traffic the router routes or receives. Between two devices on the same',
      'bridge (br-lan, Wi-Fi clients of one access point) nothing here applies: the LAN limits of the zones need the nft',
      'output (vigie segment --format nft, its bridge table) or a separate iot network (--iot-network recipe).',
      'Remove everything Vigie added:',
      "  for s in $(uci -q show firewall | sed -n 's/^firewall\\.\\(vigie_[A-Za-z0-9_]*\\)=.*/\\1/p'); do uci delete firewall.$s; done; uci commit firewall; fw4 reload",
      ...FW4_SOURCES.map((s) => `Checked against ${s}.`),
      '',
      ...deviceComments(m),
    ]) + writeSections(fwSections);

  const dhcp =
    header(plan, m, '/etc/config/dhcp', [
      needsFull
        ? 'Needs dnsmasq-full: with the default dnsmasq these sections do nothing. Check with: dnsmasq --version | grep -o nftset'
        : 'Nothing to add: no iot device has a name-based allow-list.',
      'Each name is in exactly one section: dnsmasq keeps one set list per name (the last line wins), and a line is at most 1024 bytes.',
      'A name also covers its subdomains (dnsmasq matches the suffix). dnsmasq fills the sets only with answers it forwards, not from its',
      'cache: restart it after fw4 reload (fw4 reload empties the sets).',
      'Remove: for s in $(uci -q show dhcp | sed -n \'s/^dhcp\\.\\(vigie_[A-Za-z0-9_]*\\)=.*/\\1/p\'); do uci delete dhcp.$s; done; uci commit dhcp',
    ]) + writeSections(dhcpSections);

  const notes = uciNotes(m, needsFull);
  const recipe = opts.iotNetworkRecipe ? renderIotRecipe(plan, m) : null;
  return { firewall, dhcp, recipe, notes };
}

function uciNotes(m: UciModel, needsFull: boolean): string[] {
  const notes: string[] = [];
  if (needsFull) notes.push('the /etc/config/dhcp part needs dnsmasq-full (nftset support); with the default dnsmasq the iot allow-lists hold only the addresses learnt');
  const lanLimited = m.devices.length;
  if (lanLimited > 0) {
    notes.push(
      `fw4 rules cannot isolate devices on the same bridge (br-lan, or Wi-Fi clients of one access point): the ${lanLimited} restricted device(s) keep their LAN access with the UCI output; use the nft output (bridge table) or a separate iot network (--iot-network)`,
    );
  }
  if (m.byZone.iot.some((d) => d.plan.allow.hosts.some((h) => h.ports.length > 0))) {
    notes.push('the UCI allow-lists are by destination address, any port: fw4 ignores ports in a rule that matches all protocols, and a set filled by DNS holds addresses only');
  }
  if (m.devices.length > 0) {
    notes.push('connections open before fw4 reload continue (fw4 accepts established traffic first): restart the restricted devices');
    if (m.devices.some((d) => d.ips.length > 0)) notes.push('the rules against connections from the internet match the devices\' current addresses: regenerate after their addresses change');
  }
  notes.push(...m.skipped);
  return notes;
}

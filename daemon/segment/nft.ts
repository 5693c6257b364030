/**
 * The nftables ruleset of a segmentation plan, in Vigie's own tables only (`inet vigie` for
 * routed traffic and the router itself, `bridge vigie` for traffic between devices on the same
 * bridge, which never reaches the inet forward hook), and the dnsmasq lines that fill the
 * allow-lists when a device resolves a permitted name.
 *
 * Why it can be loaded over a working router:
 * - The file declares each table, deletes it, then defines it again, so one `nft -f` replaces
 *   Vigie's tables in a single transaction and loading it twice gives the same result; other
 *   tables (OpenWrt's `inet fw4`) are never touched (nftables wiki, "Atomic rule replacement";
 *   nft(8), "Tables": `delete` fails on a missing table, declaring it first makes it exist).
 * - Every base chain has policy accept and only drops: a packet has to be accepted by every base
 *   chain of a hook, so these chains can take away what fw4 allows but never allow what fw4
 *   denies (nftables wiki, "Configuring chains", base chain priority).
 * - Drops are stateless, with no `ct state established accept` for restricted devices: a
 *   connection a quarantined camera opened before the change stops with it.
 */
import type { SegmentationPlan } from '../model/plan.js';
import { buildNftModel, type NftDeviceModel, type NftMapModel, type NftModel, type NftOptions, type NftSetModel, sanitizeComment, zoneSetName } from './nft-model.js';

export { buildNftModel, countNftElements, type NftModel, type NftOptions } from './nft-model.js';

/** The table name, also what dnsmasq's nftset lines and the apply script refer to. */
export const NFT_TABLE = 'vigie';

function setBlock(s: NftSetModel, indent: string): string[] {
  const out = [`${indent}# ${sanitizeComment(s.purpose)}${s.dynamic ? ' (dnsmasq adds to it at resolution time)' : ''}`, `${indent}set ${s.name} {`, `${indent}\ttype ${s.type}`, `${indent}\tsize ${s.size}`];
  if (s.elements.length > 0) out.push(`${indent}\telements = {`, ...s.elements.map((e) => `${indent}\t\t${e},`), `${indent}\t}`);
  out.push(`${indent}}`);
  return out;
}

/** A verdict map; each element's comment names the device (nft accepts `#` comments anywhere). */
function mapBlock(m: NftMapModel, indent: string, label: (chain: string) => string | undefined): string[] {
  const out = [`${indent}# ${sanitizeComment(m.purpose)}`, `${indent}map ${m.name} {`, `${indent}\ttype ${m.type} : verdict`, `${indent}\tsize ${m.size}`];
  if (m.elements.length > 0) {
    out.push(`${indent}\telements = {`);
    for (const [k, chain] of m.elements) {
      const note = label(chain);
      out.push(`${indent}\t\t${k} : jump ${chain},${note ? ` # ${note}` : ''}`);
    }
    out.push(`${indent}\t}`);
  }
  out.push(`${indent}}`);
  return out;
}

function ifaces(model: NftModel): string {
  return `{ ${model.lanInterfaces.map((i) => `"${i}"`).join(', ')} }`;
}

/** Where a restricted device may send routed traffic (inet forward). */
function outboundChain(d: NftDeviceModel): string[] {
  const c = (what: string): string => `comment "${d.zone} ${d.label}: ${what}"`;
  const rules: string[] = [];
  if (d.zone === 'iot') {
    // Its own DNS-over-TLS (853/tcp) or DNS-over-QUIC (853/udp) resolver would bypass the
    // router's dnsmasq, so the names it resolves would never reach its allow-list.
    rules.push(`meta l4proto { tcp, udp } th dport 853 counter drop ${c('encrypted DNS would bypass the name list')}`);
    rules.push(`ip daddr @${d.sets.allow4} return`, `ip6 daddr @${d.sets.allow6} return`);
    for (const n of d.shared) rules.push(`ip daddr @${n.v4} return`, `ip6 daddr @${n.v6} return`);
  }
  if (d.zone !== 'blocked') rules.push(`ip daddr @${d.sets.lan4} return`, `ip6 daddr @${d.sets.lan6} return`);
  if (d.zone === 'iot') rules.push('ip daddr @iot_v4 return', 'ip6 daddr @iot_v6 return');
  // The last rule also covers what the accepts above do not name: other ICMP, IPv6, non-TCP/UDP.
  rules.push(`counter drop ${c(d.zone === 'blocked' ? 'nothing' : d.zone === 'iot' ? 'not on its list' : d.zone === 'local-only' ? 'no internet, only its LAN peers' : 'only its controllers')}`);
  return [`\t# ${d.zone}: ${d.label} (${d.mac}), what it may reach through the router`, `\tchain dev_${d.id} {`, ...rules.map((r) => `\t\t${r}`), '\t}'];
}

/**
 * Who may reach a restricted device through the router (by its known addresses): the reply
 * half of what outboundChain allows, and nothing else, so a port forward (UPnP) to a quarantined
 * camera no longer reaches it.
 */
function inboundChain(d: NftDeviceModel): string[] {
  const rules: string[] = [];
  if (d.zone === 'iot') {
    rules.push(`ip saddr @${d.sets.allow4} return`, `ip6 saddr @${d.sets.allow6} return`);
    for (const n of d.shared) rules.push(`ip saddr @${n.v4} return`, `ip6 saddr @${n.v6} return`);
    // Errors about its own connections (path MTU, unreachable): IPv6 needs packet-too-big.
    rules.push('icmp type { destination-unreachable, time-exceeded, parameter-problem } ct state related return');
    rules.push('icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem } ct state related return');
  }
  if (d.zone !== 'blocked') rules.push(`ip saddr @${d.sets.lan4} return`, `ip6 saddr @${d.sets.lan6} return`);
  if (d.zone === 'iot') rules.push('ip saddr @iot_v4 return', 'ip6 saddr @iot_v6 return');
  rules.push(`counter drop comment "${d.zone} ${d.label}: not allowed to reach it"`);
  return [`\t# ${d.zone}: ${d.label} (${d.mac}), who may reach it through the router`, `\tchain dev_in_${d.id} {`, ...rules.map((r) => `\t\t${r}`), '\t}'];
}

/**
 * Frames between ports of a bridge. `return` (not accept) when allowed: the frame goes on to
 * the destination's chain, so both ends must allow it. Stateless, no bridge conntrack: a
 * controller is allowed both ways. ARP and IPv6 neighbour discovery pass (the controllers'
 * addresses must resolve); iot devices also keep broadcast and multicast, which discovery
 * (mDNS, SSDP) needs (nft(8), "Meta expressions": pkttype).
 */
function bridgeChains(d: NftDeviceModel): string[] {
  const drop = (what: string): string => `counter drop comment "${d.zone} ${d.label}: ${what}"`;
  const nd = 'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } return';
  const from: string[] = [];
  const to: string[] = [];
  if (d.zone !== 'blocked') {
    from.push('ether type arp return', nd);
    to.push('ether type arp return', nd);
    if (d.zone === 'iot') {
      from.push('meta pkttype { broadcast, multicast } return', 'ether daddr @zone_iot return');
      to.push('ether saddr @zone_iot return');
    }
    from.push(`ether daddr @${d.sets.lanMac} return`);
    to.push(`ether saddr @${d.sets.lanMac} return`);
  }
  from.push(drop(d.zone === 'blocked' ? 'nothing on the LAN' : 'not a LAN peer it keeps'));
  to.push(drop(d.zone === 'blocked' ? 'nothing on the LAN' : 'not a LAN peer it keeps'));
  return [
    `\t# ${d.zone}: ${d.label} (${d.mac}), frames it sends on the bridge`,
    `\tchain from_${d.id} {`,
    ...from.map((r) => `\t\t${r}`),
    '\t}',
    '',
    `\t# ${d.zone}: ${d.label} (${d.mac}), frames sent to it on the bridge`,
    `\tchain to_${d.id} {`,
    ...to.map((r) => `\t\t${r}`),
    '\t}',
  ];
}

export function renderNftModel(model: NftModel, header: string[]): string {
  const lan = ifaces(model);
  const labels = new Map<string, string>();
  for (const d of model.devices) for (const c of [`dev_${d.id}`, `dev_in_${d.id}`, `from_${d.id}`, `to_${d.id}`]) labels.set(c, `${d.zone} ${d.label} (${d.mac})`);
  const note = (chain: string): string | undefined => labels.get(chain);
  const inetSets = model.sets.filter((s) => s.family === 'inet');
  const inetMaps = model.maps.filter((m) => m.family === 'inet');
  const out: string[] = ['#!/usr/sbin/nft -f', ...header.map((h) => `# ${sanitizeComment(h, 200)}`), ''];
  out.push(
    '# Declared, then deleted, then defined: one transaction that replaces Vigie\'s tables and no others.',
    `table inet ${NFT_TABLE}`,
    `delete table inet ${NFT_TABLE}`,
    `table bridge ${NFT_TABLE}`,
    `delete table bridge ${NFT_TABLE}`,
    '',
    '# Routed traffic and traffic to the router itself.',
    `table inet ${NFT_TABLE} {`,
  );
  for (const s of inetSets) out.push(...setBlock(s, '\t'), '');
  for (const m of inetMaps) out.push(...mapBlock(m, '\t', note), '');

  const dnsZones = (['iot', 'local-only', 'quarantine'] as const).map(zoneSetName);
  out.push(
    '\t# A device with its own resolver would bypass the name-based allow-list: DNS from restricted',
    '\t# devices goes to the router\'s resolver, whatever server they ask (nft(8), "Redirect").',
    '\tchain prerouting_dns {',
    '\t\ttype nat hook prerouting priority dstnat - 5; policy accept;',
    ...dnsZones.map((z) => `\t\tiifname ${lan} ether saddr @${z} meta l4proto { tcp, udp } th dport 53 counter redirect to :53`),
    '\t}',
    '',
    '\t# Restricted devices reach the router only for what joining the network needs: the router\'s',
    '\t# SSH and web interface are a classic next step for a compromised device.',
    '\tchain input {',
    '\t\ttype filter hook input priority filter - 5; policy accept;',
    `\t\tiifname ${lan} ether saddr @zone_blocked counter drop comment "blocked: nothing reaches the router"`,
    ...dnsZones.map((z) => `\t\tiifname ${lan} ether saddr @${z} jump router_services`),
    '\t}',
    '',
    '\t# DHCP, DHCPv6, DNS, NTP, ping, router and neighbour discovery; everything else dropped.',
    '\tchain router_services {',
    '\t\tudp dport { 67, 547 } return',
    '\t\tmeta l4proto { tcp, udp } th dport 53 return',
    '\t\tudp dport 123 return',
    '\t\ticmp type echo-request return',
    '\t\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, echo-request } return',
    '\t\tcounter drop comment "restricted device to the router: only DHCP, DNS, NTP, ping and ND"',
    '\t}',
    '',
    '\t# Routed traffic from a restricted device (by MAC) and to one (by its known addresses).',
    '\tchain forward {',
    '\t\ttype filter hook forward priority filter - 5; policy accept;',
    `\t\tiifname ${lan} ether saddr vmap @from_dev`,
    `\t\toifname ${lan} ip daddr vmap @to_dev4`,
    `\t\toifname ${lan} ip6 daddr vmap @to_dev6`,
    '\t}',
  );
  for (const d of model.devices) out.push('', ...outboundChain(d), '', ...inboundChain(d));
  out.push('}', '');

  out.push('# Frames between devices on the same bridge: they never reach the inet forward hook.', `table bridge ${NFT_TABLE} {`);
  for (const s of model.sets.filter((x) => x.family === 'bridge')) out.push(...setBlock(s, '\t'), '');
  for (const m of model.maps.filter((x) => x.family === 'bridge')) out.push(...mapBlock(m, '\t', note), '');
  out.push(
    '\t# On every bridge of the router: port names differ between models (lan1, wlan0, phy0-ap0),',
    '\t# a restricted MAC is restricted wherever it appears.',
    '\tchain forward {',
    '\t\ttype filter hook forward priority -5; policy accept;',
    '\t\tether saddr vmap @from_dev',
    '\t\tether daddr vmap @to_dev',
    '\t}',
  );
  for (const d of model.devices) out.push('', ...bridgeChains(d));
  out.push('}', '');
  return out.join('\n');
}

function headerOf(plan: SegmentationPlan, model: NftModel): string[] {
  const counts = (['iot', 'local-only', 'quarantine', 'blocked'] as const).map((z) => `${z} ${model.devices.filter((d) => d.zone === z).length}`).join(', ');
  return [
    `Vigie segmentation plan, generated ${plan.generated ?? '?'} from ${plan.source?.kind ?? '?'} ${plan.source?.path ?? ''}`,
    `Restricted devices: ${counts}; ${model.elements} set elements.`,
    'Load with nft -f. Every chain accepts by default and only drops: it cannot allow what fw4 denies.',
    'Rolled back by vigie segment --apply unless confirmed (vigie segment --confirm).',
  ];
}

/** The ruleset, loadable with `nft -f`. Throws InputError on a plan it cannot render safely. */
export function renderNft(plan: SegmentationPlan, opts: NftOptions = {}): string {
  const model = buildNftModel(plan, opts);
  return renderNftModel(model, headerOf(plan, model));
}

/**
 * dnsmasq configuration that adds the addresses of each iot device's permitted names to its
 * allow-lists when they are resolved (man dnsmasq, --nftset:
 * `nftset=/<domain>/[(6|4)#[<family>#]<table>#<set>,…]`). A name shared by several devices
 * lists all their sets on one line. dnsmasq matches a name and its subdomains, and adds only
 * what it forwards upstream, not answers from its cache: after loading new sets, send dnsmasq
 * SIGHUP (it clears its cache) so that the next lookups fill them (apply.ts does it when given
 * dnsmasq's pid file).
 */
export function renderDnsmasq(plan: SegmentationPlan): string {
  const model = buildNftModel(plan, { dnsmasq: true });
  const labels = new Map(model.devices.map((d) => [d.mac, `${d.label} (${d.mac})`]));
  const out = [
    '# Vigie segmentation: the addresses of the names each iot device may reach go into its',
    '# allow-lists when dnsmasq resolves them (man dnsmasq, --nftset). The sets are made by',
    `# \`vigie segment --format nft\` (table inet ${NFT_TABLE}); load it first. A name also covers its subdomains.`,
  ];
  for (const line of model.dnsmasq) {
    out.push(`# ${sanitizeComment(`${line.host}: ${line.devices.map((m) => labels.get(m)).join(', ')}`, 200)}`);
    out.push(`nftset=/${line.host}/${line.sets.join(',')}`);
  }
  return out.join('\n') + '\n';
}

/**
 * A separate network for the restricted devices, as text to adapt: a bridge and interface, a
 * Wi-Fi SSID with client isolation, a firewall zone that may only reach the internet, a DHCP
 * pool, and the LAN peers each device keeps. Routed between zones, what the bridge let through
 * before now passes fw4, so the LAN limits the plain UCI rules cannot enforce take effect.
 *
 * Names: everything is vigie_* (interface and zone `vigie_iot`) so it is found and removed like
 * the rest. Options follow the OpenWrt 24.10 configuration (network: `config device` with
 * `option type 'bridge'`; wireless: `option isolate` on the wifi-iface; firewall: zone and
 * forwarding sections as parsed by fw4.uc parse_zone / parse_forwarding).
 */
import type { SegmentationPlan } from '../model/plan.js';
import { asciiLabel, ipFamily, oneLine, usableAddress } from './names.js';
import type { UciModel } from './uci-model.js';
import { commentBlock, list, opt, section, type UciOut, writeSections } from './uci-text.js';

const ZONE = 'vigie_iot';

function peerRules(m: UciModel): UciOut[] {
  const out: UciOut[] = [];
  for (const d of [...m.byZone.iot, ...m.byZone['local-only']]) {
    const peers = d.plan.lan.filter((p) => p.role === 'peer');
    let n = 0;
    for (const p of peers) {
      const ips = p.ips.filter((ip) => ipFamily(ip) !== null && usableAddress(ip));
      if (ips.length === 0) continue;
      const byProto = new Map<string, number[]>();
      for (const port of p.ports) if (port.proto === 'tcp' || port.proto === 'udp') byProto.set(port.proto, [...(byProto.get(port.proto) ?? []), port.port]);
      const protos = byProto.size > 0 ? [...byProto.keys()].sort() : ['all'];
      for (const proto of protos) {
        n++;
        const r = section('rule', `vigie_d_${d.id}_peer${n}`, n === 1 ? [`${d.zone} ${oneLine(d.plan.name)} (${d.mac}) keeps the LAN devices it was seen talking to`] : []);
        opt(r, 'name', asciiLabel(`vigie ${d.zone}: ${d.label} to ${asciiLabel(p.name, 40)}${proto === 'all' ? '' : ` ${proto}`}`, 122));
        opt(r, 'src', ZONE);
        opt(r, 'dest', 'lan');
        list(r, 'src_mac', [d.mac]);
        list(r, 'dest_ip', ips);
        opt(r, 'proto', proto);
        if (proto !== 'all') opt(r, 'dest_port', [...new Set(byProto.get(proto)!)].sort((a, b) => a - b).join(' '));
        opt(r, 'target', 'ACCEPT');
        out.push(r);
      }
    }
  }
  return out;
}

export function renderIotRecipe(plan: SegmentationPlan, m: UciModel): string {
  const moved = [...m.byZone.iot, ...m.byZone['local-only'], ...m.byZone.quarantine];
  const iotPeers = m.byZone.iot.some((d) => d.plan.lan.some((p) => p.mac !== null && m.byZone.iot.some((o) => o.mac === p.mac)));
  const parts: string[] = [];
  parts.push(
    commentBlock([
      'Recipe: a separate network for restricted devices (OpenWrt 24.10). Text to adapt, not to paste blindly:',
      `From the plan generated ${plan.generated} (Vigie ${plan.vigie.version}).`,
      'pick an address range that is free on your network, a radio (radio0 / radio1) and a passphrase.',
      'Join these devices to the new SSID (forget the old one on each), then reload: service network reload; wifi; fw4 reload; service dnsmasq restart',
      ...moved.map((d) => `  ${d.zone.padEnd(10)} ${d.mac}  ${oneLine(d.plan.name, 60)}`),
      'The vigie_* rules of firewall.vigie match by MAC with src *, so they keep applying on the new network;',
      `change option src 'lan' to '${ZONE}' in the two vigie_dns redirects (a DNAT needs its source zone).`,
      'Blocked devices stay where they are: the rules drop everything they send.',
      iotPeers
        ? "Some iot devices talk to each other: option isolate '1' below stops that on one access point; set it to '0' if they must."
        : "option isolate '1' keeps the devices of this SSID from talking to each other over the radio.",
    ]),
  );

  const dev = section('device', 'vigie_iot_br', ['---- /etc/config/network ----']);
  opt(dev, 'name', 'br-vigie');
  opt(dev, 'type', 'bridge');
  opt(dev, 'bridge_empty', '1');
  const ifc = section('interface', ZONE);
  opt(ifc, 'proto', 'static');
  opt(ifc, 'device', 'br-vigie');
  opt(ifc, 'ipaddr', '192.168.77.1');
  opt(ifc, 'netmask', '255.255.255.0');
  opt(ifc, 'ip6assign', '64');
  parts.push(writeSections([dev, ifc]));

  const wifi = section('wifi-iface', 'vigie_iot_wifi', ['---- /etc/config/wireless ----']);
  opt(wifi, 'device', 'radio0');
  opt(wifi, 'mode', 'ap');
  opt(wifi, 'network', ZONE);
  opt(wifi, 'ssid', 'Vigie-IoT');
  opt(wifi, 'encryption', 'psk2');
  opt(wifi, 'key', 'CHANGE-THIS-PASSPHRASE');
  opt(wifi, 'isolate', '1');
  parts.push(writeSections([wifi]));

  const pool = section('dhcp', ZONE, ['---- /etc/config/dhcp ----']);
  opt(pool, 'interface', ZONE);
  opt(pool, 'start', '100');
  opt(pool, 'limit', '100');
  opt(pool, 'leasetime', '12h');
  opt(pool, 'dhcpv6', 'server');
  opt(pool, 'ra', 'server');
  parts.push(writeSections([pool]));

  const zone = section('zone', 'vigie_iot_zone', ['---- /etc/config/firewall ----', 'The zone may reach the internet and nothing else; the router only through the vigie_router_* rules.']);
  opt(zone, 'name', ZONE);
  list(zone, 'network', [ZONE]);
  opt(zone, 'input', 'REJECT');
  opt(zone, 'output', 'ACCEPT');
  opt(zone, 'forward', 'REJECT');
  const toWan = section('forwarding', 'vigie_iot_to_wan');
  opt(toWan, 'src', ZONE);
  opt(toWan, 'dest', 'wan');
  const fromLan = section('forwarding', 'vigie_lan_to_iot', ['Controllers on the LAN (Home Assistant, phones) open connections to the devices.']);
  opt(fromLan, 'src', 'lan');
  opt(fromLan, 'dest', ZONE);
  parts.push(writeSections([zone, toWan, fromLan, ...peerRules(m)]));
  return parts.join('\n');
}

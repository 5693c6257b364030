/** DNS and mDNS's contracts (see ../contract.ts): names resolved; services offered and looked for. */
import { type Learner, type ProtocolContract, sendersOf, sentBy } from '../contract.js';
import type { DnsFacts, MdnsFacts, MdnsService } from './state.js';
import { looksLikeDnsMessage, looksLikeDnsTcp } from './probe.js';
import { DnsFlow } from './state.js';
import { onPort } from '../contract.js';

const MODEL_KEY = /^(model|md|mdl|ty|usb_MDL|product)=(.+)$/i;
/** An instance label that is only a bracketed MAC ("host [aa:bb:...]" is fine, "[aa:...]" is not a name). */
const MAC_ONLY = /^\[?[0-9a-f]{2}(:[0-9a-f]{2}){5}\]?$/i;
const HAP = /^_hap\._(tcp|udp)\.local$/i;

export const dns = {
  key: 'dns',
  title: 'DNS (RFC 1035) over UDP and TCP',
  apps: { dns: 'DNS' },
  stream: {
    port: (ctx, _dir, buf, off, len) => (onPort(ctx, 53) && looksLikeDnsTcp(buf, off, len, true) ? DnsFlow.overTcp(ctx, ctx) : null),
    message: (ctx, _dir, buf, off, len) => (looksLikeDnsTcp(buf, off, len, false) ? DnsFlow.overTcp(ctx, ctx) : null),
  },
  datagram: {
    message: (ctx, _dir, buf, off, len) => (onPort(ctx, 53) && looksLikeDnsMessage(buf, off, off + len) ? new DnsFlow(ctx, 'dns', ctx) : null),
    // Whatever else comes on port 53 is taken for DNS: its malformed messages are counted there.
    port: (ctx) => (onPort(ctx, 53) ? new DnsFlow(ctx, 'dns', ctx) : null),
  },
} satisfies ProtocolContract<'dns', DnsFacts>;

/** What a responder offers and names itself. */
function offers(x: { offered: readonly MdnsService[]; hosts: readonly string[] }, out: Learner): void {
  out.protocol('mdns');
  for (const o of x.offered) {
    if (!o.service) continue;
    out.offer(o.service, o.instance, o.txt);
    for (const t of o.txt) {
      if (MODEL_KEY.test(t)) out.add('mdnsModels', t);
      const md = /^md=(.+)$/i.exec(t);
      if (md && HAP.test(o.service)) out.add('homekitModels', md[1]);
    }
    // A service's instance name is how the household knows the device ("John's iMac"),
    // unless it is only a MAC; avahi's "host [mac]" is the host name again.
    if (o.instance && !o.instance.startsWith('_')) {
      const name = o.instance.replace(/\s*\[[0-9a-f:]{17}\]$/i, '').trim();
      if (name && !MAC_ONLY.test(name)) out.hostname(name, 'mdns');
    }
  }
  for (const h of x.hosts) if (!/\.(in-addr|ip6)\.arpa\.?$/i.test(h)) out.hostname(h, 'mdns');
}

export const mdns = {
  key: 'mdns',
  title: 'Multicast DNS and DNS-SD (RFC 6762, RFC 6763)',
  apps: { mdns: 'mDNS' },
  // Port 5353 (RFC 6762 §3) is the protocol: every message on it is mDNS, well-formed or not.
  datagram: { port: (ctx) => (onPort(ctx, 5353) ? new DnsFlow(ctx, 'mdns', null) : null) },
  learn(m, v, out) {
    if (m.senders.length > 0) {
      // What each sender of the flow said is its own (a shared multicast flow: several devices).
      for (const x of sendersOf(m.senders, v)) {
        if (x.queried) for (const b of x.browses) out.add('mdnsBrowses', b.toLowerCase().replace(/\.$/, ''));
        if (x.responded) offers(x, out);
      }
      return;
    }
    // Senders beyond the itemised ones: the flow's sides.
    if (sentBy(m.querier, v.side, 'orig')) for (const b of m.browses) out.add('mdnsBrowses', b.toLowerCase().replace(/\.$/, ''));
    if (sentBy(m.responder, v.side, 'orig')) offers(m, out);
  },
} satisfies ProtocolContract<'mdns', MdnsFacts>;

/** DHCP's contracts (see ../contract.ts). What a client says of itself reaches the inventory per message (DhcpObserver), not per flow. */
import type { ProtocolContract } from '../contract.js';
import type { DhcpFacts } from './state.js';
import { onPort } from '../contract.js';
import { DhcpFlow } from './state.js';

export const dhcp = {
  key: 'dhcp',
  title: 'DHCP (RFC 2131, RFC 2132)',
  apps: { dhcp: 'DHCP' },
  // Ports 67/68 and the magic cookie (RFC 2131 §3): BOOTP without the cookie is left alone.
  datagram: { message: (ctx, _dir, buf, off, len) => (onPort(ctx, 67, 68) && len >= 240 && buf.readUInt32BE(off + 236) === 0x63825363 ? new DhcpFlow(ctx, 'dhcp', ctx) : null) },
} satisfies ProtocolContract<'dhcp', DhcpFacts>;

export const dhcpv6 = {
  key: 'dhcpv6',
  title: 'DHCPv6 (RFC 8415)',
  apps: { dhcpv6: 'DHCPv6' },
  datagram: { port: (ctx) => (onPort(ctx, 546, 547) ? new DhcpFlow(ctx, 'dhcpv6', null) : null) },
} satisfies ProtocolContract<'dhcpv6', DhcpFacts>;

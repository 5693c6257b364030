/** NetBIOS name service's contract (see ../contract.ts): the names a host registers for itself. */
import { type ProtocolContract, sentBy } from '../contract.js';
import type { NetbiosFacts } from './state.js';
import { onPort } from '../contract.js';
import { looksLikeNbns, NBNS_PORT } from './parser.js';
import { NetbiosFlow } from './state.js';

export const netbios = {
  key: 'netbios',
  title: 'NetBIOS name service (RFC 1001, RFC 1002)',
  apps: { netbios: 'NetBIOS' },
  datagram: {
    message: (ctx, _dir, buf, off, len) => (onPort(ctx, NBNS_PORT) && looksLikeNbns(buf, off, len) ? new NetbiosFlow(ctx) : null),
    port: (ctx) => (onPort(ctx, NBNS_PORT) ? new NetbiosFlow(ctx) : null),
  },
  learn(n, v, out) {
    if (!sentBy(n.owner, v.side, 'orig')) return;
    out.protocol('netbios');
    // Its unique workstation (0x00) and server (0x20) names are the host's own.
    for (const h of n.hosts) out.hostname(h, 'netbios');
  },
} satisfies ProtocolContract<'netbios', NetbiosFacts>;

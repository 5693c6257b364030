/** LLMNR's contract (see ../contract.ts): the names a Windows or Linux host answers for. */
import { type ProtocolContract, sentBy } from '../contract.js';
import type { LlmnrFacts } from './state.js';
import { looksLikeDnsMessage } from '../dns/probe.js';
import { onPort } from '../contract.js';
import { LLMNR_PORT, LlmnrFlow } from './state.js';

export const llmnr = {
  key: 'llmnr',
  title: 'LLMNR (RFC 4795)',
  apps: { llmnr: 'LLMNR' },
  stream: { port: (ctx) => (onPort(ctx, LLMNR_PORT) ? LlmnrFlow.overTcp(ctx) : null) },
  datagram: {
    message: (ctx, _dir, buf, off, len) => (onPort(ctx, LLMNR_PORT) && looksLikeDnsMessage(buf, off, off + len) ? new LlmnrFlow(ctx) : null),
    port: (ctx) => (onPort(ctx, LLMNR_PORT) ? new LlmnrFlow(ctx) : null),
  },
  learn(l, v, out) {
    if (!sentBy(l.responder, v.side, 'resp')) return;
    out.protocol('llmnr');
    for (const n of l.answers) out.hostname(n, 'llmnr');
  },
} satisfies ProtocolContract<'llmnr', LlmnrFacts>;

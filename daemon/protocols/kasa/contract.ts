/** TP-Link Kasa's contract (see ../contract.ts): get_sysinfo names the model, its kind and the household's alias. */
import { type ProtocolContract, sentBy } from '../contract.js';
import type { KasaFacts } from './state.js';
import { KasaFlow, KasaSession, looksLikeKasaTcp, looksLikeKasaUdp, looksLikeTdp } from './state.js';

export const kasa = {
  key: 'kasa',
  title: 'TP-Link Kasa local protocol (XOR on 9999, TDP on 20002; python-kasa)',
  apps: { kasa: 'TP-Link Kasa' },
  stream: { xor: (ctx, _dir, buf, off, len) => (looksLikeKasaTcp(buf, off, len) ? new KasaSession(ctx) : null) },
  datagram: {
    xor: (ctx, _dir, buf, off, len) => (looksLikeKasaUdp(buf, off, len) ? new KasaFlow(ctx, 'xor') : null),
    // TDP has no magic of its own: its port (20002) is required.
    tdp: (ctx, _dir, buf, off, len) => ((ctx.origPort === 20002 || ctx.respPort === 20002) && looksLikeTdp(buf, off, len) ? new KasaFlow(ctx, 'tdp') : null),
  },
  learn(k, v, out) {
    if (!sentBy(k.responder, v.side, 'resp')) return;
    out.protocol('kasa');
    out.add('kasaModels', k.model);
    out.add('kasaTypes', k.deviceType);
    out.hostname(k.alias, 'kasa');
  },
} satisfies ProtocolContract<'kasa', KasaFacts>;

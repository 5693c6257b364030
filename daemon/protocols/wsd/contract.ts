/** WS-Discovery's contract (see ../contract.ts): what an ONVIF camera or a printer says it is. */
import { type ProtocolContract, sentBy } from '../contract.js';
import type { WsdFacts } from './state.js';
import { looksLikeWsd, WsdFlow } from './state.js';

export const wsd = {
  key: 'wsd',
  title: 'WS-Discovery 1.1 (OASIS), ONVIF discovery',
  apps: { wsd: 'WS-Discovery' },
  datagram: { envelope: (ctx, _dir, buf, off, len) => (looksLikeWsd(buf, off, len) ? new WsdFlow(ctx) : null) },
  learn(w, v, out) {
    // Only the announcer's Types and Scopes are its own; a Probe says what the searcher looks for.
    if (!sentBy(w.announcer, v.side, 'orig')) return;
    if (w.types.length === 0 && w.scopes.length === 0) return;
    for (const t of w.types) out.add('wsdTypes', t.replace(/^.*:/, ''));
    for (const s of w.scopes) out.add('wsdScopes', s);
    if (w.types.some((t) => /NetworkVideoTransmitter$/i.test(t))) out.protocol('onvif');
    for (const s of w.scopes) {
      const m = /^onvif:\/\/www\.onvif\.org\/name\/(.+)$/i.exec(s);
      if (m) out.hostname(m[1].replace(/[_+]/g, ' '), 'onvif');
    }
  },
} satisfies ProtocolContract<'wsd', WsdFacts>;

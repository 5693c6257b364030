/** CS2 PPPP's contract (see ../contract.ts): camera peer-to-peer relays. */
import { flag, type ProtocolContract } from '../contract.js';
import type { PpppFacts } from './state.js';
import { looksLikePppp, ppppFlow } from './state.js';

export const pppp = {
  key: 'pppp',
  title: 'CS2 Network PPPP (camera P2P; public reverse-engineering, see state.ts)',
  apps: { 'cs2-p2p': 'CS2 PPPP' },
  datagram: { message: (ctx, _dir, buf, off, len) => (looksLikePppp(buf, off, len) ? new ppppFlow(ctx) : null) },
  fields: [{ name: 'p2p', type: 'boolean', description: 'A camera P2P protocol (CS2 PPPP).', value: () => true, says: flag('it uses a camera P2P service (CS2 PPPP)', 'it uses no camera P2P service') }],
  evidence: (x) => ({ deviceIds: x.deviceIds, types: x.types }),
  learn(_f, _v, out) {
    out.protocol('pppp');
  },
} satisfies ProtocolContract<'pppp', PpppFacts>;

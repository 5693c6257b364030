/** RTMP's contract (see ../contract.ts): a client sending video in cleartext. */
import type { ProtocolContract } from '../contract.js';
import type { RtmpFacts } from './state.js';
import { looksLikeRtmp, RtmpSession } from './state.js';

export const rtmp = {
  key: 'rtmp',
  title: 'RTMP (Adobe RTMP specification 1.0), handshake',
  apps: { rtmp: 'RTMP' },
  // C0 and C1 come from the client (RTMP 1.0 §5.2.1).
  stream: { handshake: (ctx, dir, buf, off, len) => (dir === 0 && looksLikeRtmp(buf, off, len, ctx.respPort) ? new RtmpSession(ctx) : null) },
  // RTMP clients publish (cameras pushing to a cloud); a player would be the client too, rare on a LAN device.
  media: (_f, v) => ({ kind: 'rtmp', outbound: v.deviceIsClient }),
  evidence: (x) => x,
  learn(_f, v, out) {
    if (v.isClient) out.protocol('rtmp-publisher');
  },
} satisfies ProtocolContract<'rtmp', RtmpFacts>;

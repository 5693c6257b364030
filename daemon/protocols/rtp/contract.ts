/** RTP and RTCP's contracts (see ../contract.ts): cleartext audio and video. */
import type { ProtocolContract } from '../contract.js';
import { isRtcpCompound, rtpHeaderLength } from './parser.js';
import { type RtpFacts, RtpFlow, rtpStream, rtpStreamProbation } from './state.js';

export const rtp = {
  key: 'rtp',
  title: 'RTP (RFC 3550), over UDP, over TCP (RFC 4571) and set up by RTSP',
  apps: { rtp: 'RTP' },
  datagram: {
    // Ports an RTSP session announced (SETUP's Transport, RFC 2326 §12.39) are RTP or RTCP by that alone.
    announced: (ctx) => {
      const expected = ctx.expectedApp();
      return expected ? new RtpFlow(ctx, expected) : null;
    },
    // Otherwise a version-2 header, confirmed later by consecutive sequence numbers (state.ts).
    header: (ctx, _dir, buf, off, len) => (rtpHeaderLength(buf, off, len) >= 0 || isRtcpCompound(buf, off, len) ? new RtpFlow(ctx, null) : null),
  },
  // RFC 4571 framing: frames with evidence (a source's continuity, a whole RTCP compound) are sure;
  // whole frames with valid RTP headers only (a sender writing a packet per segment) make a session
  // on probation (framing.ts, state.ts).
  stream: { rfc4571: rtpStream, rfc4571Probation: rtpStreamProbation },
  media: (_f, v) => ({ kind: 'rtp', outbound: v.sent > 0 }),
  evidence: (x) => x,
} satisfies ProtocolContract<'rtp', RtpFacts>;

export const rtcp = {
  key: 'rtcp',
  title: 'RTCP (RFC 3550 §6), alone on its flow',
  apps: { rtcp: 'RTCP' },
  evidence: (x) => x,
} satisfies ProtocolContract<'rtcp', RtpFacts>;

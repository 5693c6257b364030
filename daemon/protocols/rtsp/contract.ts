/** RTSP's contract (see ../contract.ts): a camera serving or pushing its stream. */
import type { ProtocolContract } from '../contract.js';
import type { RtspFacts } from './state.js';
import { looksLikeRtsp, RtspSession } from './state.js';

const SAMPLE = 5;

export const rtsp = {
  key: 'rtsp',
  title: 'RTSP 1.0 (RFC 2326), with interleaved RTP',
  apps: { rtsp: 'RTSP' },
  stream: { request: (ctx, _dir, buf, off, len) => (looksLikeRtsp(buf, off, len) ? new RtspSession(ctx) : null) },
  // A client that ANNOUNCEs or RECORDs pushes its stream out; a server sends to whoever PLAYs.
  media: (f, v) => ({ kind: 'rtsp', outbound: v.deviceIsClient ? f.publishing : true }),
  evidence: (x) => ({ urls: x.urls.slice(0, SAMPLE), methods: x.methods, publishing: x.publishing, userAgent: x.userAgent, server: x.server, authorization: x.authorization }),
  learn(_f, v, out) {
    if (!v.isClient) out.protocol('rtsp-server');
    else if (_f.publishing) out.protocol('rtsp-publisher');
  },
} satisfies ProtocolContract<'rtsp', RtspFacts>;

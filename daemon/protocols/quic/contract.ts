/** QUIC's contract (see ../contract.ts): the version, and the client's hello from its Initial packets. */
import type { ProtocolContract } from '../contract.js';
import { quicProbe, type QuicFacts } from './state.js';

export const quic = {
  key: 'quic',
  title: 'QUIC v1 and v2, IETF drafts and Google QUIC (RFC 9000, RFC 9001, RFC 9369): Initial decrypted for SNI, ALPN and JA4',
  apps: { quic: 'QUIC' },
  // On any port: the long header's checks are strict enough (state.ts, looksLikeQuic).
  datagram: { header: quicProbe },
  remoteName: { source: 'sni', of: (f) => f.sni },
  evidence: (q) => ({ version: q.version, versionName: q.versionName, sni: q.sni, alpn: q.alpn, ja4: q.ja4 }),
  learn(q, v, out) {
    if (!v.isClient) return;
    out.add('ja4', q.ja4);
    if (q.sni) out.add('domains', q.sni.toLowerCase());
    out.add('userAgents', q.userAgent);
  },
} satisfies ProtocolContract<'quic', QuicFacts>;

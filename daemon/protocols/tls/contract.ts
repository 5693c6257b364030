/** TLS's contract (see ../contract.ts): the server name, the client's fingerprint, MQTT inside. */
import type { ProtocolContract } from '../contract.js';
import type { TlsFacts } from './state.js';
import { looksLikeTls, tlsMidstream, TlsSession } from './state.js';

export const tls = {
  key: 'tls',
  title: 'TLS 1.0 to 1.3 and SSL 3.0 (RFC 8446, RFC 5246): hellos, SNI, ALPN, JA3/JA3S/JA4',
  apps: { tls: 'TLS', 'mqtt-tls': 'MQTT over TLS' },
  stream: {
    hello: (ctx, _dir, buf, off, len) => (looksLikeTls(buf, off, len) ? new TlsSession(ctx) : null),
    midstream: tlsMidstream,
  },
  remoteName: { source: 'sni', of: (f) => f.sni },
  evidence: (t) => ({ sni: t.sni, version: t.version, alpn: t.alpn }),
  learn(t, v, out) {
    if (!v.isClient) return;
    out.add('ja4', t.ja4);
    if (t.sni) out.add('domains', t.sni.toLowerCase());
    if (t.mqtt) out.protocol('mqtt-tls');
  },
} satisfies ProtocolContract<'tls', TlsFacts>;

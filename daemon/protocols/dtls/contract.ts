/**
 * DTLS's and SRTP's contracts (see ../contract.ts): what a STUN flow carried after its STUN
 * (WebRTC's DTLS-SRTP, RFC 5764 and RFC 8827). Neither names a flow's application: such a flow
 * stays `stun` (stun/state.ts says why), these facts sit beside its `stun` ones.
 */
import type { ProtocolContract } from '../contract.js';
import type { DtlsFacts, SrtpFacts } from './state.js';

export const dtls = {
  key: 'dtls',
  title: 'DTLS 1.0 to 1.3 (RFC 6347, RFC 9147) after STUN on the same ports: hellos, version, suite, use_srtp (RFC 5764)',
  apps: {},
  evidence: (d: DtlsFacts) => ({ version: d.version, sni: d.sni, srtpProfile: d.srtpProfile }),
} satisfies ProtocolContract<'dtls', DtlsFacts>;

export const srtp = {
  key: 'srtp',
  title: 'SRTP and SRTCP (RFC 3711) after STUN on the same ports: packets and sources per direction, keyed by DTLS or not',
  apps: {},
  evidence: (s: SrtpFacts) => ({ packets: s.packets, ssrcs: s.ssrcs, dtlsKeyed: s.dtlsKeyed }),
} satisfies ProtocolContract<'srtp', SrtpFacts>;

/** STUN's contract (see ../contract.ts): NAT traversal, TURN relays, ICE, over UDP and TCP. */
import type { ProtocolContract } from '../contract.js';
import { looksLikeStun, StunFlow, stunStream, type StunFacts } from './state.js';

export const stun = {
  key: 'stun',
  title: 'STUN (RFC 8489) and TURN (RFC 8656) over UDP and TCP (raw, or RFC 4571-framed as ICE-TCP does), followed by the DTLS and SRTP of the same ports (RFC 7983)',
  apps: { stun: 'STUN' },
  datagram: { message: (ctx, _dir, buf, off, len) => (looksLikeStun(buf, off, len) ? new StunFlow(ctx) : null) },
  // A STUN header of a known method (the magic cookie makes one enough), raw or behind a 16-bit length.
  stream: { tcp: stunStream },
  // What can be checked in a capture; USERNAME and the integrity values are never kept.
  evidence: (s: StunFacts) => ({ methods: s.methodNames, software: s.software, turn: s.turn, ice: s.ice, transport: s.transport }),
} satisfies ProtocolContract<'stun', StunFacts>;

/** CoAP's contract (see ../contract.ts): the resources a device serves. */
import { type ProtocolContract, sentBy } from '../contract.js';
import type { CoapFacts } from './state.js';
import { looksLikeCoap, looksLikeDtls } from './parser.js';
import { CoapFlow, CoapsFlow } from './state.js';
import { onPort } from '../contract.js';

export const coap = {
  key: 'coap',
  title: 'CoAP (RFC 7252) with link format (RFC 6690) and block transfers (RFC 7959); CoAP over DTLS recognised',
  apps: { coap: 'CoAP', coaps: 'CoAP over DTLS' },
  datagram: {
    // DTLS has no CoAP of its own to show: only its port (IANA 5684) says it is CoAP.
    dtls: (ctx, _dir, buf, off, len) => (onPort(ctx, 5684) && looksLikeDtls(buf, off, len) ? new CoapsFlow() : null),
    // On its port (IANA 5683) the usual check; elsewhere a stricter one, and never on QUIC's usual
    // ports: a QUIC short header (first byte 0x40-0x7f) reads as a CoAP header.
    message: (ctx, _dir, buf, off, len) =>
      (onPort(ctx, 5683) ? looksLikeCoap(buf, off, len, false) : !onPort(ctx, 443, 4433, 8443) && looksLikeCoap(buf, off, len, true)) ? new CoapFlow(ctx) : null,
  },
  learn(c, v, out) {
    if (!sentBy(c.server, v.side, 'resp')) return;
    out.protocol('coap-server');
    for (const path of c.paths) out.add('coapPaths', path);
    for (const rt of c.resourceTypes) out.add('coapPaths', rt);
  },
} satisfies ProtocolContract<'coap', CoapFacts>;

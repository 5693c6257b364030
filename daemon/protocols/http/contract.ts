/** HTTP/1.x's contract (see ../contract.ts): Basic credentials, camera streams, UPnP descriptions. */
import type { ProtocolContract } from '../contract.js';
import { flag } from '../contract.js';
import type { HttpFacts } from './state.js';
import { parseHeaderBlock } from './message.js';
import { HttpSession } from './state.js';

const SAMPLE = 5;
const UPNP_FIELDS = ['manufacturer', 'manufacturerURL', 'modelName', 'modelNumber', 'modelDescription', 'deviceType', 'friendlyName'] as const;

/** An HTTP/1.x request or response start (RFC 9112 §3, §4). */
function looksLikeHttp(buf: Buffer, off: number, len: number): boolean {
  const head = buf.toString('latin1', off, off + Math.min(len, 16));
  if (/^HTTP\/1\.[01] \d/.test(head)) return true;
  if (!/^(GET|POST|PUT|HEAD|DELETE|OPTIONS|PATCH|CONNECT|TRACE|PROPFIND|SUBSCRIBE|NOTIFY) /.test(head)) return false;
  return parseHeaderBlock(buf, off, off + len) !== 'not-http';
}

export const http = {
  key: 'http',
  title: 'HTTP/1.0 and 1.1 (RFC 9112), WebSocket upgrades (RFC 6455), UPnP descriptions',
  apps: { http: 'HTTP', websocket: 'WebSocket' },
  stream: { message: (ctx, _dir, buf, off, len) => (looksLikeHttp(buf, off, len) ? new HttpSession(ctx) : null) },
  remoteName: { source: 'http', of: (f) => f.host },
  fields: [
    {
      name: 'http.basicAuth',
      type: 'boolean',
      description: 'A request of the device carried Basic credentials (RFC 7617): a password readable on the way.',
      value: (f, v) => v.deviceIsClient && f.authorization.some((a) => a.toLowerCase() === 'basic'),
      says: flag('it sends a password with HTTP Basic authentication, readable on the way', 'it sends no HTTP Basic password'),
    },
  ],
  // A camera serving MJPEG or FLV sends the picture to whoever asked: the device is the server.
  media: (f, v) => (f.mjpeg ? { kind: 'mjpeg', outbound: !v.deviceIsClient } : f.flv ? { kind: 'flv', outbound: !v.deviceIsClient } : null),
  evidence: (x) => ({ host: x.host, methods: x.methods, paths: x.paths.slice(0, SAMPLE), userAgent: x.userAgent, authorization: x.authorization, mjpeg: x.mjpeg, flv: x.flv }),
  learn(h, v, out) {
    if (v.isClient && h.host && v.internet) out.add('domains', h.host.replace(/:\d+$/, '').toLowerCase());
    if (v.isClient) out.add('userAgents', h.userAgent);
    if (!v.isClient && h.mjpeg) out.protocol('mjpeg-server');
    const upnp = h.upnp;
    // The description's sender is the device it describes (normally the responder).
    if (upnp && upnp.side === v.side) {
      for (const k of UPNP_FIELDS) out.upnpField(k, upnp[k] ?? null);
      for (const t of upnp.embeddedDeviceTypes) out.upnpField('deviceType', t);
    }
  },
} satisfies ProtocolContract<'http', HttpFacts>;

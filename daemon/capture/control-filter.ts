/**
 * The daemon's kernel filter: what the protocol stage needs, so that bulk segments never reach
 * JavaScript. It passes everything that is not TCP (DNS, DHCP, mDNS, SSDP, QUIC, RTP, ARP, NDP:
 * small or needed whole), and from TCP: segments with SYN, FIN, RST or PSH (RFC 9293 §3.1: a
 * sender sets PSH when it hands over what it wrote, so every small message (an MQTT packet,
 * a request, a handshake flight) ends with one, while a bulk transfer's full-size segments go
 * without), segments of up to 1024 bytes of payload (a bulk transfer's segments are full-size,
 * 1200 bytes and more; small ones are messages cut by the sender), segments that start a TLS
 * handshake record (content type 22, RFC 8446 §5.1: the first segment of a ClientHello too large
 * for one), an HTTP request (GET, POST, PUT, HEAD) or an HTTP or RTSP response (the headers of a
 * camera's MJPEG stream), and everything on the DNS and MQTT ports (53: a long answer over TCP;
 * 1883: a PUBLISH carrying a snapshot spans segments). Pure ACKs and bulk stay out. Volumes stay
 * right: the flow table counts TCP payload by sequence numbers (flow-table.ts, sequenceVolumes).
 * Checked on real bulk transfers and on every corpus capture with TLS, MQTT, HTTP, RTSP or DNS
 * (test/integration/control-filter.test.ts).
 *
 * libpcap's `tcp[]` only indexes IPv4: IPv6 is matched with `ip6[]` offsets when TCP follows the
 * fixed header (next header 6 at byte 6, flags at 40 + 13, data offset at 40 + 12). VLAN-tagged
 * frames match neither branch and pass whole.
 */
const V4 = 'ip and tcp';
const V6 = 'ip6 and ip6[6] = 6';
const v4Payload = '((tcp[12] & 0xf0) >> 2)';
const v6Payload = '(40 + ((ip6[52] & 0xf0) >> 2))';
const v4Length = `(ip[2:2] - ((ip[0] & 0x0f) << 2) - ${v4Payload})`;
const v6Length = '(ip6[4:2] - ((ip6[52] & 0xf0) >> 2))';
/** First four payload bytes that start a message worth keeping whole. */
const STARTS = [
  0x48545450, // "HTTP": an HTTP response
  0x52545350, // "RTSP": an RTSP response
  0x47455420, // "GET "
  0x504f5354, // "POST"
  0x50555420, // "PUT "
  0x48454144, // "HEAD"
];
const starts = (at: string) => STARTS.map((v) => `${at}:4] = 0x${v.toString(16)}`).join(' or ');

export const CONTROL_FILTER = [
  `(not (${V4}) and not (${V6}))`,
  `(${V4} and (tcp[13] & 0x0f != 0 or tcp port 53 or tcp port 1883 or (${v4Length} > 0 and ${v4Length} <= 1024) or tcp[${v4Payload}] = 0x16 or ${starts(`tcp[${v4Payload}`)}))`,
  `(${V6} and (ip6[53] & 0x0f != 0 or ip6[40:2] = 53 or ip6[42:2] = 53 or ip6[40:2] = 1883 or ip6[42:2] = 1883 or (${v6Length} > 0 and ${v6Length} <= 1024) or ip6[${v6Payload}] = 0x16 or ${starts(`ip6[${v6Payload}`)}))`,
].join(' or ');

export type CaptureMode = 'control' | 'all';

/** The BPF expression for a mode, with the user's own filter (if any) on top. */
export function captureFilter(mode: CaptureMode, extra: string): string {
  const base = mode === 'control' ? CONTROL_FILTER : '';
  if (!extra) return base;
  return base ? `(${base}) and (${extra})` : extra;
}

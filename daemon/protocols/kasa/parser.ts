/**
 * TP-Link Kasa "Smart Home" local protocol (HS1xx/KP1xx plugs, KL bulbs, HS2xx switches): JSON
 * requests and answers on port 9999, obfuscated with an XOR autokey cipher whose key starts at
 * 171 and is each ciphertext byte in turn (c = k ^ p; k = c). Over UDP (broadcast discovery
 * `{"system":{"get_sysinfo":{}}}` and its unicast answers) a datagram is one ciphertext; over
 * TCP each message has a 4-byte big-endian length prefix. As implemented by python-kasa
 * (kasa/transports/xortransport.py, XorEncryption; kasa/discover.py, Discover.DISCOVERY_QUERY)
 * and dissected by Wireshark's packet-tplink-smarthome.c (tplink_smarthome.msg).
 *
 * The newer discovery on UDP 20002 (python-kasa kasa/discover.py, DISCOVERY_PORT_2) is also
 * read: a 16-byte header whose first byte is the version 2 (the query is the bare header
 * 02 00 00 01 ...), the answer's JSON in clear after it, `{"result": {device_type, device_model,
 * mac, ...}}`.
 *
 * Pure parsing: bytes in, one message's fields out. Only model, alias, device type, hardware and
 * software versions and the device name are read from get_sysinfo; its identifiers (deviceId,
 * hwId, oemId) and location are never kept.
 */

/** Largest message decrypted and parsed; larger ones are skipped. */
export const MAX_JSON = 8 * 1024;
const KEY0 = 171;
const LIST_MAX = 20;

/** Top-level modules of the IOT protocol (python-kasa kasa/iot/modules, iotdevice.py). */
const MODULES = new Set(['system', 'emeter', 'schedule', 'cnCloud', 'time', 'netif', 'count_down', 'anti_theft', 'context', 'dimmer']);

/** Decrypts src[off, off+len) into dst (at least len bytes); returns the byte count written. */
export function xorDecrypt(src: Buffer, off: number, len: number, dst: Buffer): number {
  let key = KEY0;
  for (let i = 0; i < len; i++) {
    const c = src[off + i];
    dst[i] = key ^ c;
    key = c;
  }
  return len;
}

/** The inverse, for tests and scripted devices. */
export function xorEncrypt(plain: Buffer): Buffer {
  const out = Buffer.allocUnsafe(plain.length);
  let key = KEY0;
  for (let i = 0; i < plain.length; i++) {
    key ^= plain[i];
    out[i] = key;
  }
  return out;
}

const probe = Buffer.alloc(64);

/**
 * Whether ciphertext at buf[off] decrypts to `{"<module>"` with a known module name (or one of
 * the `smartlife.` modules of bulbs, dimmers and light strips). Decrypts at most 64 bytes.
 */
export function looksLikeKasaCipher(buf: Buffer, off: number, len: number): boolean {
  // The first ciphertext byte of '{' is always 171 ^ 0x7b: most flows stop here.
  if (len < 8 || buf[off] !== 0xd0) return false;
  const n = xorDecrypt(buf, off, Math.min(len, probe.length), probe);
  let p = 0;
  if (probe[p++] !== 0x7b) return false; // {
  while (p < n && (probe[p] === 0x20 || probe[p] === 0x0a || probe[p] === 0x0d || probe[p] === 0x09)) p++;
  if (probe[p++] !== 0x22) return false; // "
  const s = p;
  while (p < n && probe[p] !== 0x22) {
    const c = probe[p];
    // module names: letters, digits, '_', '.'
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e)) return false;
    p++;
  }
  if (p >= n || p === s) return false;
  const name = probe.toString('latin1', s, p);
  return MODULES.has(name) || name.startsWith('smartlife.');
}

/** A UDP payload: the ciphertext itself (or, tolerated, one with the TCP length prefix). */
export function looksLikeKasaUdp(buf: Buffer, off: number, len: number): boolean {
  if (looksLikeKasaCipher(buf, off, len)) return true;
  return len > 12 && buf.readUInt32BE(off) === len - 4 && looksLikeKasaCipher(buf, off + 4, len - 4);
}

/** A TCP segment starting a message: a plausible length prefix, then the ciphertext. */
export function looksLikeKasaTcp(buf: Buffer, off: number, len: number): boolean {
  if (len < 12) return false;
  const n = buf.readUInt32BE(off);
  return n >= 8 && n <= 1 << 20 && looksLikeKasaCipher(buf, off + 4, len - 4);
}

/** The UDP 20002 header: version 2, and either the bare query or JSON after the header. */
export function looksLikeTdp(buf: Buffer, off: number, len: number): boolean {
  if (len < 16 || buf[off] !== 2) return false;
  if (len === 16) return buf[off + 1] === 0; // a query (msg_type 0)
  return buf[off + 16] === 0x7b; // an answer: {"result": ...}
}

export interface KasaSysinfo {
  model: string | null;
  alias: string | null;
  deviceType: string | null;
  hwVersion: string | null;
  swVersion: string | null;
  devName: string | null;
  /** The device's own MAC address, as it reports it. */
  mac: string | null;
}

export interface KasaMessage {
  /** A request carries method parameters; an answer has `err_code` in its method objects. */
  kind: 'request' | 'response';
  /** `module.method` pairs, e.g. system.get_sysinfo, emeter.get_realtime. */
  methods: string[];
  /** get_sysinfo answer (or a 20002 discovery answer), when there is one. */
  sysinfo: KasaSysinfo | null;
  /** Error code of the first answering method, when not 0. */
  errCode: number | null;
}

function str(o: Record<string, unknown>, ...keys: string[]): string | null {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string' && v.length > 0) return v.slice(0, 256);
  }
  return null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(text: string): Record<string, unknown> | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  return isObject(v) ? v : 'JSON is not an object';
}

/** Reads a decrypted IOT message (JSON text in buf[off, off+len)). */
export function parseKasaJson(buf: Buffer, off: number, len: number): KasaMessage | string {
  if (len > MAX_JSON) return 'message too large';
  const o = parseJson(buf.toString('utf8', off, off + len));
  if (typeof o === 'string') return o;
  const methods: string[] = [];
  let response = false;
  let errCode: number | null = null;
  let sysinfo: KasaSysinfo | null = null;
  for (const [mod, body] of Object.entries(o)) {
    if (methods.length >= LIST_MAX) break;
    if (!isObject(body)) continue;
    if ('err_code' in body) {
      // A module the device does not know answers {"err_code":-1,"err_msg":"module not support"}.
      response = true;
      methods.push(mod);
      continue;
    }
    for (const [method, v] of Object.entries(body)) {
      if (methods.length >= LIST_MAX) break;
      methods.push(`${mod}.${method}`.slice(0, 128));
      if (!isObject(v) || !('err_code' in v)) continue;
      response = true;
      if (typeof v.err_code === 'number' && v.err_code !== 0 && errCode === null) errCode = v.err_code;
      if (mod === 'system' && method === 'get_sysinfo') sysinfo = sysinfoOf(v);
    }
  }
  if (methods.length === 0) return 'no module';
  return { kind: response ? 'response' : 'request', methods, sysinfo, errCode };
}

function sysinfoOf(v: Record<string, unknown>): KasaSysinfo {
  return {
    model: str(v, 'model'),
    alias: str(v, 'alias'),
    deviceType: str(v, 'mic_type', 'type'),
    hwVersion: str(v, 'hw_ver'),
    swVersion: str(v, 'sw_ver'),
    // Plugs say dev_name, bulbs description (python-kasa fixtures KP115(US), KL130(EU)).
    devName: str(v, 'dev_name', 'description'),
    mac: str(v, 'mac', 'mic_mac', 'ethernet_mac'),
  };
}

/** Reads a UDP 20002 datagram: the bare query, or the JSON answer after the 16-byte header. */
export function parseTdp(buf: Buffer, off: number, len: number): KasaMessage | string {
  if (len < 16) return 'truncated header';
  if (len === 16) return { kind: 'request', methods: ['discovery'], sysinfo: null, errCode: null };
  if (len - 16 > MAX_JSON) return 'message too large';
  const o = parseJson(buf.toString('utf8', off + 16, off + len));
  if (typeof o === 'string') return o;
  const r = o.result;
  if (!isObject(r)) return 'no result';
  const errCode = typeof o.error_code === 'number' && o.error_code !== 0 ? o.error_code : null;
  return {
    kind: 'response',
    methods: ['discovery'],
    errCode,
    sysinfo: { model: str(r, 'device_model'), alias: null, deviceType: str(r, 'device_type'), hwVersion: str(r, 'hw_ver'), swVersion: str(r, 'fw_ver'), devName: null, mac: str(r, 'mac') },
  };
}

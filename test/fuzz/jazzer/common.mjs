/**
 * What the Jazzer.js targets share: the layout of a multi-message input, a flow context like the
 * protocol stage's, and the list of link types. Targets import the compiled daemon (dist/), the
 * code the campaign instruments (`-i dist/`); seeds.mjs writes inputs in the same layouts.
 *
 * Input of a flow (the dissector and engine targets): a header, then records, each a 16-bit
 * big-endian word (top bit: direction, 1 = responder to originator; low 15 bits: length) and that
 * many bytes. A record whose length runs past the input takes what is left. A record of length 0
 * is a gap (10 bytes lost) on a stream, an empty datagram on UDP.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const DIST = path.join(ROOT, 'dist');

/** Splits data[from..] into records: { dir, buf, off, len }. */
export function records(data, from) {
  const out = [];
  let at = from;
  while (at + 2 <= data.length && out.length < 64) {
    const w = data.readUInt16BE(at);
    at += 2;
    const len = Math.min(w & 0x7fff, data.length - at);
    out.push({ dir: w >> 15, buf: data, off: at, len });
    at += len;
  }
  return out;
}

/** The inverse, for seeds: [{ dir, data }] → bytes. */
export function encodeRecords(list) {
  const parts = [];
  for (const r of list) {
    const len = Math.min(r.data.length, 0x7fff);
    const h = Buffer.alloc(2);
    h.writeUInt16BE((r.dir ? 0x8000 : 0) | len);
    parts.push(h, r.data.subarray(0, len));
  }
  return Buffer.concat(parts);
}

/** Link types the decoder knows (daemon/capture/linktype.ts), the DLT aliases, and one it does not. */
export const LINKS = [1, 0, 101, 108, 113, 228, 229, 276, 12, 14, 105];

/**
 * A flow context as the protocol stage gives one (daemon/protocols/stage.ts's Ctx), with fixed
 * addresses: events are serialised (the CLI writes them as JSON), lazy fields built.
 */
export class FuzzContext {
  constructor(origPort, respPort) {
    this.origPort = origPort;
    this.respPort = respPort;
    this.events = 0;
    this.stopped = false;
    this.expected = new Map();
  }
  emit(type, fields) {
    this.events++;
    JSON.stringify({ type, fields: typeof fields === 'function' ? fields() : fields });
  }
  followAll() {}
  stop() {
    this.stopped = true;
  }
  ip(dir) {
    return dir === 0 ? '192.168.1.20' : '198.51.100.7';
  }
  answered(clientDir, name, address) {
    void clientDir;
    JSON.stringify([name, address]);
  }
  expect(address, port, app) {
    this.expected.set(`${address}|${port}`, app);
  }
  expectedApp() {
    return this.expected.get(`198.51.100.7|${this.respPort}`) ?? null;
  }
  senderMac(dir) {
    return dir === 0 ? 0x0242c0a80114 : -1;
  }
  dhcpClient(m) {
    JSON.stringify(m);
  }
}

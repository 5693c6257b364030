/**
 * Tuya's local protocol discovery broadcasts (UDP 6666 cleartext, 6667 encrypted), sent by Tuya
 * smart plugs, bulbs and cameras. Frame: prefix 0x000055AA, sequence, command, length, return
 * code, payload, CRC, suffix 0x0000AA55. From protocol 3.3 the payload is AES-128-ECB encrypted
 * with the well-known discovery key MD5("yGAdlopoPVldABfn"), as documented by the open-source
 * tinytuya and tuyapi projects; decrypted, it names the device (gwId, productKey, version, ip).
 */
import { createDecipheriv, createHash } from 'node:crypto';
import type { DatagramParser, FlowContext } from '../parser-types.js';

const UDP_KEY = createHash('md5').update('yGAdlopoPVldABfn').digest();

export function looksLikeTuya(b: Buffer, off: number, len: number): boolean {
  return len >= 28 && b.readUInt32BE(off) === 0x000055aa && b.readUInt32BE(off + len - 4) === 0x0000aa55;
}

export interface TuyaDiscovery {
  gwId: string | null;
  productKey: string | null;
  version: string | null;
  ip: string | null;
  encrypted: boolean;
}

/** Decodes one discovery frame; null when its payload is neither JSON nor decryptable. */
export function parseTuya(b: Buffer, off: number, len: number): TuyaDiscovery | null {
  const declared = b.readUInt32BE(off + 12);
  if (16 + declared !== len) return null;
  // Payload between the return code and the CRC+suffix.
  const body = b.subarray(off + 20, off + len - 8);
  let json: Record<string, unknown> | null = tryJson(body);
  let encrypted = false;
  if (!json && body.length % 16 === 0 && body.length > 0) {
    try {
      const d = createDecipheriv('aes-128-ecb', UDP_KEY, null);
      json = tryJson(Buffer.concat([d.update(body), d.final()]));
      encrypted = true;
    } catch {
      json = null;
    }
  }
  if (!json) return null;
  const s = (k: string) => (typeof json![k] === 'string' ? (json![k] as string) : null);
  return { gwId: s('gwId'), productKey: s('productKey'), version: s('version'), ip: s('ip'), encrypted };
}

function tryJson(b: Buffer): Record<string, unknown> | null {
  const t = b.toString('utf8');
  if (!t.startsWith('{')) return null;
  try {
    const v = JSON.parse(t);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export interface TuyaFacts {
  frames: number;
  gwId: string | null;
  productKey: string | null;
  version: string | null;
}

export class TuyaFlow implements DatagramParser {
  readonly app = 'tuya';
  readonly encrypted = false;
  readonly f: TuyaFacts = { frames: 0, gwId: null, productKey: null, version: null };

  constructor(private readonly ctx: FlowContext) {}

  datagram(dir: number, b: Buffer, off: number, len: number): void {
    if (!looksLikeTuya(b, off, len)) return;
    this.f.frames++;
    const d = parseTuya(b, off, len);
    if (d) {
      this.f.gwId ??= d.gwId;
      this.f.productKey ??= d.productKey;
      this.f.version ??= d.version;
    }
    if (this.f.frames <= 4) this.ctx.emit('tuya', { command: b.readUInt32BE(off + 8), length: len, ...(d ?? {}) }, dir);
  }

  facts(): { tuya: TuyaFacts } {
    return { tuya: this.f };
  }
}

/**
 * TLS handshake hellos (RFC 8446 §4.1.2-4.1.3; RFC 5246 §7.4.1.2-7.4.1.3 for 1.2 and before).
 * Pure parsing of the handshake message bodies; the record layer is handled in state.ts.
 */

export interface ClientHello {
  /** legacy_version of the hello (0x0303 for TLS 1.2 and 1.3). */
  version: number;
  ciphers: number[];
  /** Extension types in the order sent. */
  extensions: number[];
  sni: string | null;
  alpn: string[];
  supportedVersions: number[];
  groups: number[];
  pointFormats: number[];
  signatureAlgorithms: number[];
  /** encrypted_client_hello (0xfe0d) present: the real SNI is encrypted, the one above is the outer one. */
  ech: boolean;
  /** The older encrypted_server_name extension (0xffce). */
  esni: boolean;
}

export interface ServerHello {
  version: number;
  cipher: number;
  extensions: number[];
  /** The version chosen through supported_versions (TLS 1.3), else null. */
  selectedVersion: number | null;
  alpn: string | null;
}

/** GREASE values (RFC 8701 §2): 0x0a0a, 0x1a1a, ... 0xfafa. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && (v >> 8) === (v & 0xff);
}

class R {
  constructor(
    readonly b: Buffer,
    public p: number,
    readonly end: number,
  ) {}
  need(n: number): void {
    if (this.p + n > this.end) throw new RangeError('truncated hello');
  }
  u8(): number {
    this.need(1);
    return this.b[this.p++];
  }
  u16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.p);
    this.p += 2;
    return v;
  }
  skip(n: number): void {
    this.need(n);
    this.p += n;
  }
  sub(len: number): R {
    this.need(len);
    const r = new R(this.b, this.p, this.p + len);
    this.p += len;
    return r;
  }
  vec8(): R {
    return this.sub(this.u8());
  }
  vec16(): R {
    return this.sub(this.u16());
  }
  left(): number {
    return this.end - this.p;
  }
}

function u16List(r: R): number[] {
  const out: number[] = [];
  while (r.left() >= 2) out.push(r.u16());
  return out;
}

/** ClientHello body (after the 4-byte handshake header). */
export function parseClientHello(b: Buffer, off: number, end: number): ClientHello {
  const r = new R(b, off, end);
  const h: ClientHello = { version: r.u16(), ciphers: [], extensions: [], sni: null, alpn: [], supportedVersions: [], groups: [], pointFormats: [], signatureAlgorithms: [], ech: false, esni: false };
  r.skip(32); // random
  r.vec8(); // legacy_session_id
  h.ciphers = u16List(r.vec16());
  r.vec8(); // compression methods
  if (r.left() < 2) return h; // no extensions (SSL 3.0 / early TLS)
  const exts = r.vec16();
  while (exts.left() >= 4) {
    const type = exts.u16();
    const body = exts.vec16();
    h.extensions.push(type);
    switch (type) {
      case 0x0000: {
        // server_name (RFC 6066 §3): a list of (type, name); host_name is type 0.
        const list = body.vec16();
        while (list.left() >= 3) {
          const t = list.u8();
          const name = list.vec16();
          if (t === 0 && h.sni === null) h.sni = b.toString('latin1', name.p, name.end);
        }
        break;
      }
      case 0x0010: {
        const list = body.vec16();
        while (list.left() >= 1) {
          const p = list.vec8();
          h.alpn.push(b.toString('latin1', p.p, p.end));
        }
        break;
      }
      case 0x002b:
        h.supportedVersions = u16List(body.vec8());
        break;
      case 0x000a:
        h.groups = u16List(body.vec16());
        break;
      case 0x000b: {
        const pf = body.vec8();
        while (pf.left() >= 1) h.pointFormats.push(pf.u8());
        break;
      }
      case 0x000d:
        h.signatureAlgorithms = u16List(body.vec16());
        break;
      case 0xfe0d:
        h.ech = true;
        break;
      case 0xffce:
        h.esni = true;
        break;
    }
  }
  return h;
}

/** ServerHello body (after the 4-byte handshake header). */
export function parseServerHello(b: Buffer, off: number, end: number): ServerHello {
  const r = new R(b, off, end);
  const h: ServerHello = { version: r.u16(), cipher: 0, extensions: [], selectedVersion: null, alpn: null };
  r.skip(32);
  r.vec8();
  h.cipher = r.u16();
  r.u8(); // compression method
  if (r.left() < 2) return h;
  const exts = r.vec16();
  while (exts.left() >= 4) {
    const type = exts.u16();
    const body = exts.vec16();
    h.extensions.push(type);
    if (type === 0x002b && body.left() >= 2) h.selectedVersion = body.u16();
    if (type === 0x0010) {
      const list = body.vec16();
      if (list.left() >= 1) {
        const p = list.vec8();
        h.alpn = b.toString('latin1', p.p, p.end);
      }
    }
  }
  return h;
}

export function versionName(v: number): string {
  switch (v) {
    case 0x0300:
      return 'SSLv3';
    case 0x0301:
      return 'TLSv1.0';
    case 0x0302:
      return 'TLSv1.1';
    case 0x0303:
      return 'TLSv1.2';
    case 0x0304:
      return 'TLSv1.3';
    default:
      if (v >> 8 === 0x7f) return `TLSv1.3-draft${v & 0xff}`;
      return `0x${v.toString(16).padStart(4, '0')}`;
  }
}

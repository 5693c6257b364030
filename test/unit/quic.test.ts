/**
 * QUIC: Initial keys and packets against the RFCs' published vectors (RFC 9001 Appendix A,
 * RFC 9369 Appendix A), a real Google QUIC Q044 hello (Suricata's test packet), the corpus
 * capture against tshark and the JA4 reference value, the probe against every UDP payload of the
 * corpus, and the flow on packets built by a test-side encoder that is itself checked to
 * reproduce the RFC packets byte for byte.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../daemon/capture/reader.js';
import { Decoder } from '../../daemon/decode/decoder.js';
import { Decoded, Proto } from '../../daemon/decode/packet.js';
import { detectDatagram } from '../../daemon/protocols/detect.js';
import type { FlowContext } from '../../daemon/protocols/parser-types.js';
import { CryptoStream } from '../../daemon/protocols/quic/crypto-stream.js';
import { decodePacketNumber, hkdfExpandLabel, initialKeys, initialSecret, initialSalt, openPacket, type Opened } from '../../daemon/protocols/quic/initial.js';
import { FRAMES_BAD, FRAMES_OK, gquicNumber, newLongHeader, parseLongHeader, readVarint, T_HANDSHAKE, T_INITIAL, T_RETRY, versionName, versionString, walkInitialFrames } from '../../daemon/protocols/quic/parser.js';
import { looksLikeQuic, QuicFlow, type QuicFacts } from '../../daemon/protocols/quic/state.js';
import { parseServerHello } from '../../daemon/protocols/tls/parser.js';
import { casePath, corpusCases, CORPUS, describeCorpus } from '../helpers/corpus.js';
import { eventsOf } from '../helpers/events.js';
import { haveTool, tsharkFields } from '../helpers/tshark.js';
import { CLIENT_CRYPTO_FRAME, DCID, gquicQ044Sample, keysFor, protect, V1_CLIENT_INITIAL, V1_KEYS, V1_SERVER_INITIAL, V2_CLIENT_INITIAL, V2_KEYS, varint } from './quic-vectors.js';

const hex = (s: string) => Buffer.from(s, 'hex');
const dcid = hex(DCID);

class Ctx implements FlowContext {
  events: { type: string; fields: Record<string, unknown> }[] = [];
  stopped = 0;
  constructor(
    readonly origPort = 50000,
    readonly respPort = 443,
  ) {}
  emit(type: string, fields: Record<string, unknown> | (() => Record<string, unknown>)): void {
    this.events.push({ type, fields: typeof fields === 'function' ? fields() : fields });
  }
  followAll(): void {}
  stop(): void {
    this.stopped++;
  }
  ip(): string {
    return '192.0.2.1';
  }
  answered(): void {}
  expect(): void {}
  senderMac(): number {
    return -1;
  }
  expectedApp(): null {
    return null;
  }
  dhcpClient(): void {}
}

function run(datagrams: [number, Buffer][], ctx = new Ctx()): { f: QuicFacts; ctx: Ctx; flow: QuicFlow } {
  const flow = new QuicFlow(ctx);
  for (const [dir, d] of datagrams) flow.datagram(dir, d, 0, d.length);
  return { f: flow.f, ctx, flow };
}

/** Pads a payload with PADDING so that its packet makes a datagram of at least 1200 bytes (RFC 9000 §14.1). */
function pad(payload: Buffer): Buffer {
  return Buffer.concat([payload, Buffer.alloc(Math.max(0, 1200 - 16 - payload.length))]);
}

const cryptoFrame = (offset: number, data: Buffer) => Buffer.concat([Buffer.from([0x06]), varint(offset), varint(data.length), data]);
const RFC_HELLO = hex(CLIENT_CRYPTO_FRAME).subarray(4); // the ClientHello after the frame's 06 00 40f1
const RFC_PLAINTEXT = Buffer.concat([hex(CLIENT_CRYPTO_FRAME), Buffer.alloc(1162 - 245)]);

/** The RFC's ClientHello grown by a padding extension (RFC 7685) of n bytes: a larger hello of the same shape. */
function biggerHello(n: number): Buffer {
  const ext = Buffer.concat([Buffer.from([0x00, 0x15, n >> 8, n & 255]), Buffer.alloc(n)]);
  const h = Buffer.concat([RFC_HELLO, ext]);
  h.writeUIntBE(h.length - 4, 1, 3);
  h.writeUInt16BE(h.readUInt16BE(47) + ext.length, 47);
  return h;
}

// ---------------------------------------------------------------------------------------------

describe('QUIC Initial protection: RFC 9001 Appendix A and RFC 9369 Appendix A', () => {
  it('A.1: v1 initial secrets and keys of both sides', () => {
    expect(initialSecret(initialSalt(1)!, dcid).toString('hex')).toBe(V1_KEYS.initialSecret);
    expect(hkdfExpandLabel(initialSecret(initialSalt(1)!, dcid), 'client in', 32).toString('hex')).toBe(V1_KEYS.clientSecret);
    for (const side of ['client', 'server'] as const) {
      const k = initialKeys(1, dcid, side === 'server')!;
      expect({ key: k.key.toString('hex'), iv: k.iv.toString('hex'), hp: k.hp.toString('hex') }).toEqual(V1_KEYS[side]);
    }
  });

  it('RFC 9369 A.1: v2 secrets and keys (its salt, "quicv2" labels)', () => {
    const secret = initialSecret(initialSalt(0x6b3343cf)!, dcid);
    expect(secret.toString('hex')).toBe(V2_KEYS.initialSecret);
    expect(hkdfExpandLabel(secret, 'client in', 32).toString('hex')).toBe(V2_KEYS.clientSecret);
    expect(hkdfExpandLabel(secret, 'server in', 32).toString('hex')).toBe(V2_KEYS.serverSecret);
    for (const side of ['client', 'server'] as const) {
      const k = initialKeys(0x6b3343cf, dcid, side === 'server')!;
      expect({ key: k.key.toString('hex'), iv: k.iv.toString('hex'), hp: k.hp.toString('hex') }).toEqual(V2_KEYS[side]);
    }
  });

  it('the test-side encoder reproduces the RFC 9001 A.2 and RFC 9369 A.2 packets byte for byte', () => {
    const v1 = protect({ version: 1, keys: { key: hex(V1_KEYS.client.key), iv: hex(V1_KEYS.client.iv), hp: hex(V1_KEYS.client.hp) }, dcid, pn: 2, payload: RFC_PLAINTEXT });
    expect(v1.toString('hex')).toBe(V1_CLIENT_INITIAL);
    const v2 = protect({ version: 0x6b3343cf, typeBits: 1, keys: { key: hex(V2_KEYS.client.key), iv: hex(V2_KEYS.client.iv), hp: hex(V2_KEYS.client.hp) }, dcid, pn: 2, payload: RFC_PLAINTEXT });
    expect(v2.toString('hex')).toBe(V2_CLIENT_INITIAL);
  });

  for (const [name, version, packet] of [
    ['v1 (RFC 9001 A.2)', 1, V1_CLIENT_INITIAL],
    ['v2 (RFC 9369 A.2)', 0x6b3343cf, V2_CLIENT_INITIAL],
  ] as const) {
    it(`${name}: header unprotected, payload decrypted to the published CRYPTO frame and padding`, () => {
      const b = hex(packet);
      const h = newLongHeader();
      expect(parseLongHeader(b, 0, b.length, h)).toBe(true);
      expect([h.version, h.type, h.dcidLen, h.scidLen, h.tokenLen, h.end]).toEqual([version, T_INITIAL, 8, 0, 0, 1200]);
      const out: Opened = { pn: 0, first: 0 };
      const plain = openPacket(initialKeys(version, dcid, false)!, b, 0, h.pnOff, h.end, -1, out);
      expect(plain?.toString('hex')).toBe(RFC_PLAINTEXT.toString('hex'));
      expect(out.pn).toBe(2);
      // The wrong side's keys, or one flipped bit, and the tag does not verify.
      expect(openPacket(initialKeys(version, dcid, true)!, b, 0, h.pnOff, h.end, -1, out)).toBeNull();
      const bad = Buffer.from(b);
      bad[600] ^= 1;
      expect(openPacket(initialKeys(version, dcid, false)!, bad, 0, h.pnOff, h.end, -1, out)).toBeNull();
    });

    it(`${name}: the flow reads SNI example.com, ALPN "alpn" and a q JA4 from the packet`, () => {
      const { f, ctx } = run([[0, hex(packet)]]);
      expect(f).toMatchObject({ version: versionString(version), sni: 'example.com', alpn: ['alpn'], helloSeen: true, initialPackets: 1, tlsVersion: 'TLSv1.3' });
      expect(f.versionName).toBe(version === 1 ? 'v1' : 'v2');
      // The hello offers 2 ciphers and 11 extensions; ALPN "alpn" gives "an" (JA4_a).
      expect(f.ja4).toMatch(/^q13d0211an_[0-9a-f]{12}_[0-9a-f]{12}$/);
      expect(ctx.events.map((e) => e.type)).toEqual(['quic', 'quic']);
      expect(ctx.events[1].fields).toMatchObject({ handshake: 'client_hello', sni: 'example.com' });
    });
  }

  it('A.3: the server Initial opens with the server keys: an ACK, then a ServerHello choosing TLS_AES_128_GCM_SHA256', () => {
    const b = hex(V1_SERVER_INITIAL);
    const h = newLongHeader();
    expect(parseLongHeader(b, 0, b.length, h)).toBe(true);
    expect([h.type, h.dcidLen, h.scidLen, h.end]).toEqual([T_INITIAL, 0, 8, b.length]);
    const out: Opened = { pn: 0, first: 0 };
    const plain = openPacket(initialKeys(1, dcid, true)!, b, 0, h.pnOff, h.end, -1, out)!;
    expect(out.pn).toBe(1);
    expect(plain[0]).toBe(0x02);
    const pieces: Buffer[] = [];
    expect(walkInitialFrames(plain, 0, plain.length, { crypto: (_o, buf, s, e) => pieces.push(buf.subarray(s, e)), close: () => {} })).toBe(FRAMES_OK);
    expect(pieces.length).toBe(1);
    expect(pieces[0][0]).toBe(2); // ServerHello
    const sh = parseServerHello(pieces[0], 4, 4 + pieces[0].readUIntBE(1, 3));
    expect([sh.cipher, sh.selectedVersion]).toEqual([0x1301, 0x0304]);
  });

  it('RFC 9000 A.1 varints and A.3 packet number decoding', () => {
    for (const [h, v] of [
      // 151288809941952652 is past 2^53: readVarint returns the nearest double, as Number() of the exact value does.
      ['c2197c5eff14e88c', Number(151288809941952652n)],
      ['9d7f3e7d', 494878333],
      ['7bbd', 15293],
      ['25', 37],
      ['4025', 37],
    ] as const) {
      const b = hex(h);
      expect(readVarint(b, 0, b.length)).toBe(v);
      expect(readVarint(b, 0, b.length - 1)).toBe(-1);
    }
    expect(decodePacketNumber(0xa82f30ea, 0x9b32, 16)).toBe(0xa82f9b32);
    expect(decodePacketNumber(-1, 2, 32)).toBe(2);
  });
});

describe('QUIC versions and salts', () => {
  it('names and writes versions as the facts do', () => {
    expect([1, 0x6b3343cf, 0x709a50c4, 0xff00001d, 0xff000022, 0xfaceb002, 0x1a2a3a4a, 0, 0x51303436, 0x54303531].map(versionName)).toEqual([
      'v1',
      'v2',
      'v2-draft',
      'draft-29',
      'draft-34',
      'mvfst-draft-27',
      'grease',
      'negotiation',
      'Q046',
      'T051',
    ]);
    expect(versionString(1)).toBe('0x00000001');
    expect(versionString(0x51303433)).toBe('Q043');
    expect(gquicNumber(0x51303530)).toBe(50);
    expect(gquicNumber(0x51303030)).toBe(-1);
  });

  it('uses the draft salts the brief and Wireshark give: 23-28, 29-32, 33-34 (= v1)', () => {
    expect(initialSalt(0xff00001d)?.toString('hex')).toBe('afbfec289993d24c9e9786f19c6111e04390a899');
    expect(initialSalt(0xff000020)?.toString('hex')).toBe('afbfec289993d24c9e9786f19c6111e04390a899');
    expect(initialSalt(0xff00001b)?.toString('hex')).toBe('c3eef712c72ebb5a11a7d2432bb46365bef9f502');
    expect(initialSalt(0xff000017)?.toString('hex')).toBe('c3eef712c72ebb5a11a7d2432bb46365bef9f502');
    expect(initialSalt(0xff000022)?.toString('hex')).toBe('38762cf7f55934b34d179ae6a4c80cadccbb7f0a');
    expect(initialSalt(0xff000010)).toBeNull(); // before draft-22 the header layout differs
    expect(looksLikeQuic(Buffer.concat([hex('c0ff000010'), hex(V1_CLIENT_INITIAL).subarray(5)]), 0, 1200)).toBe(false);
    expect(initialSalt(0xdeadbeef)).toBeNull();
  });
});

describe('QUIC flows on packets built from the specifications', () => {
  const V1 = (cid = dcid) => keysFor('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', cid);
  const scid = hex('c0ffee00c0ffee00');

  it('a ClientHello scattered over two datagrams in out-of-order CRYPTO frames among PING and PADDING (Chrome style)', () => {
    const hello = biggerHello(1700); // ~1.9 KB, as with a post-quantum key share
    const cut = [0, 300, 900, 1250, hello.length];
    const frag = (i: number) => cryptoFrame(cut[i], hello.subarray(cut[i], cut[i + 1]));
    const p1 = Buffer.concat([Buffer.from([0x01]), frag(1), Buffer.from([0, 0, 0]), frag(0), Buffer.from([0x01])]);
    const p2 = Buffer.concat([frag(3), Buffer.from([0x01, 0x00]), frag(2)]);
    const d1 = protect({ version: 1, keys: V1(), dcid, scid, pn: 0, pnLen: 1, payload: pad(p1) });
    const d2 = protect({ version: 1, keys: V1(), dcid, scid, pn: 1, pnLen: 1, payload: pad(p2) });
    expect(looksLikeQuic(d1, 0, d1.length)).toBe(true);
    const { f, ctx } = run([[0, d1]]);
    expect(f.helloSeen).toBe(false);
    const flow = new QuicFlow(ctx);
    flow.datagram(0, d1, 0, d1.length);
    flow.datagram(0, d2, 0, d2.length);
    expect(flow.f).toMatchObject({ sni: 'example.com', helloSeen: true, initialPackets: 2 });
    // Retransmitted out of order (second datagram first): the same result.
    expect(run([[0, d2], [0, d1]]).f).toMatchObject({ sni: 'example.com', helloSeen: true });
  });

  it('coalesced packets: an Initial then a Handshake in one datagram (RFC 9000 §12.2); the server version is read from its header', () => {
    const init = protect({ version: 1, keys: V1(), dcid, scid, pn: 0, payload: Buffer.concat([cryptoFrame(0, RFC_HELLO), Buffer.alloc(700)]) });
    const hs = protect({ version: 1, keys: V1(), dcid, scid, typeBits: 2, pn: 0, payload: Buffer.alloc(400, 7) });
    const both = Buffer.concat([init, hs]);
    expect(both.length).toBeGreaterThanOrEqual(1200);
    const server = protect({ version: 0x6b3343cf, keys: V1(scid), dcid: scid, scid: dcid, typeBits: 1, pn: 0, payload: Buffer.alloc(1100) });
    const { f, ctx } = run([[0, both], [1, server]]);
    expect(f).toMatchObject({ sni: 'example.com', version: '0x00000001', serverVersion: '0x6b3343cf' });
    expect(ctx.stopped).toBe(1); // hello read and the server seen: the flow is let go
  });

  it('the client’s later Initials go to the server’s CID (RFC 9000 §7.2) but keep the keys of its first DCID (RFC 9001 §5.2)', () => {
    const hello = biggerHello(1500);
    const d1 = protect({ version: 1, keys: V1(), dcid, scid, pn: 0, payload: pad(cryptoFrame(0, hello.subarray(0, 1000))) });
    const server = protect({ version: 1, keys: keysFor('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', dcid, false, 'server in'), dcid: scid, scid: hex('5e5e5e5e'), pn: 0, payload: pad(Buffer.from([0x02, 0, 0, 0, 0])) });
    const d2 = protect({ version: 1, keys: V1(), dcid: hex('5e5e5e5e'), scid, pn: 1, payload: pad(cryptoFrame(1000, hello.subarray(1000))) });
    const { f } = run([[0, d1], [1, server], [0, d2]]);
    expect(f).toMatchObject({ sni: 'example.com', helloSeen: true, initialPackets: 2, serverVersion: '0x00000001' });
  });

  it('Retry (RFC 9000 §17.2.5): the next Initial uses the server-chosen DCID, and is decrypted with keys from it', () => {
    const first = protect({ version: 1, keys: V1(), dcid, scid, pn: 0, payload: pad(Buffer.from([0x01])) }); // a PING only
    const newCid = hex('0102030405060708090a');
    const retry = Buffer.concat([Buffer.from([0xf0, 0, 0, 0, 1, scid.length]), scid, Buffer.from([newCid.length]), newCid, Buffer.from('token!'), Buffer.alloc(16, 9)]);
    const second = protect({ version: 1, keys: V1(newCid), dcid: newCid, scid, token: Buffer.from('token!'), pn: 1, payload: pad(cryptoFrame(0, RFC_HELLO)) });
    const h = newLongHeader();
    expect(parseLongHeader(retry, 0, retry.length, h) && h.type).toBe(T_RETRY);
    const { f } = run([[0, first], [1, retry], [0, second]]);
    expect(f).toMatchObject({ retry: true, sni: 'example.com', initialPackets: 2 });
  });

  it('Version Negotiation: the versions the server lists are kept', () => {
    const grease = protect({ version: 0x1a2a3a4a, keys: keysFor('afbfec289993d24c9e9786f19c6111e04390a899', dcid), dcid, scid, pn: 0, payload: pad(cryptoFrame(0, RFC_HELLO)) });
    const vn = Buffer.concat([Buffer.from([0xc5, 0, 0, 0, 0, scid.length]), scid, Buffer.from([dcid.length]), dcid, hex('8a6a1a0a000000016b3343cf')]);
    expect(looksLikeQuic(vn, 0, vn.length)).toBe(true);
    const { f } = run([[0, grease], [1, vn]]);
    expect(f).toMatchObject({ versionName: 'grease', negotiationVersions: ['0x8a6a1a0a', '0x00000001', '0x6b3343cf'], sni: 'example.com' });
  });

  it('draft-29, T051 and Q050 with their salts; Q050 carries a CHLO in gQUIC CRYPTO frames (0x08)', () => {
    const d29 = protect({ version: 0xff00001d, keys: keysFor('afbfec289993d24c9e9786f19c6111e04390a899', dcid), dcid, scid, pn: 0, payload: pad(cryptoFrame(0, RFC_HELLO)) });
    expect(run([[0, d29]]).f).toMatchObject({ versionName: 'draft-29', sni: 'example.com' });
    const t51Frame = Buffer.concat([Buffer.from([0x08]), varint(0), varint(RFC_HELLO.length), RFC_HELLO]);
    const t51 = protect({ version: 0x54303531, keys: keysFor('7a4edef4e7ccee5fa4506c19124fc8ccda6e033d', dcid), dcid, pn: 0, payload: pad(t51Frame) });
    expect(run([[0, t51]]).f).toMatchObject({ version: 'T051', sni: 'example.com' });
    const chlo = chloMessage({ 'SNI\0': 'www.example.org', UAID: 'Chrome/79.0.3945.88 Linux x86_64', 'PAD\0': '\0'.repeat(900) });
    const qFrame = Buffer.concat([Buffer.from([0x08]), varint(0), varint(chlo.length), chlo]);
    const q50 = protect({ version: 0x51303530, keys: keysFor('504574efd066fe2f9d945cfcdbd3a7f0d3b56b45', dcid), dcid, pn: 1, payload: pad(qFrame) });
    expect(run([[0, q50]]).f).toMatchObject({ version: 'Q050', sni: 'www.example.org', userAgent: 'Chrome/79.0.3945.88 Linux x86_64', ja4: null, helloSeen: true });
  });
});

/** A Google QUIC handshake message: tag, count, padding, (tag, end offset) entries, values. */
function chloMessage(tags: Record<string, string>): Buffer {
  const names = Object.keys(tags).sort((a, b) => Buffer.from(a).readUInt32LE(0) - Buffer.from(b).readUInt32LE(0));
  const head = Buffer.alloc(8 + 8 * names.length);
  head.write('CHLO', 0, 'latin1');
  head.writeUInt16LE(names.length, 4);
  let end = 0;
  names.forEach((n, i) => {
    head.write(n, 8 + 8 * i, 'latin1');
    end += Buffer.byteLength(tags[n], 'latin1');
    head.writeUInt32LE(end, 12 + 8 * i);
  });
  return Buffer.concat([head, ...names.map((n) => Buffer.from(tags[n], 'latin1'))]);
}

describe('Google QUIC hellos in cleartext', () => {
  it('Q044: Suricata’s test packet gives SNI 127.0.0.1, as Suricata expects', () => {
    const b = gquicQ044Sample();
    expect(looksLikeQuic(b, 0, b.length)).toBe(true);
    const { f } = run([[0, b]]);
    expect(f).toMatchObject({ version: 'Q044', versionName: 'Q044', sni: '127.0.0.1', helloSeen: true, ja4: null });
  });

  it('Q043: public header (flags 0x09: version, 8-byte CID, 1-byte packet number), hash, STREAM frame on stream 1 (built from the wire layout)', () => {
    const chlo = chloMessage({ 'SNI\0': 'clients4.google.com', UAID: 'Chrome/62', 'VER\0': 'Q043', 'PAD\0': '\0'.repeat(1000) });
    const frame = Buffer.concat([Buffer.from([0xa0, 0x01, chlo.length >> 8, chlo.length & 255]), chlo]);
    const b = Buffer.concat([Buffer.from([0x09]), hex('1122334455667788'), Buffer.from('Q043'), Buffer.from([0x01]), Buffer.alloc(12, 0xab), frame]);
    expect(looksLikeQuic(b, 0, b.length)).toBe(true);
    expect(run([[0, b]]).f).toMatchObject({ version: 'Q043', sni: 'clients4.google.com', userAgent: 'Chrome/62' });
    // The same packet without the version flag (after negotiation) is not a flow start.
    const noVersion = Buffer.from(b);
    noVersion[0] = 0x08;
    expect(looksLikeQuic(noVersion, 0, noVersion.length)).toBe(false);
  });

  it('Q046: long header 0xc3, CID lengths 0x50, 4-byte packet number, hash, STREAM frame', () => {
    const chlo = chloMessage({ 'SNI\0': 'www.youtube.com', 'PAD\0': '\0'.repeat(1000) });
    const frame = Buffer.concat([Buffer.from([0xa0, 0x01, chlo.length >> 8, chlo.length & 255]), chlo]);
    const b = Buffer.concat([Buffer.from([0xc3]), Buffer.from('Q046'), Buffer.from([0x50]), hex('1122334455667788'), hex('00000001'), Buffer.alloc(12), frame]);
    expect(looksLikeQuic(b, 0, b.length)).toBe(true);
    expect(run([[0, b]]).f).toMatchObject({ version: 'Q046', sni: 'www.youtube.com' });
  });
});

describe('the QUIC probe', () => {
  const rtp = hex('80e0a2b3000012340a0b0c0d' + '00'.repeat(1200));
  const dtls = hex('16feff0000000000000000' + '00'.repeat(200));
  const stun = hex('000100002112a442' + '0102030405060708090a0b0c');
  const coap = hex('4001a1b2b474656d70');
  const pppp = hex('f14100144241544400000000000262ca574f4e4a4d000000');
  const tuya = hex('000055aa00000000000000130000000c00000000' + 'aa'.repeat(8) + '0000aa55');
  const dnsQuery = hex('c0000100000100000000000003777777076578616d706c6503636f6d0000010001');

  it('takes the RFC Initials, and refuses other UDP protocols', () => {
    for (const p of [V1_CLIENT_INITIAL, V2_CLIENT_INITIAL]) expect(looksLikeQuic(hex(p), 0, 1200)).toBe(true);
    for (const b of [rtp, dtls, stun, coap, pppp, tuya, dnsQuery]) expect(looksLikeQuic(b, 0, b.length)).toBe(false);
  });

  it('the detection order gives them to QUIC on any port, even a v2 Initial whose first byte reads as Kasa’s XOR "{"', () => {
    for (const port of [443, 4567, 9999, 5683]) {
      for (const p of [V1_CLIENT_INITIAL, V2_CLIENT_INITIAL]) {
        const b = hex(p);
        expect(detectDatagram(new Ctx(50000, port), 0, b, 0, b.length)?.app, `${port}`).toBe('quic');
      }
      const kasaLike = hex(V2_CLIENT_INITIAL);
      kasaLike[0] = 0xd0; // 0xd0 ^ 171 = '{'; a v2 Initial's protected low bits can make it so
      expect(detectDatagram(new Ctx(50000, port), 0, kasaLike, 0, kasaLike.length)?.app).toBe('quic');
    }
  });

  it('refuses a short Initial, a clear fixed bit, long CIDs, a Length past the datagram, unknown versions', () => {
    const b = hex(V1_CLIENT_INITIAL);
    expect(looksLikeQuic(b.subarray(0, 1199), 0, 1199)).toBe(false); // Length no longer fits
    const small = protect({ version: 1, keys: keysFor('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', dcid), dcid, pn: 0, payload: Buffer.alloc(300) });
    expect(looksLikeQuic(small, 0, small.length)).toBe(false); // not padded to 1200 (RFC 9000 §14.1)
    const noFixed = Buffer.from(b);
    noFixed[0] &= ~0x40;
    expect(looksLikeQuic(noFixed, 0, 1200)).toBe(false);
    const longCid = Buffer.from(b);
    longCid[5] = 21;
    expect(looksLikeQuic(longCid, 0, 1200)).toBe(false);
    const other = Buffer.from(b);
    other.writeUInt32BE(0x12345678, 1);
    expect(looksLikeQuic(other, 0, 1200)).toBe(false);
    // A Handshake packet alone (a capture that started late) fits its Length: taken.
    const hs = protect({ version: 1, keys: keysFor('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', dcid), dcid, typeBits: 2, pn: 0, payload: Buffer.alloc(100) });
    const h = newLongHeader();
    expect(parseLongHeader(hs, 0, hs.length, h) && h.type).toBe(T_HANDSHAKE);
    expect(looksLikeQuic(hs, 0, hs.length)).toBe(true);
    expect(looksLikeQuic(hs, 0, hs.length - 1)).toBe(false);
  });

  it('refuses random datagrams (200,000 random long headers in 1200 bytes)', () => {
    let hits = 0;
    const buf = Buffer.alloc(1200);
    for (let i = 0; i < 200_000; i++) {
      crypto.randomFillSync(buf, 0, 64);
      buf[0] |= 0xc0;
      if (looksLikeQuic(buf, 0, buf.length)) hits++;
    }
    expect(hits).toBe(0);
  });

  it('no short-header-only flow is taken', () => {
    const short = Buffer.concat([Buffer.from([0x43]), dcid, crypto.randomBytes(1100)]);
    expect(looksLikeQuic(short, 0, short.length)).toBe(false);
  });
});

describe('the crypto stream', () => {
  it('rebuilds out-of-order, overlapping, repeated pieces; refuses past its limit or beyond its range count', () => {
    const s = new CryptoStream(100);
    const data = Buffer.from('abcdefghijklmnopqrstuvwxyz');
    s.add(10, data, 10, 20);
    expect(s.contiguous).toBe(0);
    s.add(0, data, 0, 5);
    s.add(3, data, 3, 12);
    expect(s.contiguous).toBe(20);
    s.add(0, data, 0, 26);
    expect(s.bytes.subarray(0, s.contiguous).toString()).toBe('abcdefghijklmnopqrstuvwxyz');
    s.add(95, data, 0, 10);
    expect(s.overflow).toBe(true);
    const r = new CryptoStream(10_000);
    for (let i = 0; i < 100; i++) r.add(10 + i * 3, data, 0, 1);
    expect(r.overflow).toBe(true);
  });
});

describeCorpus('the corpus: suricata-verify/ja4-tls-quic against tshark and the JA4 reference', () => {
  const tshark = haveTool('tshark');
  const file = () => casePath('suricata-verify/ja4-tls-quic');

  it.skipIf(!tshark)('every QUIC flow tshark names an SNI for has that SNI here, and the JA4 Suricata and FoxIO’s ja4 expect', async () => {
    const { report, events } = await eventsOf(file());
    const rows = tsharkFields(file(), ['udp.srcport', 'udp.dstport', 'tls.handshake.extensions_server_name', 'quic.version'], ['-Y', 'quic && tls.handshake.type == 1']);
    expect(rows.length).toBeGreaterThan(0);
    let agree = 0;
    for (const [sport, dport, sni, version] of rows) {
      const flow = report.flows.find((f) => f.app === 'quic' && f.orig.port === Number(sport) && f.resp.port === Number(dport));
      const q = (flow?.protocol as { quic: QuicFacts } | null)?.quic;
      expect(q?.sni).toBe(sni);
      expect(q?.version).toBe(version);
      if (q?.sni === sni) agree++;
    }
    expect(agree).toBe(rows.length);
    const yaml = fs.readFileSync(path.join(CORPUS, 'suricata-verify/ja4-tls-quic/test.yaml'), 'utf8');
    const expected = /quic\.ja4: (\S+)/.exec(yaml)![1];
    const q = (report.flows.find((f) => f.app === 'quic')!.protocol as { quic: QuicFacts }).quic;
    expect(q.ja4).toBe(expected);
    expect(q.alpn).toEqual(['h3']);
    expect(report.flows.find((f) => f.app === 'quic')).toMatchObject({ hostname: 'cloudflare-quic.com', hostnameSource: 'sni', encrypted: true });
    expect(events.filter((e) => e.type === 'quic').length).toBe(2);
  });

  let probed: { case: string; frame: number }[] = [];
  beforeAll(async () => {
    // The probe on every UDP payload of every corpus capture.
    probed = [];
    for (const c of corpusCases()) {
      const d = new Decoder();
      let frame = 0;
      await readCapture(casePath(c), {
        packet(link, buf, off, caplen, wirelen, ts) {
          frame++;
          if (d.decode(link, buf, off, caplen, wirelen, ts) !== Decoded.Ip) return;
          const p = d.pkt;
          if (p.ipProto !== Proto.Udp || p.payloadLen === 0) return;
          if (looksLikeQuic(p.buf, p.payloadOff, p.payloadLen)) probed.push({ case: c.case, frame });
        },
      });
    }
  }, 120_000);

  it.skipIf(!tshark)('the probe takes exactly the datagrams tshark reads as QUIC long headers, in all the corpus', () => {
    expect([...new Set(probed.map((p) => p.case))]).toEqual(['suricata-verify/ja4-tls-quic']);
    const long = tsharkFields(file(), ['frame.number'], ['-Y', 'quic.header_form == 1']).map((r) => Number(r[0]));
    expect(long.length).toBeGreaterThan(5);
    expect(probed.map((p) => p.frame)).toEqual(long);
  });
});

describe('frame walking stops safely', () => {
  it('on a frame type an Initial cannot carry, or a CRYPTO length past the payload', () => {
    const sink = { crypto: () => {}, close: () => {} };
    expect(walkInitialFrames(hex('0100080000'), 0, 5, sink)).toBe(FRAMES_BAD);
    expect(walkInitialFrames(hex('0600050102'), 0, 5, sink)).toBe(FRAMES_BAD);
    expect(walkInitialFrames(hex('02ffffffff'), 0, 5, sink)).toBe(FRAMES_BAD);
    let code = -1;
    expect(walkInitialFrames(hex('1c0a000474657374'), 0, 8, { crypto: () => {}, close: (c) => (code = c) })).toBe(FRAMES_OK);
    expect(code).toBe(10);
  });
});

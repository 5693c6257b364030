/**
 * RTP per direction and source, RTP/RTCP over TCP (RFC 4571), STUN and TURN over UDP and TCP, and
 * a STUN flow that carries DTLS and SRTP (RFC 7983), on bytes captured from real programs in
 * test/integration/media-live.test.ts's namespaces (coturn 4.6.1 and its turnutils clients,
 * openssl 3.0 s_client/s_server, ffmpeg). The expected values are what tshark 4.0.17 decodes in
 * those captures (quoted beside each); the nDPI corpus capture is read by tshark live.
 */
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../daemon/analysis/analyze.js';
import { DEFAULT_CONFIG } from '../../daemon/analysis/config.js';
import { parseDtlsHello, walkRecords } from '../../daemon/protocols/dtls/parser.js';
import { looksLikeRtpOverTcp, rtpOverTcpLevel, rtpOverTcpStart } from '../../daemon/protocols/rtp/framing.js';
import { RtpFlow, type RtpFacts, RtpTcpSession } from '../../daemon/protocols/rtp/state.js';
import { crc32, Has, looksLikeStun, parseStun, StunMessage } from '../../daemon/protocols/stun/parser.js';
import { looksLikeStunOverTcp, StunFlow, StunSession, stunTcpFraming } from '../../daemon/protocols/stun/state.js';
import { STREAM_ORDER } from '../../daemon/protocols/registry.js';
import { FakeContext } from '../fuzz/harness.js';
import { casePath, describeCorpus } from '../helpers/corpus.js';
import { haveTool, tsharkFields } from '../helpers/tshark.js';

const hex = (h: string) => Buffer.from(h, 'hex');

/**
 * One UDP 5-tuple of media-live's WebRTC-like peer (10.243.0.10:50000 <-> 10.243.0.20:5000): a STUN
 * Binding (node, answered by coturn 4.6.1), the DTLS 1.2 handshake of openssl s_client/s_server with
 * use_srtp (ServerHello datagram cut after its first record), three SRTP packets of ffmpeg, and a
 * consent Binding. Direction 0 is the client.
 */
const ICE_FLOW: [number, string][] = [
  [0, '0001001c2112a4423b32b4f0a155f709c079edff8022000e76696769652d6963652d7465737400008028000438b48943'],
  [1, '010100502112a4423b32b4f0a155f709c079edff002000080001f2ce5e12a443000100080001d3dc7f000001802b000800010d967f000001802c000800010d977f00000180220014436f7475726e2d342e362e312027476f7273742780280004a4985287'],
  [0, '16feff000000000000000000c9010000bd00000000000000bdfefd3a0bcfa096ede64baec3584d757f1d66e65826a707ae3bea138d607f73cf7cfe00000038c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff0100005b000b000403000102000a000c000a001d0017001e0019001800230000000e000500020001000016000000170000000d002a0028040305030603080708080809080a080b080408050806040105010601030303010302040205020602'],
  [1, '16feff00000000000000000023030000170000000000000017feff1400df1892bba2b8078008d270cb0b5bc846e8dbc4'],
  [0, '16feff000000000000000100dd010000d100010000000000d1fefd3a0bcfa096ede64baec3584d757f1d66e65826a707ae3bea138d607f73cf7cfe001400df1892bba2b8078008d270cb0b5bc846e8dbc40038c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff0100005b000b000403000102000a000c000a001d0017001e0019001800230000000e000500020001000016000000170000000d002a0028040305030603080708080809080a080b080408050806040105010601030303010302040205020602'],
  [1, '16fefd00000000000000010052020000460001000000000046fefdbb40c0ed07f0a24bea04d1733f1306ca8aef226210ea29ad31f98c7ddff9410700c03000001eff01000100000b00040300010200230000000e0005000200010000170000'],
  [0, '16fefd0000000000000002002d1000002100020000000000212067033a564860f0db6274ef61cfe657d6fd7d8f0ca6d724a22761826fd9a9773714fefd000000000000000300010116fefd0001000000000000003020a8be61c7383e4b4e2b9b445be201327f9052ce2c3a24787f3204c9a8988fb56396cb1576b140062e8f318248c3041d'],
  [1, '16fefd000000000000000a00c2040000b600050000000000b600001c2000b0dad2c5aeed8d4f12be471c202181fbd0ff8b6b923c5decd02842204827f037d3caf8453094f9170edb3d3651299bc50009bf2e37fee93878bc46fd7e802f433698dd03a8dda8517e072bdb9f7bafd06fa4c0e689f1d084a4cf1830e1a05f9a90347125eba1bf628f86471077ba0b99771ced31f53cdaf89676933c47959e127a93845eda8708522b14ef5496610e569ade72c8da1b96da8aa534a83b966080568e0f72824d7405e1cc911df8971a426f'],
  [1, '14fefd000000000000000b00010116fefd00010000000000000030616afa810b2d75aac9ca6cd4fa6fca56cfb3292107813a50213f8c3652843c67d95f16d4010f71da273f9dec823bbf45'],
  [0, '17fefd0001000000000001001e20a8be61c7383e4c36e01264283b4fbcb5829ba822e4cff41b52bc0798c0'],
  [0, '15fefd0001000000000002001a20a8be61c7383e4dbeb49a37793642253430ac801ff73bdf36ea'],
  [1, '15fefd0001000000000001001a616afa810b2d75ab98aa056fe5516e89753e599294e06945b7e6'],
  [0, '80000d21cb4afbe586c68f5b8b5662e26a72b088c14b5eb6c6fe7f14094b7cf7e58ca19b8ae9aa1c7225f1fc010771a259d5c2309ff3f7116b0b9442f6cd0508dd91b2368ff050491deb0268a73c76b11c05c3c1f5361d51ea6e9dcff777e2f336b08ce197773f60b3f5cd229110fa62506c2c5c519dd065c18727db065c40c63b9701df837447a2a448a06b3d63ea2603d5a80486044f7377ac01cfa485f8a7b2128bfabda8a4192db8a0535c54e0c607d7786d740580b9f17d8aacafe5fb86'],
  [0, '80000d22cb4afc8f86c68f5bd811739dbfdef7f7b17bbc16697bb5008a53b3dbfcd66b92483a1e3229fa956495e086890b8ecbc6e631259e64593956cb359f6f44147fa115bf113f7fca13b6cb406d4ee066a9d34b534b92eae1ad60062387905d7d125b409dc0d8e58a6a93079f8258d4aa6d942ad922ef1107553afc79a8b8d161f2d62f2b88e503174b738adae3a9f0bc02d359ca0093c1f9e2ac7dd0326471f10eca6a7a634c1cbf3fda3086f6580980cf40d6a2eefe397644efb2bde33eefa11dc180339736dbd0ecc29d85514c'],
  [0, '80000d23cb4afd4986c68f5b03df53139b3330ad8bc231b17789defb2cb90b43aca1d39241979300d52290e993575e6af4adbd26c5e8fdd8e16e22dd15380f2278fe9784c03b81305b63f65da08834ef45cf86ca65301b133eb46e9d8707e8de69f559e7901d54781a3d503dbce22e5446aca4976794a8679cbc0d813db080498e5e8ca975ae1b6ebbefcb88e9539774560c23e1c2559a9bfc412b4074eaf5b7d6fac477cb5b624196e087ee3960f9802f63f95307638e5327a751f336953870a1d6a303c88151559061437183c950'],
  [0, '0001001c2112a442bfbd5001cc3a5603095527858022000e76696769652d6963652d746573740000802800046bdee8c2'],
  [1, '010100502112a442bfbd5001cc3a560309552785002000080001f2ce5e12a443000100080001d3dc7f000001802b000800010d967f000001802c000800010d977f00000180220014436f7475726e2d342e362e312027476f7273742780280004e3e931b7'],
];

/** turnutils_uclient's Allocate over UDP to coturn (lt-cred-mech): the request, the 401, the authenticated request, the success. */
const TURN_UDP: [number, string][] = [
  [0, '000300282112a442d23f5b9255f9151d0cddc73b0019000411000000000d0004000003090018000180000000001700040100000080280004a5555900'],
  [1, '011300582112a442d23f5b9255f9151d0cddc73b0009001000000401556e617574686f72697a656400150010383030613830363662633331316465330014000b6578616d706c652e6f72670080220014436f7475726e2d342e362e312027476f7273742780280004e09a2f0b'],
  [0, '000300702112a442d29c908f3cdea95169d0d2e20019000411000000000d0004000003090018000180000000001700040100000000060005766967696500000000150010383030613830363662633331316465330014000b6578616d706c652e6f72670000080014fa6e760916e6e412b0477f84785973b16d4bcc808028000433227400'],
  [1, '010300642112a442d29c908f3cdea95169d0d2e2001600080001e11e2be1a456002000080001b4742be1a4480022000809ecb45fc03bc00e000d00040000030980220014436f7475726e2d342e362e312027476f72737427000800147023df857d9170137380ab258d7cb1ba7755330b802800042cd7b8a5'],
];

/** Every segment with payload of one TURN-over-TCP connection of turnutils_uclient -t to coturn, in capture order (frame 56 holds two messages). */
const TURN_TCP: [number, string][] = [
  [0, '000300282112a44282cae0e0b117a70d35e47d5e0019000411000000000d000400000309001800018000000000170004010000008028000466fa858b'],
  [1, '011300582112a44282cae0e0b117a70d35e47d5e0009001000000401556e617574686f72697a656400150010353866636636383635663339643038360014000b6578616d706c652e6f72670080220014436f7475726e2d342e362e312027476f727374278028000497df9605'],
  [0, '000300702112a442d313bbe29b1b94b9bdf556d50019000411000000000d0004000003090018000180000000001700040100000000060005766967696500000000150010353866636636383635663339643038360014000b6578616d706c652e6f72670000080014565c499da3aaa2c0024e40fedb3636d40b19788d802800040511b4f5'],
  [1, '010300642112a442d313bbe29b1b94b9bdf556d5001600080001e1122be1a456002000080001ab202be1a44800220008571c1ef3c038c00c000d00040000030980220014436f7475726e2d342e362e312027476f7273742700080014828d34ac3e7fc9639aed90ce14e3df9e6e3b9b45802800042c810ec4'],
  [0, '000400582112a442da3dc8f59a3a21a9a5748990000d00040000030900060005766967696500000000150010353866636636383635663339643038360014000b6578616d706c652e6f726700000800145967e3bde0608c77aae454d103a32f52e97839bf80280004f2fddb94'],
  [1, '010400402112a442da3dc8f59a3a21a9a5748990000d00040000030980220014436f7475726e2d342e362e312027476f727374270008001404b9d2bed578b7ed76f4917da0d093a7017d34b580280004d6f82862'],
  [0, '000900642112a4425b60b05af8b5debb851f012a000c00044c0700000012000800012c8b2be1a45700060005766967696500000000150010353866636636383635663339643038360014000b6578616d706c652e6f726700000800148b3667a9be09c70da447ed94f2d079fb0b4ccfde802800048329eda7'],
  [1, '010900382112a4425b60b05af8b5debb851f012a80220014436f7475726e2d342e362e312027476f7273742700080014160a62d6209d01dfcb8f5b254b5db46fa86516c08028000457ff9cce'],
  [0, '000400582112a44249bae9881025c543d4729798000d00040000025800060005766967696500000000150010353866636636383635663339643038360014000b6578616d706c652e6f72670000080014fd900cff0d183d1d63aba20d39d1a9f35c4987f6802800042bf23c72'],
  [1, '010400402112a44249bae9881025c543d4729798000d00040000025880220014436f7475726e2d342e362e312027476f7273742700080014273a393d294b26b3479fd690a5f70bfea4e9f54d802800046c3f327f'],
  [0, '0008005c2112a4422c9f06dae4b130131bdf6ec90012000800012c8b2be1a45700060005766967696500000000150010353866636636383635663339643038360014000b6578616d706c652e6f726700000800146068fb55252e7617ffe7294bb23373e085f2392880280004856dccf0000900642112a442832eb7581de12caecb86dc94000c00044c0700000012000800012c8b2be1a45700060005766967696500000000150010353866636636383635663339643038360014000b6578616d706c652e6f726700000800149b2120e08f1c54840413f0cf7531f45fecb00c9d80280004f28f03d3'],
  [1, '010800382112a4422c9f06dae4b130131bdf6ec980220014436f7475726e2d342e362e312027476f72737427000800145b565df9ce1057b66eabd796ca799a91d60b1ade80280004898190e7010900382112a442832eb7581de12caecb86dc9480220014436f7475726e2d342e362e312027476f72737427000800141b05357d2d4f079658913026559013a4df4c3d6680280004e5afee88'],
  [0, '4c0700640000000007070707ae0e000000000000070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707'],
  [1, '4c0700640000000007070707ae0e000000000000070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707'],
  [0, '4c0700640100000007070707c50e000000000000070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707'],
  [1, '4c0700640100000007070707c50e000000000000070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707'],
  [0, '4c0700640200000007070707da0e000000000000070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707'],
  [1, '4c0700640200000007070707da0e000000000000070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707'],
  [0, '000400582112a4427dd6318082c0495838eb64c6000d00040000000000060005766967696500000000150010353866636636383635663339643038360014000b6578616d706c652e6f72670000080014ee70ae9e5ccdc61715c55e17cac302aa1e02c57180280004e262f15d'],
  [1, '010400402112a4427dd6318082c0495838eb64c6000d00040000000080220014436f7475726e2d342e362e312027476f72737427000800144e2020ffa87b6109bef763a3bac983a0de7010d880280004d2e21a20'],
];

/** A two-way call on one 5-tuple: two ffmpeg RTP senders (PCMU one way, PCMA the other), packets alternating; first 24 bytes of each. */
const CALL: [number, string][] = [
  [0, '80000b47627f0d7f93715718e5c8bab3afafb2b9c6f04a3b'],
  [1, '80080343489b8e5019ba33baceeb9e9a9995dd6b1f1a1914'],
  [0, '80000b48627f0e2993715718b5bcce5f4238312f30343c4c'],
  [1, '80080344489b8efa19ba33baf191989a9ced7516181a1c6f'],
  [0, '80000b49627f0ee3937157183f36312f30353d50dbc0b7b1'],
  [1, '80080345489b8fb419ba33ba92e779101b1a1d61f2919b9a'],
  [0, '80000b4a627f0f9c937157182f31363f57d3beb6b0afb0b6'],
  [1, '80080346489b906d19ba33ba121a1b1078e4939b9b93e57a'],
];

/** The first three segments of ffmpeg's RTCP and RTP framed per RFC 4571 by media-live's framer, one frame per segment (Nagle off). */
const RFC4571: [number, string][] = [
  [0, '001c80c8000601a810fceebac1263439581014535fee0000000000000000'],
  [0, '00b68000036914535fee01a810fce5c8bab3afafb2b9c6f04a3b332f2f32394467ccbcb4b0afb2b8c2df4d3c35302f3137405bd0bdb5b0afb1b6bfd7533e36302f30363e53d7bfb6b1afb0b5bdd05b4037312f30353c4ddfc2b8b2afb0b4bccc674439322f2f333b4aefc6b9b2afafb3bac8ff483a332f2f3239466fcabbb3afafb2b9c4e74c3c34302f3138425fcebcb5b0afb1b7c0db503d35302f31363f57d3beb6b0afb0b6bed3573f36312f30353d50dbc0b7b1afb0'],
  [0, '00c68000036a1453609801a810fcb5bcce5f4238312f30343c4ce7c4b9b2afafb3bbca6f4639322f2f333a487ec8bab3afafb2b9c6ef4a3b332f2f32394467ccbcb4b0afb2b8c2df4d3c35302f3137405bd0bdb5b0afb1b6bfd7533e36302f30363e53d7bfb6b1afb0b5bdd05b4037312f30353c4ddfc2b8b2afb0b4bccc674439322f2f333b4aefc6b9b2afafb3bac8ff483a332f2f3239466fcabbb3afafb2b9c4e74c3c34302f3138425fcebcb5b0afb1b7c0db503d35302f31363f57d3beb6b0afb0b6bed357'],
];

/** A context that keeps the events. */
class Ctx extends FakeContext {
  readonly seen: { type: string; fields: Record<string, unknown>; dir: number }[] = [];
  constructor(origPort: number, respPort: number) {
    super(origPort, respPort);
  }
  override emit(type: string, fields: Record<string, unknown> | (() => Record<string, unknown>), dir = 0): void {
    const f = typeof fields === 'function' ? fields() : fields;
    super.emit(type, f);
    this.seen.push({ type, fields: f, dir });
  }
}

describe('STUN messages (RFC 8489) as tshark reads them', () => {
  const m = new StunMessage();
  it('coturn Binding answer: success, SOFTWARE, XOR-MAPPED-ADDRESS, FINGERPRINT valid', () => {
    // tshark frame 2: stun.type.method 0x0001, class 0x0010 (success), stun.att.software "Coturn-4.6.1 'Gorst'", crc32.status 1 (good).
    const b = hex(ICE_FLOW[1][1]);
    expect(looksLikeStun(b, 0, b.length)).toBe(true);
    parseStun(b, 0, m);
    expect([m.method, m.cls]).toEqual([1, 2]);
    expect(b.toString('utf8', m.softwareOff, m.softwareOff + m.softwareLen)).toBe("Coturn-4.6.1 'Gorst'");
    expect(m.has & (Has.XorMappedAddress | Has.MappedAddress | Has.Fingerprint | Has.FingerprintValid)).toBe(Has.XorMappedAddress | Has.MappedAddress | Has.Fingerprint | Has.FingerprintValid);
    expect(m.malformed).toBe(false);
  });

  it('TURN Allocate: 401 with REALM and NONCE, then USERNAME and MESSAGE-INTEGRITY (values not kept)', () => {
    // tshark frames 82-85: methods 0x0003; classes 0x0000, 0x0011, 0x0000, 0x0010; error class 4 number 1; username on 84; hmac on 84 and 85.
    const got = TURN_UDP.map(([, h]) => {
      const b = hex(h);
      parseStun(b, 0, m);
      return { method: m.method, cls: m.cls, error: m.errorCode, user: (m.has & Has.Username) !== 0, mi: (m.has & Has.MessageIntegrity) !== 0, fp: (m.has & Has.FingerprintValid) !== 0, realm: (m.has & Has.Realm) !== 0 };
    });
    expect(got).toEqual([
      { method: 3, cls: 0, error: 0, user: false, mi: false, fp: true, realm: false },
      { method: 3, cls: 3, error: 401, user: false, mi: false, fp: true, realm: true },
      { method: 3, cls: 0, error: 0, user: true, mi: true, fp: true, realm: true },
      { method: 3, cls: 2, error: 0, user: false, mi: true, fp: true, realm: false },
    ]);
  });

  it('a FINGERPRINT that does not match the bytes is found out; CRC-32 is zlib/PNG CRC-32', () => {
    expect(crc32(Buffer.from('123456789'), 0, 9)).toBe(0xcbf43926); // the check value of CRC-32/ISO-HDLC
    const b = hex(ICE_FLOW[1][1]);
    b[30] ^= 0x01; // inside MAPPED-ADDRESS
    parseStun(b, 0, m);
    expect(m.has & Has.Fingerprint).toBeTruthy();
    expect(m.has & Has.FingerprintValid).toBe(0);
  });
});

describe('a STUN flow followed into DTLS and SRTP (RFC 7983 demultiplexing)', () => {
  it('reports stun, dtls (version, suite, SRTP profile) and srtp (source), and is encrypted once DTLS shows', () => {
    const ctx = new Ctx(50000, 5000);
    const flow = new StunFlow(ctx);
    const encryptedAt: boolean[] = [];
    for (const [dir, h] of ICE_FLOW) {
      const b = hex(h);
      flow.datagram(dir, b, 0, b.length);
      encryptedAt.push(flow.encrypted);
    }
    expect(flow.app).toBe('stun');
    // Not encrypted while only STUN was seen; from the first ClientHello on it is.
    expect(encryptedAt.slice(0, 3)).toEqual([false, false, true]);
    const f = flow.facts();
    // tshark: 4 STUN messages, software of each side, crc32.status 1 on all.
    expect(f.stun).toMatchObject({ messages: 4, software: ['vigie-ice-test', "Coturn-4.6.1 'Gorst'"], methodNames: ['binding'], fingerprints: 4, fingerprintsValid: 4, mappedAddress: true, other: 0, malformed: 0 });
    // tshark frame 6: dtls.handshake.version 0xfefd, dtls.handshake.ciphersuite 0xc030, dtls.use_srtp.protection_profile 0x0001;
    // frames 3 and 5 (ClientHello, before and after HelloVerifyRequest) offer 0x0001.
    expect(f.dtls).toMatchObject({ seen: true, version: 'DTLSv1.2', clientHello: true, serverHello: true, cipher: 0xc030, srtpProfiles: ['SRTP_AES128_CM_HMAC_SHA1_80'], srtpProfile: 'SRTP_AES128_CM_HMAC_SHA1_80', sni: null });
    // tshark -o rtp.heuristic_rtp:TRUE, frames 19-21: rtp.ssrc 0x86c68f5b, p_type 0, from the client.
    expect(f.srtp).toMatchObject({ packets: 3, ssrcs: [0x86c68f5b], payloadTypes: [0], dtlsKeyed: true });
    expect(f.srtp!.orig).toMatchObject({ packets: 3, ssrcs: [0x86c68f5b], confirmed: true });
    expect(f.srtp!.resp.packets).toBe(0);
    expect(ctx.seen.filter((e) => e.type === 'dtls').map((e) => e.fields.type)).toEqual(['client_hello', 'client_hello', 'server_hello']);
  });

  it('DTLS records and hellos read in place; a cut hello is never read past its end', () => {
    const hellos: number[] = [];
    const counts = new Int32Array(2);
    const b = hex(ICE_FLOW[5][1]);
    walkRecords(b, 0, b.length, (type, body, end) => {
      hellos.push(type);
      expect(parseDtlsHello(b, type as 1 | 2, body, end)).toMatchObject({ type: 2, version: 0xfefd, cipher: 0xc030, srtpProfiles: [1] });
    }, counts);
    expect(hellos).toEqual([2]);
    expect(counts[0]).toBe(1);
    // A ClientHello cut anywhere: read as far as it goes or refused, never past the cut.
    const ch = hex(ICE_FLOW[2][1]);
    for (let n = 25; n < ch.length; n += 7) expect(() => parseDtlsHello(ch, 1, 25, n)).not.toThrow();
  });

  it('an SRTP NULL profile chosen and media seen: not encrypted', () => {
    const flow = new StunFlow(new Ctx(50000, 5000));
    const sh = hex(ICE_FLOW[5][1]);
    // use_srtp in this ServerHello: 00 05 | 00 02 | 00 01 | 00 — make it SRTP_NULL_HMAC_SHA1_80 (0x0005).
    const at = sh.indexOf(Buffer.from('000e00050002000100', 'hex'));
    expect(at).toBeGreaterThan(0);
    sh[at + 7] = 0x05;
    for (const [dir, h] of ICE_FLOW.slice(0, 5)) flow.datagram(dir, hex(h), 0, hex(h).length);
    flow.datagram(1, sh, 0, sh.length);
    expect(flow.encrypted).toBe(true);
    const srtp = hex(ICE_FLOW[ICE_FLOW.findIndex(([, h]) => h.startsWith('80'))][1]);
    flow.datagram(0, srtp, 0, srtp.length);
    expect([flow.facts().dtls!.srtpProfile, flow.encrypted]).toEqual(['SRTP_NULL_HMAC_SHA1_80', false]);
  });
});

describe('STUN and TURN over TCP (RFC 8489 §6.2.2, RFC 8656 §12.5)', () => {
  const feed = (s: StunSession, cut: number) => {
    for (const [dir, h] of TURN_TCP) {
      const b = hex(h);
      for (let o = 0; o < b.length; o += cut) s.data(dir, b, o, Math.min(cut, b.length - o));
    }
  };

  it('turnutils_uclient -t: messages back to back and padded ChannelData, counted as tshark does', () => {
    const first = hex(TURN_TCP[0][1]);
    expect(stunTcpFraming(first, 0, first.length)).toBe('raw');
    // The first stream probe that takes these bytes is STUN's.
    const ctx = new Ctx(35378, 3478);
    const taken = STREAM_ORDER.map((p) => p(ctx, 0, first, 0, first.length)).find((x) => x !== null);
    expect(taken).toBeInstanceOf(StunSession);
    for (const cut of [100_000, 1, 7, 33]) {
      const s = new StunSession(new Ctx(35378, 3478), 'raw');
      feed(s, cut);
      // tshark on tcp.port==35378: 16 stun.type values, 6 stun.channel (0x4c07) ChannelData.
      expect(s.facts().stun, `cut ${cut}`).toMatchObject({
        messages: 16,
        channelData: 6,
        channels: [0x4c07],
        software: ["Coturn-4.6.1 'Gorst'"],
        methodNames: ['allocate', 'refresh', 'channel-bind', 'create-permission'],
        errorCodes: [401],
        username: true,
        messageIntegrity: true,
        fingerprints: 16,
        fingerprintsValid: 16,
        turn: true,
        transport: 'tcp',
        malformed: 0,
      });
      expect(s.encrypted).toBe(false);
    }
  });

  it('ICE-TCP framing (RFC 6544 §3): the same messages behind 16-bit lengths', () => {
    const s = new StunSession(new Ctx(35378, 3478), 'rfc4571');
    let framedFirst: Buffer | null = null;
    for (const [dir, h] of TURN_TCP) {
      const b = hex(h);
      // Re-frame: each STUN message of the segment behind its length (ChannelData is TURN-only: left out).
      for (let p = 0; p < b.length; ) {
        const n = b[p] >> 6 === 0 ? 20 + b.readUInt16BE(p + 2) : 4 + ((b.readUInt16BE(p + 2) + 3) & ~3);
        if (b[p] >> 6 === 0) {
          const f = Buffer.concat([Buffer.from([n >> 8, n & 255]), b.subarray(p, p + n)]);
          framedFirst ??= f;
          s.data(dir, f, 0, f.length);
        }
        p += n;
      }
    }
    expect(stunTcpFraming(framedFirst!, 0, framedFirst!.length)).toBe('rfc4571');
    expect(s.facts().stun).toMatchObject({ messages: 16, framing: 'rfc4571', fingerprintsValid: 16, channelData: 0 });
  });

  it('not STUN: a cookie-less header, HTTP, TLS, an unknown method', () => {
    const first = hex(TURN_TCP[0][1]);
    const noCookie = Buffer.from(first);
    noCookie[4] ^= 0xff;
    const unknown = Buffer.from(first);
    unknown.writeUInt16BE(0x000f, 0);
    for (const b of [noCookie, unknown, Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), hex('16030100a5010000a10303')]) expect(looksLikeStunOverTcp(b, 0, b.length)).toBe(false);
  });
});

describe('RTP per direction and source (RFC 3550 §A.1 probation per SSRC)', () => {
  it("a two-way call, packets alternating: confirmed, each side's SSRC and codec, as tshark -d udp.port==40000,rtp reads them", () => {
    const ctx = new Ctx(40000, 40000);
    const flow = new RtpFlow(ctx, null);
    for (const [dir, h] of CALL) flow.datagram(dir, hex(h), 0, hex(h).length);
    // One packet per side was enough under the old single lastSsrc only if the sides did not alternate; here they do.
    expect(flow.app).toBe('rtp');
    const f = (flow.facts() as { rtp: RtpFacts }).rtp;
    // tshark: 10.243.0.10 (orig) rtp.ssrc 0x93715718 p_type 0; 10.243.0.20 rtp.ssrc 0x19ba33ba p_type 8.
    expect(f.orig).toEqual({ packets: 4, rtcpPackets: 0, ssrcs: [0x93715718], payloadTypes: [0], codecs: ['PCMU'], confirmed: true });
    expect(f.resp).toEqual({ packets: 4, rtcpPackets: 0, ssrcs: [0x19ba33ba], payloadTypes: [8], codecs: ['PCMA'], confirmed: true });
    expect(f.ssrcs).toEqual([0x93715718, 0x19ba33ba]);
    expect(ctx.seen.filter((e) => e.type === 'rtp').map((e) => e.dir)).toEqual([0, 1]);
  });

  it('no continuity, no RTP: version-2 headers whose SSRC changes every packet, or whose sequence jumps', () => {
    const flow = new RtpFlow(new Ctx(40000, 40000), null);
    const base = hex(CALL[0][1]);
    for (let i = 0; i < 70; i++) {
      const b = Buffer.from(base);
      b.writeUInt32BE((0x1000 + i * 7919) >>> 0, 8);
      flow.datagram(0, b, 0, b.length);
      const c = Buffer.from(base);
      c.writeUInt16BE((i * 1000) & 0xffff, 2);
      flow.datagram(1, c, 0, c.length);
    }
    expect(flow.app).toBe(null);
    expect(flow.facts()).toBe(null);
  });
});

describe('RTP and RTCP over TCP (RFC 4571)', () => {
  const seg = RFC4571.map(([, h]) => hex(h));

  it("ffmpeg's RTCP SR alone in the first segment is sure: a compound whose lengths fill the frame", () => {
    // tshark -d tcp.port==5004,rtp frame 9: rtcp.pt 200, rtcp.senderssrc 0x01a810fc.
    expect(rtpOverTcpLevel(seg[0], 0, seg[0].length)).toBe(2);
    // One RTP frame per segment: plausible only (frame 13: rtp.ssrc 0x01a810fc seq 873 pt 0).
    expect(rtpOverTcpLevel(seg[1], 0, seg[1].length)).toBe(1);
    // Two frames of that source in sequence in one segment: sure.
    const two = Buffer.concat([seg[1], seg[2]]);
    expect(looksLikeRtpOverTcp(two, 0, two.length)).toBe(true);
    // A frame cut by the segment end is not enough on its own.
    expect(rtpOverTcpStart(seg[1], 0, 100)).toBe(false);
  });

  it('the session reads the same frames whatever the segment cuts', () => {
    const all = Buffer.concat(seg);
    for (const cut of [all.length, 1, 2, 3, 13, 64]) {
      const s = new RtpTcpSession(new Ctx(39690, 5004), false);
      for (let o = 0; o < all.length; o += cut) s.data(0, all, o, Math.min(cut, all.length - o));
      expect(s.app, `cut ${cut}`).toBe('rtp');
      expect((s.facts() as { rtp: RtpFacts }).rtp, `cut ${cut}`).toMatchObject({ transport: 'tcp', packets: 3, rtcpPackets: 1, ssrcs: [0x01a810fc], payloadTypes: [0], codecs: ['PCMU'], orig: { packets: 3, confirmed: true } });
    }
  });

  it('on probation: gives up (no app, flow stopped) at a frame that is not RTP', () => {
    const ctx = new Ctx(39690, 5004);
    const s = new RtpTcpSession(ctx, false);
    s.data(0, seg[1], 0, seg[1].length);
    expect(s.app).toBe(null);
    const junk = Buffer.from('0010474554202f20485454502f312e310d0a', 'hex');
    s.data(0, junk, 0, junk.length);
    expect([s.app, s.facts(), ctx.stopped]).toEqual([null, null, true]);
  });

  it('not RTP over TCP: TLS, HTTP, a DNS query, a WebSocket frame, an RTSP interleaved frame', () => {
    const rtspInterleaved = Buffer.concat([Buffer.from([0x24, 0x00, 0x00, seg[1].length - 2]), seg[1].subarray(2)]);
    for (const b of [hex('16030100a5010000a10303'), Buffer.from('GET / HTTP/1.1\r\n\r\n'), hex('001d8a3b0100000100000000000006676f6f676c6503636f6d0000010001'), hex('8285a1b2c3d4e9d7aea8cb'), rtspInterleaved])
      expect(rtpOverTcpLevel(b, 0, b.length), b.toString('hex').slice(0, 16)).toBe(0);
  });
});

describeCorpus.skipIf(!haveTool('tshark'))('nDPI corpus: RFC 4571 RTP over TCP, one frame per segment', () => {
  it('ndpi/rtp 172.16.168.24:40252 > :5000 is RTP with the source and packets tshark -d tcp.port==5000,rtp decodes', async () => {
    const file = casePath('ndpi/rtp');
    const report = await analyzeCapture(file, { config: DEFAULT_CONFIG });
    const f = report.flows.find((x) => x.proto === 'tcp' && x.resp.port === 5000)!;
    expect(f.app).toBe('rtp');
    const rtp = (f.protocol as { rtp: RtpFacts }).rtp;
    const rows = tsharkFields(file, ['rtp.ssrc', 'rtp.p_type'], ['-d', 'tcp.port==5000,rtp', '-Y', 'rtp && tcp']);
    expect(rtp.orig.ssrcs).toEqual([...new Set(rows.map((r) => parseInt(r[0], 16)))]);
    expect(rtp.orig.payloadTypes).toEqual([...new Set(rows.map((r) => Number(r[1])))]);
    expect(rtp.orig.packets).toBe(rows.length);
    expect([rtp.transport, rtp.resp.packets]).toEqual(['tcp', 0]);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Packet, Proto, TcpFlag } from '../../daemon/decode/packet.js';
import { type EndReason, FlowTable, TCP_STATE_NAMES } from '../../daemon/flows/flow-table.js';
import { packet } from '../helpers/packets.js';

const NEVER = { closed: 1e12, transitory: 1e12, datagram: 1e12, established: 1e12 };

function table(maxFlows: number, ended: { slot: number; reason: EndReason }[] = [], timeouts = NEVER) {
  return new FlowTable({ maxFlows, timeouts, onEnd: (slot, reason) => ended.push({ slot, reason }) });
}

describe('flow table', () => {
  it('both directions of a TCP connection share one flow, oriented by the SYN', () => {
    const t = table(16);
    const a = t.packet(packet({ src: '192.168.1.10', dst: '203.0.113.5', sport: 50000, dport: 443, flags: TcpFlag.Syn, len: 74 }), 50000, 443);
    expect([t.lastNew, t.lastDir]).toEqual([true, 0]);
    const b = t.packet(packet({ src: '203.0.113.5', dst: '192.168.1.10', sport: 443, dport: 50000, flags: TcpFlag.Syn | TcpFlag.Ack, len: 74 }), 443, 50000);
    expect([b, t.lastNew, t.lastDir]).toEqual([a, false, 1]);
    t.packet(packet({ src: '192.168.1.10', dst: '203.0.113.5', sport: 50000, dport: 443, flags: TcpFlag.Ack, len: 66 }), 50000, 443);
    expect(TCP_STATE_NAMES[t.tcpState[a]]).toBe('established');
    expect([t.packets.get(a * 2), t.packets.get(a * 2 + 1), t.bytes.get(a * 2), t.bytes.get(a * 2 + 1)]).toEqual([2, 1, 140, 74]);
    expect(t.endpoint(a, 0).port).toBe(50000);
  });

  it('sequence accounting counts a retransmitted segment once, and a gap the kernel filtered out once', () => {
    const t = new FlowTable({ maxFlows: 16, timeouts: NEVER, onEnd: () => {}, sequenceVolumes: true });
    const up = (seq: number, payloadLen: number, flags = TcpFlag.Ack | TcpFlag.Psh) =>
      t.packet(packet({ src: '192.168.1.10', dst: '203.0.113.5', sport: 50000, dport: 9000, flags, seq, payloadLen, len: 66 + payloadLen }), 50000, 9000);
    const s = up(1000, 0, TcpFlag.Syn);
    up(1001, 1448);
    up(1001, 1448); // retransmitted (seen twice on the wire, written once by the application)
    up(2449 + 10 * 1448, 1448); // ten segments between were filtered out
    up(2449, 1448); // a late copy of the first filtered one
    expect(t.payloadBytes.get(s * 2)).toBe(12 * 1448);
    // Seen: SYN, 4 data segments; estimated: the 10 filtered out.
    expect(t.packets.get(s * 2)).toBe(5 + 10);
  });

  it('a SYN-ACK seen first makes its receiver the originator', () => {
    const t = table(16);
    const s = t.packet(packet({ src: '203.0.113.5', dst: '192.168.1.10', sport: 443, dport: 50000, flags: TcpFlag.Syn | TcpFlag.Ack }), 443, 50000);
    expect(t.lastDir).toBe(1);
    expect(t.endpoint(s, 0).port).toBe(50000);
  });

  it('mid-stream, the service port is the responder', () => {
    const t = table(16);
    const s = t.packet(packet({ src: '198.51.100.7', dst: '192.168.1.20', sport: 1883, dport: 41000, flags: TcpFlag.Ack, payloadLen: 4 }), 1883, 41000);
    expect(t.endpoint(s, 0).port).toBe(41000);
    expect(TCP_STATE_NAMES[t.tcpState[s]]).toBe('midstream');
    const u = t.packet(packet({ src: '192.168.1.1', dst: '192.168.1.20', sport: 53, dport: 5555, proto: Proto.Udp }), 53, 5555);
    expect(t.endpoint(u, 0).port).toBe(5555);
  });

  it('the same 5-tuple on two VLANs is two flows', () => {
    const t = table(16);
    const a = t.packet(packet({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, proto: Proto.Udp, vlan: 10 }), 1, 2);
    const b = t.packet(packet({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, proto: Proto.Udp, vlan: 20 }), 1, 2);
    expect(a).not.toBe(b);
    expect(t.count).toBe(2);
  });

  it('ends idle flows after their class timeout, and not before', () => {
    const ended: { slot: number; reason: EndReason }[] = [];
    const t = table(16, ended, { closed: 10, transitory: 60, datagram: 180, established: 3600 });
    t.packet(packet({ src: '10.0.0.1', dst: '198.51.100.1', sport: 5000, dport: 53, proto: Proto.Udp, ts: 0 }), 5000, 53);
    const tcp = packet({ src: '10.0.0.1', dst: '198.51.100.1', sport: 5001, dport: 80, ts: 0, flags: TcpFlag.Syn });
    t.packet(tcp, 5001, 80);
    t.expire(59);
    expect(t.count).toBe(2);
    t.expire(61);
    expect(t.count).toBe(1); // the unanswered SYN (transitory, 60 s)
    t.expire(179);
    expect(t.count).toBe(1);
    t.expire(181);
    expect(t.count).toBe(0);
    expect(ended.map((e) => e.reason)).toEqual(['idle', 'idle']);
    expect(t.expired).toBe(2);
  });

  it('stays bounded under a flood of new flows, evicting the least recently seen', () => {
    const ended: { slot: number; reason: EndReason }[] = [];
    const t = table(1000, ended);
    const p = packet({ src: '10.0.0.1', dst: '198.51.100.1', proto: Proto.Udp });
    for (let i = 0; i < 100_000; i++) {
      p.ts = i;
      p.dst3 = (0xc6336400 + (i >>> 16)) >>> 0;
      t.packet(p, 1024 + (i & 0xffff) % 60000, 53);
      expect(t.count).toBeLessThanOrEqual(1000);
    }
    expect(t.count).toBe(1000);
    expect(t.evicted).toBe(99_000);
    expect(ended.length).toBe(99_000);
    expect(ended.every((e) => e.reason === 'evicted')).toBe(true);
    // The survivors are the 1000 most recent, and the index still finds each of them.
    for (let i = 99_000; i < 100_000; i++) {
      p.dst3 = (0xc6336400 + (i >>> 16)) >>> 0;
      t.packet(p, 1024 + (i & 0xffff) % 60000, 53);
      expect(t.lastNew).toBe(false);
    }
  });

  describe('a new connection on the same addresses and ports (as Zeek decides connection reuse)', () => {
    const CAM = '192.168.1.30';
    const BROKER = '203.0.113.10';
    const syn = (seq: number, ts = 0) => packet({ src: CAM, dst: BROKER, sport: 40000, dport: 1883, flags: TcpFlag.Syn, seq, ts }, new Packet());
    const from = (src: string, flags: number, seq = 0) =>
      src === CAM ? packet({ src: CAM, dst: BROKER, sport: 40000, dport: 1883, flags, seq }, new Packet()) : packet({ src: BROKER, dst: CAM, sport: 1883, dport: 40000, flags, seq }, new Packet());
    const open = (t: FlowTable, isn: number) => {
      const s = t.packet(syn(isn), 40000, 1883);
      t.packet(from(BROKER, TcpFlag.Syn | TcpFlag.Ack, 7), 1883, 40000);
      t.packet(from(CAM, TcpFlag.Ack, isn + 1), 40000, 1883);
      return s;
    };

    it('a SYN after the connection closed starts a new flow and ends the old one as reused', () => {
      const ended: { slot: number; reason: EndReason }[] = [];
      const t = table(16, ended);
      const first = open(t, 1000);
      t.packet(from(CAM, TcpFlag.Fin | TcpFlag.Ack, 1001), 40000, 1883);
      t.packet(from(BROKER, TcpFlag.Fin | TcpFlag.Ack, 8), 1883, 40000);
      expect(TCP_STATE_NAMES[t.tcpState[first]]).toBe('closed');
      const serial = t.serial[first];
      const second = t.packet(syn(1000), 40000, 1883); // even with the same ISN, as Zeek
      expect([t.lastNew, t.lastDir, t.count, t.reused]).toEqual([true, 0, 1, 1]);
      expect(ended).toEqual([{ slot: first, reason: 'reused' }]);
      expect(t.serial[second]).toBeGreaterThan(serial);
      expect(TCP_STATE_NAMES[t.tcpState[second]]).toBe('syn_sent');
      expect(t.packets.get(second * 2)).toBe(1);
    });

    it('a SYN with another ISN on a connection never closed (a device rebooted) starts a new flow', () => {
      const ended: { slot: number; reason: EndReason }[] = [];
      const t = table(16, ended);
      const first = open(t, 1000);
      t.packet(from(CAM, TcpFlag.Ack | TcpFlag.Psh, 1001), 40000, 1883);
      t.packet(syn(555_000), 40000, 1883);
      expect([t.lastNew, t.reused, ended]).toEqual([true, 1, [{ slot: first, reason: 'reused' }]]);
    });

    it('a SYN after a reset starts a new flow', () => {
      const ended: { slot: number; reason: EndReason }[] = [];
      const t = table(16, ended);
      const first = open(t, 1000);
      t.packet(from(BROKER, TcpFlag.Rst, 8), 1883, 40000);
      t.packet(syn(1000), 40000, 1883);
      expect([t.lastNew, ended]).toEqual([true, [{ slot: first, reason: 'reused' }]]);
    });

    it('a SYN picked up after a mid-stream flow starts a new flow', () => {
      const t = table(16);
      t.packet(from(CAM, TcpFlag.Ack | TcpFlag.Psh, 5000), 40000, 1883);
      t.packet(from(BROKER, TcpFlag.Ack | TcpFlag.Psh, 9000), 1883, 40000);
      t.packet(syn(1), 40000, 1883);
      expect([t.lastNew, t.reused]).toEqual([true, 1]);
    });

    it('a retransmitted SYN (same ISN), a late SYN of the open connection and a simultaneous open are not new connections', () => {
      const ended: { slot: number; reason: EndReason }[] = [];
      const t = table(16, ended);
      const s = t.packet(syn(1000), 40000, 1883);
      t.packet(syn(1000, 1), 40000, 1883);
      expect([t.lastNew, t.packets.get(s * 2)]).toEqual([false, 2]);
      t.packet(from(BROKER, TcpFlag.Syn | TcpFlag.Ack, 7), 1883, 40000);
      t.packet(from(CAM, TcpFlag.Ack, 1001), 40000, 1883);
      t.packet(syn(1000, 2), 40000, 1883);
      expect([t.lastNew, t.reused, ended]).toEqual([false, 0, []]);
      const u = table(16);
      const a = u.packet(syn(1000), 40000, 1883);
      u.packet(from(BROKER, TcpFlag.Syn, 7), 1883, 40000); // both ends open at once (RFC 9293 §3.5)
      expect([u.lastNew, u.count, TCP_STATE_NAMES[u.tcpState[a]]]).toEqual([false, 1, 'syn_sent']);
    });
  });

  it('agrees with a simple model on any sequence of packets, with and without eviction', () => {
    const hosts = ['192.168.1.2', '192.168.1.3', '203.0.113.9', '2001:db8::1', '2001:db8::2'];
    const pkt = fc.record({
      s: fc.integer({ min: 0, max: hosts.length - 1 }),
      d: fc.integer({ min: 0, max: hosts.length - 1 }),
      sp: fc.integer({ min: 1, max: 4 }),
      dp: fc.integer({ min: 1, max: 4 }),
      udp: fc.boolean(),
      len: fc.integer({ min: 40, max: 1500 }),
    });
    fc.assert(
      fc.property(fc.array(pkt, { maxLength: 300 }), fc.integer({ min: 2, max: 40 }), (pkts, cap) => {
        const ended: { slot: number; reason: EndReason }[] = [];
        const t = table(cap, ended);
        // Model: canonical key -> bytes per endpoint key, in insertion (LRU) order.
        const model = new Map<string, { bytes: Map<string, number>; last: number }>();
        let evicted = 0;
        pkts.forEach((q, i) => {
          const src = hosts[q.s];
          const dst = hosts[q.d];
          if (src.includes(':') !== dst.includes(':')) return;
          const a = `${src}/${q.sp}`;
          const b = `${dst}/${q.dp}`;
          const key = `${q.udp}|${[a, b].sort().join('|')}`;
          if (!model.has(key) && model.size === cap) {
            let victim = '';
            let oldest = Infinity;
            for (const [k, v] of model) if (v.last < oldest) [victim, oldest] = [k, v.last];
            model.delete(victim);
            evicted++;
          }
          const m = model.get(key) ?? { bytes: new Map(), last: 0 };
          m.bytes.set(a, (m.bytes.get(a) ?? 0) + q.len);
          m.last = i;
          model.set(key, m);
          const slot = t.packet(packet({ src, dst, sport: q.sp, dport: q.dp, proto: q.udp ? Proto.Udp : Proto.Tcp, len: q.len, ts: i, flags: TcpFlag.Ack }), q.sp, q.dp);
          const dirBytes = t.bytes.get(slot * 2 + t.lastDir);
          expect(dirBytes).toBe(m.bytes.get(a));
        });
        expect(t.count).toBe(model.size);
        expect(t.evicted).toBe(evicted);
      }),
      { numRuns: 300 },
    );
  });
});
